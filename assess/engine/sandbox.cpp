// The grading sandbox: probe() finds what the machine allows once per process; run() clones
// the child (sandbox_child.cpp) into the namespaces it got, puts it in a fresh cgroup
// (sandbox_cgroup.cpp), and watches it: output through pipes with poll, the wall clock, and
// the cgroup's CPU, memory and process counters, until everything it started is gone.
#include "engine/sandbox.hpp"

#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <tuple>

#include "engine/sandbox_detail.hpp"

namespace assess::sandbox {
namespace fs = std::filesystem;
using namespace detail;

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::size_t kStackSize = 256u << 10;  // each of the child's two processes
constexpr milliseconds kTick{20};               // how often the cgroup's counters are read
// After a kill, or once the command has exited: how long the pipes may take to close before
// the parent stops reading them (a process that escaped every kill keeps them open).
constexpr milliseconds kDrain{2000};

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

struct Pipe {
  Fd read, write;
};

Pipe make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno("pipe2");
  return {Fd(fds[0]), Fd(fds[1])};
}

// Stdin as a file holding stdin_data: no writer to feed, no SIGPIPE if the command never reads.
Fd stdin_file(const std::string& data) {
  Fd fd(::memfd_create("sandbox-stdin", MFD_CLOEXEC));
  if (!fd) throw_errno("memfd_create");
  for (std::size_t done = 0; done < data.size();) {
    const ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno != EINTR) throw_errno("write stdin");
    if (n > 0) done += static_cast<std::size_t>(n);
  }
  if (::lseek(fd.get(), 0, SEEK_SET) != 0) throw_errno("lseek stdin");
  return fd;
}

class Stack {
 public:
  explicit Stack(std::size_t size) : size_(size) {
    base_ = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (base_ == MAP_FAILED) throw_errno("mmap stack");
  }
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;
  ~Stack() { ::munmap(base_, size_); }
  char* at(std::size_t offset) const { return static_cast<char*>(base_) + offset; }

 private:
  void* base_;
  std::size_t size_;
};

// The new root's mount point: an empty directory on the host (the mounts on it exist only in
// the run's mount namespace).
class TempDir {
 public:
  TempDir() {
    std::string tmpl =
        (fs::temp_directory_path() / (std::string(kLeftoverPrefix) + std::to_string(::getpid()) + "-XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw_errno("mkdtemp " + tmpl);
    path_ = tmpl;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() { ::rmdir(path_.c_str()); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// The run's init: SIGKILLed and reaped if run() leaves early.
struct Child {
  pid_t pid = -1;
  bool reaped = false;
  int status = 0;
  rusage usage{};
  Child() = default;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  void reap() {
    while (::wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
    }
    reaped = true;
  }
  ~Child() {
    if (pid > 0 && !reaped) {
      ::kill(pid, SIGKILL);
      reap();
    }
  }
};

// Gives the workdir and the writable paths to the run's uid (it must write there), as lchown
// -R does (symlinks are not followed), but a directory it already owns is taken as given with
// all it holds: a shared GOCACHE of thousands of files is walked once, not at every run.
// Entries that vanish meanwhile (a concurrent run's cache renaming its temporary files) are
// skipped.
thread_local int t_give_error = 0;

int give_entry(const char* path, const struct stat* st, int type, FTW*) {
  if (type == FTW_NS) return FTW_CONTINUE;  // gone, or not even stat-able: nothing to give
  if (st->st_uid == kUid && st->st_gid == kGid) return type == FTW_D ? FTW_SKIP_SUBTREE : FTW_CONTINUE;
  if (::lchown(path, kUid, kGid) != 0 && errno != ENOENT) {
    t_give_error = errno;
    return FTW_STOP;
  }
  return FTW_CONTINUE;
}

void give_to_sandbox(const fs::path& dir) {
  t_give_error = 0;
  ::nftw(dir.c_str(), give_entry, 32, FTW_PHYS | FTW_ACTIONRETVAL);
  if (t_give_error != 0) {
    throw std::system_error(t_give_error, std::generic_category(), "lchown -R " + dir.string());
  }
}

std::string seconds(milliseconds d) {
  const auto ms = d.count();
  std::string s = std::to_string(ms / 1000);
  if (ms % 1000 != 0) {
    std::string frac = std::to_string(1000 + ms % 1000).substr(1);
    while (frac.back() == '0') frac.pop_back();
    s += "." + frac;
  }
  return s + " s";
}

std::string bytes(std::size_t n) {
  if (n % (1u << 20) == 0) return std::to_string(n >> 20) + " MiB";
  if (n % (1u << 10) == 0) return std::to_string(n >> 10) + " KiB";
  return std::to_string(n) + " bytes";
}

// ---- what the machine allows -------------------------------------------------------------

struct Machine {
  Capabilities caps;
  int clone_flags = 0;
  bool proc = false;  // a fresh /proc works
  std::unique_ptr<CgroupParent> cgroup;
};

bool turned_off(std::string_view list, std::string_view layer) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    if (list.substr(0, comma) == layer) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

bool probe_clone(int flags, const ProbePlan& plan) {
  const Stack stack(kStackSize);
  const pid_t pid = ::clone(probe_child, stack.at(kStackSize), flags | SIGCHLD, const_cast<ProbePlan*>(&plan));
  if (pid < 0) return false;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

Machine probe_machine() {
  Machine m;
  const char* env = std::getenv("ASSESS_SANDBOX_WITHOUT");
  const std::string_view without = env != nullptr ? env : "";
  auto layer = [&](std::string_view name, bool works, const char* why) {
    if (turned_off(without, name)) {
      m.caps.notes.push_back(std::string(name) + ": turned off by ASSESS_SANDBOX_WITHOUT");
      return false;
    }
    if (!works) m.caps.notes.push_back(std::string(name) + ": " + why);
    return works;
  };
  const bool root = ::geteuid() == 0;
  // Not root: the namespaces come from a user namespace in which the grader's ids are 65534.
  const std::string uid_map = std::to_string(kUid) + " " + std::to_string(::geteuid()) + " 1\n";
  const std::string gid_map = std::to_string(kGid) + " " + std::to_string(::getegid()) + " 1\n";
  ProbePlan ids;
  if (!root && layer("userns", probe_clone(CLONE_NEWUSER, {.uid_map = uid_map.c_str(), .gid_map = gid_map.c_str()}),
                     "not root, and no user namespace")) {
    m.caps.user_namespace = true;
    m.clone_flags = CLONE_NEWUSER;
    ids = {.uid_map = uid_map.c_str(), .gid_map = gid_map.c_str()};
  }
  auto works = [&](int flags, ProbePlan plan) {
    plan.uid_map = ids.uid_map;
    plan.gid_map = ids.gid_map;
    return probe_clone(m.clone_flags | flags, plan);
  };
  if (layer("netns", works(CLONE_NEWNET, {.loopback = true}), "cannot make a network namespace with its loopback up")) {
    m.caps.net_namespace = true;
    m.clone_flags |= CLONE_NEWNET;
  }
  std::optional<TempDir> dir;
  try {
    dir.emplace();
  } catch (const std::system_error&) {
  }
  if (layer("mountns", dir && works(CLONE_NEWNS, {.mount_dir = dir->path().c_str()}),
            "cannot mount in a new mount namespace")) {
    m.caps.mount_namespace = true;
    m.clone_flags |= CLONE_NEWNS;
    if (works(CLONE_NEWIPC | CLONE_NEWUTS, {})) m.clone_flags |= CLONE_NEWIPC | CLONE_NEWUTS;
  }
  if (layer("pidns", works(CLONE_NEWPID, {}), "cannot make a PID namespace")) {
    m.caps.pid_namespace = true;
    m.clone_flags |= CLONE_NEWPID;
  }
  // A PID namespace's own /proc (refused where the host's /proc is partly hidden, as in
  // containers, to a user namespace): without it, runs get no /proc at all.
  if (m.caps.mount_namespace && m.caps.pid_namespace) {
    const std::string proc = (dir->path() / "proc").string();
    m.proc = works(CLONE_NEWNS | CLONE_NEWPID, {.mount_dir = dir->path().c_str(), .proc_dir = proc.c_str()});
    if (!m.proc) m.caps.notes.push_back("proc: cannot mount a /proc for the PID namespace: runs have none");
  }
  m.caps.drop_privileges = layer("uid", root, "not root: runs keep the grader's uid");
  std::string why;
  std::unique_ptr<CgroupParent> parent = CgroupParent::find(why);
  if (parent != nullptr) {
    try {
      Cgroup trial(*parent, Limits{});
    } catch (const std::system_error& e) {
      parent.reset();
      why = e.what();
    }
  }
  if (layer("cgroup", parent != nullptr, why.c_str())) {
    m.caps.cgroup = true;
    m.cgroup = std::move(parent);
    Cgroup::sweep(*m.cgroup);
  }
  for_each_orphan(fs::temp_directory_path(), [](const fs::path& dir) { ::rmdir(dir.c_str()); });
  return m;
}

const Machine& machine() {
  static const Machine m = probe_machine();
  return m;
}

// ---- one run -----------------------------------------------------------------------------

// Watches a started run until every pipe is closed: reads its output, enforces the limits,
// kills it when one is crossed.
class Watch {
 public:
  Watch(const Spec& spec, Outcome& out, Cgroup* cgroup, pid_t pid)
      : spec_(spec), out_(out), cgroup_(cgroup), pid_(pid) {}

  void loop(Clock::time_point start, Fd out, Fd err, Fd errp, Fd status);

  std::optional<Status> verdict;  // the limit the run was killed for
  std::string why;
  std::optional<ChildError> setup_error;
  std::optional<int> command_status;

 private:
  struct Stream {
    Fd fd;
    std::string* data;
    std::size_t total = 0;
    const char* name;
  };
  void kill(std::optional<Status> reason, std::string message);
  void check_cgroup();
  void read_stream(Stream& s);
  template <class T>
  void read_record(Fd& fd, std::optional<T>& into);

  const Spec& spec_;
  Outcome& out_;
  Cgroup* cgroup_;
  pid_t pid_;
  std::optional<Clock::time_point> drain_until_;
};

void Watch::kill(std::optional<Status> reason, std::string message) {
  if (reason && !verdict) {
    verdict = reason;
    why = std::move(message);
  }
  // The init (in a PID namespace, its death kills the namespace), its process group, and
  // whatever is in the cgroup (what left the group with setsid).
  ::kill(pid_, SIGKILL);
  ::kill(-pid_, SIGKILL);
  if (cgroup_ != nullptr) cgroup_->kill_all();
  if (!drain_until_) drain_until_ = Clock::now() + kDrain;
}

std::string cpu_message(const Limits& l) { return "killed: CPU time over the " + seconds(l.cpu) + " limit"; }

// The limit the cgroup's counters show crossed, if any.
std::optional<std::pair<Status, std::string>> crossed(const CgroupStats& s, const Limits& l) {
  if (s.oom_kills > 0) {
    return std::pair{Status::memory_limit, "killed: out of memory (limit " + bytes(l.memory_bytes) + ")"};
  }
  if (s.pids_max_events > 0) {
    return std::pair{Status::process_limit,
                     "killed: hit the limit of " + std::to_string(l.max_processes) + " processes and threads"};
  }
  if (s.cpu > l.cpu) return std::pair{Status::cpu_limit, cpu_message(l)};
  return std::nullopt;
}

void Watch::check_cgroup() {
  if (auto limit = crossed(cgroup_->stats(), spec_.limits)) kill(limit->first, std::move(limit->second));
}

void Watch::read_stream(Stream& s) {
  char buf[16384];
  for (int i = 0; i < 64; ++i) {  // then let the other pipes have a turn
    const ssize_t n = ::read(s.fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      s.fd.reset();
      return;
    }
    const std::size_t cap = spec_.limits.max_output_bytes;
    s.data->append(buf, std::min(static_cast<std::size_t>(n), cap - s.data->size()));
    s.total += static_cast<std::size_t>(n);
    if (s.total > cap) {
      kill(Status::output_limit,
           "killed: wrote more than " + bytes(cap) + " to " + s.name);
    }
  }
}

// A fixed-size record the child writes once (ChildError, the wait status); EOF closes fd.
template <class T>
void Watch::read_record(Fd& fd, std::optional<T>& into) {
  T value;
  ssize_t n;
  while ((n = ::read(fd.get(), &value, sizeof value)) < 0 && errno == EINTR) {
  }
  if (n == static_cast<ssize_t>(sizeof value)) {
    into = value;
    return;
  }
  fd.reset();
}

void Watch::loop(Clock::time_point start, Fd out, Fd err, Fd errp, Fd status) {
  std::array<Stream, 2> streams{Stream{std::move(out), &out_.stdout_data, 0, "stdout"},
                                Stream{std::move(err), &out_.stderr_data, 0, "stderr"}};
  for (Stream& s : streams) ::fcntl(s.fd.get(), F_SETFL, O_NONBLOCK);
  const Clock::time_point deadline = start + spec_.limits.wall;
  Clock::time_point next_tick = start + kTick;
  while (streams[0].fd || streams[1].fd || errp || status) {
    Clock::time_point now = Clock::now();
    if (drain_until_ && now >= *drain_until_) break;
    if (now >= deadline && !verdict) {
      kill(Status::timeout, "killed after " + seconds(spec_.limits.wall) + " wall time");
    }
    if (cgroup_ != nullptr && now >= next_tick) {
      if (!verdict) check_cgroup();
      next_tick = now + kTick;
    }
    // Before a kill: the deadline; after a kill or the command's end: the drain's end.
    Clock::time_point wake = drain_until_ ? *drain_until_ : deadline;
    if (!verdict) wake = std::min(wake, deadline);
    if (cgroup_ != nullptr) wake = std::min(wake, next_tick);
    const auto wait = std::chrono::ceil<milliseconds>(std::max(wake - now, Clock::duration::zero()));

    std::array<pollfd, 4> fds{};
    std::array<int, 4> which{};
    nfds_t n = 0;
    const std::array<const Fd*, 4> all{&streams[0].fd, &streams[1].fd, &errp, &status};
    for (int i = 0; i < 4; ++i) {
      if (*all[i]) {
        fds[n] = {all[i]->get(), POLLIN, 0};
        which[n++] = i;
      }
    }
    const int ready = ::poll(fds.data(), n, static_cast<int>(wait.count()));
    if (ready < 0 && errno != EINTR) throw_errno("poll");
    for (nfds_t i = 0; ready > 0 && i < n; ++i) {
      if (fds[i].revents == 0) continue;
      switch (which[i]) {
        case 0:
        case 1: read_stream(streams[which[i]]); break;
        case 2: read_record(errp, setup_error); break;
        case 3:
          read_record(status, command_status);
          // The init has exited: the run is over. What the command left behind goes too (in a
          // PID namespace the kernel has done it already).
          if (!status && !drain_until_) kill(std::nullopt, "");
          break;
      }
    }
  }
}

// Without a pids cgroup, RLIMIT_NPROC makes fork fail: the command's stderr says so, in the
// words of dash, bash, C's perror or Go.
bool fork_failed(const Outcome& out) {
  for (const char* text : {"Cannot fork", "Resource temporarily unavailable", "resource temporarily unavailable",
                           "failed to create new OS thread"}) {
    if (out.stderr_data.find(text) != std::string::npos) return true;
  }
  return false;
}

Status classify(const Watch& w, const Outcome& out, const Spec& spec, bool nproc_rlimit,
                std::string& message) {
  // A fork bomb held by RLIMIT_NPROC may still end at another limit, or exit.
  if (nproc_rlimit && !w.setup_error && (!w.verdict || *w.verdict != Status::memory_limit) && fork_failed(out)) {
    message = "fork failed at the limit of " + std::to_string(spec.limits.max_processes) +
              " processes (seen in stderr: no pids cgroup)";
    return Status::process_limit;
  }
  if (w.verdict) {
    message = w.why;
    return *w.verdict;
  }
  if (w.setup_error) {
    return Status::internal_error;  // message set by the caller, which has the Setup
  }
  const Limits& l = spec.limits;
  if (out.cpu >= l.cpu) {
    message = cpu_message(l);
    return Status::cpu_limit;
  }
  if (!w.command_status) {
    message = "sandbox: the run's init ended without the command's status";
    return Status::internal_error;
  }
  const int st = *w.command_status;
  if (WIFSIGNALED(st) && WTERMSIG(st) == SIGXCPU) {
    message = cpu_message(l);
    return Status::cpu_limit;
  }
  if (WIFSIGNALED(st)) {
    const char* name = ::sigdescr_np(WTERMSIG(st));
    message = "killed by signal " + std::to_string(WTERMSIG(st)) + " (" + (name ? name : "?") + ")";
    return Status::signaled;
  }
  message = "exited with code " + std::to_string(WEXITSTATUS(st));
  return Status::exited;
}

Outcome execute(const Spec& spec, const Layers& layers, const CgroupParent* cgroup_parent) {
  const CheckedSpec checked = check(spec);
  Outcome out;
  if (layers.clone_flags & CLONE_NEWUSER) out.isolation.push_back("userns");
  if (layers.clone_flags & CLONE_NEWNET) out.isolation.push_back("netns");
  if (layers.clone_flags & CLONE_NEWNS) out.isolation.push_back("mountns");
  if (layers.clone_flags & CLONE_NEWPID) out.isolation.push_back("pidns");
  if (layers.clone_flags & CLONE_NEWIPC) out.isolation.push_back("ipcns");
  if (layers.clone_flags & CLONE_NEWUTS) out.isolation.push_back("utsns");
  if (layers.drop_privileges) out.isolation.push_back("uid " + std::to_string(kUid));
  if (cgroup_parent != nullptr) out.isolation.push_back("cgroup v" + std::to_string(cgroup_parent->version));
  out.isolation.push_back("rlimits");
  const Clock::time_point start = Clock::now();
  try {
    if (layers.drop_privileges) {
      for (const Bind& b : checked.binds) {
        if (b.writable) give_to_sandbox(b.path);
      }
    }
    std::unique_ptr<Cgroup> cgroup;
    if (cgroup_parent != nullptr) cgroup = std::make_unique<Cgroup>(*cgroup_parent, spec.limits);
    std::optional<TempDir> root;
    if (layers.clone_flags & CLONE_NEWNS) root.emplace();
    Setup setup(spec, checked, layers, root ? root->path() : fs::path());
    Fd in = stdin_file(spec.stdin_data);
    Pipe pout = make_pipe(), perr = make_pipe(), go = make_pipe(), perrp = make_pipe(),
         pstatus = make_pipe();
    Stack stack(2 * kStackSize);
    const int fds[6] = {in.get(), pout.write.get(), perr.write.get(), go.read.get(),
                        perrp.write.get(), pstatus.write.get()};
    std::copy(std::begin(fds), std::end(fds), setup.plan.fds);
    setup.plan.cmd_stack_top = stack.at(kStackSize);

    Child child;
    child.pid = ::clone(child_init, stack.at(2 * kStackSize), layers.clone_flags | SIGCHLD, &setup.plan);
    if (child.pid < 0) throw_errno("clone");
    for (Fd* fd : {&in, &pout.write, &perr.write, &perrp.write, &pstatus.write}) fd->reset();
    if (cgroup) cgroup->attach(child.pid);
    // The go pipe's read end stays open here until the byte is written: a child that died
    // already makes no SIGPIPE.
    if (::write(go.write.get(), "g", 1) != 1) throw_errno("start the child");
    go.write.reset();
    go.read.reset();

    Watch watch(spec, out, cgroup.get(), child.pid);
    watch.loop(start, std::move(pout.read), std::move(perr.read), std::move(perrp.read),
               std::move(pstatus.read));
    child.reap();
    out.wall = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
    const auto rusage_cpu = std::chrono::seconds(child.usage.ru_utime.tv_sec + child.usage.ru_stime.tv_sec) +
                            std::chrono::microseconds(child.usage.ru_utime.tv_usec + child.usage.ru_stime.tv_usec);
    out.cpu = std::chrono::duration_cast<milliseconds>(rusage_cpu);
    out.max_rss_bytes = static_cast<std::size_t>(child.usage.ru_maxrss) * 1024;
    if (cgroup) {
      const CgroupStats s = cgroup->stats();
      out.cpu = std::max(out.cpu, std::chrono::duration_cast<milliseconds>(s.cpu));
      if (s.peak_memory > 0) out.max_rss_bytes = s.peak_memory;
      // A limit crossed between the last tick and the end.
      if (auto limit = crossed(s, spec.limits); limit && !watch.verdict) {
        std::tie(watch.verdict, watch.why) = *limit;
      }
    }
    out.status = classify(watch, out, spec, !layers.pids_cgroup && layers.drop_privileges, out.message);
    if (out.status == Status::internal_error && watch.setup_error) {
      out.message = setup.describe(*watch.setup_error);
    }
    if (out.status == Status::exited) out.exit_code = WEXITSTATUS(*watch.command_status);
    if (out.status == Status::signaled) out.signal = WTERMSIG(*watch.command_status);
  } catch (const std::system_error& e) {
    out.status = Status::internal_error;
    out.message = std::string("sandbox: ") + e.what();
    out.wall = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  }
  return out;
}

Layers layers_of(const Machine& m, const Spec& spec) {
  Layers l;
  l.clone_flags = m.clone_flags & ~(spec.network ? CLONE_NEWNET : 0);
  l.proc = m.proc;
  l.drop_privileges = m.caps.drop_privileges;
  l.pids_cgroup = m.cgroup != nullptr;
  return l;
}

}  // namespace

const char* to_string(Status s) {
  switch (s) {
    case Status::exited: return "exited";
    case Status::signaled: return "signaled";
    case Status::timeout: return "timeout";
    case Status::cpu_limit: return "cpu_limit";
    case Status::memory_limit: return "memory_limit";
    case Status::output_limit: return "output_limit";
    case Status::process_limit: return "process_limit";
    case Status::internal_error: return "internal_error";
  }
  return "unknown";
}

Capabilities probe() { return machine().caps; }

Outcome run(const Spec& spec) {
  const Machine& m = machine();
  return execute(spec, layers_of(m, spec), m.cgroup.get());
}

namespace detail {

Outcome run_without(const Spec& spec, std::string_view layers) {
  const Machine& m = machine();
  Layers l = layers_of(m, spec);
  if (turned_off(layers, "netns")) l.clone_flags &= ~CLONE_NEWNET;
  if (turned_off(layers, "mountns")) l.clone_flags &= ~(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS);
  if (turned_off(layers, "pidns")) l.clone_flags &= ~CLONE_NEWPID;
  // Without a user namespace, a grader that is not root gets no namespace at all.
  if (turned_off(layers, "userns") && (l.clone_flags & CLONE_NEWUSER) != 0) l.clone_flags = 0;
  l.proc = l.proc && (l.clone_flags & CLONE_NEWNS) != 0 && (l.clone_flags & CLONE_NEWPID) != 0;
  if (turned_off(layers, "uid")) l.drop_privileges = false;
  const bool cgroup = m.cgroup != nullptr && !turned_off(layers, "cgroup");
  l.pids_cgroup = cgroup;
  return execute(spec, l, cgroup ? m.cgroup.get() : nullptr);
}

}  // namespace detail

}  // namespace assess::sandbox
