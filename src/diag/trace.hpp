// The execution trace's hooks for the scheduler (gocxx/trace.hpp), installed in the runtime's
// hook table (runtime/hooks.hpp, src/diag/hooks.cpp). The runtime calls them only while
// detail::tracing(); they are out of line and read what they need from the G, M and P.
#pragma once

#include <cstdint>
#include <string>

#include "runtime/hooks.hpp"

namespace gocxx::diag {

using detail::tracing;
using detail::kTraceStopBlocking;

// g was just made (live: goroutines alive now, g included) on P p (nullptr: not on a P).
[[gnu::cold]] void trace_go_create(const detail::G* g, const detail::P* p, std::int64_t live);
// g starts running on P p.
[[gnu::cold]] void trace_go_start(const detail::G* g, const detail::P* p);
// g, running on P p, stops: `why` is a SwitchRequest::Kind (kPark: g->wait_reason says why),
// or kTraceStopBlocking when it gives up its P for gocxx::blocking.
[[gnu::cold]] void trace_go_stop(const detail::G* g, const detail::P* p, int why);
// Parked g is made runnable by the caller (running on M m, or a plain thread if m is null).
[[gnu::cold]] void trace_go_unblock(const detail::G* g, const detail::M* m);
// sysmon found goroutine goid holding P p since since_ns without a scheduling point (sysmon.hpp;
// the id, not the G: sysmon does not own the G, which may exit and be reused meanwhile).
[[gnu::cold]] void trace_long_run(std::uint64_t goid, std::uintptr_t create_pc, const detail::P* p,
                                  std::int64_t since_ns);

// The flight recorder's triggers (flight_recorder.cpp). Writes the window as `name` in `dir`
// (created if missing) and returns the file's path; errors are thrown with context
// (std::logic_error if the flight recorder is not running).
std::string write_window_into(const std::string& dir, const std::string& name);
// The leak watchdog's, once per episode: if the flight recorder runs, writes its window as
// trace.json in a new directory gocxx-leak-<pid>-<episode> (in the flight recorder's dir, else
// next to report_path, else in $TMPDIR or /tmp) and returns its path; "" if it does not run.
std::string write_episode_window(const std::string& report_path, std::uint64_t episode);

// gocxx::run: starts the flight recorder if GOCXX_FLIGHT_RECORDER names a directory and a
// trace if GOCXX_TRACE names a file (an unusable path is reported on
// stderr and the run goes on untraced); at the end of the run, stops any active trace and the
// flight recorder.
void trace_run_begin();
void trace_run_end();

}  // namespace gocxx::diag
