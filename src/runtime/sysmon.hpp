// sysmon: a thread per run that watches the Ps, as Go's sysmon does. gocxx has no preemption,
// so a goroutine that computes without a scheduling point (a channel operation, a lock that
// parks, yield(), I/O) keeps its P; sysmon makes that visible instead: each goroutine seen
// holding its P for kLongRunNs is counted (Runtime::long_runs, the metric
// gocxx_sched_long_running_total), marked for dumps ("running for 120 ms") and recorded in a
// trace.
#pragma once

#include <cstdint>

namespace gocxx::detail {

struct Runtime;
struct G;

// How long a goroutine may hold its P before sysmon reports it (Go's forcePreemptNS).
inline constexpr std::int64_t kLongRunNs = 10'000'000;

// Starts the run's sysmon thread (run_main, once the Ps exist) and stops and joins it
// (shutdown, before the Runtime may go).
void sysmon_start(Runtime* rt);
void sysmon_stop(Runtime* rt);

// When g, running now, was first seen by sysmon in the stretch it is still running, if that
// stretch has lasted kLongRunNs; 0 otherwise. Racy by nature (a diagnostic's read).
std::int64_t long_run_since_ns(const G* g);

}  // namespace gocxx::detail
