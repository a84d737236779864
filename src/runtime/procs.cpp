// The default number of Ps (procs.hpp). Only the leaf cgroup is read, as in Go 1.25: a tighter
// limit on a parent is not seen (container runtimes put the limit on the container's own
// cgroup, and usually hide the parents). The limit is read once per run(); Go re-reads it every
// second and resizes, which gocxx cannot do while a run lasts (its Ps are fixed).
#include "procs.hpp"

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gocxx/runtime.hpp"

namespace gocxx::detail {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream in(s);
  while (std::getline(in, field, sep)) out.push_back(field);
  return out;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      out += static_cast<char>(std::strtol(s.substr(i + 1, 3).c_str(), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The directory of the cgroup holding this process in the hierarchy that has the CPU
// controller: v2 (the "0::" line, a cgroup2 mount) or v1 (a "cpu" controller line, a cgroup
// mount with the cpu option). Returns "" when there is none.
struct CpuCgroup {
  fs::path dir;
  int version = 0;
};

CpuCgroup find_cpu_cgroup(const fs::path& root) {
  std::string v1_path, v2_path;
  bool has_v2 = false;
  for (const std::string& line : split(read_text(root / "proc/self/cgroup"), '\n')) {
    // hierarchy-ID:controller-list:cgroup-path
    std::size_t a = line.find(':'), b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (line.compare(0, a, "0") == 0 && controllers.empty()) {
      has_v2 = true;
      v2_path = path;
    }
    for (const std::string& c : split(controllers, ',')) {
      if (c == "cpu") v1_path = path;
    }
  }
  for (const std::string& line : split(read_text(root / "proc/self/mountinfo"), '\n')) {
    // id parent major:minor root mount-point options [optional...] - fstype source super-options
    std::vector<std::string> f = split(line, ' ');
    std::size_t dash = 0;
    while (dash < f.size() && f[dash] != "-") ++dash;
    if (dash < 6 || dash + 1 >= f.size()) continue;
    const std::string& fstype = f[dash + 1];
    const std::string super = dash + 3 < f.size() ? f[dash + 3] : "";
    std::string cg_path;
    int version = 0;
    if (fstype == "cgroup2" && has_v2 && v1_path.empty()) {
      cg_path = v2_path, version = 2;
    } else if (fstype == "cgroup" && !v1_path.empty()) {
      bool has_cpu = false;
      for (const std::string& o : split(super, ',')) has_cpu = has_cpu || o == "cpu";
      if (!has_cpu) continue;
      cg_path = v1_path, version = 1;
    } else {
      continue;
    }
    // The mount shows the hierarchy from its root field down; the process's cgroup must be
    // inside it (else it is not visible here: give up, as Go does).
    std::string mount_root = unescape(f[3]), mount_point = unescape(f[4]);
    if (mount_root != "/" && cg_path != mount_root && !cg_path.starts_with(mount_root + "/")) continue;
    std::string rel = mount_root == "/" ? cg_path : cg_path.substr(mount_root.size());
    return {root / fs::path(mount_point).relative_path() / fs::path(rel).relative_path(), version};
  }
  return {};
}

// A whole decimal number, or nullopt.
std::optional<long long> parse_int(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  char* end = nullptr;
  long long n = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || end != s.c_str() + s.size()) return std::nullopt;
  return n;
}

std::optional<double> limit_of(long long quota, long long period) {
  if (quota <= 0 || period <= 0) return std::nullopt;  // -1 (v1) or garbage: no limit
  return static_cast<double>(quota) / static_cast<double>(period);
}

int affinity_cpus() {
  for (int n = 1024; n <= 1 << 16; n *= 2) {
    cpu_set_t* set = CPU_ALLOC(n);
    const std::size_t size = CPU_ALLOC_SIZE(n);
    const bool ok = sched_getaffinity(0, size, set) == 0;
    const int count = ok ? CPU_COUNT_S(size, set) : 0;
    CPU_FREE(set);
    if (ok) return count;
    if (errno != EINVAL) break;  // EINVAL: the kernel's mask is larger than ours
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw ? static_cast<int>(hw) : 1;
}

}  // namespace

std::optional<double> cgroup_cpu_limit(const fs::path& root) {
  const CpuCgroup cg = find_cpu_cgroup(root);
  if (cg.version == 2) {
    std::vector<std::string> f = split(read_text(cg.dir / "cpu.max"), ' ');  // "quota period" or "max period"
    if (f.size() != 2 || f[0] == "max") return std::nullopt;
    auto quota = parse_int(f[0]), period = parse_int(f[1]);
    return quota && period ? limit_of(*quota, *period) : std::nullopt;
  }
  if (cg.version == 1) {
    auto quota = parse_int(read_text(cg.dir / "cpu.cfs_quota_us"));
    auto period = parse_int(read_text(cg.dir / "cpu.cfs_period_us"));
    return quota && period ? limit_of(*quota, *period) : std::nullopt;
  }
  return std::nullopt;
}

int procs_for_limit(int cpus, std::optional<double> limit) {
  if (!limit) return cpus;
  const double rounded = std::max(2.0, std::ceil(*limit));
  return rounded < cpus ? static_cast<int>(rounded) : cpus;
}

int default_procs() {
  if (const char* env = std::getenv("GOCXX_MAXPROCS")) {
    char* end = nullptr;
    long n = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && n > 0 && n <= kMaxProcs) return static_cast<int>(n);
    std::fprintf(stderr, "gocxx: ignoring invalid GOCXX_MAXPROCS=%s\n", env);
  }
  return std::min(procs_for_limit(affinity_cpus(), cgroup_cpu_limit()), kMaxProcs);
}

}  // namespace gocxx::detail
