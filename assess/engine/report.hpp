// The assessment report: the seed's results table (dimension, pass line, score, key defect) with
// each dimension's ability estimate and its uncertainty, and the path the adaptive test took.
//
//   assess::Report r = assess::make_report(store.load_session(id), bank, rules, params);
//   std::cout << assess::to_text(r);           // `assess report 7`
//   std::cout << assess::to_json(r).dump(2);   // `assess report 7 --json`
//
// Key defects come from the items' tags.defect: each missed item names the misconception a
// wrong answer reveals. A dimension lists its missed items' defects, the lowest level first
// (missing a basic item says more than missing a hard one); the table shows the first.
//
// A session in pressure mode says so, and lists its pressure drills: each drill's result under
// pressure, and for a failed one the drill's evidence (what grew, the goroutine summary).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/bank.hpp"
#include "engine/rules.hpp"
#include "engine/store.hpp"

namespace assess {

struct DimensionReport {
  std::string dimension;     // "concurrency"
  std::string seed_name;     // the seed's name: "并发控制力"
  double pass_line = 0;      // "≥ 4/5"
  double score = 0;          // the ladder's expected score at θ̂, one decimal (irt::ladder_score)
  bool passed = false;
  std::string verdict;       // "pass", "fail" (95% interval clear of the cut) or "undecided"
  std::string stop;          // why the dimension ended: classified, max_items, exhausted, running
  double theta = 0, se = 1, cut = 0;
  int items = 0, correct = 0;
  std::vector<std::string> key_defects;  // missed items' defects, lowest level first
};

struct ReportStep {
  int seq = 0;
  std::string item, title, dimension, kind;
  int level = 0;
  bool answered = false, correct = false;
  std::string verdict;       // results.json assess.verdict: pass, answer, build, vet, race, leak, test, timeout
  std::optional<long long> duration_ms;
  std::string rule;          // the adaptive rule that pushed it; empty: chosen by information
  std::optional<double> theta_after, se_after;  // the dimension's estimate after this answer
  // Graded under pressure (results.json assess.pressure): "pass", or why the drill failed;
  // empty when the pressure check did not run (not a drill, or an earlier check failed).
  std::string pressure;
  std::string pressure_evidence;  // a failed drill's evidence: the goroutine summary, ...
};

struct Report {
  SessionId session = 0;
  std::string candidate, candidate_name, state;
  Time created_at{};
  std::optional<Time> finished_at;
  bool pressure = false;  // pressure mode: drills graded under seeded faults
  std::vector<DimensionReport> dimensions;
  std::vector<ReportStep> path;
};

Report make_report(const SessionRecord& record, const Bank& bank, const rules::RuleSet& rules,
                   const std::vector<ItemParams>& stored_params);
std::string to_text(const Report& report);
nlohmann::json to_json(const Report& report);

}  // namespace assess
