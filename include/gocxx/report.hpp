// gocxx::report — reports that explain an execution trace and goroutine dumps, the analysis
// pages of `go tool trace` and a leak hunter's reading of dumps, written as Markdown and as one
// self-contained HTML page (inline CSS and SVG charts, no scripts, nothing fetched).
//
//   gocxx::report::Document doc("checkout service under load");
//   gocxx::report::add_trace_analysis(doc, gocxx::report::analyze_trace("/tmp/app.json"));
//   gocxx::report::add_leak_analysis(doc, gocxx::report::analyze_dump(dump_text));
//   doc.write("out");                    // out/report.md and out/report.html
//
// The same from the command line: `gocxx-trace-report app.json --dump dump.txt --out out`.
//
// analyze_trace reads gocxx's Chrome Trace Event JSON (gocxx/trace.hpp) with a streaming parser,
// so traces of hundreds of MB take memory for the per-goroutine state only. analyze_dump reads
// Go's goroutine dump text, from gocxx or from Go (any version: `debug=2`, a SIGQUIT or panic
// traceback, "created by F" with or without " in goroutine N"), and Go's grouped `debug=1`
// profile. Input they cannot read is a std::invalid_argument naming the file and byte offset
// (a trace) or the line (a dump); an unreadable trace file is a std::runtime_error. See
// docs/diagnostics.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gocxx::report {

// A document rendered to Markdown and to one self-contained HTML page. Every string given to
// it is text, never markup: both renderings escape it (dumps and function names are untrusted).
class Document {
 public:
  explicit Document(std::string title);
  Document(const Document&);
  Document(Document&&) noexcept;
  Document& operator=(const Document&);
  Document& operator=(Document&&) noexcept;
  ~Document();

  const std::string& title() const { return title_; }

  // A section heading, level 1 (the title's) to 6; others are clamped.
  void heading(std::string_view text, int level = 2);
  void paragraph(std::string_view text);
  // Rows shorter than the header are padded with empty cells, longer ones cut.
  void table(std::vector<std::string> header, std::vector<std::vector<std::string>> rows);
  void code(std::string_view text);  // a preformatted block (a dump, a stack)

  struct Series {
    std::string name;
    std::vector<std::pair<double, double>> points;  // (x, y), x ascending
  };
  // HTML: an inline SVG chart. Markdown: a compact table of up to 12 x values (each series'
  // latest y at or before that x).
  void line_chart(std::string_view title, std::string_view x_label, std::string_view y_label,
                  std::vector<Series> series);
  // Horizontal bars (histograms, counts): an inline SVG in HTML, a table with text bars in
  // Markdown. Values must be >= 0.
  void bar_chart(std::string_view title, std::vector<std::pair<std::string, double>> bars);

  std::string markdown() const;
  std::string html() const;
  // Writes dir/report.md and dir/report.html, creating dir if needed. Throws
  // std::runtime_error naming the path that could not be written.
  void write(const std::string& dir) const;

 private:
  struct Block;  // document.cpp
  std::string title_;
  std::vector<Block> blocks_;
};

// ---- goroutine dumps -----------------------------------------------------------------------

struct StateCount {
  std::string state;  // Go's word in brackets: a wait reason ("chan receive"), "running", ...
  std::size_t count = 0;
};

// Goroutines of one site with the same state and the same stack: one entry of the grouped dump.
struct StackGroup {
  std::string state;
  std::size_t count = 0;
  std::int64_t oldest_minutes = 0;  // the longest wait among them (0: under a minute, or unknown)
  std::uint64_t sample_id = 0;      // a member's goroutine id (0 in a debug=1 profile)
  std::string stack;                // the sample's frames and "created by" lines, as in the dump
};

struct DumpSite {
  // What identifies a site: the function that called go() and where ("created by" and the
  // line under it, without the +0x offset). A debug=1 profile has no "created by": its sites
  // are the goroutines' outermost frames. Goroutines without either (main) are "(main)".
  std::string function;
  std::string location;             // "/path/file.go:30"; "" if the dump has none
  std::size_t count = 0;
  std::vector<StateCount> states;   // most common first
  std::int64_t oldest_minutes = 0;  // the longest wait at this site, in Go's whole minutes
  std::vector<StackGroup> stacks;   // most common first

  std::string key() const;  // "function location": the identity growth analysis matches on
};

struct OldWait {
  std::uint64_t id = 0;
  std::int64_t minutes = 0;
  std::string state;
  std::string site;  // DumpSite::function
};

struct DumpAnalysis {
  enum class Format { kTraceback, kProfile };  // debug=2 / SIGQUIT text; debug=1 profile
  Format format = Format::kTraceback;
  std::size_t total = 0;            // goroutines in the dump
  std::vector<DumpSite> sites;      // most goroutines first
  std::vector<StateCount> states;   // over the whole dump, most common first
  std::vector<OldWait> oldest;      // the 20 longest waits (minutes >= 1), longest first
};

// Throws std::invalid_argument if the text holds no goroutine (empty, or not a dump), naming
// the line it gave up on for a malformed header.
DumpAnalysis analyze_dump(std::string_view text);

struct SiteGrowth {
  std::string function, location;
  std::vector<std::size_t> counts;  // in each dump, in order
  std::int64_t growth = 0;          // last count - first count
  double per_minute = 0;            // growth over the time between the first and last dump
};
// Per site (DumpSite::key) across dumps taken at the given seconds, most growth first.
std::vector<SiteGrowth> growth_by_site(
    const std::vector<std::pair<double, DumpAnalysis>>& dumps_over_time);

// ---- execution traces ----------------------------------------------------------------------

struct ReasonTime {
  std::string reason;        // Go's wait reason
  std::int64_t ns = 0;       // time blocked for it, in total
  std::uint64_t count = 0;   // times blocked for it
};

// Per creation site: the function that called go() ("main" for the main goroutine,
// "(unknown)" for one the trace could not name). Goroutines that already existed when the
// trace started count from their first event on.
struct TraceSite {
  std::string site;
  std::uint64_t goroutines = 0;     // seen in the trace (created in it, or already alive)
  std::uint64_t created = 0;        // created during the trace
  std::uint64_t exited = 0;         // exited during the trace
  std::uint64_t alive_at_end = 0;   // seen and not exited
  std::uint64_t runs = 0;           // times put on a P
  std::int64_t running_ns = 0;      // on a P
  std::int64_t runnable_ns = 0;     // waiting for a P after create, unblock or yield
  std::int64_t syscall_ns = 0;      // inside gocxx::blocking, until back on a P
  std::int64_t blocked_ns = 0;      // parked, all reasons
  std::vector<ReasonTime> blocked;  // by reason, most time first
  std::int64_t max_latency_ns = 0;  // the worst wait for a P
};

// One (site, wait reason) pair: the trace has no stacks, so this is where blocking is known.
struct BlockingSite {
  std::string site, reason;
  std::int64_t total_ns = 0, max_ns = 0;
  std::uint64_t count = 0;          // times blocked
  std::uint64_t still_blocked = 0;  // of those, not unblocked when the trace ended
};

struct LatencyBucket {
  std::int64_t lo_ns = 0, hi_ns = 0;  // [lo, hi); hi = INT64_MAX for the last
  std::uint64_t count = 0;
};

struct TraceAnalysis {
  std::string path;
  std::int64_t duration_ns = 0;         // end_ns - start_ns of the trace
  int procs = 0;
  std::uint64_t events = 0;             // trace events read
  std::uint64_t dropped_events = 0;     // lost to the trace's memory cap (the trace ends early)
  std::uint64_t overwritten_events = 0; // recycled before the window (flight recorder, Keep::newest):
                                        // the trace starts after the program did
  std::vector<TraceSite> sites;         // most goroutines alive at the end first, then created
  std::vector<BlockingSite> blocking;   // most blocked time first
  // Scheduler latency: from create, unblock or yield to the next start on a P. 1-2-5 buckets
  // from 1 us to 1 s, plus one below and one above.
  std::vector<LatencyBucket> latency;
  std::uint64_t latency_samples = 0;
  std::int64_t latency_p50_ns = 0, latency_p90_ns = 0, latency_p99_ns = 0, latency_max_ns = 0;
  // The "Goroutines" counter: (seconds since the start, count), at most 1000 points, each
  // the highest count in its stretch of time.
  std::vector<std::pair<double, double>> goroutines;
  std::int64_t goroutines_at_start = 0, goroutines_at_end = 0, goroutines_max = 0;
  // Alive over time per site, for the 5 sites with the most goroutines alive at the end
  // (counting those created during the trace), in the same time steps as `goroutines`.
  std::vector<std::pair<std::string, std::vector<std::pair<double, double>>>> site_curves;
  std::int64_t running_ns = 0;          // all goroutines: P utilization = running / (procs * duration)
};

// Throws std::runtime_error if the file cannot be read, std::invalid_argument naming the file
// and byte offset if it is not JSON, is cut short, or is not a gocxx execution trace.
TraceAnalysis analyze_trace(const std::string& path);

// ---- report sections ---------------------------------------------------------------------------

// Creation sites by count with their wait reasons and oldest waits, the longest waits, and the
// grouped dump of the `top` largest sites.
void add_leak_analysis(Document& doc, const DumpAnalysis& a, int top = 10);
// Counts per site across dumps (seconds since the first, dump), growth and rate, and a chart.
void add_growth_analysis(Document& doc,
                         const std::vector<std::pair<double, DumpAnalysis>>& dumps_over_time,
                         int top = 10);
// Summary, goroutines over time, per-site times, top blocking sites, scheduler latency, and
// what the trace cannot tell.
void add_trace_analysis(Document& doc, const TraceAnalysis& a, int top = 10);

}  // namespace gocxx::report
