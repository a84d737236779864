// The report's sections (gocxx/report.hpp): what an analysis says, as headings, sentences,
// tables and charts of a Document.
#include <algorithm>
#include <limits>
#include <string>

#include "diag/report/render.hpp"
#include "gocxx/report.hpp"

namespace gocxx::report {

using detail::compact;
using detail::duration;
using detail::percent;

namespace {

constexpr std::size_t kStatesShown = 3;     // per site, in a table cell
constexpr std::size_t kStacksPerSite = 3;   // in the grouped dump
constexpr std::size_t kCurveSites = 5;      // growing sites drawn besides the total
constexpr std::size_t kGrowthColumns = 8;   // dumps shown as columns

std::size_t top_n(int top) { return top > 0 ? static_cast<std::size_t>(top) : 0; }

// "/src/app/main.go:30" -> "main.go:30": the table column; the grouped dump has the full path.
std::string short_location(const std::string& location) {
  std::size_t slash = location.rfind('/');
  return slash == std::string::npos ? location : location.substr(slash + 1);
}

std::string minutes(std::int64_t m) { return m >= 1 ? std::to_string(m) + " min" : "-"; }

std::string states_cell(const std::vector<StateCount>& states) {
  std::string out;
  for (std::size_t i = 0; i < states.size() && i < kStatesShown; ++i) {
    if (i) out += ", ";
    out += states[i].state + " × " + std::to_string(states[i].count);
  }
  if (states.size() > kStatesShown) out += ", …";
  return out;
}

std::string count(std::uint64_t n) { return std::to_string(n); }

void leak_sites_table(Document& doc, const DumpAnalysis& a, std::size_t top) {
  const bool profile = a.format == DumpAnalysis::Format::kProfile;
  std::vector<std::vector<std::string>> rows;
  std::size_t shown = 0;
  for (const DumpSite& s : a.sites) {
    if (rows.size() == top) break;
    rows.push_back({s.function, short_location(s.location), count(s.count),
                    percent(static_cast<double>(s.count), static_cast<double>(a.total)),
                    states_cell(s.states), minutes(s.oldest_minutes)});
    shown += s.count;
  }
  if (a.sites.size() > rows.size()) {
    rows.push_back({"(" + std::to_string(a.sites.size() - rows.size()) + " more sites)", "",
                    count(a.total - shown), percent(static_cast<double>(a.total - shown),
                                                    static_cast<double>(a.total)), "", ""});
  }
  doc.table({profile ? "Goroutine function" : "Created by", "At", "Goroutines", "Share", "States",
             "Oldest wait"},
            std::move(rows));
}

void grouped_dump(Document& doc, const DumpAnalysis& a, std::size_t top) {
  std::string text;
  for (std::size_t i = 0; i < a.sites.size() && i < top; ++i) {
    const DumpSite& s = a.sites[i];
    for (std::size_t j = 0; j < s.stacks.size() && j < kStacksPerSite; ++j) {
      const StackGroup& g = s.stacks[j];
      if (!text.empty()) text += "\n\n";
      text += std::to_string(g.count) + (g.count == 1 ? " goroutine [" : " goroutines [") + g.state;
      if (g.oldest_minutes >= 1) text += ", up to " + std::to_string(g.oldest_minutes) + " minutes";
      text += "]";
      if (g.sample_id != 0) text += ", e.g. goroutine " + std::to_string(g.sample_id);
      text += ":\n" + g.stack;
    }
    if (s.stacks.size() > kStacksPerSite) {
      text += "\n\n(" + std::to_string(s.stacks.size() - kStacksPerSite) + " more stacks of " +
              s.function + ")";
    }
  }
  doc.code(text);
}

// Every series' points at the dumps' times: the growth chart.
Document::Series growth_series(std::string name, const std::vector<std::size_t>& counts,
                               const std::vector<std::pair<double, DumpAnalysis>>& dumps) {
  Document::Series s{std::move(name), {}};
  for (std::size_t i = 0; i < counts.size(); ++i) {
    s.points.emplace_back(dumps[i].first, static_cast<double>(counts[i]));
  }
  return s;
}

std::string latency_label(const LatencyBucket& b) {
  if (b.lo_ns == 0) return "< " + duration(b.hi_ns);
  if (b.hi_ns == std::numeric_limits<std::int64_t>::max()) return "≥ " + duration(b.lo_ns);
  return duration(b.lo_ns) + " – " + duration(b.hi_ns);
}

std::string blocked_on(const TraceSite& s) {
  std::string out;
  for (std::size_t i = 0; i < s.blocked.size() && i < 2; ++i) {
    if (i) out += "; ";
    out += s.blocked[i].reason + " " + duration(s.blocked[i].ns) + " (" + count(s.blocked[i].count) + "×)";
  }
  if (s.blocked.size() > 2) out += "; …";
  return out;
}

void trace_summary(Document& doc, const TraceAnalysis& a) {
  std::uint64_t created = 0, exited = 0;
  for (const TraceSite& s : a.sites) {
    created += s.created;
    exited += s.exited;
  }
  double capacity = static_cast<double>(a.procs) * static_cast<double>(a.duration_ns);
  std::vector<std::vector<std::string>> rows{
      {"Trace", a.path},
      {"Duration", duration(a.duration_ns)},
      {"Ps (GOMAXPROCS)", std::to_string(a.procs)},
      {"Events", count(a.events)},
      {"Goroutines at start / end / most", std::to_string(a.goroutines_at_start) + " / " +
                                               std::to_string(a.goroutines_at_end) + " / " +
                                               std::to_string(a.goroutines_max)},
      {"Created / exited during the trace", count(created) + " / " + count(exited)},
      {"P utilization (running time / Ps × duration)", percent(static_cast<double>(a.running_ns), capacity)},
      {"Scheduler latency p50 / p90 / p99 / max",
       duration(a.latency_p50_ns) + " / " + duration(a.latency_p90_ns) + " / " +
           duration(a.latency_p99_ns) + " / " + duration(a.latency_max_ns)},
      {"Dropped events", count(a.dropped_events)},
      {"Overwritten events (before the window)", count(a.overwritten_events)},
  };
  doc.table({"", "Value"}, std::move(rows));
  if (a.dropped_events > 0) {
    doc.paragraph("The trace hit its memory cap: " + count(a.dropped_events) +
                  " events were dropped, and the file (so this analysis) ends at the first of them.");
  }
  if (a.overwritten_events > 0) {
    doc.paragraph("The trace is a window (a flight recorder's, or one that kept the newest events): " +
                  count(a.overwritten_events) + " earlier events were overwritten, so goroutines "
                  "created before it count from their first event in it.");
  }
}

void trace_sites(Document& doc, const TraceAnalysis& a, std::size_t top) {
  doc.heading("Creation sites", 3);
  doc.paragraph(
      "Per function that called go(): goroutines seen in the trace, created during it, alive at "
      "its end, and their time on a P (running), waiting for a P after being created, unblocked "
      "or yielding (runnable: scheduler latency), inside gocxx::blocking (syscall) and parked "
      "(blocked), with the wait reasons that took most of it.");
  std::vector<std::vector<std::string>> rows;
  std::uint64_t alive_seen = 0;
  for (const TraceSite& s : a.sites) alive_seen += s.alive_at_end;
  for (const TraceSite& s : a.sites) {
    if (rows.size() == top) break;
    rows.push_back({s.site, count(s.goroutines), count(s.created), count(s.alive_at_end),
                    duration(s.running_ns), duration(s.runnable_ns), duration(s.syscall_ns),
                    duration(s.blocked_ns), blocked_on(s), duration(s.max_latency_ns)});
  }
  if (a.sites.size() > rows.size()) {
    rows.push_back({"(" + std::to_string(a.sites.size() - rows.size()) + " more sites)"});
  }
  if (a.goroutines_at_end > static_cast<std::int64_t>(alive_seen)) {
    rows.push_back({"(alive, not seen in the trace)", "", "",
                    std::to_string(a.goroutines_at_end - static_cast<std::int64_t>(alive_seen))});
  }
  doc.table({"Created by", "Goroutines", "Created", "Alive at end", "Running", "Runnable",
             "Syscall", "Blocked", "Blocked on (most time)", "Worst sched. latency"},
            std::move(rows));
}

void blocking_table(Document& doc, std::vector<BlockingSite> blocking, std::size_t top, bool by_count) {
  if (by_count) {
    std::stable_sort(blocking.begin(), blocking.end(), [](const BlockingSite& x, const BlockingSite& y) {
      return x.count > y.count;
    });
  }
  std::vector<std::vector<std::string>> rows;
  for (const BlockingSite& b : blocking) {
    if (rows.size() == top) break;
    rows.push_back({b.site, b.reason, count(b.count), duration(b.total_ns),
                    duration(b.count ? b.total_ns / static_cast<std::int64_t>(b.count) : 0),
                    duration(b.max_ns), count(b.still_blocked)});
  }
  doc.table({"Created by", "Wait reason", "Times blocked", "Total", "Mean", "Longest", "Still blocked at end"},
            std::move(rows));
}

void trace_latency(Document& doc, const TraceAnalysis& a) {
  doc.heading("Scheduler latency", 3);
  doc.paragraph("Time from a goroutine becoming runnable (created, unblocked or yielding) to its "
                "next start on a P, over " + count(a.latency_samples) + " starts: p50 " +
                duration(a.latency_p50_ns) + ", p90 " + duration(a.latency_p90_ns) + ", p99 " +
                duration(a.latency_p99_ns) + ", max " + duration(a.latency_max_ns) + ".");
  auto nonzero = [](const LatencyBucket& b) { return b.count > 0; };
  auto first = std::find_if(a.latency.begin(), a.latency.end(), nonzero);
  auto last = std::find_if(a.latency.rbegin(), a.latency.rend(), nonzero).base();
  std::vector<std::pair<std::string, double>> bars;
  for (auto it = first; it < last; ++it) bars.emplace_back(latency_label(*it), static_cast<double>(it->count));
  if (!bars.empty()) doc.bar_chart("Scheduler latency (starts per bucket, log scale)", std::move(bars));
}

}  // namespace

void add_leak_analysis(Document& doc, const DumpAnalysis& a, int top) {
  const std::size_t n = top_n(top);
  const bool profile = a.format == DumpAnalysis::Format::kProfile;
  doc.heading("Goroutine leak analysis");
  std::string summary = std::to_string(a.total) + " goroutines in the " +
                        (profile ? "debug=1 profile" : "dump") + ", from " +
                        std::to_string(a.sites.size()) + (a.sites.size() == 1 ? " site." : " sites.");
  if (!a.sites.empty()) {
    const DumpSite& s = a.sites.front();
    summary += " The largest, " + s.function +
               (s.location.empty() ? "" : " (" + short_location(s.location) + ")") + ", has " +
               std::to_string(s.count) + " (" +
               percent(static_cast<double>(s.count), static_cast<double>(a.total)) + "): " +
               states_cell(s.states);
    if (s.oldest_minutes >= 1) summary += ", waiting up to " + std::to_string(s.oldest_minutes) + " minutes";
    summary += ".";
  }
  doc.paragraph(summary);
  if (profile) {
    doc.paragraph("A debug=1 profile has no \"created by\" lines: sites here are the goroutines' "
                  "outermost frames, and only gocxx's profile labels their states.");
  }
  doc.heading(profile ? "Goroutines by function" : "Creation sites", 3);
  leak_sites_table(doc, a, n);
  std::vector<std::pair<std::string, double>> bars;
  for (const StateCount& s : a.states) bars.emplace_back(s.state, static_cast<double>(s.count));
  doc.bar_chart("Goroutines by state", std::move(bars));

  doc.heading("Longest waits", 3);
  if (a.oldest.empty()) {
    doc.paragraph("No goroutine shows a wait of a minute or more. (Go prints a wait's minutes from "
                  "one minute on, and only once a garbage collection has seen the goroutine "
                  "blocked; gocxx prints them from one minute on.)");
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const OldWait& w : a.oldest) {
      if (rows.size() == n) break;
      rows.push_back({count(w.id), minutes(w.minutes), w.state, w.site});
    }
    doc.table({"Goroutine", "Waiting", "State", "Created by"}, std::move(rows));
  }

  doc.heading("Grouped dump", 3);
  doc.paragraph("One stack for each group of goroutines with the same site, state and stack, "
                "largest sites first (at most " + std::to_string(kStacksPerSite) + " groups a site).");
  grouped_dump(doc, a, n);
}

void add_growth_analysis(Document& doc,
                         const std::vector<std::pair<double, DumpAnalysis>>& dumps_over_time,
                         int top) {
  const std::size_t n = top_n(top);
  const auto& dumps = dumps_over_time;
  doc.heading("Goroutine growth across dumps");
  if (dumps.size() < 2) {
    doc.paragraph("Growth needs two dumps or more; " + std::to_string(dumps.size()) + " given.");
    return;
  }
  std::vector<SiteGrowth> growth = growth_by_site(dumps);
  std::vector<std::size_t> totals;
  for (const auto& d : dumps) totals.push_back(d.second.total);
  double span = dumps.back().first - dumps.front().first;
  auto rate = [span](double g) { return span > 0 ? compact(g * 60 / span) + "/min" : "-"; };
  std::int64_t total_growth = static_cast<std::int64_t>(totals.back()) - static_cast<std::int64_t>(totals.front());
  std::string summary = std::to_string(dumps.size()) + " dumps over " +
                        duration(static_cast<std::int64_t>(span * 1e9)) + ": " +
                        std::to_string(totals.front()) + " → " + std::to_string(totals.back()) +
                        " goroutines (" + (total_growth >= 0 ? "+" : "") + std::to_string(total_growth) +
                        ", " + rate(static_cast<double>(total_growth)) + ").";
  if (!growth.empty() && growth.front().growth > 0) {
    const SiteGrowth& g = growth.front();
    summary += " Fastest-growing site: " + g.function + " (+" + std::to_string(g.growth) + ", " +
               rate(static_cast<double>(g.growth)) + ").";
  }
  doc.paragraph(summary);

  // Columns: up to kGrowthColumns dumps, spread evenly, the first and last always.
  std::vector<std::size_t> cols;
  for (std::size_t i = 0; i < std::min(dumps.size(), kGrowthColumns); ++i) {
    cols.push_back(i * (dumps.size() - 1) / (std::min(dumps.size(), kGrowthColumns) - 1));
  }
  std::vector<std::string> header{"Created by", "At"};
  for (std::size_t c : cols) header.push_back("t=" + compact(dumps[c].first - dumps.front().first) + " s");
  header.insert(header.end(), {"Growth", "Rate"});
  std::vector<std::vector<std::string>> rows;
  for (const SiteGrowth& g : growth) {
    if (rows.size() == n) break;
    std::vector<std::string> row{g.function, short_location(g.location)};
    for (std::size_t c : cols) row.push_back(std::to_string(g.counts[c]));
    row.push_back((g.growth > 0 ? "+" : "") + std::to_string(g.growth));
    row.push_back(rate(static_cast<double>(g.growth)));
    rows.push_back(std::move(row));
  }
  doc.table(std::move(header), std::move(rows));

  std::vector<Document::Series> series{growth_series("all goroutines", totals, dumps)};
  for (std::size_t i = 0; i < growth.size() && i < kCurveSites && growth[i].growth > 0; ++i) {
    series.push_back(growth_series(growth[i].function, growth[i].counts, dumps));
  }
  doc.line_chart("Goroutines per site across dumps", "seconds", "goroutines", std::move(series));
}

void add_trace_analysis(Document& doc, const TraceAnalysis& a, int top) {
  const std::size_t n = top_n(top);
  doc.heading("Execution trace analysis");
  trace_summary(doc, a);

  doc.heading("Goroutines over time", 3);
  double seconds = static_cast<double>(a.duration_ns) / 1e9;
  std::int64_t change = a.goroutines_at_end - a.goroutines_at_start;
  doc.paragraph("From the trace's Goroutines counter: " + std::to_string(a.goroutines_at_start) +
                " → " + std::to_string(a.goroutines_at_end) + " (" + (change >= 0 ? "+" : "") +
                std::to_string(change) + (seconds > 0 ? ", " + compact(static_cast<double>(change) / seconds) + "/s" : "") +
                "), at most " + std::to_string(a.goroutines_max) +
                ". The per-site lines count goroutines created during the trace and not yet exited.");
  // A short trace reads better in milliseconds.
  const bool ms = a.duration_ns < 2'000'000'000;
  auto scaled = [ms](std::string name, std::vector<std::pair<double, double>> points) {
    if (ms) {
      for (auto& p : points) p.first *= 1000;
    }
    return Document::Series{std::move(name), std::move(points)};
  };
  std::vector<Document::Series> series{scaled("all goroutines", a.goroutines)};
  for (const auto& [site, curve] : a.site_curves) series.push_back(scaled("created by " + site, curve));
  doc.line_chart("Goroutines over time", ms ? "ms since the trace started" : "seconds since the trace started",
                 "goroutines", std::move(series));

  trace_sites(doc, a, n);

  doc.heading("Top blocking sites", 3);
  doc.paragraph("Where goroutines were parked, as (creation site, wait reason): by total time, "
                "then by the number of times. A wait still going on when the trace ended counts "
                "up to the end.");
  blocking_table(doc, a.blocking, n, false);
  doc.heading("Top blocking sites by count", 3);
  blocking_table(doc, a.blocking, n, true);

  trace_latency(doc, a);

  doc.heading("What the trace cannot tell", 3);
  doc.paragraph(
      "gocxx's trace records no stacks: blocking is located by the goroutine's creation site and "
      "wait reason, not by the line that blocked (a goroutine dump has the stacks). Goroutines "
      "that existed before the trace started are counted from their first event, without a "
      "creation time, and those that did nothing during it appear only in the Goroutines "
      "counter. Time in gocxx::blocking includes the wait for a P afterwards; a goroutine stuck "
      "in a blocking system call outside gocxx::blocking counts as running. There are no GC, "
      "heap, network-byte or user-annotation (task, region, log) events as in Go's trace.");
}

}  // namespace gocxx::report
