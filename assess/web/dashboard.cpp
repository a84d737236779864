// The interviewer's report: the seed's results table, ability with its uncertainty, the θ
// trajectory, time per item, the item path with the rules that fired, pressure drills with their
// goroutine curves, labs (results.json assess.lab) when present; report.json; and the comparison
// of several sessions. Printable (@media print in app.css).
#include <cmath>
#include <sstream>

#include "engine/report.hpp"
#include "web/app_impl.hpp"
#include "web/charts.hpp"

namespace assess::web {

namespace {

std::string fixed(double v, int digits = 2) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

Report report_of(App::Impl& app, const SessionRecord& rec) {
  std::vector<ItemParams> params = app.db([](Store& st) { return st.load_item_params(); });
  return make_report(rec, app.ctx.bank, app.ctx.rules, params);
}

std::string seed_table(const Report& r) {
  std::string rows;
  for (const DimensionReport& d : r.dimensions) {
    rows += "<tr><td>" + escape(d.dimension) + "</td><td>" + escape(d.seed_name) + "</td><td>≥ " + fixed(d.pass_line, 0) +
            "/5</td><td>" + fixed(d.score, 1) + "</td><td class=\"verdict " + escape(d.verdict) + "\">" + escape(d.verdict) +
            "</td><td>" + fixed(d.theta) + " ± " + fixed(d.se) + "</td><td>" +
            escape(d.key_defects.empty() ? "—" : d.key_defects.front()) + "</td></tr>";
  }
  return "<div class=\"table-wrap\"><table class=\"seed\"><thead><tr><th>Dimension</th><th>Seed name</th><th>Pass line</th>"
         "<th>Score</th><th>Verdict</th><th>θ ± SE</th><th class=\"wide\">Key defect</th></tr></thead><tbody>" +
         rows + "</tbody></table></div>";
}

// "goroutines every 10ms: 6 16 26 ..." in a drill's evidence, as (t_ms, n).
std::vector<std::pair<double, double>> goroutine_curve(const std::string& evidence) {
  std::vector<std::pair<double, double>> out;
  const std::string key = "goroutines every ";
  std::size_t at = evidence.find(key);
  if (at == std::string::npos) return out;
  std::istringstream in(evidence.substr(at + key.size()));
  double step = 0;
  std::string unit;
  in >> step >> unit;  // "10ms:" read as 10, "ms:"
  double n = 0;
  for (double t = 0; in >> n; t += step) out.emplace_back(t, n);
  return out;
}

std::vector<std::pair<double, double>> pairs(const nlohmann::json& j) {
  std::vector<std::pair<double, double>> out;
  if (!j.is_array()) return out;
  for (const auto& p : j)
    if (p.is_array() && p.size() == 2 && p[0].is_number() && p[1].is_number()) out.emplace_back(p[0].get<double>(), p[1].get<double>());
  return out;
}

std::string lab_section(const nlohmann::json& lab) {
  std::string out = "<section class=\"card\"><h2>Lab " + std::string(lab.value("passed", false) ? "✓ passed" : "✗ failed") + "</h2>";
  std::string checks;
  for (const auto& c : lab.value("checks", nlohmann::json::array()))
    checks += "<tr><td>" + escape(c.value("name", "")) + "</td><td>" + (c.value("passed", false) ? "✓" : "✗") + "</td><td>" +
              escape(c.value("detail", "")) + "</td></tr>";
  if (!checks.empty())
    out += "<div class=\"table-wrap\"><table><thead><tr><th>Check</th><th></th><th class=\"wide\">Detail</th></tr></thead><tbody>" + checks +
           "</tbody></table></div>";
  if (auto g = pairs(lab.value("goroutines", nlohmann::json())); !g.empty())
    out += line_chart("Goroutines during the lab", {{"goroutines", g}}, "ms", "goroutines");
  if (auto h = pairs(lab.value("heap_mb", nlohmann::json())); !h.empty())
    out += line_chart("Heap during the lab", {{"heap MB", h}}, "ms", "MB");
  if (const auto& l = lab.value("latency_ms", nlohmann::json::object()); !l.empty()) {
    std::vector<std::pair<std::string, double>> bars;
    for (const char* k : {"p50", "p90", "p99", "max", "bound_p99"})
      if (l.contains(k) && l[k].is_number()) bars.emplace_back(k, l[k].get<double>());
    out += "<h3>Latency (ms)</h3>" + bar_chart("Latency percentiles and the p99 bound, ms", bars);
  }
  if (const auto& q = lab.value("requests", nlohmann::json::object()); !q.empty())
    out += "<p>Requests: " + std::to_string(q.value("sent", 0)) + " sent, " + std::to_string(q.value("ok", 0)) + " ok, " +
           std::to_string(q.value("failed", 0)) + " failed</p>";
  if (std::string faults = lab.value("faults", ""); !faults.empty()) out += "<p>Faults: " + escape(faults) + "</p>";
  if (std::string report = lab.value("report", ""); !report.empty())
    out += "<h3>Report</h3><pre class=\"code\">" + escape(report) + "</pre>";
  return out + "</section>";
}

std::string path_table(const Report& r) {
  std::string rows;
  for (const ReportStep& s : r.path) {
    rows += "<tr><td>" + std::to_string(s.seq) + "</td><td>" + escape(s.title) + "<br><span class=\"muted\">" + escape(s.item) +
            "</span></td><td>" + escape(s.dimension) + " L" + std::to_string(s.level) + "</td><td>" + escape(s.kind) +
            "</td><td>" + (s.answered ? (s.correct ? "✓ " : "✗ ") + escape(s.verdict) : "…") + "</td><td>" +
            (s.duration_ms ? fixed(static_cast<double>(*s.duration_ms) / 1000.0, 0) + " s" : "") + "</td><td>" +
            (s.theta_after ? fixed(*s.theta_after) + " ± " + fixed(s.se_after.value_or(0)) : "") + "</td><td>" +
            escape(s.rule.empty() ? "information" : s.rule) + "</td></tr>";
  }
  return "<div class=\"table-wrap\"><table><thead><tr><th>#</th><th class=\"wide\">Item</th><th>Level</th><th>Kind</th><th>Result</th>"
         "<th>Time</th><th>θ after</th><th>Chosen by</th></tr></thead><tbody>" + rows + "</tbody></table></div>";
}

void report_page(App::Impl& app, Visit& v) {
  SessionRecord rec = load_record(app, v.r.path_value("id"));
  Report r = report_of(app, rec);
  std::vector<Interval> intervals;
  std::map<std::string, Series> trajectory;
  std::vector<std::pair<std::string, double>> times;
  for (const DimensionReport& d : r.dimensions)
    intervals.push_back({d.dimension, d.theta, d.theta - 1.96 * d.se, d.theta + 1.96 * d.se, d.cut});
  for (const ReportStep& s : r.path) {
    if (s.theta_after) {
      Series& ser = trajectory[s.dimension];
      ser.label = s.dimension;
      ser.points.emplace_back(s.seq, *s.theta_after);
    }
    if (s.duration_ms) times.emplace_back("#" + std::to_string(s.seq), static_cast<double>(*s.duration_ms) / 1000.0);
  }
  std::vector<Series> lines;
  for (auto& [dim, ser] : trajectory) lines.push_back(ser);
  std::string id = std::to_string(r.session);
  std::string body = "<h1>Report · assessment " + id + "</h1><p class=\"muted\">" + escape(r.candidate) +
                     (r.candidate_name.empty() ? "" : " (" + escape(r.candidate_name) + ")") + " · " + escape(r.state) +
                     (r.pressure ? " · pressure mode" : "") +
                     " · <a href=\"/i/assessments/" + id + "/report.json\">report.json</a> · "
                     "<button type=\"button\" class=\"link\" data-print>Print</button></p>" +
                     seed_table(r) + "<section class=\"card\"><h2>Ability (θ̂, 95% interval, cut)</h2>" +
                     interval_chart(intervals, -4, 4) + "</section>";
  if (!lines.empty()) body += "<section class=\"card\"><h2>θ after each item</h2>" + line_chart("θ after each item", lines, "item", "θ") + "</section>";
  if (!times.empty()) body += "<section class=\"card\"><h2>Time per item (s)</h2>" + bar_chart("Seconds per item", times) + "</section>";
  body += "<section class=\"card\"><h2>Item path</h2>" + path_table(r) + "</section>";
  std::string drills;
  for (const ReportStep& s : r.path) {
    if (s.pressure.empty()) continue;
    drills += "<h3>#" + std::to_string(s.seq) + " " + escape(s.title) + ": " + escape(s.pressure) + "</h3>";
    if (!s.pressure_evidence.empty()) drills += "<pre class=\"code\">" + escape(s.pressure_evidence) + "</pre>";
    if (auto curve = goroutine_curve(s.pressure_evidence); !curve.empty())
      drills += line_chart("Goroutines under pressure", {{"goroutines", curve}}, "ms", "goroutines");
  }
  if (!drills.empty()) body += "<section class=\"card\"><h2>Pressure drills</h2>" + drills + "</section>";
  for (const Response& resp : rec.responses) {
    nlohmann::json j = nlohmann::json::parse(resp.results_json, nullptr, false);
    if (j.is_object() && j.contains("assess") && j["assess"].is_object() && j["assess"].contains("lab"))
      body += lab_section(j["assess"]["lab"]);
  }
  send_page(v.w, http::status_ok, "Report " + id, body, Nav::interviewer, v.who.csrf);
}

void compare_page(App::Impl& app, Visit& v) {
  const http::Values query = v.r.url.query();  // ids points into it
  const std::vector<std::string>* ids = query.values("s");
  if (!ids || ids->empty()) {
    std::vector<SessionSummary> all = app.db([](Store& st) { return st.list_sessions({}); });
    std::string boxes;
    for (const SessionSummary& s : all)
      boxes += "<label class=\"check\"><input type=\"checkbox\" name=\"s\" value=\"" + std::to_string(s.session.id) + "\"> #" +
               std::to_string(s.session.id) + " " + escape(s.candidate.handle) + " (" + to_string(s.session.state) + ")</label>";
    return send_page(v.w, http::status_ok, "Compare",
                     "<h1>Compare candidates</h1><form method=\"get\" action=\"/i/compare\" class=\"card form\">" + boxes +
                         "<button type=\"submit\">Compare</button></form>",
                     Nav::interviewer, v.who.csrf);
  }
  if (ids->size() > 20) throw FormError(http::status_bad_request, "compare at most 20 assessments");
  std::vector<Report> reports;
  for (const std::string& id : *ids) reports.push_back(report_of(app, load_record(app, id)));
  std::string head = "<tr><th>Dimension</th>";
  for (const Report& r : reports) head += "<th class=\"wide\">#" + std::to_string(r.session) + " " + escape(r.candidate) + "</th>";
  std::string rows;
  for (const char* dim : kDimensions) {
    std::string row = "<tr><td>" + escape(dim) + "</td>";
    bool any = false;
    for (const Report& r : reports) {
      auto d = std::find_if(r.dimensions.begin(), r.dimensions.end(), [&](const DimensionReport& x) { return x.dimension == dim; });
      if (d == r.dimensions.end()) {
        row += "<td>—</td>";
        continue;
      }
      any = true;
      row += "<td>score " + fixed(d->score, 1) + "<br>θ " + fixed(d->theta) + " ± " + fixed(d->se) + "<br><span class=\"verdict " +
             escape(d->verdict) + "\">" + escape(d->verdict) + "</span><br><span class=\"muted\">" +
             escape(d->key_defects.empty() ? "—" : d->key_defects.front()) + "</span></td>";
    }
    if (any) rows += row + "</tr>";
  }
  send_page(v.w, http::status_ok, "Compare",
            "<h1>Compare candidates</h1><div class=\"table-wrap\"><table class=\"compare\"><thead>" + head + "</tr></thead><tbody>" +
                rows + "</tbody></table></div>",
            Nav::interviewer, v.who.csrf);
}

}  // namespace

void add_dashboard_pages(App::Impl& app) {
  app.route("GET /i/assessments/{id}/report", Access::interviewer, [&app](Visit& v) { report_page(app, v); });
  app.route("GET /i/assessments/{id}/report.json", Access::interviewer, [&app](Visit& v) {
    Report r = report_of(app, load_record(app, v.r.path_value("id")));
    v.w.header().set("Content-Type", "application/json");
    (void)v.w.write(to_json(r).dump(2) + "\n");
  });
  app.route("GET /i/compare", Access::interviewer, [&app](Visit& v) { compare_page(app, v); });
}

}  // namespace assess::web
