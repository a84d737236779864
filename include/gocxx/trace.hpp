// gocxx::trace — an execution trace of the scheduler, the counterpart of Go's runtime/trace,
// written as Chrome Trace Event JSON, which ui.perfetto.dev and chrome://tracing open.
//
//   gocxx::trace::start("/tmp/app.json");   // or run the program with GOCXX_TRACE=/tmp/app.json
//   ...                                     // goroutines run
//   gocxx::trace::stop();                   // writes the file
//
// The trace has one track per P ("P0", "P1", ...) with a slice for every stretch a goroutine
// ran there ("G12 app::serve", named after the function that called go()), instants where a
// goroutine is created, blocks (with Go's wait reason: "chan receive", "sync.WaitGroup.Wait",
// "sleep", ...) and is unblocked, flow arrows from the creator or waker to the slice where the
// goroutine next runs, and a "Goroutines" counter (gocxx::num_goroutine()). Events that happen
// on no P (the timer thread, plain threads, goroutines inside gocxx::blocking) go to one more
// track, "no P". See docs/diagnostics.md, "Execution trace".
//
// Events are kept in memory (fixed-size per-thread buffers, no locks) and written at stop().
// Memory is bounded by Options::max_bytes: once it is used up, further events are dropped and
// counted, and the file covers the run up to the first dropped event (its "otherData" says how
// many were dropped). While no trace is active each hook in the scheduler costs one branch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace gocxx::trace {

struct Options {
  // Memory for buffered events, in bytes (48 bytes an event). Rounded down to whole 32 KiB
  // chunks, at least one. The default holds about 700k events, some 135 MB of JSON: more than
  // chrome://tracing opens comfortably, well within what ui.perfetto.dev does.
  std::size_t max_bytes = std::size_t{32} << 20;
};

// Starts tracing into the file at `path` (created or truncated now, written by stop()).
// Throws std::runtime_error (naming the path and the system's reason) if the file cannot be
// opened, std::logic_error if a trace is already active. May be called inside gocxx::run or
// before it; the end of gocxx::run stops an active trace, so a trace covers at most one run.
void start(const std::string& path, const Options& options = {});

// Stops tracing and writes the file. Does nothing if no trace is active. Throws
// std::runtime_error if writing the file fails (tracing is stopped all the same).
void stop();

// Whether a trace is active.
bool enabled();

}  // namespace gocxx::trace
