// Scheduler counters for the metrics (gocxx/metrics.hpp, src/diag/metrics_runtime.cpp), read
// from the Runtime's fields; the event counts are per-P counters that cost their owner a plain
// increment (P::Counter).
#pragma once

#include <cstdint>

namespace gocxx::detail {

struct SchedStats {
  int procs = 0;                    // Ps of the run
  std::int64_t global_runq = 0;     // goroutines in the global run queue
  std::int64_t local_runq = 0;      // goroutines in the Ps' local run queues (their rings; the
                                    // runnext slots are not counted)
  std::uint64_t goroutines_created = 0;  // goroutine ids handed out by the run (main is 1)
  std::uint64_t parks = 0;     // goroutines parked, summed over the Ps
  std::uint64_t io_waits = 0;  // of those, parked waiting on the network poller
  std::uint64_t steals = 0;    // successful steals from another P's run queue
  std::uint64_t long_runs = 0;  // goroutines seen holding their P 10 ms without yielding (sysmon)
};

// The current run's scheduler counters, read racily (each field is one relaxed load). Only a
// goroutine of the run may ask: its M keeps the Runtime alive, which nothing guarantees a
// plain thread without the scheduler's lifetime lock. False (and `out` untouched) elsewhere.
bool sched_stats(SchedStats& out);

}  // namespace gocxx::detail
