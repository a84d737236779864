// The runtime's calls into the diagnostics layer (src/diag), which sits above it. The runtime
// names no diag header: it calls through this table, which it declares and the diag layer
// defines (src/diag/hooks.cpp), constant-initialized, so every hook is set before any code runs
// (a panic in a static initializer too). The runtime refers to the table, so the linker always
// takes hooks.cpp, and with it what the hooks call, from the static library.
//
// Trace hooks sit on the switch path; each call site is
//
//   if (tracing()) [[unlikely]] hooks().trace_go_start(...);
//
// so that, with no trace active, a hook costs one relaxed load of a flag the runtime owns and a
// branch that is not taken. The diag layer sets the flag while a trace is active.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace gocxx::detail {

struct G;
struct M;
struct P;

// True while an execution trace is recording (set and cleared by the diag layer).
// Hidden: read directly, not through the GOT, even in a shared libgocxx.
[[gnu::visibility("hidden")]] extern std::atomic<bool> g_tracing;
inline bool tracing() { return g_tracing.load(std::memory_order_relaxed); }

// trace_go_stop's `why` when the goroutine gives up its P for gocxx::blocking (otherwise a
// SwitchRequest::Kind).
inline constexpr int kTraceStopBlocking = -1;

struct Hooks {
  // ---- execution trace (called only while tracing()) ----
  // g was just made (live: goroutines alive now, g included) on P p (nullptr: not on a P).
  void (*trace_go_create)(const G* g, const P* p, std::int64_t live);
  // g starts running on P p.
  void (*trace_go_start)(const G* g, const P* p);
  // g, running on P p, stops: `why` is a SwitchRequest::Kind (kPark: g->wait_reason says why),
  // or kTraceStopBlocking.
  void (*trace_go_stop)(const G* g, const P* p, int why);
  // Parked g is made runnable by the caller (running on M m, or a plain thread if m is null).
  void (*trace_go_unblock)(const G* g, const M* m);
  // sysmon found goroutine goid holding P p since since_ns (monotonic) without a scheduling
  // point. The id, not the G: sysmon does not own the G, which may exit and be reused meanwhile.
  // create_pc names it where its creation fell out of the trace's window.
  void (*trace_long_run)(std::uint64_t goid, std::uintptr_t create_pc, const P* p, std::int64_t since_ns);

  // ---- gocxx::run ----
  // Before the run's Runtime is published: diagnostics set up from the environment (SIGQUIT
  // dump, leak watchdog).
  void (*run_setup)();
  // Once the Runtime is published, before the main goroutine (GOCXX_TRACE), and when main
  // has returned, before shutdown (a trace covers at most one run).
  void (*run_begin)();
  void (*run_end)();

  // ---- crash reports (each writes the report and exits with status 2; never returns) ----
  // "<kind>: <heading>", the calling goroutine's (or thread's) traceback from `pcs`, the other
  // goroutines as GOCXX_TRACEBACK asks. No kind: the heading is written already (a fault
  // report's first lines). `from_throw`: drop the exception machinery's frames above the throw.
  void (*crash)(const char* kind, const std::string& heading,
                const std::vector<std::uintptr_t>& pcs, bool from_throw);
  // `heading`, then every goroutine's traceback (as GOCXX_TRACEBACK allows).
  void (*crash_with_dump)(const std::string& heading);
  // The rest of a fault report whose first lines the signal handler wrote (stack.cpp): the
  // traceback of goroutine g unwound from the signal's ucontext.
  void (*crash_after_fault)(const G* g, void* ucontext);
};

// Defined by the diag layer (src/diag/hooks.cpp).
[[gnu::visibility("hidden")]] extern const Hooks g_hooks;
inline const Hooks& hooks() { return g_hooks; }

}  // namespace gocxx::detail
