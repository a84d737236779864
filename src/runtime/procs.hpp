// How many Ps a run gets by default (Go's GOMAXPROCS default, as of Go 1.25): the CPUs this
// process may run on (its affinity mask), lowered to the CPU bandwidth limit of its cgroup
// when that is lower: a container given 2 CPUs' worth of quota on a 64-core host runs 2 Ps,
// not 64 Ms that the kernel throttles in turn. GOCXX_MAXPROCS overrides both.
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

namespace gocxx::detail {

// The default number of Ps: GOCXX_MAXPROCS when valid, else procs_for_limit(cpus, limit).
int default_procs();

// The CPU bandwidth limit of the cgroup holding this process, in CPUs (quota / period), read
// as Go does from the leaf cgroup only: cgroup v2's cpu.max, or v1's cpu.cfs_quota_us and
// cpu.cfs_period_us. nullopt when there is none ("max", -1) or it cannot be read. `root`
// prefixes every path read (/proc/self/cgroup, /proc/self/mountinfo, the limit files), so
// tests can hand it a fake machine.
std::optional<double> cgroup_cpu_limit(const std::filesystem::path& root = "/");

// Go's rule: the limit rounded up, at least 2 (a fractional quota still gets parallelism for
// the scheduler's own work), never more than the CPUs there are.
int procs_for_limit(int cpus, std::optional<double> limit);

}  // namespace gocxx::detail
