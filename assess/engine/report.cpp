// The assessment report (report.hpp).
#include "engine/report.hpp"

#include <algorithm>
#include <cstdio>

#include "engine/session.hpp"

namespace assess {

namespace {

const char* seed_name(const std::string& dimension) {
  if (dimension == "concurrency") return "并发控制力";
  if (dimension == "memory") return "内存感知力";
  if (dimension == "robustness") return "工程鲁棒性";
  if (dimension == "ecosystem") return "生态整合力";
  return "";
}

std::string format_time(Time t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &utc);
  return buf;
}

std::string fixed(double v, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// Pads to `width` display columns (CJK characters take two).
std::string pad(const std::string& s, std::size_t width) {
  std::size_t cols = 0;
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    cols += len == 3 ? 2 : 1;
    i += len;
  }
  return s + std::string(width > cols ? width - cols : 1, ' ');
}

// The pressure drills the session graded under pressure, with a failed drill's evidence.
std::string pressure_drills(const Report& r) {
  if (!r.pressure) return {};
  std::string out = "\nPressure drills (pressure mode: each drill's tests ran again under seeded network faults):\n";
  bool any = false;
  for (const ReportStep& s : r.path) {
    if (s.pressure.empty()) continue;
    any = true;
    out += "  " + pad(std::to_string(s.seq), 4) + pad(s.item, 30) +
           (s.pressure == "pass" ? std::string("pass") : "fail: " + s.pressure) + "\n";
    std::size_t start = 0;
    for (int lines = 0; lines < 8 && start < s.pressure_evidence.size(); ++lines) {
      std::size_t end = s.pressure_evidence.find('\n', start);
      if (end == std::string::npos) end = s.pressure_evidence.size();
      out += "        " + s.pressure_evidence.substr(start, end - start) + "\n";
      start = end + 1;
    }
  }
  if (!any) out += "  none reached the pressure check (a drill runs under pressure once it passes its other checks)\n";
  return out;
}

}  // namespace

Report make_report(const SessionRecord& rec, const Bank& bank, const rules::RuleSet& rules,
                   const std::vector<ItemParams>& stored_params) {
  cat::Cat adaptive = replay(rec, bank, rules, stored_params);
  Report r{.session = rec.session.id,
           .candidate = rec.candidate.handle,
           .candidate_name = rec.candidate.name,
           .state = to_string(rec.session.state),
           .created_at = rec.session.created_at,
           .finished_at = rec.session.finished_at,
           .pressure = rec.session.config.pressure,
           .dimensions = {},
           .path = {}};

  for (const Presentation& p : rec.presented) {
    ReportStep step;
    step.seq = p.seq;
    step.item = p.item;
    step.dimension = p.dimension;
    if (const Item* item = bank.find(p.item)) {
      step.title = item->title;
      step.kind = to_string(item->kind);
      step.level = item->level;
    }
    for (const RuleFiring& f : rec.firings) {
      if (f.item == p.item && f.seq < p.seq) step.rule = f.rule;
    }
    for (const Response& resp : rec.responses) {
      if (resp.seq != p.seq) continue;
      step.answered = true;
      step.correct = resp.correct;
      step.duration_ms = resp.duration ? std::optional<long long>(resp.duration->count()) : std::nullopt;
      auto results = nlohmann::json::parse(resp.results_json, nullptr, false);
      if (results.is_object() && results.contains("assess")) {
        step.verdict = results["assess"].value("verdict", "");
        const nlohmann::json& p = results["assess"].value("pressure", nlohmann::json());
        if (p.is_object()) {
          step.pressure = p.value("passed", false) ? "pass" : p.value("message", "failed");
          step.pressure_evidence = p.value("evidence", "");
        }
      }
    }
    for (const Estimate& e : rec.estimates) {
      if (e.after_seq == p.seq && e.dimension == p.dimension) {
        step.theta_after = e.theta;
        step.se_after = e.se;
      }
    }
    r.path.push_back(step);
  }

  for (const cat::DimensionState& d : adaptive.dimensions()) {
    DimensionReport dr{.dimension = d.dimension,
                       .seed_name = seed_name(d.dimension),
                       .pass_line = d.pass_line,
                       .score = d.score,
                       .passed = d.passed,
                       .verdict = irt::to_string(d.verdict),
                       .stop = irt::to_string(d.stop),
                       .theta = d.estimate.theta,
                       .se = d.estimate.se,
                       .cut = d.cut,
                       .items = d.items,
                       .correct = d.correct,
                       .key_defects = {}};
    std::vector<const ReportStep*> missed;
    for (const ReportStep& s : r.path) {
      if (s.dimension == d.dimension && s.answered && !s.correct) missed.push_back(&s);
    }
    std::stable_sort(missed.begin(), missed.end(),
                     [](const ReportStep* a, const ReportStep* b) { return a->level < b->level; });
    for (const ReportStep* s : missed) {
      const Item* item = bank.find(s->item);
      std::string defect = item ? item->defect : s->item;
      if (std::find(dr.key_defects.begin(), dr.key_defects.end(), defect) == dr.key_defects.end()) {
        dr.key_defects.push_back(defect);
      }
    }
    r.dimensions.push_back(std::move(dr));
  }
  return r;
}

std::string to_text(const Report& r) {
  std::string out = "Assessment " + std::to_string(r.session) + ": " + r.candidate;
  if (!r.candidate_name.empty()) out += " (" + r.candidate_name + ")";
  out += ", " + r.state + (r.pressure ? ", pressure mode" : "") + ", started " + format_time(r.created_at);
  if (r.finished_at) out += ", ended " + format_time(*r.finished_at);
  out += "\n\n";
  out += pad("Dimension", 28) + pad("Pass line", 11) + pad("Score", 7) + pad("Result", 11) +
         pad("θ ± SE", 15) + pad("Right", 7) + "Key defect\n";
  for (const DimensionReport& d : r.dimensions) {
    std::string result = d.passed ? "pass" : "fail";
    if (d.verdict == "undecided") result += "?";
    out += pad(d.dimension + " " + d.seed_name, 28) + pad("≥" + fixed(d.pass_line, 0) + "/5", 11) +
           pad(fixed(d.score, 1) + "/5", 7) + pad(result, 11) +
           pad(fixed(d.theta, 2) + " ± " + fixed(d.se, 2), 15) +
           pad(std::to_string(d.correct) + "/" + std::to_string(d.items), 7) +
           (d.key_defects.empty() ? std::string(d.items ? "none observed" : "not assessed")
                                  : d.key_defects.front()) +
           "\n";
  }
  out += "\nResult: pass = the estimated score on the dimension's five-level ladder reaches the pass\n"
         "line; \"?\" = not yet decided at 95% confidence (more items would settle it).\n";
  bool any_more = false;
  for (const DimensionReport& d : r.dimensions) any_more |= d.key_defects.size() > 1;
  if (any_more) {
    out += "\nAll defects shown by missed items, by dimension (most basic first):\n";
    for (const DimensionReport& d : r.dimensions) {
      for (const std::string& defect : d.key_defects) out += "  " + d.dimension + ": " + defect + "\n";
    }
  }
  out += "\nItem path:\n";
  out += "  " + pad("#", 4) + pad("Item", 30) + pad("Dimension", 13) + pad("Lvl", 4) +
         pad("Kind", 9) + pad("Result", 14) + pad("Time", 8) + "Pushed by rule\n";
  for (const ReportStep& s : r.path) {
    std::string result = !s.answered ? "pending" : s.correct ? "right" : "wrong";
    if (s.answered && !s.correct && !s.verdict.empty() && s.verdict != "answer") {
      result += " (" + s.verdict + ")";
    }
    std::string time = s.duration_ms ? fixed(static_cast<double>(*s.duration_ms) / 1000, 0) + "s" : "";
    out += "  " + pad(std::to_string(s.seq), 4) + pad(s.item, 30) + pad(s.dimension, 13) +
           pad(std::to_string(s.level), 4) + pad(s.kind, 9) + pad(result, 14) + pad(time, 8) +
           s.rule + "\n";
  }
  out += pressure_drills(r);
  return out;
}

nlohmann::json to_json(const Report& r) {
  auto millis = [](Time t) { return t.time_since_epoch().count(); };
  nlohmann::json j{{"session", r.session},
                   {"candidate", r.candidate},
                   {"candidate_name", r.candidate_name},
                   {"state", r.state},
                   {"created_at", format_time(r.created_at)},
                   {"created_at_ms", millis(r.created_at)},
                   {"pressure", r.pressure},
                   {"dimensions", nlohmann::json::array()},
                   {"path", nlohmann::json::array()}};
  if (r.finished_at) j["finished_at"] = format_time(*r.finished_at);
  for (const DimensionReport& d : r.dimensions) {
    j["dimensions"].push_back({{"dimension", d.dimension},
                               {"seed_name", d.seed_name},
                               {"pass_line", d.pass_line},
                               {"score", d.score},
                               {"passed", d.passed},
                               {"verdict", d.verdict},
                               {"stop", d.stop},
                               {"theta", d.theta},
                               {"se", d.se},
                               {"cut", d.cut},
                               {"items", d.items},
                               {"correct", d.correct},
                               {"key_defects", d.key_defects}});
  }
  for (const ReportStep& s : r.path) {
    nlohmann::json step{{"seq", s.seq},       {"item", s.item},         {"title", s.title},
                        {"dimension", s.dimension}, {"kind", s.kind},   {"level", s.level},
                        {"answered", s.answered},   {"correct", s.correct}, {"verdict", s.verdict},
                        {"rule", s.rule}};
    if (s.duration_ms) step["duration_ms"] = *s.duration_ms;
    if (s.theta_after) step["theta_after"] = *s.theta_after;
    if (s.se_after) step["se_after"] = *s.se_after;
    if (!s.pressure.empty()) step["pressure"] = {{"result", s.pressure}, {"evidence", s.pressure_evidence}};
    j["path"].push_back(step);
  }
  return j;
}

}  // namespace assess
