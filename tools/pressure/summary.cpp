#include "summary.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <stdexcept>

#include <gocxx/report.hpp>

namespace gocxx::pressure {

namespace {

namespace rpt = gocxx::report;

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// Three significant digits in the unit that suits: "850 µs", "1.23 ms", "2.10 s".
std::string latency(std::uint64_t ns) {
  double v = static_cast<double>(ns);
  if (v < 1e3) return fmt("%.0f ns", v);
  if (v < 1e6) return fmt("%.3g \xC2\xB5s", v / 1e3);
  if (v < 1e9) return fmt("%.3g ms", v / 1e6);
  return fmt("%.3g s", v / 1e9);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A capture with its dump read back and analyzed.
struct Analyzed {
  const Capture* capture;
  std::optional<rpt::DumpAnalysis> dump;
  std::string error;  // why there is no analysis
};

std::vector<Analyzed> analyze_dumps(const Outcome& o) {
  std::vector<Analyzed> out;
  for (const Capture& c : o.captures) {
    Analyzed a{&c, std::nullopt, c.dump_error};
    if (!c.dump_file.empty()) {
      try {
        a.dump = rpt::analyze_dump(read_file(o.settings.report_dir + "/" + c.dump_file));
      } catch (const std::exception& e) {
        a.error = e.what();
      }
    }
    out.push_back(std::move(a));
  }
  return out;
}

std::vector<std::pair<double, rpt::DumpAnalysis>> dumps_over_time(
    const std::vector<Analyzed>& all) {
  std::vector<std::pair<double, rpt::DumpAnalysis>> out;
  for (const Analyzed& a : all) {
    if (a.dump) out.emplace_back(a.capture->seconds, *a.dump);
  }
  return out;
}

const rpt::DumpSite* find_site(const rpt::DumpAnalysis& d, const std::string& function,
                               const std::string& location) {
  for (const auto& s : d.sites) {
    if (s.function == function && s.location == location) return &s;
  }
  return nullptr;
}

std::string describe_site(const rpt::DumpSite& s) {
  std::string out = s.function + (s.location.empty() ? "" : " at " + s.location) + ": " +
                    std::to_string(s.count) + (s.count == 1 ? " goroutine" : " goroutines");
  for (std::size_t i = 0; i < s.states.size() && i < 3; ++i) {
    out += (i ? ", " : " (") + std::to_string(s.states[i].count) + " " + s.states[i].state;
  }
  return out + (s.states.empty() ? "" : ")");
}

// The site that grew most from the baseline to the first episode's dump (or, without a
// baseline, the episode's largest site): the leak's suspect.
std::string suspect(const std::vector<Analyzed>& all) {
  const Analyzed* baseline = nullptr;
  const Analyzed* episode = nullptr;
  for (const Analyzed& a : all) {
    if (!a.dump) continue;
    if (a.capture->label == "baseline") baseline = &a;
    if (!a.capture->reason.empty() && !episode) episode = &a;
  }
  if (!episode) return "";
  if (baseline) {
    auto growth = rpt::growth_by_site({{baseline->capture->seconds, *baseline->dump},
                                       {episode->capture->seconds, *episode->dump}});
    if (!growth.empty() && growth.front().growth > 0) {
      if (const auto* s =
              find_site(*episode->dump, growth.front().function, growth.front().location)) {
        return "the top growing creation site is " + describe_site(*s) + ", +" +
               std::to_string(growth.front().growth) + " since the start";
      }
    }
  }
  if (episode->dump->sites.empty()) return "";
  return "the largest creation site is " + describe_site(episode->dump->sites.front());
}

int peak_goroutines(const Outcome& o, double* at) {
  int peak = -1;
  for (const Sample& s : o.samples) {
    if (s.goroutines > peak) {
      peak = s.goroutines;
      *at = s.seconds;
    }
  }
  return peak;
}

Verdict judge(const Outcome& o, const std::vector<Analyzed>& all) {
  std::string leak;
  for (const Capture& c : o.captures) {
    if (!c.reason.empty()) {
      leak = c.reason + " at " + format_seconds(c.seconds);
      break;
    }
  }
  if (!leak.empty()) {
    std::string who = suspect(all);
    leak += who.empty() ? "" : "; " + who;
  }
  switch (o.failed) {
    case Outcome::Failure::usage:
      return {kExitUsage, "bad usage", o.failure};
    case Outcome::Failure::target:
      return {kExitTarget, "target failed",
              o.failure + (leak.empty() ? "" : "; a leak episode had begun before: " + leak)};
    case Outcome::Failure::interrupted:
    case Outcome::Failure::none:
      break;
  }
  std::string partial =
      o.failed == Outcome::Failure::interrupted ? " (interrupted: partial run)" : "";
  if (!leak.empty()) return {kExitLeak, "leak suspected", leak + partial};
  double at = 0;
  int peak = peak_goroutines(o, &at);
  const Settings& s = o.settings;
  return {kExitClean, "clean",
          "no leak episode: goroutines peaked at " + std::to_string(peak) + " at " +
              format_seconds(at) + " (threshold " +
              (s.threshold > 0 ? std::to_string(s.threshold) : "off") + "; growth limit " +
              (s.growth > 0 ? fmt("%g", s.growth) + "/s over " + std::to_string(s.growth_samples) +
                                  " intervals"
                            : "off") +
              ")" + partial};
}

void settings_section(rpt::Document& doc, const Outcome& o) {
  const Settings& s = o.settings;
  doc.heading("Settings");
  std::vector<std::vector<std::string>> rows = {
      {"target", s.target},
      {"target program", o.target_command.empty() ? "(already running)" : o.target_command},
      {"debug endpoints", o.debug_base + " (goroutine count from " +
                              (o.count_source == "metrics" ? "/metrics go_goroutines"
                                                           : "/debug/pprof/goroutine?debug=1") +
                              ")"},
      {"proxy", o.proxy_addr.empty() ? "(not started)" : o.proxy_addr + " -> target"},
      {"faults", o.faults.empty() ? "none" : o.faults},
      {"load", fmt("%g", s.rate) + " requests/s for " + format_duration(s.duration) +
                   ", open loop; timeout " + format_duration(s.timeout) + ", at most " +
                   std::to_string(s.max_in_flight) + " in flight"},
      {"load URL", o.load_url.empty() ? "(no load)" : o.load_url},
      {"leak triggers", "threshold " +
                            (s.threshold > 0 ? std::to_string(s.threshold) + " (hysteresis " +
                                                   fmt("%g", s.hysteresis) + ")"
                                             : "off") +
                            "; growth " +
                            (s.growth > 0 ? fmt("%g", s.growth) + "/s in each of " +
                                                std::to_string(s.growth_samples) + " intervals"
                                          : "off")},
      {"sampling", "every " + format_duration(s.interval) + "; settle " +
                       format_duration(s.settle) + " after the load"},
      {"trace per episode", s.trace_seconds > 0 ? std::to_string(s.trace_seconds) + " s" : "off"},
      {"started", o.started_utc},
  };
  doc.table({"setting", "value"}, std::move(rows));
}

void load_section(rpt::Document& doc, const Outcome& o) {
  const LoadStats& l = o.load;
  doc.heading("Load and latency");
  doc.paragraph(
      "Open-loop load: request i is due at i/rate from the start, whatever happened to the "
      "ones before it, and its latency runs from that due time to the last byte of the "
      "response, so a stall of the target (or of the proxy's faults) shows in full instead "
      "of slowing the load down (no coordinated omission). Latencies are kept in an "
      "HDR-style histogram: values within 0.4% (1/256).");
  double rate = l.elapsed_seconds > 0 ? static_cast<double>(l.ok) / l.elapsed_seconds : 0;
  doc.table({"scheduled", "completed", "ok", "failed", "ok/s achieved", "most in flight"},
            {{std::to_string(l.scheduled), std::to_string(l.completed), std::to_string(l.ok),
              std::to_string(l.failed), fmt("%.1f", rate), std::to_string(l.max_in_flight)}});
  auto row = [](const char* name, const Histogram& h) -> std::vector<std::string> {
    return {name,
            std::to_string(h.count()),
            latency(h.percentile(50)),
            latency(h.percentile(90)),
            latency(h.percentile(99)),
            latency(h.percentile(99.9)),
            latency(h.max()),
            latency(static_cast<std::uint64_t>(h.mean()))};
  };
  doc.table({"requests", "count", "p50", "p90", "p99", "p99.9", "max", "mean"},
            {row("all", l.latency), row("ok only", l.ok_latency)});
  if (l.latency.count() > 0) {
    std::vector<std::pair<std::string, double>> bars;
    for (double p : {50.0, 90.0, 99.0, 99.9}) {
      bars.emplace_back(fmt("p%g", p), static_cast<double>(l.latency.percentile(p)) / 1e6);
    }
    bars.emplace_back("max", static_cast<double>(l.latency.max()) / 1e6);
    doc.bar_chart("Latency (ms), all requests", std::move(bars));
  }
  if (!l.errors.empty()) {
    std::vector<std::vector<std::string>> rows;
    std::vector<std::pair<std::string, double>> bars;
    for (const auto& [kind, n] : l.errors) {
      rows.push_back({kind, std::to_string(n)});
      bars.emplace_back(kind, static_cast<double>(n));
    }
    doc.table({"error", "requests"}, std::move(rows));
    doc.bar_chart("Errors by kind", std::move(bars));
  } else {
    doc.paragraph("No request failed.");
  }
  const ProxyStats& p = o.proxy;
  doc.table({"proxy: connections", "upstream dial failures", "ended by an error", "bytes to target",
             "bytes from target"},
            {{std::to_string(p.accepted), std::to_string(p.dial_failures), std::to_string(p.broken),
              std::to_string(p.bytes_up), std::to_string(p.bytes_down)}});
  rpt::Document::Series ok{"ok/s", {}}, failed{"errors/s", {}};
  for (std::size_t i = 1; i < o.samples.size(); ++i) {
    const Sample& a = o.samples[i - 1];
    const Sample& b = o.samples[i];
    double dt = b.seconds - a.seconds;
    if (dt <= 0) continue;
    ok.points.emplace_back(b.seconds, static_cast<double>(b.ok - a.ok) / dt);
    failed.points.emplace_back(b.seconds, static_cast<double>(b.failed - a.failed) / dt);
  }
  if (!ok.points.empty())
    doc.line_chart("Responses per second", "seconds", "per second", {ok, failed});
}

void goroutine_section(rpt::Document& doc, const Outcome& o) {
  doc.heading("Goroutines over time");
  rpt::Document::Series count{"goroutines", {}};
  double last = 0;
  for (const Sample& s : o.samples) {
    if (s.goroutines >= 0) count.points.emplace_back(s.seconds, s.goroutines);
    last = s.seconds;
  }
  std::vector<rpt::Document::Series> series{count};
  if (o.settings.threshold > 0 && !o.samples.empty()) {
    series.push_back(
        {"threshold",
         {{o.samples.front().seconds, o.settings.threshold}, {last, o.settings.threshold}}});
  }
  doc.line_chart("Target goroutines (sampled every " + format_duration(o.settings.interval) + ")",
                 "seconds", "goroutines", std::move(series));
  double at = 0;
  int peak = peak_goroutines(o, &at);
  std::vector<std::vector<std::string>> rows;
  if (!count.points.empty()) {
    rows.push_back({"at the start", std::to_string(static_cast<int>(count.points.front().second)),
                    format_seconds(count.points.front().first)});
    rows.push_back({"peak", std::to_string(peak), format_seconds(at)});
    rows.push_back({"last sample", std::to_string(static_cast<int>(count.points.back().second)),
                    format_seconds(count.points.back().first)});
  }
  if (o.load_seconds > 0) rows.push_back({"load ended", "", format_seconds(o.load_seconds)});
  doc.table({"", "goroutines", "at"}, std::move(rows));
  std::vector<std::vector<std::string>> episodes;
  for (const Capture& c : o.captures) {
    if (c.reason.empty()) continue;
    episodes.push_back({c.label, format_seconds(c.seconds), c.reason,
                        c.dump_file.empty() ? c.dump_error : c.dump_file,
                        c.trace_file.empty() ? c.trace_error : c.trace_file});
  }
  if (episodes.empty()) {
    doc.paragraph("No leak episode began.");
  } else {
    doc.table({"episode", "at", "trigger", "dump", "trace"}, std::move(episodes));
  }
}

void leak_section(rpt::Document& doc, const std::vector<Analyzed>& all) {
  doc.heading("Leak analysis");
  for (const Analyzed& a : all) {
    if (!a.dump && !a.error.empty()) {
      doc.paragraph("The " + a.capture->label + " dump is missing: " + a.error);
    }
  }
  const Analyzed* shown = nullptr;
  for (const Analyzed& a : all) {
    if (a.dump && !a.capture->reason.empty()) {
      shown = &a;
      break;
    }
  }
  if (shown) {
    doc.paragraph("From the dump taken when " + shown->capture->label + " began (" +
                  shown->capture->reason + ", " + format_seconds(shown->capture->seconds) + "; " +
                  shown->capture->dump_file + "):");
  } else {
    for (const Analyzed& a : all) {
      if (a.dump && a.capture->label == "end") shown = &a;
    }
    if (shown)
      doc.paragraph("No episode; the last dump (" + shown->capture->dump_file + ") for reference:");
  }
  if (shown) rpt::add_leak_analysis(doc, *shown->dump, 5);
  auto over_time = dumps_over_time(all);
  if (over_time.size() >= 2) {
    doc.paragraph("Creation sites across the dumps (" + std::to_string(over_time.size()) +
                  ": the baseline, each episode, the end):");
    rpt::add_growth_analysis(doc, over_time, 5);
  }
}

void trace_section(rpt::Document& doc, const Outcome& o, const std::vector<Analyzed>& all) {
  doc.heading("Trace analysis");
  bool any = false;
  for (const Analyzed& a : all) {
    const Capture& c = *a.capture;
    if (!c.trace_error.empty()) {
      doc.paragraph("The " + c.label + " trace failed: " + c.trace_error);
      any = true;
    }
    if (c.trace_file.empty()) continue;
    any = true;
    if (c.trace_is_go_binary) {
      doc.paragraph("The " + c.label + " trace is Go's binary execution trace, kept as " +
                    c.trace_file + " (" + std::to_string(o.settings.trace_seconds) +
                    " s): open it with `go tool trace " + c.trace_file +
                    "`. gocxx does not read Go's format; what the goroutines were doing "
                    "then comes from the dump taken with it (" +
                    (c.dump_file.empty() ? "missing" : c.dump_file) + "):");
      if (a.dump) {
        std::vector<std::vector<std::string>> rows;
        for (std::size_t i = 0; i < a.dump->sites.size() && i < 5; ++i)
          rows.push_back({describe_site(a.dump->sites[i])});
        doc.table({"creation site (from the dump)"}, std::move(rows));
      }
      continue;
    }
    try {
      doc.paragraph("The " + c.label + " trace (" + c.trace_file + ", " +
                    std::to_string(o.settings.trace_seconds) + " s from " +
                    format_seconds(c.seconds) + "; open it in ui.perfetto.dev):");
      rpt::add_trace_analysis(doc, rpt::analyze_trace(o.settings.report_dir + "/" + c.trace_file),
                              5);
    } catch (const std::exception& e) {
      doc.paragraph("The " + c.label + " trace could not be analyzed: " + std::string(e.what()));
    }
  }
  if (!any) {
    doc.paragraph(o.settings.trace_seconds == 0
                      ? "Traces were off (--trace-seconds 0)."
                      : "No trace: traces are taken when an episode begins.");
  }
}

void files_section(rpt::Document& doc, const Outcome& o) {
  doc.heading("Files");
  std::vector<std::vector<std::string>> rows = {
      {"report.md, report.html", "this report"},
      {"samples.csv",
       "seconds, goroutines (-1: no answer), scheduled, ok, failed, in_flight at each sample"},
      {"latency.csv",
       "the latency histogram's buckets: lowest_ns, highest_ns, count, cumulative_percent"},
  };
  if (!o.target_command.empty())
    rows.push_back({"target.log", "the target's standard output and error"});
  for (const Capture& c : o.captures) {
    if (!c.dump_file.empty())
      rows.push_back(
          {c.dump_file, "goroutine dump (debug=2), " + c.label + ", " + format_seconds(c.seconds)});
    if (!c.trace_file.empty()) {
      rows.push_back(
          {c.trace_file, c.trace_is_go_binary
                             ? "Go execution trace (go tool trace)"
                             : "gocxx execution trace (Chrome Trace Event JSON; ui.perfetto.dev)"});
    }
  }
  doc.table({"file", "what"}, std::move(rows));
}

void write_latency_csv(const Outcome& o) {
  std::string path = o.settings.report_dir + "/latency.csv";
  std::ofstream out(path, std::ios::trunc);
  out << "lowest_ns,highest_ns,count,cumulative_percent\n";
  const Histogram& h = o.load.latency;
  std::uint64_t seen = 0;
  h.for_each_bucket([&](std::uint64_t lowest, std::uint64_t width, std::uint64_t n) {
    seen += n;
    out << lowest << ',' << lowest + width - 1 << ',' << n << ','
        << fmt("%.4f", 100.0 * static_cast<double>(seen) / static_cast<double>(h.count())) << '\n';
  });
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace

Verdict write_report(const Outcome& o) {
  std::vector<Analyzed> all = analyze_dumps(o);
  Verdict v = judge(o, all);
  rpt::Document doc("gocxx-pressure: " + o.settings.target);
  doc.heading("Verdict");
  doc.paragraph(v.word + ": " + v.reason + ".");
  if (!o.failure.empty() && o.failed != Outcome::Failure::target)
    doc.paragraph("The run stopped early: " + o.failure + ".");
  if (!o.target_exit.empty())
    doc.paragraph("Target program: " + o.target_exit + " (see target.log).");
  settings_section(doc, o);
  load_section(doc, o);
  goroutine_section(doc, o);
  leak_section(doc, all);
  trace_section(doc, o, all);
  files_section(doc, o);
  write_latency_csv(o);
  doc.write(o.settings.report_dir);
  return v;
}

}  // namespace gocxx::pressure
