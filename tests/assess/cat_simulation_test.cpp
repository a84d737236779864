// The adaptive driver: its unit behaviour (determinism, resume, the seed's rules in a session,
// stop reasons), and a simulation of thousands of sessions with candidates of known θ answering
// by the 2PL, reporting the estimate's RMSE, the items used and the pass/fail classification
// accuracy. Deterministic: fixed seeds, no timing. The figures are printed for the docs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/bank.hpp"
#include "engine/cat.hpp"
#include "irt_sim.hpp"

namespace {

using namespace assess;
using irt::ItemParams;
using irt::Rng;

// ---------------------------------------------------------------------------------------------
// Driver behaviour

std::vector<cat::Item> small_bank() {
  std::vector<cat::Item> bank;
  Rng rng(11);
  for (const char* dim : {"concurrency", "robustness"}) {
    auto items = irt_sim::synthetic_bank(dim, 3, 1.0, 1.6, 0.4, rng);
    bank.insert(bank.end(), items.begin(), items.end());
  }
  return bank;
}

TEST(Cat, SameSeedSameSessionAndResumeByReplay) {
  const auto bank = small_bank();
  auto run = [&](std::uint64_t seed) {
    cat::Config config;
    config.dimensions = {{"concurrency", 4}, {"robustness", 3}};
    config.seed = seed;
    cat::Cat c(bank, {}, config);
    std::vector<std::string> given;
    int k = 0;
    while (auto next = c.next()) {
      given.push_back(next->item);
      c.record(next->item, (k++ % 3) != 0);
    }
    return given;
  };
  const auto first = run(5);
  EXPECT_EQ(first, run(5));
  bool differs = false;
  for (std::uint64_t seed = 6; seed < 16 && !differs; ++seed) differs = run(seed) != first;
  EXPECT_TRUE(differs) << "exposure control never varied the items";

  // Crash after four answers: a fresh driver fed the same answers names the same next item.
  cat::Config config;
  config.dimensions = {{"concurrency", 4}, {"robustness", 3}};
  config.seed = 5;
  cat::Cat live(bank, {}, config);
  for (int k = 0; k < 4; ++k) live.record(live.next()->item, (k % 3) != 0);
  cat::Cat resumed(bank, {}, config);
  for (int k = 0; k < 4; ++k) resumed.record(first[static_cast<std::size_t>(k)], (k % 3) != 0);
  EXPECT_EQ(resumed.next()->item, live.next()->item);
  EXPECT_EQ(resumed.next()->item, first[4]);
  EXPECT_EQ(resumed.next()->item, resumed.next()->item);  // next() does not advance anything
}

TEST(Cat, DimensionsInOrderAndStopReasons) {
  const auto bank = small_bank();  // 15 items per dimension
  cat::Config config;
  config.dimensions = {{"robustness", 3}, {"concurrency", 4}};
  cat::Cat c(bank, {}, config);
  // All wrong: robustness (cut 0.59) is confidently failed after the minimum of 3 items.
  for (int k = 0; k < 3; ++k) {
    auto next = c.next();
    ASSERT_TRUE(next);
    EXPECT_EQ(next->dimension, "robustness");
    EXPECT_TRUE(next->rule.empty());
    c.record(next->item, false);
  }
  const cat::DimensionState& r = c.dimension("robustness");
  EXPECT_EQ(r.stop, irt::Stop::classified);
  EXPECT_EQ(r.verdict, irt::Verdict::fail);
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.items, 3);
  EXPECT_LT(r.estimate.theta + 1.96 * r.estimate.se, r.cut);
  EXPECT_EQ(c.next()->dimension, "concurrency");
  EXPECT_THROW(c.record(bank.back().id, true), std::invalid_argument);  // robustness stopped

  // A candidate right exactly on the items easier than the cut (1.93) stays undecided: θ̂
  // settles near the cut, and the interval keeps it inside until max_items.
  while (auto next = c.next()) {
    const auto it = std::find_if(bank.begin(), bank.end(),
                                 [&](const cat::Item& i) { return i.id == next->item; });
    c.record(next->item, it->params.b < 1.9);
  }
  const cat::DimensionState& cc = c.dimension("concurrency");
  EXPECT_EQ(cc.items, 12);
  EXPECT_EQ(cc.stop, irt::Stop::max_items);
  EXPECT_TRUE(c.finished());
  EXPECT_DOUBLE_EQ(cc.score, irt::ladder_score(cc.estimate.theta));
  EXPECT_EQ(cc.passed, cc.estimate.theta >= cc.cut);
}

TEST(Cat, RunsOutOfItems) {
  std::vector<cat::Item> bank{{"a", "memory", {}, {1.0, 1.0}}, {"b", "memory", {}, {1.0, 2.0}}};
  cat::Config config;
  config.dimensions = {{"memory", 4}};
  cat::Cat c(bank, {}, config);
  c.record(c.next()->item, true);
  c.record(c.next()->item, true);
  EXPECT_FALSE(c.next());
  EXPECT_EQ(c.dimension("memory").stop, irt::Stop::exhausted);
  cat::Cat empty(bank, {}, {.dimensions = {{"ecosystem", 3}}});
  EXPECT_TRUE(empty.finished());
}

TEST(Cat, RejectsBadInput) {
  const auto bank = small_bank();
  auto dup = bank;
  dup.push_back(bank.front());
  EXPECT_THROW(cat::Cat(dup, {}, {}), std::invalid_argument);
  EXPECT_THROW(cat::Cat(bank, {}, {.dimensions = {{"memory", 5}}}), std::invalid_argument);
  EXPECT_THROW(cat::Cat(bank, {}, {.stop = {.min_items = 5, .max_items = 4}}),
               std::invalid_argument);
  EXPECT_THROW(cat::Cat(bank, {}, {.top_k = 0}), std::invalid_argument);
  const auto rules = rules::RuleSet::parse(R"({"rules": [
      {"name": "x", "when": {"missed": {"item": "nope"}}, "then": {"push": "concurrency-l1-0"}}]})");
  EXPECT_THROW(cat::Cat(bank, rules, {}), std::invalid_argument);
  cat::Cat c(bank, {}, {});
  EXPECT_THROW(c.record("nope", true), std::invalid_argument);
  c.record("concurrency-l3-0", true);
  EXPECT_THROW(c.record("concurrency-l3-0", true), std::invalid_argument);
  EXPECT_THROW(c.dimension("nope"), std::invalid_argument);
}

// The seed's two rules inside a session, with the real rules.json.
std::vector<cat::Item> seed_rule_bank() {
  std::vector<cat::Item> bank;
  for (int i = 0; i < 6; ++i) {
    bank.push_back(
        {"chan-" + std::to_string(i), "concurrency", {"channel"}, {1.2, -1.0 + 0.4 * i}});
  }
  bank.push_back({"chan-struct-vs-bool", "concurrency", {"channel", "semaphore"}, {1.0, 2.0}});
  for (int i = 0; i < 6; ++i) {
    bank.push_back({"def-" + std::to_string(i), "robustness", {"errors"}, {1.2, -1.0 + 0.4 * i}});
  }
  bank.push_back({"defer-closure-loop", "robustness", {"defer", "closure"}, {1.0, -0.1}});
  bank.push_back({"defer-range-indices", "robustness", {"defer", "defer-arguments"}, {1.0, -2.0}});
  return bank;
}

rules::RuleSet seed_rules() {
  // Only the seed's two rules of the real file: the others name concepts this bank lacks.
  std::ifstream in(std::filesystem::path(GOCXX_ASSESS_BANK) / "rules.json");
  nlohmann::json doc = nlohmann::json::parse(in);
  auto& list = doc.at("rules");
  list.erase(std::remove_if(list.begin(), list.end(),
                            [](const nlohmann::json& r) {
                              return r.at("name") != "channel-streak-semaphore" &&
                                     r.at("name") != "defer-closure-missed";
                            }),
             list.end());
  EXPECT_EQ(list.size(), 2u);
  return rules::RuleSet::from_json(doc, "rules.json");
}

cat::Cat seed_rule_session(const cat::DimensionSpec& dimension) {
  cat::Config config;
  config.dimensions = {dimension};
  return cat::Cat(seed_rule_bank(), seed_rules(), config);
}

TEST(Cat, SeedRuleThreeChannelItemsPushTheSemaphoreItem) {
  cat::Cat c = seed_rule_session({"concurrency", 4});
  std::vector<rules::Firing> fired;
  for (const char* id : {"chan-2", "chan-3", "chan-4"}) {
    EXPECT_TRUE(fired.empty());
    fired = c.record(id, true);
  }
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].rule, "channel-streak-semaphore");
  auto next = c.next();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->item, "chan-struct-vs-bool");
  EXPECT_EQ(next->rule, "channel-streak-semaphore");
}

TEST(Cat, SeedRuleMissedDeferClosureInsertsTheRangeItemAfterTheNextOne) {
  cat::Cat c = seed_rule_session({"robustness", 3});
  c.record("def-2", true);
  const auto fired = c.record("defer-closure-loop", false);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].rule, "defer-closure-missed");
  EXPECT_EQ(fired[0].item, "defer-range-indices");
  auto next = c.next();  // the next one: chosen by information
  ASSERT_TRUE(next);
  EXPECT_NE(next->item, "defer-range-indices");
  EXPECT_TRUE(next->rule.empty());
  c.record(next->item, true);
  next = c.next();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->item, "defer-range-indices");
  EXPECT_EQ(next->rule, "defer-closure-missed");
}

TEST(Cat, QueuedRuleItemHoldsTheStop) {
  // Two wrong answers and a missed defer-closure-loop would classify robustness as failed after
  // three items; the item the rule inserts is given first.
  cat::Cat c = seed_rule_session({"robustness", 3});
  c.record("def-0", false);
  c.record("def-1", false);
  c.record("defer-closure-loop", false);  // θ̂ −1.22, SE 0.75: the interval's top 0.26 < 0.59
  EXPECT_EQ(c.dimension("robustness").verdict, irt::Verdict::fail);
  EXPECT_EQ(c.dimension("robustness").stop, irt::Stop::running);
  // The insert waits for one other item; then it is due, and the dimension stops after it.
  auto next = c.next();
  ASSERT_TRUE(next);
  c.record(next->item, false);
  next = c.next();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->item, "defer-range-indices");
  c.record(next->item, false);
  EXPECT_EQ(c.dimension("robustness").stop, irt::Stop::classified);
  EXPECT_FALSE(c.next());
}

// ---------------------------------------------------------------------------------------------
// Simulation

struct Figures {
  int runs = 0;
  double rmse = 0;  // of θ̂ against the true θ
  double bias = 0;
  double mean_items = 0;
  double accuracy = 0;       // final decision (passed) against θ >= cut
  double near_accuracy = 0;  // the same, for |θ − cut| <= 0.5
  int near = 0;
  double classified = 0;  // share stopped by the confidence interval
  double classified_accuracy = 0;
};

struct Scenario {
  std::string name;
  std::vector<cat::Item> model;   // the parameters the driver believes
  std::vector<ItemParams> truth;  // the parameters candidates answer by (same order)
  cat::Config config;
};

// `sessions` sessions over every dimension of the scenario, one true θ per dimension uniform
// on [−2, 2]; returns the figures per dimension and over all ("all").
std::map<std::string, Figures> simulate(const Scenario& s, int sessions, std::uint64_t seed) {
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < s.model.size(); ++i) index[s.model[i].id] = i;
  Rng rng(seed);
  std::map<std::string, Figures> acc;
  auto add = [&](Figures& f, double theta, const cat::DimensionState& d) {
    const double err = d.estimate.theta - theta;
    const bool truly = theta >= d.cut;
    f.runs += 1;
    f.rmse += err * err;
    f.bias += err;
    f.mean_items += d.items;
    f.accuracy += d.passed == truly;
    if (std::abs(theta - d.cut) <= 0.5) {
      f.near += 1;
      f.near_accuracy += d.passed == truly;
    }
    if (d.stop == irt::Stop::classified) {
      f.classified += 1;
      f.classified_accuracy += d.passed == truly;
    }
  };
  for (int n = 0; n < sessions; ++n) {
    cat::Config config = s.config;
    config.seed = seed * 1000003 + static_cast<std::uint64_t>(n);
    cat::Cat c(s.model, {}, config);
    std::map<std::string, double> theta;
    for (const cat::DimensionSpec& d : config.dimensions) {
      theta[d.id] = irt_sim::uniform(rng, -2.0, 2.0);
    }
    while (auto next = c.next()) {
      const std::size_t i = index.at(next->item);
      c.record(next->item, irt_sim::answer(rng, s.truth[i], theta[next->dimension]));
    }
    for (const cat::DimensionState& d : c.dimensions()) {
      add(acc[d.dimension], theta[d.dimension], d);
      add(acc["all"], theta[d.dimension], d);
    }
  }
  for (auto& [dim, f] : acc) {
    f.classified_accuracy /= std::max(1.0, f.classified);
    f.near_accuracy /= std::max(1, f.near);
    f.rmse = std::sqrt(f.rmse / f.runs);
    f.bias /= f.runs;
    f.mean_items /= f.runs;
    f.accuracy /= f.runs;
    f.classified /= f.runs;
  }
  return acc;
}

void print(const std::string& name, const std::map<std::string, Figures>& figures) {
  std::printf("[cat-sim] %s\n", name.c_str());
  std::printf("[cat-sim]   %-12s %5s %6s %6s %6s %8s %9s %10s %8s\n", "dimension", "runs", "RMSE",
              "bias", "items", "accuracy", "near-cut", "classified", "(acc)");
  for (const auto& [dim, f] : figures) {
    std::printf("[cat-sim]   %-12s %5d %6.3f %+6.3f %6.2f %8.3f %9.3f %10.3f %8.3f\n", dim.c_str(),
                f.runs, f.rmse, f.bias, f.mean_items, f.accuracy, f.near_accuracy, f.classified,
                f.classified_accuracy);
  }
}

// A bank shaped like ours: 25 items per dimension, five per level, b = level − 3 ± 0.5.
Scenario shaped(const std::string& name, double a_lo, double a_hi, double jitter,
                bool model_assumes_a1, std::uint64_t seed) {
  Scenario s{name, {}, {}, {}};
  Rng rng(seed);
  for (const cat::DimensionSpec& d : cat::seed_dimensions()) {
    for (cat::Item& item : irt_sim::synthetic_bank(d.id, 5, a_lo, a_hi, jitter, rng)) {
      s.truth.push_back(item.params);
      if (model_assumes_a1) item.params = {1.0, std::round(item.params.b)};
      s.model.push_back(item);
    }
  }
  return s;
}

cat::Config fixed_length(int n) {
  cat::Config c;
  c.stop.min_items = n;
  c.stop.max_items = n;
  return c;
}

// Targets (documented in docs/assessment.md), on a bank shaped like ours with slopes a calibrated
// bank can have (a ~ U(0.8, 2.0), mean 1.4):
// - 12 items per dimension: RMSE <= 0.5 in every dimension (measured 0.40–0.45);
// - the production stop (95% interval clear of the cut, 3..12 items): overall accuracy >= 0.92
//   (measured 0.935), >= 0.98 among the sessions it classified (0.990), within ±0.5 of the cut
//   >= 0.70 (0.736), mean items <= 7 (6.2). Why not higher: with θ uniform on [−2, 2] even a
//   perfect classifier of an estimate with error σ misclassifies about 0.4σ/4 per side of the
//   cut, 8.6% for σ = 0.43 and a cut inside the range (robustness, ecosystem), half that for
//   the cut at 1.93 (concurrency, memory): about 93.5% overall, what the fixed 12 items reach too;
// - that stop plus SE <= 0.5 (StopRule::max_se): RMSE <= 0.5 (0.486) with 9.1 items on average.
TEST(CatSimulation, CalibratedLikeBankMeetsTheTargets) {
  Scenario s =
      shaped("bank a~U(0.8,2.0), b=level-3±0.5, 25 items/dimension", 0.8, 2.0, 0.5, false, 1);
  s.config = fixed_length(12);
  const auto fixed = simulate(s, 1000, 101);
  print(s.name + "; fixed length 12", fixed);
  s.config = {};
  const auto adaptive = simulate(s, 1000, 102);
  print(s.name + "; classification stop (min 3, max 12, top-3)", adaptive);
  s.config.stop.max_se = 0.5;
  const auto precise = simulate(s, 1000, 103);
  print(s.name + "; classification stop and SE <= 0.5 (min 3, max 12, top-3)", precise);

  EXPECT_EQ(fixed.at("all").runs, 4000);
  for (const auto& [dim, f] : fixed) EXPECT_LE(f.rmse, 0.5) << dim;
  const Figures& a = adaptive.at("all");
  EXPECT_LE(a.mean_items, 7.0);
  EXPECT_GE(a.accuracy, 0.92);
  EXPECT_GE(a.classified_accuracy, 0.98);
  EXPECT_GE(a.near_accuracy, 0.70);
  EXPECT_LE(precise.at("all").rmse, 0.5);
  EXPECT_LE(precise.at("all").mean_items, 10.0);
  EXPECT_GE(precise.at("all").accuracy, 0.92);
}

// The bank as declared today: a = 1 everywhere, b = level − 3. An a = 1 item carries at most
// 0.25 information, so 12 items and the N(0, 1) prior give a posterior SD of at least
// 1/√(1 + 12·0.25) = 0.5 even if every item sat exactly at θ: RMSE <= 0.5 in 12 items is out
// of reach (measured 0.555); it takes about 20 items (0.480), or slopes of about 1.2 (0.50)
// to 1.3 (0.48) at 12.
TEST(CatSimulation, DeclaredBankWithUnitSlopes) {
  Scenario s = shaped("bank a=1, b=level-3, 25 items/dimension", 1.0, 1.0, 0.0, false, 2);
  s.config = fixed_length(12);
  const auto twelve = simulate(s, 1000, 212);
  print(s.name + "; fixed length 12", twelve);
  s.config = fixed_length(20);
  const auto twenty = simulate(s, 1000, 220);
  print(s.name + "; fixed length 20", twenty);
  s.config = {};
  const auto adaptive = simulate(s, 1000, 203);
  print(s.name + "; classification stop (min 3, max 12, top-3)", adaptive);
  EXPECT_GT(twelve.at("all").rmse, 0.5);
  EXPECT_LT(twelve.at("all").rmse, 0.6);
  EXPECT_LE(twenty.at("all").rmse, 0.5);
  EXPECT_GE(adaptive.at("all").accuracy, 0.90);
  EXPECT_LE(adaptive.at("all").mean_items, 8.0);
}

// Items whose true slopes vary while the driver assumes a = 1 (an uncalibrated bank): the
// estimates are worse than with the true parameters known, which is what calibration buys.
TEST(CatSimulation, UncalibratedBankCostsPrecision) {
  Scenario truth = shaped("true a~U(0.8,2.0), b=level-3±0.5, known", 0.8, 2.0, 0.5, false, 1);
  Scenario assumed =
      shaped("true a~U(0.8,2.0), driver assumes a=1, b=round(b)", 0.8, 2.0, 0.5, true, 1);
  truth.config = assumed.config = fixed_length(12);
  const auto known = simulate(truth, 1000, 301);
  const auto uncalibrated = simulate(assumed, 1000, 301);
  print(assumed.name + "; fixed length 12", uncalibrated);
  EXPECT_LT(known.at("all").rmse, uncalibrated.at("all").rmse);
  EXPECT_LT(uncalibrated.at("all").rmse, 0.6);
}

// The bank as it is in assess/bank today (declared parameters), for the docs; its size and
// shape change as items are added, so only sanity is asserted.
TEST(CatSimulation, CurrentBank) {
  const Bank bank = load_bank(GOCXX_ASSESS_BANK);
  Scenario s{"assess/bank as declared", {}, {}, {}};
  std::vector<cat::DimensionSpec> dims;
  for (const cat::DimensionSpec& d : cat::seed_dimensions()) {
    if (!bank.in_dimension(d.id).empty()) dims.push_back(d);
  }
  if (dims.empty()) GTEST_SKIP() << "the bank is empty";
  s.model = cat::items_from(bank);
  for (const cat::Item& item : s.model) s.truth.push_back(item.params);
  s.config.dimensions = dims;
  std::string shape;
  for (const cat::DimensionSpec& d : dims) {
    std::map<int, int> levels;
    for (const Item* item : bank.in_dimension(d.id)) levels[item->level] += 1;
    shape += " " + d.id + ":";
    for (const auto& [level, n] : levels) {
      shape += " L" + std::to_string(level) + "x" + std::to_string(n);
    }
  }
  std::printf("[cat-sim] bank shape:%s\n", shape.c_str());
  const auto f = simulate(s, 1000, 401);
  print(s.name + "; classification stop (min 3, max 12, top-3)", f);
  s.config.stop = {.min_items = 12, .max_items = 12};
  print(s.name + "; fixed length 12 (or the bank's size)", simulate(s, 1000, 402));
  EXPECT_LE(f.at("all").mean_items, 12.0);
  EXPECT_LT(f.at("all").rmse, 1.0);
}

}  // namespace
