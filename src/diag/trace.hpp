// The scheduler's hooks for the execution trace (gocxx/trace.hpp). Each call site is
//
//   if (diag::tracing()) [[unlikely]] diag::trace_...(...);
//
// so that, with no trace active, a hook costs one relaxed load and a branch that is not taken;
// the hooks themselves are out of line and read what they need from the G, M and P.
#pragma once

#include <atomic>
#include <cstdint>

#include "runtime/scheduler.hpp"

namespace gocxx::diag {

extern std::atomic<bool> g_tracing;

inline bool tracing() { return g_tracing.load(std::memory_order_relaxed); }

// g was just made (live: goroutines alive now, g included) on P p (nullptr: not on a P).
[[gnu::cold]] void trace_go_create(const detail::G* g, const detail::P* p, std::int64_t live);
// g starts running on P p.
[[gnu::cold]] void trace_go_start(const detail::G* g, const detail::P* p);
// g, running on P p, stops: `why` is a SwitchRequest::Kind (kPark: g->wait_reason says why),
// or kTraceStopBlocking when it gives up its P for gocxx::blocking.
inline constexpr int kTraceStopBlocking = -1;
[[gnu::cold]] void trace_go_stop(const detail::G* g, const detail::P* p, int why);
// Parked g is made runnable by the caller (running on M m, or a plain thread if m is null).
[[gnu::cold]] void trace_go_unblock(const detail::G* g, const detail::M* m);

// gocxx::run: starts a trace if GOCXX_TRACE names a file (an unusable path is reported on
// stderr and the run goes on untraced); at the end of the run, stops any active trace.
void trace_run_begin();
void trace_run_end();

}  // namespace gocxx::diag
