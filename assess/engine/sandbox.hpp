// The grading sandbox: runs one untrusted command (a candidate's program, `go test` on a
// candidate's fix) under limits and reports what happened, never hanging the caller.
//
//   assess::sandbox::Spec spec{.argv = {"go", "run", "main.go"}, .workdir = scratch};
//   spec.limits.wall = 20s;
//   assess::sandbox::Outcome out = assess::sandbox::run(spec);
//   if (out.status == assess::sandbox::Status::timeout) ...
//
// Isolation, each where the machine allows it (probe() says which; Outcome::isolation lists
// what a run actually got): a private network namespace (its own loopback only), a private
// mount namespace whose root shows only the toolchain read-only and the scratch directory
// writable, a private PID namespace, an unprivileged uid, a cgroup holding memory, process
// count and CPU time, rlimits as a second line, and the whole process group (or cgroup)
// killed at the wall-time limit. run() blocks its thread: from a goroutine, call it inside
// gocxx::blocking. docs/assessment.md ("The sandbox") has the details.
//
// Where the grader is root, runs take uid/gid 65534 and run() first hands the workdir and the
// writable paths (recursively; a directory that uid already owns is taken as given, with what
// it holds) to that uid; read-only paths, and files the grader adds later inside directories
// given before, must be world-readable. Where it is not, the namespaces come from a user
// namespace (where runs are uid 65534 without capabilities, and the grader's uid outside).
// Paths are shown at their own (canonical) path inside; the run's /tmp is private and in memory.
// ASSESS_SANDBOX_WITHOUT=netns,mountns,pidns,userns,cgroup,uid turns layers off; on a v2
// machine whose grader shares its cgroup with other processes, ASSESS_SANDBOX_CGROUP names a
// cgroup delegated to the grader to make runs' cgroups in.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace assess::sandbox {

using namespace std::chrono_literals;

struct Limits {
  std::chrono::milliseconds wall = 20s;       // then the whole run is killed: Status::timeout
  std::chrono::milliseconds cpu = 20s;        // CPU time of everything the run starts
  std::size_t memory_bytes = 1024u << 20;     // cgroup memory (never RLIMIT_AS: Go dies under it)
  int max_processes = 128;                    // processes + threads (the Go toolchain needs dozens)
  std::size_t max_output_bytes = 1u << 20;    // stdout and stderr, each; more: Status::output_limit
  std::size_t max_file_bytes = 64u << 20;     // any one file written (RLIMIT_FSIZE)
};

struct Spec {
  std::vector<std::string> argv;              // argv[0] is looked up in PATH (inside the sandbox)
  std::filesystem::path workdir;              // scratch directory: the run's cwd, writable
  std::vector<std::pair<std::string, std::string>> env;  // the whole environment (plus PATH, HOME=workdir)
  std::vector<std::filesystem::path> read_only;  // extra paths visible read-only (e.g. a GOPATH)
  std::vector<std::filesystem::path> writable;   // extra writable paths (e.g. a GOCACHE)
  std::string stdin_data;
  Limits limits;
  bool network = false;                       // true: share the host's network (trusted runs only)
};

enum class Status {
  exited,          // exited on its own (exit_code says how)
  signaled,        // killed by a signal it raised or received (not by the sandbox)
  timeout,         // wall-time limit: killed
  cpu_limit,       // CPU-time limit: killed
  memory_limit,    // out of memory in its cgroup: killed
  output_limit,    // wrote more than max_output_bytes: killed
  process_limit,   // hit max_processes (fork bomb): killed
  internal_error,  // the sandbox itself failed (message says why); the command may not have run
};
const char* to_string(Status);

struct Outcome {
  Status status = Status::internal_error;
  int exit_code = -1;               // when status == exited
  int signal = 0;                   // when status == signaled
  std::string stdout_data;          // at most max_output_bytes each
  std::string stderr_data;
  std::chrono::milliseconds wall{0};
  std::chrono::milliseconds cpu{0};
  std::size_t max_rss_bytes = 0;    // the cgroup's peak memory, else the largest process's RSS
  std::string message;              // one line for people: "killed after 20 s wall time", ...
  // What this run got: "userns", "netns", "mountns", "pidns", "ipcns", "utsns", "uid 65534",
  // "cgroup v1" or "cgroup v2", "rlimits".
  std::vector<std::string> isolation;
  bool ok() const { return status == Status::exited && exit_code == 0; }
};

// Runs spec to completion (or to a limit). Never throws for the command's misbehaviour;
// throws std::invalid_argument for a bad Spec (empty argv, workdir missing).
Outcome run(const Spec& spec);

struct Capabilities {
  bool net_namespace = false;
  bool mount_namespace = false;
  bool pid_namespace = false;
  bool cgroup = false;        // memory + pids + cpu accounting for each run
  bool drop_privileges = false;
  bool user_namespace = false;  // not root: the namespaces come from a user namespace
  std::vector<std::string> notes;  // why each missing layer is missing ("netns: ...")
};
Capabilities probe();

}  // namespace assess::sandbox
