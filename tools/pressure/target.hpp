// The target program, when gocxx-pressure starts it (--exec 'CMD' through /bin/sh -c, or
// `-- PROGRAM ARGS...` directly). It runs in a process group of its own, so that stop()
// reaches what a shell command started too, and a terminal's Ctrl-C reaches gocxx-pressure
// only (which then stops the target itself). Its standard output and error go to a log file.
//
//   TargetProcess t = TargetProcess::start({"/bin/sh", "-c", "./service 127.0.0.1:9000"},
//   "target.log"); gocxx::select(gocxx::recv_case(t.exited(), ...), ...);   // ready when it has
//   exited t.stop(5s);                   // SIGTERM to the group, SIGKILL after 5 s; then reaped
#pragma once

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gocxx/chan.hpp>

#include "cli.hpp"

namespace gocxx::pressure {

class TargetProcess {
 public:
  // Starts argv (argv[0] searched in PATH). Throws std::runtime_error if it cannot be started.
  static std::unique_ptr<TargetProcess> start(const std::vector<std::string>& argv,
                                              const std::string& log_path);
  ~TargetProcess();  // stop(5s) if still running
  TargetProcess(const TargetProcess&) = delete;
  TargetProcess& operator=(const TargetProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Closed when the process has exited (and been reaped).
  RecvChan<int> exited() const { return exited_; }
  // The wait status once it has exited.
  std::optional<int> status() const;
  // "exited with status 1", "killed by signal 9 (Killed)"; "running" before it exits.
  std::string describe() const;
  // Stops it (SIGTERM to its group, SIGKILL after `grace`) unless it has exited; waits for it.
  // True if it was still running (it did not die on its own). Later calls do nothing.
  bool stop(Duration grace);

 private:
  explicit TargetProcess(pid_t pid);

  pid_t pid_;
  Chan<int> exited_;
  std::atomic<int> status_{-1};  // the wait status; -1 while running
  std::thread reaper_;           // waitpid, then closes exited_
};

// The command line for Settings: {"/bin/sh", "-c", exec} or the words after --, with every
// "{port}" replaced by `port`.
std::vector<std::string> target_command(const Settings& s, int port);

// A loopback TCP port free now (listened on and released; the target binds it next).
int free_port();

}  // namespace gocxx::pressure
