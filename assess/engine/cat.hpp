// The adaptive test driver: combines the rules (rules.hpp) and the 2PL core (irt.hpp) into "which
// item comes next" and "where does each dimension stand".
//
//   assess::cat::Config config;                       // the seed's four dimensions and pass lines
//   config.seed = session_seed;
//   auto rules = assess::rules::RuleSet::load(rules_json);
//   assess::cat::Cat cat(assess::cat::items_from(bank), rules, config);
//   while (std::optional<assess::cat::Next> next = cat.next()) {
//     bool correct = grade(next->item);
//     for (const auto& f : cat.record(next->item, correct)) log_firing(f.rule, f.item);
//   }
//   for (const assess::cat::DimensionState& d : cat.dimensions()) report(d);
//
// Dimensions are given one after another in config order. The next item is a fired rule's item
// when one is due (rules.hpp) and its dimension is still running, else the most informative item
// at θ̂ in the first running dimension, drawn at random among the top_k (exposure control). A
// dimension stops when its 95% interval θ̂ ± 1.96·SE lies entirely above or below the cut (after
// at least min_items, with no rule item still queued for it, and SE <= stop.max_se if set),
// after max_items, or when it has no item left. Stopping is final: rules never add items to a
// stopped dimension.
//
// Deterministic: the item drawn at step n depends only on (bank, rules, config, seed, the answers
// so far), and next() is const. To resume a session after a crash, build a Cat with the same
// inputs and record() the stored answers again; next() then names the item that was on screen.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/bank.hpp"
#include "engine/irt.hpp"
#include "engine/rules.hpp"

namespace assess::cat {

struct Item {
  std::string id;
  std::string dimension;
  std::vector<std::string> concepts;  // tags.concepts, for the rules
  irt::ItemParams params;             // declared (a = 1, b = level − 3) or calibrated
};

// The bank's items as the driver sees them: id, dimension, tags.concepts and (a, b) from
// item.json (declared, else a = 1, b = level − 3). Calibrated values replace params later.
std::vector<Item> items_from(const Bank& bank);
// The rules' problems for this bank (rules::check), for `assess bank check`.
std::vector<std::string> check_rules(const rules::RuleSet& rules, const Bank& bank);

struct DimensionSpec {
  std::string id;
  double pass_line;  // "≥ pass_line/5"
};
// The seed's table: concurrency ≥ 4/5, memory ≥ 4/5, robustness ≥ 3/5, ecosystem ≥ 3/5.
std::vector<DimensionSpec> seed_dimensions();

struct Config {
  std::vector<DimensionSpec> dimensions = seed_dimensions();  // in the order they are given
  irt::StopRule stop;
  int top_k = 3;  // randomesque exposure control; 1 = plain maximum information
  irt::Prior prior;
  std::uint64_t seed = 1;
};

struct Next {
  std::string item;
  std::string dimension;
  std::string rule;  // the rule that queued it; empty when chosen by information
};

struct DimensionState {
  std::string dimension;
  double pass_line = 0;
  double cut = 0;          // cut θ: the ladder's expected score equals the pass line
  irt::Estimate estimate;  // EAP θ̂ and SE over this dimension's answers
  int items = 0;           // answered in this dimension
  int correct = 0;
  irt::Verdict verdict = irt::Verdict::undecided;  // by the 95% interval, now
  irt::Stop stop = irt::Stop::running;
  double score = 0;     // irt::ladder_score(θ̂): the report's "x/5", one decimal
  bool passed = false;  // the verdict once classified, else θ̂ >= cut (score >= pass line)
};

class Cat {
 public:
  // Throws std::invalid_argument for duplicate item ids, an unknown dimension in config, bad
  // stop/top_k settings, or rules that check() finds wrong for this bank.
  Cat(std::vector<Item> bank, rules::RuleSet rules, Config config);

  // The item to give now, or nothing when every dimension has stopped.
  std::optional<Next> next() const;
  // Records an answer; returns the rules that fired on it (to log). Throws std::invalid_argument
  // for an item not in the bank, answered before, or outside the running dimensions.
  std::vector<rules::Firing> record(std::string_view item, bool correct);

  const std::vector<DimensionState>& dimensions() const { return states_; }
  const DimensionState& dimension(std::string_view id) const;
  bool finished() const;

 private:
  struct Dim {
    std::vector<irt::Response> responses;
  };
  std::size_t dimension_index(std::string_view id) const;  // npos when not in this session
  const Item* find(std::string_view id) const;
  bool running(std::string_view dimension) const;
  bool selectable(const Item& item) const;  // not answered, not queued by a rule
  std::optional<std::string> choose(std::span<const std::string> candidates) const;
  void update(std::size_t d);

  std::vector<Item> bank_;
  Config config_;
  irt::Quadrature quadrature_;
  rules::Tracker tracker_;
  std::vector<Dim> dims_;
  std::vector<DimensionState> states_;
};

}  // namespace assess::cat
