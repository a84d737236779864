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

#include "gocxx/detail/cgroup.hpp"
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

// The directory of this process's cgroup in the hierarchy with the CPU controller: v1's when
// the controller is there (hybrid machines), else v2's. `root` prefixes every path (tests).
struct CpuCgroup {
  fs::path dir;
  int version = 0;
};

CpuCgroup find_cpu_cgroup(const fs::path& root) {
  const CgroupDirs dirs =
      locate_cgroups(read_text(root / "proc/self/mountinfo"), read_text(root / "proc/self/cgroup"));
  if (fs::path v1 = dirs.v1_dir("cpu"); !v1.empty()) return {root / v1.relative_path(), 1};
  if (!dirs.v2.empty()) return {root / dirs.v2.relative_path(), 2};
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
    std::istringstream in(read_text(cg.dir / "cpu.max"));  // "quota period" or "max period"
    std::string quota_text, period_text, rest;
    if (!(in >> quota_text >> period_text) || in >> rest || quota_text == "max") return std::nullopt;
    auto quota = parse_int(quota_text), period = parse_int(period_text);
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
