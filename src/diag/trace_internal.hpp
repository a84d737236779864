// Inside the execution trace (gocxx/trace.hpp): the recorder (trace_record.cpp), the users that
// turn it on and cut windows from it (trace::start/stop there, the flight recorder in
// flight_recorder.cpp), and the JSON writer (trace_json.cpp).
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gocxx/trace.hpp"
#include "runtime/goroutine.hpp"

namespace gocxx::diag {

using detail::WaitReason;

enum class Kind : std::uint8_t { kCreate, kStart, kStop, kUnblock, kLongRun };
enum class Why : std::uint8_t { kUnknown, kBlock, kYield, kExit, kBlocking, kRunning };

struct Record {
  std::int64_t ts;     // CLOCK_MONOTONIC ns
  std::uint64_t g;     // the goroutine the event is about
  std::uint64_t a;     // create, start, stop: parent id; unblock: waker id (0: not a goroutine);
                       // long run: how long it has run, ns
  std::uint64_t b;     // create, start, stop, long run: creation PC (names a goroutine whose
                       // create event fell out of a window)
  std::int32_t p;      // the P it happened on, -1: none
  std::uint32_t live;  // create, stop(exit): goroutines alive after it
  Kind kind;
  Why why;             // stop
  WaitReason reason;   // stop(block), unblock
};

// ---- the recorder (trace_record.cpp) ------------------------------------------------------------

struct RecorderConfig {
  std::size_t max_bytes = 0;   // rounded down to whole chunks, at least one
  bool ring = false;           // when the budget is used: recycle the oldest chunks (or drop)
  std::int64_t min_age_ns = 0; // ring: a full chunk whose newest event is older is recycled
                               // before fresh memory is taken (0: only when the budget is used)
  bool live_windows = false;   // windows are cut while recording: an eighth of the budget is
                               // kept spare for recorders while one is copied
};

// The chunk size, the unit of the recorder's memory.
inline constexpr std::size_t kTraceChunkBytes = 32 << 10;

struct Known {  // what names a goroutine
  std::uint64_t parent = 0;
  std::uintptr_t create_pc = 0;
};

// A stretch of the trace, complete between start_ns and end_ns: what the JSON writer takes.
struct Window {
  std::vector<Record> events;      // in time order, start_ns < ts < end_ns
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
  std::uint64_t dropped = 0;       // events lost for want of memory (keep oldest: all after
                                   // end_ns; a ring: gaps, counted since it started)
  std::uint64_t overwritten = 0;   // a ring: events before start_ns that it no longer holds
  std::int64_t live_at_start = -1; // goroutines alive at start_ns; -1: derived from the events
  std::unordered_map<std::uint64_t, Known> known;  // names beyond those in the events
  RecorderConfig config;
  std::string recorder;            // "trace" or "flight recorder"
};

// Guards the recorder's users: starting, stopping and cutting windows (never taken by the hooks).
std::mutex& trace_control_lock();

// Starts recording (the recorder must be off).
void recorder_start(const RecorderConfig& config);
// The events recorded in (from_ns, now), while recording goes on; with `stop`, recording is
// turned off first and the recorder's memory released afterwards.
Window recorder_window(std::int64_t from_ns, bool stop);
// Turns recording off and releases the recorder's memory.
void recorder_stop();
bool recorder_on();
std::size_t recorder_bytes();  // memory held for events now

// ---- the recorder's users (trace_record.cpp, flight_recorder.cpp) -------------------------------

// The flight recorder's side, for trace::start and trace_run_end (trace_control_lock held).
bool flight_recorder_on_locked();
void flight_recorder_stop_locked();
void flight_run_begin();  // GOCXX_FLIGHT_RECORDER

// Names of the goroutines alive now (not those abandoned by earlier runs) and their number.
std::int64_t known_goroutines(std::unordered_map<std::uint64_t, Known>& into);

// ---- the JSON writer (trace_json.cpp) -----------------------------------------------------------

// Writes w as Chrome Trace Event JSON through sink, which returns false when a write fails;
// returns false if one did.
using TraceSink = std::function<bool(std::string_view)>;
bool write_trace_json(Window& w, const TraceSink& sink);

// Writes w into `file` and closes it. A failure is thrown as std::runtime_error naming the
// caller ("gocxx::trace::stop") and the path; the file is closed all the same.
void write_window_to_file(Window& w, std::FILE* file, const std::string& path, const char* caller);

}  // namespace gocxx::diag
