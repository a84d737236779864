// The sandbox's child, between clone and exec. The grader that cloned it is multithreaded, so
// this side only makes system calls: no allocation, no locks, no stdio, no errno-reporting
// library wrappers that sanitizers intercept (they may hold runtime locks another thread of
// the parent owned at clone time). Everything it needs, the parent prepared (ChildPlan).
#include <fcntl.h>
#include <linux/close_range.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>

#include "engine/sandbox_detail.hpp"

// The child runs on a stack the sanitizers do not know, in a copy of a process whose
// sanitizer runtime may be mid-operation in another thread: keep their instrumentation out.
#define CHILD_FN __attribute__((no_sanitize("address", "thread", "undefined")))

namespace assess::sandbox::detail {
namespace {

// mount_setattr(2) (Linux 5.12): one call makes a bind mount and everything under it
// read-only; older kernels fall back to remounting the top mount.
struct MountAttr {
  std::uint64_t attr_set, attr_clr, propagation, userns_fd;
};
constexpr std::uint64_t kAttrRdonly = 0x1, kAttrNosuid = 0x2, kAttrNodev = 0x4;
constexpr unsigned kAtRecursive = 0x8000;
constexpr int kSyscallMountSetattr = 442;  // the same number on every architecture

// The kernel's struct sigaction (rt_sigaction(2)), for SIG_DFL only: no restorer needed.
struct KernelSigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)();
  std::uint64_t mask;
};

CHILD_FN [[noreturn]] void die(std::int32_t stage, std::int32_t err) {
  const ChildError report{stage, err};
  syscall(SYS_write, 4, &report, sizeof report);
  syscall(SYS_exit_group, 127);
  __builtin_unreachable();
}

CHILD_FN bool ok(long rc) { return rc >= 0; }

// Moves the plan's fds to 0..5 and closes every other fd: a concurrent run's pipe ends,
// copied into this process by clone, must not stay open here.
CHILD_FN void remap_fds(const int (&fds)[6]) {
  int moved[6];
  for (int i = 0; i < 6; ++i) {
    moved[i] = static_cast<int>(syscall(SYS_fcntl, fds[i], F_DUPFD_CLOEXEC, 16));
    if (moved[i] < 0) syscall(SYS_exit_group, 127);  // no error pipe yet
  }
  for (int i = 0; i < 6; ++i) {
    if (!ok(syscall(SYS_dup3, moved[i], i, i < 3 ? 0 : O_CLOEXEC))) syscall(SYS_exit_group, 127);
  }
  if (!ok(syscall(SYS_close_range, 6u, ~0u, 0u))) {
    for (int fd = 6; fd < 65536; ++fd) syscall(SYS_close, fd);  // before Linux 5.9
  }
}

// Signal dispositions the grader set to "ignore" survive exec (a Go program would inherit an
// ignored SIGPIPE), and its threads' masks may block signals: start the command clean.
CHILD_FN void reset_signals() {
  KernelSigaction dfl{};
  dfl.handler = SIG_DFL;
  for (int sig = 1; sig < 65; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) syscall(SYS_rt_sigaction, sig, &dfl, nullptr, 8);
  }
  const std::uint64_t none = 0;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, nullptr, 8);
}

CHILD_FN void copy(char* dst, const char* src, std::size_t cap) {
  std::size_t i = 0;
  for (; src[i] != '\0' && i + 1 < cap; ++i) dst[i] = src[i];
  dst[i] = '\0';
}

CHILD_FN std::size_t length(const char* s) {
  std::size_t n = 0;
  while (s[n] != '\0') ++n;
  return n;
}

// A new network namespace has only a loopback interface, down: bring it up so that tests can
// listen on 127.0.0.1 (that loopback is the namespace's own, not the host's). errno on failure.
CHILD_FN bool loopback_up() {
  const long s = syscall(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (!ok(s)) return false;
  ifreq ifr{};
  copy(ifr.ifr_name, "lo", sizeof ifr.ifr_name);
  bool up = ok(syscall(SYS_ioctl, s, SIOCGIFFLAGS, &ifr));
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
  up = up && ok(syscall(SYS_ioctl, s, SIOCSIFFLAGS, &ifr));
  const int err = errno;
  syscall(SYS_close, s);
  errno = err;
  return up;
}

CHILD_FN bool write_to(const char* path, const char* text, int flags = 0) {
  const long fd = syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CLOEXEC | flags, 0644);
  if (!ok(fd)) return false;
  const std::size_t n = length(text);
  const bool written = syscall(SYS_write, fd, text, n) == static_cast<long>(n);
  syscall(SYS_close, fd);
  return written;
}

// Maps the grader's uid and gid into the new user namespace: the kernel lets a process map
// its own ids (as `unshare -r` does), the gid only once setgroups is denied.
CHILD_FN bool map_ids(const char* uid_map, const char* gid_map) {
  return write_to("/proc/self/setgroups", "deny") && write_to("/proc/self/uid_map", uid_map) &&
         write_to("/proc/self/gid_map", gid_map);
}

CHILD_FN long seal(const MountOp& op) {
  MountAttr attr{};
  attr.attr_set = kAttrNosuid | kAttrNodev | ((op.flags & MS_RDONLY) != 0 ? kAttrRdonly : 0);
  const long rc = syscall(kSyscallMountSetattr, AT_FDCWD, op.path, kAtRecursive, &attr, sizeof attr);
  if (ok(rc) || errno != ENOSYS) return rc;
  return syscall(SYS_mount, nullptr, op.path, nullptr,
                 MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | (op.flags & MS_RDONLY), nullptr);
}

// pivot_root(".", ".") stacks the old root under the new one, then detaching "." drops it: no
// directory for the old root needed. A root that cannot be pivoted (initramfs) is chroot'ed.
CHILD_FN long pivot(const MountOp& op) {
  if (!ok(syscall(SYS_chdir, op.path))) return -1;
  if (ok(syscall(SYS_pivot_root, ".", "."))) {
    if (!ok(syscall(SYS_umount2, ".", MNT_DETACH))) return -1;
  } else if (!ok(syscall(SYS_mount, ".", "/", nullptr, MS_MOVE, nullptr)) ||
             !ok(syscall(SYS_chroot, "."))) {
    return -1;
  }
  return syscall(SYS_chdir, "/");
}

CHILD_FN long run_op(const MountOp& op) {
  switch (op.kind) {
    case MountOp::mkdir: {
      const long rc = syscall(SYS_mkdirat, AT_FDCWD, op.path, 0755);
      return ok(rc) || errno == EEXIST ? 0 : rc;
    }
    case MountOp::touch: {
      const long fd = syscall(SYS_openat, AT_FDCWD, op.path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      if (ok(fd)) syscall(SYS_close, fd);
      return fd;
    }
    case MountOp::symlink:
      return syscall(SYS_symlinkat, op.arg, AT_FDCWD, op.path);
    case MountOp::mount:
      return syscall(SYS_mount, op.arg, op.path, op.fstype, op.flags, op.data);
    case MountOp::seal:
      return seal(op);
    case MountOp::write:
      return write_to(op.path, op.arg, O_CREAT | O_TRUNC) ? 0 : -1;
    case MountOp::pivot:
      return pivot(op);
    case MountOp::chdir:
      return syscall(SYS_chdir, op.path);
  }
  errno = EINVAL;
  return -1;
}

CHILD_FN void set_identity() {
  if (!ok(syscall(SYS_setgroups, 0, nullptr)) || !ok(syscall(SYS_setresgid, kGid, kGid, kGid)) ||
      !ok(syscall(SYS_setresuid, kUid, kUid, kUid))) {
    die(kStageIdentity, errno);
  }
}

// The command's process: identity, then exec. fds 3..5 are close-on-exec.
CHILD_FN int command_main(void* arg) {
  const auto& plan = *static_cast<const ChildPlan*>(arg);
  if (plan.drop_privileges) set_identity();
  // No setuid binary may give back what was dropped (the mounts are nosuid as well).
  if (!ok(syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))) die(kStageNoNewPrivs, errno);
  int err = ENOENT;
  for (const char* const* path = plan.exec_paths; *path != nullptr; ++path) {
    syscall(SYS_execve, *path, plan.argv, plan.envp);
    if (errno == EACCES) {
      err = EACCES;  // as execvp: remember it, keep looking
    } else if (errno != ENOENT && errno != ENOTDIR) {
      err = errno;
      break;
    }
  }
  die(kStageExec, err);
}

}  // namespace

CHILD_FN int child_init(void* arg) {
  const auto& plan = *static_cast<const ChildPlan*>(arg);
  remap_fds(plan.fds);
  reset_signals();
  if (plan.uid_map != nullptr && !map_ids(plan.uid_map, plan.gid_map)) die(kStageUserns, errno);
  // The grader's thread that cloned us going away (the grader crashed) ends the run.
  syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  char go = 0;
  long n;
  while ((n = syscall(SYS_read, 3, &go, 1)) < 0 && errno == EINTR) {
  }
  if (n != 1) syscall(SYS_exit_group, 127);  // the parent gave up on us
  // Its own process group, so that the parent reaches every process with kill(-pgid).
  if (!ok(syscall(SYS_setsid))) die(kStageSession, errno);
  if (plan.loopback_up && !loopback_up()) die(kStageLoopback, errno);
  if (plan.hostname != nullptr &&
      !ok(syscall(SYS_sethostname, plan.hostname, length(plan.hostname)))) {
    die(kStageHostname, errno);
  }
  for (std::size_t i = 0; i < plan.n_ops; ++i) {
    if (!ok(run_op(plan.ops[i]))) die(static_cast<std::int32_t>(i), errno);
  }
  for (std::size_t i = 0; i < plan.n_rlimits; ++i) {
    const rlimit64 rl{plan.rlimits[i].soft, plan.rlimits[i].hard};
    if (!ok(syscall(SYS_prlimit64, 0, plan.rlimits[i].resource, &rl, nullptr))) {
      die(kStageRlimit, errno);
    }
  }
  if (plan.subreaper) syscall(SYS_prctl, PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  const int command = clone(command_main, plan.cmd_stack_top, SIGCHLD, arg);
  if (command < 0) die(kStageFork, errno);
  syscall(SYS_close, 4);  // the command's copy alone tells the parent whether exec worked
  // Where the grader is root, the init stays root (it only reaps): the command, running as
  // another uid, cannot kill it even where there is no PID namespace to protect it.
  for (;;) {
    int status = 0;
    const long pid = syscall(SYS_wait4, -1, &status, __WALL, nullptr);
    if (pid == command) {
      syscall(SYS_write, 5, &status, sizeof status);
      syscall(SYS_exit_group, 0);
    }
    if (pid < 0 && errno != EINTR) syscall(SYS_exit_group, 127);
  }
}

CHILD_FN int probe_child(void* arg) {
  const auto& probe = *static_cast<const ProbePlan*>(arg);
  bool good = probe.uid_map == nullptr || map_ids(probe.uid_map, probe.gid_map);
  if (good && probe.mount_dir != nullptr) {
    good = ok(syscall(SYS_mount, nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr)) &&
           ok(syscall(SYS_mount, "tmpfs", probe.mount_dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k"));
  }
  if (good && probe.proc_dir != nullptr) {
    good = ok(syscall(SYS_mkdirat, AT_FDCWD, probe.proc_dir, 0755)) &&
           ok(syscall(SYS_mount, "proc", probe.proc_dir, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr));
  }
  if (good && probe.loopback) good = loopback_up();
  syscall(SYS_exit_group, good ? 0 : 1);
  return 1;
}

}  // namespace assess::sandbox::detail
