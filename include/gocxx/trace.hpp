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
// Events are kept in memory (32 KiB per-thread chunks, no locks) and written at stop(), at
// most Options::max_bytes of them: by default the newest (the oldest chunks are recycled, so
// the file covers the last stretch of the run before stop()), or the oldest (Keep::oldest:
// later events are dropped and counted). While no trace is active each hook in the scheduler
// costs one branch.
//
// The flight recorder (Go's runtime/trace.FlightRecorder) keeps recording into a bounded ring
// and writes the latest window whenever asked, while the program goes on:
//
//   gocxx::trace::start_flight_recorder({.min_age = std::chrono::seconds(5),
//                                        .max_bytes = 16 << 20, .dir = "/var/tmp/app"});
//   ...
//   if (something_went_wrong) gocxx::trace::write_flight_recorder("/var/tmp/app/bad.json");
//
// Or for a whole run: GOCXX_FLIGHT_RECORDER=/var/tmp/app ./app. With a directory, SIGUSR2
// writes the window there and the leak watchdog writes it next to each report; the debug
// handlers serve it at GET /debug/gocxx/flightrecorder.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>

namespace gocxx::trace {

// Which events a full trace keeps.
enum class Keep {
  newest,  // recycle the oldest chunks: the file ends at stop() and reaches back max_bytes
  oldest,  // drop what comes next: the file starts at start() and ends at the first drop
};

struct Options {
  // Memory for buffered events, in bytes (48 bytes an event). Rounded down to whole 32 KiB
  // chunks, at least one. The default holds about 700k events, some 135 MB of JSON: more than
  // chrome://tracing opens comfortably, well within what ui.perfetto.dev does. Keep::newest
  // needs a chunk for each thread that records, plus one; below that, events are dropped and
  // the file starts after the last drop.
  std::size_t max_bytes = std::size_t{32} << 20;
  Keep keep = Keep::newest;
};

// Starts tracing into the file at `path` (created or truncated now, written by stop()).
// Throws std::runtime_error (naming the path and the system's reason) if the file cannot be
// opened, std::logic_error if a trace is already active. May be called inside gocxx::run or
// before it; the end of gocxx::run stops an active trace, so a trace covers at most one run.
// While the flight recorder runs, the trace is cut from its ring at stop() (`options` is not
// used): it covers the flight recorder's window since start().
void start(const std::string& path, const Options& options = {});

// Stops tracing and writes the file. Does nothing if no trace is active. Throws
// std::runtime_error if writing the file fails (tracing is stopped all the same).
void stop();

// Whether a trace started by start() (or GOCXX_TRACE) is active.
bool enabled();

// ---- the flight recorder --------------------------------------------------------------------

struct FlightRecorderOptions {
  // Events at least this old are kept (memory permitting): the window reaches back min_age,
  // a little more (events are discarded a 32 KiB chunk at a time), or less if max_bytes is
  // used up first. At least 1 ms, at most 24 hours.
  std::chrono::nanoseconds min_age = std::chrono::seconds(10);
  // The memory the ring may hold, in bytes; never exceeded. At least 1 MiB (a chunk for each
  // recording thread is needed), at most the machine's physical memory.
  std::size_t max_bytes = std::size_t{32} << 20;
  // Where SIGUSR2 writes windows (gocxx-flight-<pid>-<n>.json) and the leak watchdog puts its
  // episode directories; created if missing. Empty: SIGUSR2 is left alone, and the watchdog
  // writes next to its report file (or into $TMPDIR or /tmp).
  std::string dir;
};

// Starts the flight recorder (one per process). Throws std::invalid_argument for bad options,
// std::logic_error if it is already running or a trace started by start() is active, and
// std::runtime_error if `dir` cannot be created. With a `dir`, SIGUSR2 writes a window there,
// unless the program handles SIGUSR2 itself. The end of gocxx::run stops it, as it does a
// trace: goroutine ids start over with each run.
void start_flight_recorder(const FlightRecorderOptions& options = {});

// Stops the flight recorder and releases its memory; gives SIGUSR2 back. Idempotent.
void stop_flight_recorder();

bool flight_recorder_enabled();

// What a written window covers, on CLOCK_MONOTONIC (std::chrono::steady_clock).
struct FlightWindow {
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
  std::uint64_t events = 0;
};

// Writes the window (the recorded events up to now) as Chrome Trace Event JSON to the file at
// `path` (created or truncated) or to `out`, while recording goes on. Goroutines are named
// even if their creation fell out of the window, and slices that began before it start at
// its start. Throws std::logic_error if the flight recorder is not running, std::runtime_error
// (naming the path and the system's reason) if the file cannot be written. Concurrent calls
// take turns.
FlightWindow write_flight_recorder(const std::string& path);
FlightWindow write_flight_recorder(std::ostream& out);

struct FlightRecorderStats {
  bool enabled = false;
  FlightRecorderOptions options;
  std::size_t bytes = 0;               // memory held for events now: at most options.max_bytes
  std::uint64_t windows_written = 0;   // since start_flight_recorder
  std::string last_path;               // the latest window written to a file
};
FlightRecorderStats flight_recorder_stats();

}  // namespace gocxx::trace
