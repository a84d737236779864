// The sandbox's internals, shared by its files (sandbox.cpp: run() and probe(); sandbox_plan.cpp:
// the child's plan; sandbox_child.cpp: the code between clone and exec; sandbox_cgroup.cpp:
// cgroup v1/v2). Not part of the API; the parsing functions and run_without are here for the
// tests.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/sandbox.hpp"

namespace assess::sandbox::detail {

// The unprivileged identity a run takes when the grader is root ("nobody"/"nogroup").
inline constexpr uid_t kUid = 65534;
inline constexpr gid_t kGid = 65534;

// ---- the child (sandbox_child.cpp) ----------------------------------------------------------
//
// Everything the child does between clone and exec is prepared by the parent as plain data:
// the grader is multithreaded, so the child may only make system calls (no allocation, no
// locks, no sanitizer runtime) until it execs.

// One step of building the child's root, executed in order inside its mount namespace.
struct MountOp {
  enum Kind : int {
    mkdir,      // path (mode 0755); an existing one is fine
    touch,      // path: an empty file to bind a file onto
    symlink,    // path -> arg
    mount,      // mount(arg, path, fstype, flags, data)
    seal,       // path: read-only (flags & MS_RDONLY), nosuid, nodev, all submounts included
    write,      // path: a new file holding arg (mode 0644)
    pivot,      // path becomes "/", the old root is detached
    chdir,      // path
  };
  Kind kind;
  const char* path;
  const char* arg = nullptr;
  const char* fstype = nullptr;
  unsigned long flags = 0;
  const char* data = nullptr;
};

// Stages the child reports when it fails; MountOp i reports i.
enum ChildStage : std::int32_t {
  kStageSession = -1,
  kStageLoopback = -2,
  kStageHostname = -3,
  kStageRlimit = -4,
  kStageFork = -5,
  kStageIdentity = -6,
  kStageNoNewPrivs = -7,
  kStageExec = -8,
  kStageUserns = -9,
};

// What the child writes to the error pipe before it exits without exec'ing.
struct ChildError {
  std::int32_t stage;
  std::int32_t err;
};

struct Rlimit {
  int resource;
  std::uint64_t soft, hard;
};

struct ChildPlan {
  // In a new user namespace (the grader is not root): "65534 <uid> 1", the grader's ids as
  // kUid/kGid there. The init, as the namespace's first process, holds every capability in it
  // (to mount); the command, not root there, loses them at exec.
  const char* uid_map = nullptr;
  const char* gid_map = nullptr;
  // Parent's fds, remapped in the child to 0 stdin, 1 stdout, 2 stderr, 3 the "go" pipe (the
  // parent writes one byte once the child is in its cgroup), 4 the error pipe, 5 the status
  // pipe (the command's wait status, written by the child's init when the command exits).
  int fds[6];
  bool loopback_up = false;      // in a new network namespace
  const char* hostname = nullptr;  // in a new UTS namespace
  const MountOp* ops = nullptr;
  std::size_t n_ops = 0;
  const Rlimit* rlimits = nullptr;
  std::size_t n_rlimits = 0;
  bool subreaper = false;        // no PID namespace: orphans come back to the init for reaping
  bool drop_privileges = false;  // setgroups({}), gid kGid, uid kUid
  const char* const* exec_paths = nullptr;  // argv[0], or argv[0] joined to each PATH entry
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  char* cmd_stack_top = nullptr;  // the command process's stack (the init runs on another)
};

// The child's entry point (clone's fn): the run's init. It builds the sandbox, starts the
// command in a second process, reaps every process that comes to it and reports the command's
// wait status on fd 5. Its own exit ends the run: in a PID namespace the kernel kills what is
// left.
int child_init(void* plan);

// probe(): a child that exits 0 where what ProbePlan asks works in the namespaces it was
// cloned into, and writes nothing anywhere.
struct ProbePlan {
  const char* uid_map = nullptr;    // as ChildPlan's, first
  const char* gid_map = nullptr;
  const char* mount_dir = nullptr;  // mount a tmpfs here (the mount namespace is usable)
  const char* proc_dir = nullptr;   // then a proc here, inside it (a PID namespace's /proc)
  bool loopback = false;            // bring the loopback up (the network namespace is usable)
};
int probe_child(void* probe);

// run() with some of the machine's layers turned off (a comma-separated list of userns,
// netns, mountns, pidns, uid, cgroup), as ASSESS_SANDBOX_WITHOUT does for a whole process:
// the tests run the degraded modes with it.
Outcome run_without(const Spec& spec, std::string_view layers);

// ---- the plan (sandbox_plan.cpp) -----------------------------------------------------------

// A Spec's paths, checked: canonical, existing, the workdir among the writable ones, sorted so
// that a directory is mounted before anything inside it.
struct Bind {
  std::filesystem::path path;
  bool writable;
};
struct CheckedSpec {
  std::filesystem::path workdir;
  std::vector<Bind> binds;
};
// Throws std::invalid_argument for a bad Spec (empty argv, a path missing, bad limits).
CheckedSpec check(const Spec& spec);

// The isolation a run gets (what probe() found, less what the Spec turns off).
struct Layers {
  int clone_flags = 0;           // CLONE_NEW*, CLONE_NEWUSER where the grader is not root
  bool proc = false;             // a fresh /proc (with CLONE_NEWPID and CLONE_NEWNS)
  bool drop_privileges = false;  // to kUid/kGid
  bool pids_cgroup = false;      // else RLIMIT_NPROC holds the process count
};

// A run's ChildPlan (fds and stack left to run()) and the storage its pointers point into.
class Setup {
 public:
  // root: an empty directory, the new root's mount point (with Layers' CLONE_NEWNS).
  Setup(const Spec& spec, const CheckedSpec& checked, const Layers& layers,
        const std::filesystem::path& root);
  Setup(const Setup&) = delete;
  Setup& operator=(const Setup&) = delete;

  ChildPlan plan;
  // What the child's report means, for people: "mount /usr: Operation not permitted".
  std::string describe(const ChildError& e) const;

 private:
  const char* keep(std::string s);
  void mkdirs(const std::filesystem::path& inside);
  void bind(const std::filesystem::path& host, const std::filesystem::path& inside, bool writable,
            bool follow);
  void build_root(const Spec& spec, const CheckedSpec& checked, const Layers& layers);

  std::filesystem::path root_;
  std::vector<std::string> made_dirs_;
  std::vector<std::unique_ptr<std::string>> strings_;
  std::vector<MountOp> ops_;
  std::vector<Rlimit> rlimits_;
  std::vector<char*> argv_, envp_;
  std::vector<const char*> exec_paths_;
};

// ---- cgroups (sandbox_cgroup.cpp) ----------------------------------------------------------

// What a run leaves outside while it lasts (its cgroup, its root's mount point) is named
// kLeftoverPrefix + "<grader pid>-...". Calls f(path) for each such entry of dir whose grader
// is gone.
inline constexpr std::string_view kLeftoverPrefix = "gocxx-sandbox-";
void for_each_orphan(const std::filesystem::path& dir, const std::function<void(const std::filesystem::path&)>& f);

// What a run's cgroup measured.
struct CgroupStats {
  std::chrono::nanoseconds cpu{0};
  std::size_t peak_memory = 0;  // 0 where the kernel does not keep it
  std::uint64_t oom_kills = 0;
  std::uint64_t pids_max_events = 0;
};

// The place runs' cgroups are made in, chosen once per process (cgroup v2 where the memory
// and pids controllers are there for us, else v1).
struct CgroupParent {
  // nullptr, with why in `why`, where this machine gives no usable cgroup.
  static std::unique_ptr<CgroupParent> find(std::string& why);

  int version = 0;
  std::filesystem::path v2;                    // v2: the parent directory
  std::filesystem::path memory, pids, cpuacct;  // v1: one per controller (cpuacct optional)
};

// The cgroup v2 parent for runs' cgroups, given the grader's own cgroup directory `own`:
// ASSESS_SANDBOX_CGROUP, else own (or its parent, where own is the leaf a grader moved to),
// with the memory and pids controllers enabled for its children. nullptr, with why, where
// that cannot be.
std::unique_ptr<CgroupParent> v2_parent(const std::filesystem::path& own, bool own_is_ns_root, std::string& why);

// One run's cgroup: made with its limits, the run's init attached, removed (after killing
// whatever is left in it) on destruction.
class Cgroup {
 public:
  // Throws std::system_error where the cgroup cannot be made or limited.
  Cgroup(const CgroupParent& parent, const Limits& limits);
  Cgroup(const Cgroup&) = delete;
  Cgroup& operator=(const Cgroup&) = delete;
  ~Cgroup();

  void attach(pid_t pid);   // throws std::system_error
  CgroupStats stats() const;
  void kill_all();          // SIGKILL to every process in it
  bool empty() const;

  // Kills what is left in, and removes, the run cgroups of graders that died before they
  // could (their names hold their pids).
  static void sweep(const CgroupParent& parent);

 private:
  Cgroup(int version, std::vector<std::filesystem::path> dirs) : dirs_(std::move(dirs)), version_(version) {}

  std::vector<std::filesystem::path> dirs_;  // v2: one; v1: memory, pids[, cpuacct]
  int version_;
};

}  // namespace assess::sandbox::detail
