// The readers behind `assess checklist`'s items: each turns what the checker read (a log, a
// goroutine dump, an execution trace) into figures. Pure functions, no I/O, so each is tested on
// its own (tests/assess/checklist_test.cpp).
//
//   GcTrace gc = parse_gctrace(log_text);          // Go's GODEBUG=gctrace=1 lines
//   Figures f = figures(gc.pauses_ms);             // count, p50, p99, max
//   Dump d = parse_goroutine_dump(body);           // /debug/pprof/goroutine?debug=2
//   SchedLatency s = scheduler_latency(trace_json); // gocxx's /debug/pprof/trace
//   LogStats l = read_log(log_text);               // JSON lines with trace_id
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace assess::checklist {

// Percentiles by the nearest-rank method: p99 of 10 values is the largest.
struct Figures {
  std::size_t count = 0;
  double p50 = 0, p99 = 0, max = 0;
};
Figures figures(std::vector<double> values);

// Go's gctrace line, `gc 12 @3.1s 1%: 0.021+1.5+0.004 ms clock, ...`: the clock figures are the
// sweep-termination STW pause, the concurrent mark, and the mark-termination STW pause.
struct GcTrace {
  std::vector<double> pauses_ms;  // per cycle: the two STW pauses added (Go's MemStats.PauseNs)
  double max_stw_ms = 0;          // the longest single STW phase
  std::size_t forced = 0;         // cycles marked (forced): runtime.GC() calls
  std::size_t first_line = 0;     // 1-based line of the first gctrace line (0: none)
};
GcTrace parse_gctrace(std::string_view log);
// Whether a log line is the Go runtime's (gctrace, scavenger) rather than the program's.
bool is_runtime_line(std::string_view line);

// A goroutine dump in Go's debug=2 text: `goroutine N [state]:` blocks.
struct Dump {
  bool ok = false;
  std::string error;                  // why it is not a dump (when !ok)
  std::size_t goroutines = 0;
  std::map<std::string, std::size_t> states;  // "chan receive" -> 3 (minutes and flags dropped)
};
Dump parse_goroutine_dump(std::string_view text);

// Runnable -> running delays in a gocxx execution trace (Chrome Trace Event JSON,
// docs/diagnostics.md): each flow arrow goes from the instant a goroutine became runnable
// (created, or unblocked) to the start of its next slice. Throws std::invalid_argument when the
// JSON is not such a trace.
struct SchedLatency {
  std::vector<double> delays_ms;
  std::size_t created = 0, unblocked = 0;  // how the runnable goroutines got there
  std::int64_t dropped_events = 0;         // otherData: events the trace lost
};
SchedLatency scheduler_latency(const nlohmann::json& trace);

// A log read as JSON lines. Lines of the Go runtime (is_runtime_line) and blank lines are left
// out of the shares: they share stderr with the program's log.
struct LogStats {
  std::size_t lines = 0;           // the program's lines
  std::size_t runtime_lines = 0;
  std::size_t json_objects = 0;    // lines that parse as a JSON object
  std::size_t with_trace_id = 0;   // of those, with a "trace_id" field
  std::string first_plain;         // the first program line that is not a JSON object
  std::size_t first_plain_line = 0;
};
LogStats read_log(std::string_view log);
// The 1-based line of the first JSON object whose trace_id is `id` (0: none).
std::size_t find_trace_id(std::string_view log, std::string_view id);

}  // namespace assess::checklist
