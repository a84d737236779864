// sysmon (sysmon.hpp). It looks at every P each kBusyPeriodNs, or kIdlePeriodNs while all Ps
// are idle. A P whose `running` goroutine is the same run as at the last look (same G, same
// `resumes`) has been running it all along; after kLongRunNs it is reported once.
//
// The scheduler pays one store per switch for this (P::running, on the P's own cache line): no
// clock read, no lock. The price is precision: a run is timed
// from sysmon's first look at it, so "running for" can fall short by up to one period, and a
// run that started while sysmon slept its idle period is reported up to kIdlePeriodNs late.
#include "sysmon.hpp"

#include <vector>

#include "futex.hpp"
#include "hooks.hpp"
#include "scheduler.hpp"

namespace gocxx::detail {
namespace {

constexpr std::int64_t kBusyPeriodNs = 5'000'000;
constexpr std::int64_t kIdlePeriodNs = 50'000'000;

// What sysmon last saw on one P: a run of goroutine g, named by g's `resumes` (bumped each
// time g starts running and when it is reused for a new goroutine).
struct Watch {
  G* g = nullptr;
  std::uint32_t resumes = 0;
  std::int64_t since = 0;  // when it first saw this run
  bool reported = false;
};

// A field of g, read while g may be exiting and being reused by its M: uninstrumented (sysmon
// does not own g), and valid only if the caller then finds g's `resumes` unchanged.
template <class T>
[[gnu::no_sanitize_thread]] T racy_read(const T& field) {
  return *static_cast<const volatile T*>(&field);
}

void look_at(Runtime* rt, P* p, Watch& w, std::int64_t now) {
  G* g = p->running.load(std::memory_order_acquire);
  if (g == nullptr) {
    w = Watch{};
    return;
  }
  const std::uint32_t resumes = g->resumes.load(std::memory_order_acquire);
  if (g != w.g || resumes != w.resumes) {
    w = Watch{g, resumes, now, false};
    return;
  }
  if (w.reported || now - w.since < kLongRunNs) return;
  const GoroutineId id = racy_read(g->id);
  const std::uintptr_t create_pc = racy_read(g->create_pc);
  std::atomic_thread_fence(std::memory_order_acquire);
  if (g->resumes.load(std::memory_order_relaxed) != resumes) return;  // it stopped meanwhile
  w.reported = true;
  rt->long_runs.fetch_add(1, std::memory_order_relaxed);
  // The mark names the run: once g stops, or stops and runs again, it no longer matches and
  // dumps ignore it. (Gs are never freed, so g stays writable.)
  g->long_run_since_ns.store(w.since, std::memory_order_relaxed);
  g->long_run_resumes.store(resumes, std::memory_order_release);
  if (tracing()) [[unlikely]] hooks().trace_long_run(id, create_pc, p, w.since);
}

void sysmon_main(Runtime* rt) {
  std::vector<Watch> watches(rt->ps.size());
  while (rt->sysmon_stop.load(std::memory_order_acquire) == 0) {
    const bool all_idle = rt->npidle.load(std::memory_order_relaxed) == rt->nprocs;
    futex_wait(rt->sysmon_stop, 0, all_idle ? kIdlePeriodNs : kBusyPeriodNs);
    const std::int64_t now = nanotime();
    for (std::size_t i = 0; i < watches.size(); ++i) look_at(rt, rt->ps[i].get(), watches[i], now);
  }
}

}  // namespace

void sysmon_start(Runtime* rt) {
  rt->sysmon = start_internal_thread([rt] { sysmon_main(rt); });
}

void sysmon_stop(Runtime* rt) {
  rt->sysmon_stop.store(1, std::memory_order_release);
  futex_wake(rt->sysmon_stop, 1);
  rt->sysmon.join();
}

std::int64_t long_run_since_ns(const G* g) {
  const std::uint32_t marked = g->long_run_resumes.load(std::memory_order_acquire);
  const std::int64_t since = g->long_run_since_ns.load(std::memory_order_relaxed);
  const bool same_run = marked == g->resumes.load(std::memory_order_relaxed) &&
                        (g->status.load(std::memory_order_relaxed) & ~kScanBit) == kRunning;
  return same_run ? since : 0;
}

}  // namespace gocxx::detail
