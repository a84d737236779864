// The sandbox's plan: what the child does between clone and exec, prepared as plain data in
// the parent (the child may not allocate). The new root shows the toolchain read-only, a
// minimal /dev, a private /proc and /tmp, a few synthetic /etc files, and the Spec's paths.
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <system_error>

#include "engine/sandbox_detail.hpp"

namespace assess::sandbox::detail {
namespace fs = std::filesystem;

namespace {

// What the Go toolchain and gcc (cgo) need from the host, read-only. Symlinks (merged /usr:
// /bin -> usr/bin) are recreated as symlinks. The dynamic linker needs ld.so.cache for
// /usr/lib/x86_64-linux-gnu; cc is an alternatives symlink.
constexpr const char* kSystemPaths[] = {
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
    "/etc/alternatives", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
};

// With Spec::network (a trusted run), name resolution and certificates as on the host.
constexpr const char* kNetworkPaths[] = {
    "/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/host.conf",
    "/etc/gai.conf", "/etc/ssl", "/etc/ca-certificates",
};

constexpr const char* kDevices[] = {"null", "zero", "full", "random", "urandom"};

// os/user and the resolver read these; the host's are not shown (they name its users).
constexpr const char* kPasswd =
    "root:x:0:0:root:/root:/usr/sbin/nologin\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
constexpr const char* kGroup = "root:x:0:\nnogroup:x:65534:\n";
constexpr const char* kHosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";
constexpr const char* kNsswitch = "hosts: files\n";

[[noreturn]] void bad(const std::string& what) {
  throw std::invalid_argument("assess::sandbox::run: " + what);
}

fs::path existing(const fs::path& p, const char* what) {
  if (p.empty() || !p.is_absolute()) bad(std::string(what) + " must be an absolute path: '" + p.string() + "'");
  std::error_code ec;
  fs::path canonical = fs::canonical(p, ec);
  if (ec) bad(std::string(what) + " " + p.string() + ": " + ec.message());
  if (canonical == "/") bad(std::string(what) + " must not be /");
  return canonical;
}

bool has_nul(const std::string& s) { return s.find('\0') != std::string::npos; }

const std::string* find_env(const Spec& spec, std::string_view key) {
  for (const auto& [k, v] : spec.env) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::string relative_to(const fs::path& root, const char* path) {
  std::string_view p = path;
  const std::string r = root.string();
  if (!r.empty() && p.starts_with(r)) p.remove_prefix(r.size());
  return p.empty() ? "/" : std::string(p);
}

}  // namespace

CheckedSpec check(const Spec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty()) bad("empty argv");
  for (const std::string& a : spec.argv) {
    if (has_nul(a)) bad("NUL in argv");
  }
  for (const auto& [k, v] : spec.env) {
    if (k.empty() || k.find('=') != std::string::npos || has_nul(k) || has_nul(v)) {
      bad("bad environment variable name '" + k + "'");
    }
  }
  const Limits& l = spec.limits;
  if (l.wall <= std::chrono::milliseconds::zero() || l.cpu <= std::chrono::milliseconds::zero() ||
      l.memory_bytes == 0 || l.max_processes <= 0 || l.max_output_bytes == 0 || l.max_file_bytes == 0) {
    bad("limits must be positive");
  }
  CheckedSpec out;
  out.workdir = existing(spec.workdir, "workdir");
  if (!fs::is_directory(out.workdir)) bad("workdir " + out.workdir.string() + " is not a directory");
  out.binds.push_back({out.workdir, true});
  for (const fs::path& p : spec.writable) out.binds.push_back({existing(p, "writable path"), true});
  for (const fs::path& p : spec.read_only) out.binds.push_back({existing(p, "read-only path"), false});
  // Parents first; a path both writable and read-only is writable.
  std::sort(out.binds.begin(), out.binds.end(), [](const Bind& a, const Bind& b) {
    return a.path != b.path ? a.path < b.path : a.writable > b.writable;
  });
  out.binds.erase(std::unique(out.binds.begin(), out.binds.end(),
                              [](const Bind& a, const Bind& b) { return a.path == b.path; }),
                  out.binds.end());
  return out;
}

const char* Setup::keep(std::string s) {
  strings_.push_back(std::make_unique<std::string>(std::move(s)));
  return strings_.back()->c_str();
}

// mkdir ops for every directory from the new root down to `inside` (a path as seen inside).
void Setup::mkdirs(const fs::path& inside) {
  fs::path at = root_;
  for (const fs::path& part : inside.relative_path()) {
    at /= part;
    if (std::find(made_dirs_.begin(), made_dirs_.end(), at.string()) != made_dirs_.end()) continue;
    made_dirs_.push_back(at.string());
    ops_.push_back({MountOp::mkdir, keep(at.string())});
  }
}

// Shows host path `host` at `inside`. follow: bind what a symlink points to (else the symlink
// itself is recreated, so that /bin -> usr/bin stays a symlink into the read-only /usr).
void Setup::bind(const fs::path& host, const fs::path& inside, bool writable, bool follow) {
  struct stat st{};
  if ((follow ? ::stat(host.c_str(), &st) : ::lstat(host.c_str(), &st)) != 0) return;
  const fs::path target = root_ / inside.relative_path();
  if (S_ISLNK(st.st_mode)) {
    mkdirs(inside.parent_path());
    ops_.push_back({MountOp::symlink, keep(target.string()), keep(fs::read_symlink(host).string())});
    return;
  }
  if (S_ISDIR(st.st_mode)) {
    mkdirs(inside);
  } else {
    mkdirs(inside.parent_path());
    ops_.push_back({MountOp::touch, keep(target.string())});
  }
  const char* t = keep(target.string());
  ops_.push_back({MountOp::mount, t, keep(host.string()), nullptr, MS_BIND | MS_REC});
  ops_.push_back({MountOp::seal, t, nullptr, nullptr, writable ? 0ul : static_cast<unsigned long>(MS_RDONLY)});
}

void Setup::build_root(const Spec& spec, const CheckedSpec& checked, const Layers& layers) {
  auto at = [&](const char* inside) { return keep((root_ / inside).string()); };
  auto tmpfs = [&](const char* inside, unsigned long flags, std::string options) {
    mkdirs(fs::path("/") / inside);
    ops_.push_back({MountOp::mount, at(inside), "tmpfs", "tmpfs", flags, keep(std::move(options))});
  };
  // Nothing mounted here may propagate back to the host.
  ops_.push_back({MountOp::mount, "/", nullptr, nullptr, MS_REC | MS_PRIVATE});
  ops_.push_back({MountOp::mount, keep(root_.string()), "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV,
                  "mode=0755,size=1m"});
  made_dirs_.push_back(root_.string());
  for (const char* p : kSystemPaths) bind(p, p, false, false);

  tmpfs("dev", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k");
  for (const char* d : kDevices) {
    const fs::path dev = fs::path("/dev") / d;
    ops_.push_back({MountOp::touch, keep((root_ / dev.relative_path()).string())});
    ops_.push_back({MountOp::mount, keep((root_ / dev.relative_path()).string()),
                    keep(dev.string()), nullptr, MS_BIND});
  }
  for (auto [name, target] : {std::pair{"dev/fd", "/proc/self/fd"}, std::pair{"dev/stdin", "/proc/self/fd/0"},
                              std::pair{"dev/stdout", "/proc/self/fd/1"},
                              std::pair{"dev/stderr", "/proc/self/fd/2"}}) {
    ops_.push_back({MountOp::symlink, at(name), target});
  }
  // A /proc of the run's own PID namespace; without one, none (the host's would show every
  // process on the machine).
  if (layers.proc) {
    mkdirs("/proc");
    ops_.push_back({MountOp::mount, at("proc"), "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC});
  }
  // go build's work directory: memory, charged to the run's cgroup, gone with the run.
  tmpfs("tmp", MS_NOSUID | MS_NODEV, "mode=1777,size=" + std::to_string(spec.limits.memory_bytes));

  mkdirs("/etc");
  ops_.push_back({MountOp::write, at("etc/passwd"), kPasswd});
  ops_.push_back({MountOp::write, at("etc/group"), kGroup});
  if (spec.network) {
    for (const char* p : kNetworkPaths) bind(p, p, false, true);
  } else {
    ops_.push_back({MountOp::write, at("etc/hosts"), kHosts});
    ops_.push_back({MountOp::write, at("etc/nsswitch.conf"), kNsswitch});
  }
  for (const Bind& b : checked.binds) bind(b.path, b.path, b.writable, true);
  // The root's own tmpfs (its mount points and /etc files) is done: read-only.
  ops_.push_back({MountOp::mount, keep(root_.string()), nullptr, nullptr,
                  MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV});
  ops_.push_back({MountOp::pivot, keep(root_.string())});
}

Setup::Setup(const Spec& spec, const CheckedSpec& checked, const Layers& layers, const fs::path& root)
    : root_(root) {
  if ((layers.clone_flags & CLONE_NEWNS) != 0) build_root(spec, checked, layers);
  ops_.push_back({MountOp::chdir, keep(checked.workdir.string())});

  if ((layers.clone_flags & CLONE_NEWUSER) != 0) {
    plan.uid_map = keep(std::to_string(kUid) + " " + std::to_string(::geteuid()) + " 1\n");
    plan.gid_map = keep(std::to_string(kGid) + " " + std::to_string(::getegid()) + " 1\n");
  }

  const Limits& l = spec.limits;
  const auto cpu_s = static_cast<std::uint64_t>(std::ceil(static_cast<double>(l.cpu.count()) / 1000));
  auto limit = [&](int resource, std::uint64_t soft, std::uint64_t hard) {
    // Only root may raise a hard limit: never above the grader's own.
    rlimit64 now{};
    if (::getrlimit64(resource, &now) == 0 && ::geteuid() != 0) hard = std::min<std::uint64_t>(hard, now.rlim_max);
    rlimits_.push_back({resource, std::min(soft, hard), hard});
  };
  limit(RLIMIT_CPU, cpu_s, cpu_s + 1);
  limit(RLIMIT_FSIZE, l.max_file_bytes, l.max_file_bytes);
  limit(RLIMIT_CORE, 0, 0);
  limit(RLIMIT_NOFILE, 4096, 4096);
  // Counts every process of the uid on the machine: only where no pids cgroup counts the run's
  // and the run has a uid of its own.
  if (!layers.pids_cgroup && layers.drop_privileges) {
    limit(RLIMIT_NPROC, static_cast<std::uint64_t>(l.max_processes), static_cast<std::uint64_t>(l.max_processes));
  }

  for (const std::string& a : spec.argv) argv_.push_back(const_cast<char*>(keep(a)));
  argv_.push_back(nullptr);
  for (const auto& [k, v] : spec.env) envp_.push_back(const_cast<char*>(keep(k + "=" + v)));
  const std::string* path = find_env(spec, "PATH");
  const std::string default_path = "/usr/local/bin:/usr/bin:/bin";
  if (path == nullptr) {
    envp_.push_back(const_cast<char*>(keep("PATH=" + default_path)));
    path = &default_path;
  }
  if (find_env(spec, "HOME") == nullptr) {
    envp_.push_back(const_cast<char*>(keep("HOME=" + checked.workdir.string())));
  }
  envp_.push_back(nullptr);

  // execvp's search, prepared: the child may not allocate.
  const std::string& name = spec.argv[0];
  if (name.find('/') != std::string::npos) {
    exec_paths_.push_back(keep(name));
  } else {
    std::string_view dirs = *path;
    while (true) {
      const auto colon = dirs.find(':');
      const std::string_view dir = dirs.substr(0, colon);
      exec_paths_.push_back(keep((dir.empty() ? std::string(".") : std::string(dir)) + "/" + name));
      if (colon == std::string_view::npos) break;
      dirs.remove_prefix(colon + 1);
    }
  }
  exec_paths_.push_back(nullptr);

  plan.loopback_up = (layers.clone_flags & CLONE_NEWNET) != 0;
  plan.hostname = (layers.clone_flags & CLONE_NEWUTS) != 0 ? "sandbox" : nullptr;
  plan.ops = ops_.data();
  plan.n_ops = ops_.size();
  plan.rlimits = rlimits_.data();
  plan.n_rlimits = rlimits_.size();
  plan.subreaper = (layers.clone_flags & CLONE_NEWPID) == 0;
  plan.drop_privileges = layers.drop_privileges;
  plan.exec_paths = exec_paths_.data();
  plan.argv = argv_.data();
  plan.envp = envp_.data();
}

std::string Setup::describe(const ChildError& e) const {
  const std::string err = std::generic_category().message(e.err);
  if (e.stage >= 0 && static_cast<std::size_t>(e.stage) < ops_.size()) {
    const MountOp& op = ops_[static_cast<std::size_t>(e.stage)];
    const std::string where = op.path != nullptr ? relative_to(root_, op.path) : "?";
    static constexpr const char* kVerb[] = {"mkdir", "create", "symlink", "mount", "make read-only",
                                            "write", "pivot_root to", "chdir"};
    std::string what = std::string(kVerb[op.kind]) + " " + where;
    if (op.kind == MountOp::mount && op.arg != nullptr) what = "mount " + std::string(op.arg) + " on " + where;
    return "sandbox setup: " + what + ": " + err;
  }
  switch (e.stage) {
    case kStageSession: return "sandbox setup: setsid: " + err;
    case kStageLoopback: return "sandbox setup: loopback up: " + err;
    case kStageHostname: return "sandbox setup: sethostname: " + err;
    case kStageRlimit: return "sandbox setup: setrlimit: " + err;
    case kStageFork: return "sandbox setup: fork: " + err;
    case kStageIdentity: return "sandbox setup: setuid " + std::to_string(kUid) + ": " + err;
    case kStageNoNewPrivs: return "sandbox setup: no_new_privs: " + err;
    case kStageExec: return std::string("exec ") + argv_[0] + ": " + err;
    case kStageUserns: return "sandbox setup: user namespace id maps: " + err;
    default: return "sandbox setup: stage " + std::to_string(e.stage) + ": " + err;
  }
}

}  // namespace assess::sandbox::detail
