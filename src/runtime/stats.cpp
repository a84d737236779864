#include "stats.hpp"

#include "scheduler.hpp"

namespace gocxx::detail {

bool sched_stats(SchedStats& out) {
  M* m = current_m();
  if (!m || !current_g()) return false;
  Runtime* rt = m->rt;
  out.procs = rt->nprocs;
  out.global_runq = rt->global_size.load(std::memory_order_relaxed);
  std::int64_t local = 0;
  for (const auto& p : rt->ps) {
    // tail - head from two loads: a pop between them can make it "negative"; clamp.
    auto n = static_cast<std::int32_t>(p->runq.size());
    local += n < 0 ? 0 : n > static_cast<std::int32_t>(RunQueue::kSize) ? RunQueue::kSize : n;
  }
  out.local_runq = local;
  for (const auto& p : rt->ps) {
    out.parks += p->parks.get();
    out.io_waits += p->io_waits.get();
    out.steals += p->steals.get();
  }
  out.long_runs = rt->long_runs.load(std::memory_order_relaxed);
  out.goroutines_created = rt->next_goid.load(std::memory_order_relaxed) - 1;
  return true;
}

}  // namespace gocxx::detail
