// The sandbox's cgroups: one per run, holding its memory, process count and CPU accounting.
// cgroup v2 where its memory and pids controllers are available to us, else v1 (hybrid
// machines mount both, with the controllers on v1), found at run time.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>

#include "engine/sandbox_detail.hpp"
#include "gocxx/detail/cgroup.hpp"

namespace assess::sandbox::detail {
namespace fs = std::filesystem;

namespace {

// The leaf the grader's own processes move to where their cgroup must become a parent: cgroup
// v2 lets only leaves hold processes ("no internal processes"), the root excepted.
constexpr const char* kLeaf = "gocxx-init";

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Writes value with one write(2), as cgroup files want; throws with the file's name.
void write_text(const fs::path& path, const std::string& value) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "open " + path.string());
  const ssize_t n = ::write(fd, value.data(), value.size());
  const int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(value.size())) {
    throw std::system_error(err, std::generic_category(), "write " + value + " to " + path.string());
  }
}

bool try_write(const fs::path& path, const std::string& value) {
  try {
    write_text(path, value);
    return true;
  } catch (const std::system_error&) {
    return false;
  }
}

// Whether word is in a space-separated list (cgroup.controllers, cgroup.subtree_control).
bool has_word(const std::string& list, std::string_view word) {
  std::istringstream in(list);
  std::string w;
  while (in >> w) {
    if (w == word) return true;
  }
  return false;
}

// "key value" lines (cpu.stat, memory.events, pids.events, memory.oom_control): key's value.
std::uint64_t keyed(const std::string& text, std::string_view key) {
  std::istringstream in(text);
  std::string k;
  std::uint64_t v;
  while (in >> k >> v) {
    if (k == key) return v;
  }
  return 0;
}

std::uint64_t number(const fs::path& path) {
  const std::string text = read_text(path);
  std::uint64_t v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

std::vector<pid_t> procs(const fs::path& dir) {
  std::vector<pid_t> out;
  std::istringstream in(read_text(dir / "cgroup.procs"));
  pid_t pid;
  while (in >> pid) out.push_back(pid);
  return out;
}

// The controllers must be enabled in parent's cgroup.subtree_control. Where the grader's own
// processes are in `parent` (not the root), they first move to its leaf kLeaf: all of them
// where parent is our cgroup namespace's root (a container's cgroup, as Docker-in-Docker
// does), else only where the grader is alone there.
bool enable_controllers(const fs::path& parent, bool is_ns_root, std::string& why) {
  const std::string have = read_text(parent / "cgroup.subtree_control");
  if (has_word(have, "memory") && has_word(have, "pids")) return true;
  if (try_write(parent / "cgroup.subtree_control", "+memory +pids")) return true;
  const std::vector<pid_t> members = procs(parent);
  if (!is_ns_root && !(members.size() == 1 && members[0] == ::getpid())) {
    why = "cgroup v2: " + parent.string() +
          " holds other processes; set ASSESS_SANDBOX_CGROUP to a cgroup delegated to the grader";
    return false;
  }
  std::error_code ec;
  fs::create_directory(parent / kLeaf, ec);
  for (pid_t pid : members) try_write(parent / kLeaf / "cgroup.procs", std::to_string(pid));
  try {
    write_text(parent / "cgroup.subtree_control", "+memory +pids");
  } catch (const std::system_error& e) {
    why = std::string("cgroup v2: ") + e.what();
    return false;
  }
  return true;
}

}  // namespace

std::unique_ptr<CgroupParent> v2_parent(const fs::path& own, bool own_is_ns_root, std::string& why) {
  fs::path parent = own;
  bool ns_root = own_is_ns_root;
  if (const char* env = std::getenv("ASSESS_SANDBOX_CGROUP"); env != nullptr && *env != '\0') {
    parent = env;
    ns_root = false;
  } else if (own.filename() == kLeaf) {
    parent = own.parent_path();  // a grader before us already moved here
  }
  const std::string controllers = read_text(parent / "cgroup.controllers");
  if (!has_word(controllers, "memory") || !has_word(controllers, "pids")) {
    why = "cgroup v2: no memory and pids controllers in " + parent.string();
    return nullptr;
  }
  if (!enable_controllers(parent, ns_root, why)) return nullptr;
  auto found = std::make_unique<CgroupParent>();
  found->version = 2;
  found->v2 = parent;
  return found;
}

namespace {
std::atomic<std::uint64_t> g_cgroup_seq{0};
}  // namespace

std::unique_ptr<CgroupParent> CgroupParent::find(std::string& why) {
  const std::string self = read_text("/proc/self/cgroup");
  const gocxx::detail::CgroupDirs dirs = gocxx::detail::locate_cgroups(read_text("/proc/self/mountinfo"), self);
  std::string why_v2;
  if (!dirs.v2.empty() && fs::exists(dirs.v2 / "cgroup.controllers")) {
    const bool ns_root = self.find("0::/\n") != std::string::npos;
    if (auto parent = v2_parent(dirs.v2, ns_root, why_v2)) return parent;
  }
  if (!dirs.v1_dir("memory").empty() && !dirs.v1_dir("pids").empty()) {
    auto found = std::make_unique<CgroupParent>();
    found->version = 1;
    found->memory = dirs.v1_dir("memory");
    found->pids = dirs.v1_dir("pids");
    found->cpuacct = dirs.v1_dir("cpuacct");
    return found;
  }
  why = why_v2.empty() ? "no cgroup v2 with memory and pids, and no cgroup v1 memory and pids "
                         "hierarchies"
                       : why_v2;
  return nullptr;
}

void for_each_orphan(const fs::path& dir, const std::function<void(const fs::path&)>& f) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (!name.starts_with(kLeftoverPrefix)) continue;
    pid_t pid = 0;
    const char* digits = name.data() + kLeftoverPrefix.size();
    const auto [end, err] = std::from_chars(digits, name.data() + name.size(), pid);
    if (err != std::errc() || end == digits || *end != '-') continue;  // not ours (a Go cache)
    if (::kill(pid, 0) != 0 && errno == ESRCH) f(e.path());
  }
}

void Cgroup::sweep(const CgroupParent& parent) {
  const std::vector<fs::path> parents =
      parent.version == 2 ? std::vector<fs::path>{parent.v2} : std::vector<fs::path>{parent.memory, parent.pids, parent.cpuacct};
  for (const fs::path& under : parents) {
    if (under.empty()) continue;
    for_each_orphan(under, [&](const fs::path& dir) {
      Cgroup orphan(parent.version, {dir});  // its destructor kills and removes
    });
  }
}

Cgroup::Cgroup(const CgroupParent& parent, const Limits& limits) : version_(parent.version) {
  const std::string name = std::string(kLeftoverPrefix) + std::to_string(::getpid()) + "-" +
                           std::to_string(g_cgroup_seq.fetch_add(1));
  auto make = [&](const fs::path& under) {
    fs::path dir = under / name;
    std::error_code ec;
    if (!fs::create_directory(dir, ec)) {
      throw std::system_error(ec ? ec : std::make_error_code(std::errc::file_exists),
                              "mkdir " + dir.string());
    }
    dirs_.push_back(dir);
    return dir;
  };
  const std::string memory = std::to_string(limits.memory_bytes);
  const std::string pids = std::to_string(limits.max_processes);
  try {
    if (version_ == 2) {
      const fs::path dir = make(parent.v2);
      write_text(dir / "memory.max", memory);
      try_write(dir / "memory.swap.max", "0");   // no swap: the limit is the run's memory
      try_write(dir / "memory.oom.group", "1");  // an OOM kill takes the whole run
      write_text(dir / "pids.max", pids);
    } else {
      const fs::path mem = make(parent.memory);
      write_text(mem / "memory.limit_in_bytes", memory);
      try_write(mem / "memory.memsw.limit_in_bytes", memory);  // where swap accounting is on
      write_text(make(parent.pids) / "pids.max", pids);
      if (!parent.cpuacct.empty() && parent.cpuacct != parent.memory &&
          parent.cpuacct != parent.pids) {
        make(parent.cpuacct);
      }
    }
  } catch (...) {
    for (const fs::path& dir : dirs_) ::rmdir(dir.c_str());
    throw;
  }
}

Cgroup::~Cgroup() {
  // Processes of a killed PID namespace take a moment to go; rmdir needs them gone.
  for (int i = 0; i < 2000 && !empty(); ++i) {
    if (i % 100 == 0) kill_all();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  for (const fs::path& dir : dirs_) {
    for (int i = 0; i < 100 && ::rmdir(dir.c_str()) != 0 && errno == EBUSY; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
}

void Cgroup::attach(pid_t pid) {
  for (const fs::path& dir : dirs_) write_text(dir / "cgroup.procs", std::to_string(pid));
}

CgroupStats Cgroup::stats() const {
  CgroupStats s;
  const fs::path& first = dirs_.front();
  if (version_ == 2) {
    s.cpu = std::chrono::microseconds(keyed(read_text(first / "cpu.stat"), "usage_usec"));
    if (fs::exists(first / "memory.peak")) s.peak_memory = number(first / "memory.peak");
    s.oom_kills = keyed(read_text(first / "memory.events"), "oom_kill");
    s.pids_max_events = keyed(read_text(first / "pids.events"), "max");
    return s;
  }
  // v1: dirs_ = memory, pids[, cpuacct] (cpuacct may share the memory or pids hierarchy).
  for (const fs::path& dir : dirs_) {
    if (fs::exists(dir / "cpuacct.usage")) s.cpu = std::chrono::nanoseconds(number(dir / "cpuacct.usage"));
    if (fs::exists(dir / "pids.events")) s.pids_max_events = keyed(read_text(dir / "pids.events"), "max");
  }
  s.peak_memory = number(first / "memory.max_usage_in_bytes");
  s.oom_kills = keyed(read_text(first / "memory.oom_control"), "oom_kill");
  return s;
}

void Cgroup::kill_all() {
  if (version_ == 2 && try_write(dirs_.front() / "cgroup.kill", "1")) return;  // Linux 5.14
  for (pid_t pid : procs(dirs_.front())) ::kill(pid, SIGKILL);
}

bool Cgroup::empty() const {
  for (const fs::path& dir : dirs_) {
    if (!procs(dir).empty()) return false;
  }
  return true;
}

}  // namespace assess::sandbox::detail
