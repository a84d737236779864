// Child processes for `assess checklist`: `go build` and the Go analyzer (run_process), and a
// service started for a check (Service: the tests start their fixtures with it).
//
//   Output o = run_process({"go", "version"}, {"GO111MODULE=off"});   // o.status, o.out, o.err
//   Service svc({"./good"}, {"GODEBUG=gctrace=1"}, "/tmp/good.log");  // stderr to the log file
//   std::string line = svc.read_line(10s);   // its first stdout line, e.g. the address
//   // ~Service: SIGTERM, then SIGKILL after 5 s
//
// Both block their thread: from a goroutine, call them inside gocxx::blocking.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <sys/types.h>
#include <vector>

namespace assess::checklist {

struct Output {
  int status = -1;  // the exit code, or 128 + the signal that ended it
  std::string out;
  std::string err;
};

// Runs argv (looked up in PATH) with the environment plus `env` ("KEY=VALUE" each, replacing
// KEY), in `cwd` if not empty, and waits for it. Throws std::runtime_error when it cannot start.
Output run_process(const std::vector<std::string>& argv, const std::vector<std::string>& env = {},
                   const std::filesystem::path& cwd = {});

// A started program in its own process group: stdin /dev/null, stdout a pipe (read_line),
// stderr appended to `log` (or inherited when empty). The destructor stops the whole group.
class Service {
 public:
  Service(const std::vector<std::string>& argv, const std::vector<std::string>& env,
          const std::filesystem::path& log);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // The next line of its stdout without the newline; throws std::runtime_error on timeout or
  // when the program exits first.
  std::string read_line(std::chrono::milliseconds timeout);
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string buffered_;
};

}  // namespace assess::checklist
