#include "engine/lab.hpp"

#include "engine/grader.hpp"  // rewrite_paths, split_lines, clip

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

namespace assess::lab {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kMaxFileBytes = 4u << 20;    // a report file read back
constexpr std::size_t kMaxReportChars = 6000;      // assess.lab.report
constexpr std::size_t kMaxDetailChars = 600;       // a check's detail
// Bounds of the run around the lab's own figures: two builds, startup, gocxx-pressure's settle,
// episode traces and dumps, the shutdown check's slow requests.
constexpr auto kRunSlack = 90s;

// A file the sandboxed run wrote: the candidate's service could have put anything there, a
// symlink to a host file included, so only a regular file is read, and only its first bytes.
std::string read_untrusted(const fs::path& p) {
  std::error_code ec;
  if (!fs::is_regular_file(fs::symlink_status(p, ec))) return "";
  std::ifstream in(p, std::ios::binary);
  std::string out(kMaxFileBytes, '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  out.resize(static_cast<std::size_t>(in.gcount()));
  return out;
}

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::vector<std::vector<double>> csv_rows(const std::string& csv) {
  std::vector<std::vector<double>> rows;
  for (const std::string& l : split_lines(csv)) {
    std::vector<double> row;
    std::istringstream in(l);
    bool ok = true;
    for (std::string cell; std::getline(in, cell, ',');) {
      char* end = nullptr;
      double v = std::strtod(cell.c_str(), &end);
      if (end == cell.c_str()) ok = false;
      row.push_back(v);
    }
    if (ok && !row.empty()) rows.push_back(std::move(row));  // the header does not parse
  }
  return rows;
}

// latency.csv's buckets (lowest_ns, highest_ns, count, cumulative_percent): a percentile is its
// bucket's midpoint, as gocxx-pressure reports it (within 0.4%).
struct Latency {
  double p50 = 0, p90 = 0, p99 = 0, max = 0;
  bool any = false;
};

Latency latency_of(const std::string& csv) {
  Latency l;
  auto rows = csv_rows(csv);
  std::erase_if(rows, [](const auto& r) { return r.size() < 4; });
  if (rows.empty()) return l;
  l.any = true;
  auto at = [&](double p) {
    for (const auto& r : rows)
      if (r[3] >= p) return (r[0] + r[1]) / 2 / 1e6;
    return rows.back()[1] / 1e6;
  };
  l.p50 = at(50);
  l.p90 = at(90);
  l.p99 = at(99);
  l.max = rows.back()[1] / 1e6;
  return l;
}

double round1(double v) { return std::round(v * 10) / 10; }

// The report's verdict, leak analysis and trace analysis sections, each clipped to its share of
// kMaxReportChars, so that a long grouped dump does not push the trace analysis out.
std::string report_excerpt(const std::string& md) {
  static const std::pair<const char*, std::size_t> keep[] = {{"Verdict", 800},
                                                             {"Leak analysis", 200},
                                                             {"Goroutine leak analysis", 2800},
                                                             {"Goroutine growth across dumps", 900},
                                                             {"Trace analysis", 1200}};
  std::string out, section;
  std::size_t budget = 0;
  int keeping = 0;  // the kept section's heading level; 0: not keeping
  auto flush = [&] {
    std::string kept = clip(section, budget);
    int fences = 0;  // a code block cut open would swallow the sections after it
    for (const std::string& l : split_lines(kept)) fences += l.starts_with("```");
    out += kept + (fences % 2 ? "\n```\n" : "") + (section.empty() ? "" : "\n");
    section.clear();
  };
  for (const std::string& l : split_lines(md)) {
    std::size_t level = l.find_first_not_of('#');
    bool heading = level > 0 && level != std::string::npos && l[level] == ' ';
    if (heading && keeping && static_cast<int>(level) <= keeping) {
      flush();
      keeping = 0;
    }
    if (heading && !keeping) {
      std::string title = l.substr(level + 1);
      for (const auto& [name, share] : keep)
        if (title == name) keeping = static_cast<int>(level), budget = share;
    }
    if (keeping) section += l + "\n";
  }
  if (keeping) flush();
  return clip(out, kMaxReportChars);
}

// What gocxx-pressure said about the run: its verdict line on standard error.
std::string pressure_verdict(const std::string& said) {
  std::string found;
  for (const std::string& l : split_lines(said)) {
    for (const char* word : {"clean: ", "leak suspected: ", "target failed: ", "interrupted"})
      if (l.starts_with(std::string("gocxx-pressure: ") + word)) found = l.substr(16);
  }
  return found;
}

struct Check {
  explicit Check(std::string n) : name(std::move(n)) {}
  std::string name;
  bool passed = true;
  std::string detail;
  void fail(const std::string& why) {
    passed = false;
    detail = why + (detail.empty() ? "" : "; " + detail);
  }
};

// The facts of the lab that belong to `check`, against the service's /lab/facts.
void check_facts(const LabSpec& spec, const json& driver, Check& c) {
  for (const LabFact& f : spec.facts) {
    if (f.check != c.name) continue;
    if (driver.value("facts_error", "") != "") {
      c.fail("/lab/facts: " + driver["facts_error"].get<std::string>());
      continue;
    }
    const json& facts = driver.contains("facts") ? driver["facts"] : json::object();
    if (!facts.is_object() || !facts.contains(f.fact) || !facts[f.fact].is_number()) {
      c.fail("/lab/facts has no number \"" + f.fact + "\"");
      continue;
    }
    double v = facts[f.fact].get<double>();
    std::string shown = f.fact + " = " + fmt("%g", v);
    if ((f.min && v < *f.min) || (f.max && v > *f.max)) {
      std::string bound = f.min && f.max && *f.min == *f.max ? "should be " + fmt("%g", *f.min)
                          : f.min && f.max ? "should be " + fmt("%g", *f.min) + " to " + fmt("%g", *f.max)
                          : f.min          ? "should be at least " + fmt("%g", *f.min)
                                           : "should be at most " + fmt("%g", *f.max);
      c.fail(f.says + ": " + shown + " (" + bound + ")");
    } else {
      c.detail += (c.detail.empty() ? "" : "; ") + shown;
    }
  }
}

bool has_facts_for(const LabSpec& spec, const char* check) {
  return std::any_of(spec.facts.begin(), spec.facts.end(), [&](const LabFact& f) { return f.check == check; });
}

json checks_json(const std::vector<Check>& checks) {
  json out = json::array();
  for (const Check& c : checks)
    out.push_back({{"name", c.name}, {"passed", c.passed}, {"detail", clip(c.detail, kMaxDetailChars)}});
  return out;
}

Outcome verdict_of(std::vector<Check> checks, json lab) {
  Outcome o;
  std::string failed;
  for (const Check& c : checks)
    if (!c.passed) failed += (failed.empty() ? "" : "; ") + c.name + ": " + c.detail;
  lab["passed"] = failed.empty();
  lab["checks"] = checks_json(checks);
  o.verdict = failed.empty() ? "pass" : "lab";
  o.message = failed;
  o.lab = std::move(lab);
  return o;
}

json empty_lab(const std::string& faults) {
  return {{"passed", false},
          {"checks", json::array()},
          {"goroutines", json::array()},
          {"heap_mb", json::array()},
          {"latency_ms", json::object()},
          {"requests", {{"sent", 0}, {"ok", 0}, {"failed", 0}}},
          {"faults", faults},
          {"report", ""}};
}

}  // namespace

std::vector<std::pair<double, double>> gctrace_heap(const std::string& log) {
  static const std::regex line(R"(^gc \d+ @([0-9.]+)s .* (\d+)->(\d+)->(\d+) MB)");
  std::vector<std::pair<double, double>> out;
  std::smatch m;
  for (const std::string& l : split_lines(log))
    if (std::regex_search(l, m, line)) out.emplace_back(std::stod(m[1]) * 1000, std::stod(m[2]));
  return out;
}

Outcome judge(const LabSpec& spec, const Evidence& ev) {
  const json& d = ev.driver;
  json lab = empty_lab(ev.faults);
  const json startup = d.value("startup", json::object());
  if (!startup.value("ok", false)) {
    Check c("service");
    c.fail("the service did not start: " + startup.value("error", std::string("no answer")) +
           (ev.service_log.empty() ? "" : "\n" + clip(ev.service_log, 300)));
    return verdict_of({c}, std::move(lab));
  }

  // Goroutines over time, from gocxx-pressure's samples.
  int baseline = -1, end = -1, peak = 0;
  std::uint64_t sent = 0, ok = 0, failed = 0;
  for (const auto& r : csv_rows(ev.samples_csv)) {
    if (r.size() < 6) continue;
    int n = static_cast<int>(r[1]);
    sent = static_cast<std::uint64_t>(r[2]);
    ok = static_cast<std::uint64_t>(r[3]);
    failed = static_cast<std::uint64_t>(r[4]);
    if (n < 0) continue;
    lab["goroutines"].push_back({std::llround(r[0] * 1000), n});
    if (baseline < 0) baseline = n;
    end = n;
    peak = std::max(peak, n);
  }
  lab["requests"] = {{"sent", sent}, {"ok", ok}, {"failed", failed}};
  Latency lat = latency_of(ev.latency_csv);
  lab["latency_ms"] = {{"p50", round1(lat.p50)}, {"p90", round1(lat.p90)}, {"p99", round1(lat.p99)},
                       {"max", round1(lat.max)}, {"bound_p99", spec.latency_p99_ms}};
  double load_start = d.value("load_start_ms", 0.0);
  auto gcs = gctrace_heap(ev.service_log);
  for (const auto& [t, mb] : gcs) lab["heap_mb"].push_back({std::llround(t - load_start), mb});
  lab["report"] = report_excerpt(ev.report_md);

  // gocxx-pressure's last sample comes right after it closed the proxy's connections, which
  // the service may not have noticed yet; the driver's /lab/facts, read after it, has them gone.
  const json facts = d.value("facts", json::object());
  if (facts.is_object() && facts.contains("goroutines") && facts["goroutines"].is_number_integer() && end >= 0)
    end = std::min(end, facts["goroutines"].get<int>());

  std::vector<Check> checks;
  int pressure_exit = d.value("pressure_exit", -2);
  std::string pv = d.value("pressure_verdict", std::string());
  // 2: bad usage, 4: the report could not be written, -2: it did not start: the grader's fault.
  // (Killed by a signal, -1, the service may have done it: the checks below fail on what is missing.)
  if (pressure_exit == 2 || pressure_exit == 4 || pressure_exit == -2)
    return Outcome{"error", "gocxx-pressure failed (exit status " + std::to_string(pressure_exit) + "): " + pv, nullptr};

  Check leak("leak");
  if (baseline < 0) {
    leak.fail("no goroutine sample from the service");
  } else {
    leak.detail = "goroutines " + std::to_string(baseline) + " before the load, peak " + std::to_string(peak) +
                  ", " + std::to_string(end) + " after it (at most " + std::to_string(baseline + spec.leak_slack) + ")";
    if (end > baseline + spec.leak_slack)
      leak.fail("goroutines grew " + std::to_string(baseline) + " → " + std::to_string(end) +
                " and stayed after the load (more than " + std::to_string(baseline) + " + " +
                std::to_string(spec.leak_slack) + ")");
  }
  if (pressure_exit == 1) leak.fail("gocxx-pressure: " + (pv.empty() ? "leak suspected" : pv));
  else if (!pv.empty()) leak.detail += "; gocxx-pressure: " + pv;
  check_facts(spec, d, leak);
  checks.push_back(leak);

  Check latency("latency");
  double failed_pct = sent ? 100.0 * static_cast<double>(failed) / static_cast<double>(sent) : 100;
  latency.detail = "p99 " + fmt("%.1f", lat.p99) + " ms (at most " + std::to_string(spec.latency_p99_ms) + " ms), " +
                   std::to_string(failed) + " of " + std::to_string(sent) + " requests failed (at most " +
                   fmt("%g", spec.max_failed_percent) + "%)";
  if (sent == 0 || !lat.any) latency.fail("no request was answered");
  else if (lat.p99 > spec.latency_p99_ms) latency.fail("p99 " + fmt("%.1f", lat.p99) + " ms is over the bound");
  if (sent > 0 && failed_pct > spec.max_failed_percent) latency.fail(fmt("%.1f", failed_pct) + "% of the requests failed");
  check_facts(spec, d, latency);
  checks.push_back(latency);

  if (spec.shutdown_requests > 0 || has_facts_for(spec, "shutdown")) {
    Check sh("shutdown");
    const json s = d.value("shutdown", json::object());
    std::string early = d.value("exited_early", std::string());
    if (!early.empty()) {
      sh.fail("the service " + early + " during the load, before SIGTERM");
    } else if (spec.shutdown_requests > 0) {
      int n = s.value("requests", 0), answered = s.value("ok", 0);
      long long ms = s.value("ms", 0LL);
      sh.detail = std::to_string(answered) + " of " + std::to_string(n) + " requests in flight at SIGTERM answered; " +
                  s.value("exit", std::string("no exit")) + " " + fmt("%.1f", static_cast<double>(ms) / 1000) +
                  " s after SIGTERM (at most " + std::to_string(spec.shutdown_s) + " s)";
      if (!s.value("ran", false)) sh.fail("the shutdown check did not run");
      if (answered < n) {
        std::string first = s.contains("errors") && !s["errors"].empty() ? s["errors"][0].get<std::string>() : "";
        sh.fail(std::to_string(n - answered) + " in-flight requests were cut off" + (first.empty() ? "" : " (" + first + ")"));
      }
      if (s.value("exit_code", -1) != 0 || ms > spec.shutdown_s * 1000LL)
        sh.fail("it must exit with status 0 within " + std::to_string(spec.shutdown_s) + " s of SIGTERM");
    }
    check_facts(spec, d, sh);
    checks.push_back(sh);
  }

  if (spec.max_gcs || spec.max_heap_mb || has_facts_for(spec, "heap")) {
    Check heap("heap");
    double top = 0;
    for (const auto& g : gcs) top = std::max(top, g.second);
    heap.detail = std::to_string(gcs.size()) + " GC cycles (gctrace), the largest heap at a cycle's start " +
                  fmt("%g", top) + " MB";
    if (spec.max_gcs && static_cast<int>(gcs.size()) > *spec.max_gcs)
      heap.fail(std::to_string(gcs.size()) + " GC cycles, more than " + std::to_string(*spec.max_gcs));
    if (spec.max_heap_mb && top > *spec.max_heap_mb)
      heap.fail("the heap reached " + fmt("%g", top) + " MB, more than " + fmt("%g", *spec.max_heap_mb) + " MB");
    check_facts(spec, d, heap);
    checks.push_back(heap);
  }
  if (has_facts_for(spec, "consistency")) {
    Check c("consistency");
    check_facts(spec, d, c);
    checks.push_back(c);
  }
  return verdict_of(std::move(checks), std::move(lab));
}

Outcome run(const LabSpec& spec, const Setup& s) {
  fs::path service = s.dir / "service", driver = s.dir / "labrun", report = s.dir / "report", log = s.dir / "service.log";
  std::string faults = "latency=10ms,seed=" + std::to_string(s.seed);
  std::string shown = "10 ms latency on the proxied reads";
  if (s.rate > 0) {
    faults += ",jitter=" + fmt("%g", s.rate * 100) + "%";
    shown = fmt("%g", s.rate * 100) + "% jitter on a 10 ms latency of the proxied reads";
  }
  if (!spec.faults.empty()) {
    faults += "," + spec.faults;
    shown += ", " + spec.faults;
  }
  shown += " (seed " + std::to_string(s.seed) + ")";
  auto error = [](std::string why) { return Outcome{"error", std::move(why), nullptr}; };

  sandbox::Outcome b = s.run({"go", "build", "-o", service.string(), "."}, s.build_wall, {});
  if (b.status == sandbox::Status::internal_error) return error("sandbox: " + b.message);
  if (!b.ok()) {
    Evidence ev;  // it passed the build check, as a test binary: a package main without main()
    ev.driver = {{"startup", {{"ok", false}, {"error", "go build failed: " + clip(b.stderr_data, 400)}}}};
    ev.faults = shown;
    return judge(spec, ev);
  }
  b = s.run({"go", "build", "-o", driver.string(), "assess/labrun"}, s.build_wall, {});
  if (!b.ok()) return error("the lab driver (assess/labrun in the bank's _lib) does not build: " + b.message + " " +
                            clip(b.stderr_data, 400));

  std::vector<std::string> argv = {driver.string(), "-service", service.string(), "-pressure", s.tool.string(),
                                   "-report", report.string(), "-log", log.string(), "-path", spec.path,
                                   "-shutdown-requests", std::to_string(spec.shutdown_requests),
                                   "-shutdown-bound", std::to_string(spec.shutdown_s) + "s",
                                   "-env", "GODEBUG=gctrace=1"};
  for (const auto& [k, v] : spec.env) argv.insert(argv.end(), {"-env", k + "=" + v});
  std::vector<std::string> flags = {"--rate", fmt("%g", spec.rate) + "/s", "--duration", std::to_string(spec.duration_s) + "s",
                                    "--faults", faults, "--threshold", std::to_string(spec.threshold),
                                    "--interval", "500ms", "--settle", "2s", "--trace-seconds", "2"};
  if (spec.growth > 0) flags.insert(flags.end(), {"--growth", fmt("%g", spec.growth)});
  for (const std::string& f : flags) argv.insert(argv.end(), {"-P", f});
  auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(
      kRunSlack + std::chrono::seconds(spec.duration_s + 2 * spec.shutdown_s));
  sandbox::Outcome r = s.run(argv, wall, {});
  if (r.status == sandbox::Status::internal_error) return error("sandbox: " + r.message);

  Evidence ev;
  ev.faults = shown;
  std::vector<std::string> out = split_lines(r.stdout_data);
  try {
    if (!out.empty()) ev.driver = json::parse(out.back());
  } catch (const json::exception&) {
  }
  if (!ev.driver.is_object()) {
    // The run ended before the driver could say anything: a limit (the service ate the memory
    // or the processes), which is the service's doing.
    ev.driver = {{"startup", {{"ok", false}, {"error", "the lab run ended early: " + r.message}}}};
  }
  ev.driver["pressure_verdict"] = pressure_verdict(r.stderr_data);
  ev.samples_csv = read_untrusted(report / "samples.csv");
  ev.latency_csv = read_untrusted(report / "latency.csv");
  ev.report_md = rewrite_paths(read_untrusted(report / "report.md"), s.scratch);
  ev.service_log = rewrite_paths(read_untrusted(log), s.scratch);
  Outcome o = judge(spec, ev);
  if (o.lab.is_object()) o.lab["wall_ms"] = r.wall.count();
  return o;
}

}  // namespace assess::lab
