#include "engine/cat.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace assess::cat {

namespace {

std::vector<rules::ItemRef> refs(std::span<const Item> bank) {
  std::vector<rules::ItemRef> out;
  out.reserve(bank.size());
  for (const Item& item : bank) out.push_back({item.id, item.dimension, item.concepts});
  return out;
}

void validate(const std::vector<Item>& bank, const Config& config) {
  std::set<std::string_view> ids;
  for (const Item& item : bank) {
    if (!ids.insert(item.id).second) {
      throw std::invalid_argument("cat: item \"" + item.id + "\" appears twice");
    }
    if (!(item.params.a > 0)) {
      throw std::invalid_argument("cat: item \"" + item.id + "\": discrimination a must be > 0");
    }
  }
  if (config.dimensions.empty()) throw std::invalid_argument("cat: no dimensions to assess");
  std::set<std::string_view> dims;
  for (const DimensionSpec& d : config.dimensions) {
    if (!dims.insert(d.id).second) {
      throw std::invalid_argument("cat: dimension \"" + d.id + "\" given twice");
    }
    if (!(d.pass_line > 0 && d.pass_line < 5)) {
      throw std::invalid_argument("cat: dimension \"" + d.id + "\": pass line must be in (0, 5)");
    }
  }
  const irt::StopRule& s = config.stop;
  if (s.min_items < 1 || s.max_items < s.min_items || !(s.z > 0)) {
    throw std::invalid_argument("cat: stop rule needs 1 <= min_items <= max_items and z > 0");
  }
  if (config.top_k < 1) throw std::invalid_argument("cat: top_k must be >= 1");
}

rules::RuleSet checked(rules::RuleSet rules, const std::vector<Item>& bank) {
  const auto catalogue = refs(bank);
  const std::vector<std::string> problems = rules::check(rules, catalogue);
  if (!problems.empty()) {
    std::string message = "cat: the rules do not fit the bank:";
    for (const std::string& p : problems) message += "\n  " + p;
    throw std::invalid_argument(message);
  }
  return rules;
}

}  // namespace

std::vector<Item> items_from(const Bank& bank) {
  std::vector<Item> items;
  items.reserve(bank.items.size());
  for (const assess::Item& item : bank.items) {
    items.push_back({item.id, item.dimension, item.concepts, {item.irt_a, item.irt_b}});
  }
  return items;
}

std::vector<std::string> check_rules(const rules::RuleSet& rules, const Bank& bank) {
  return rules::check(rules, refs(items_from(bank)));
}

std::vector<DimensionSpec> seed_dimensions() {
  return {{"concurrency", 4}, {"memory", 4}, {"robustness", 3}, {"ecosystem", 3}};
}

Cat::Cat(std::vector<Item> bank, rules::RuleSet rules, Config config)
    : bank_((validate(bank, config), std::move(bank))),
      config_(std::move(config)),
      quadrature_(config_.prior),
      tracker_(checked(std::move(rules), bank_), refs(bank_)),
      dims_(config_.dimensions.size()) {
  for (const DimensionSpec& spec : config_.dimensions) {
    DimensionState s;
    s.dimension = spec.id;
    s.pass_line = spec.pass_line;
    s.cut = irt::cut_theta(spec.pass_line);
    s.estimate = irt::eap({}, quadrature_);
    s.score = irt::ladder_score(s.estimate.theta);
    s.passed = s.estimate.theta >= s.cut;
    states_.push_back(std::move(s));
  }
  for (std::size_t d = 0; d < states_.size(); ++d) update(d);
}

std::size_t Cat::dimension_index(std::string_view id) const {
  for (std::size_t d = 0; d < states_.size(); ++d) {
    if (states_[d].dimension == id) return d;
  }
  return std::string_view::npos;
}

const DimensionState& Cat::dimension(std::string_view id) const {
  const std::size_t d = dimension_index(id);
  if (d == std::string_view::npos) {
    throw std::invalid_argument("cat: dimension \"" + std::string(id) +
                                "\" is not in this session");
  }
  return states_[d];
}

const Item* Cat::find(std::string_view id) const {
  auto it = std::find_if(bank_.begin(), bank_.end(), [&](const Item& i) { return i.id == id; });
  return it == bank_.end() ? nullptr : &*it;
}

bool Cat::running(std::string_view dimension) const {
  const std::size_t d = dimension_index(dimension);
  return d != std::string_view::npos && states_[d].stop == irt::Stop::running &&
         states_[d].items < config_.stop.max_items;
}

bool Cat::selectable(const Item& item) const {
  const auto& queued = tracker_.queued();
  return !tracker_.answered(item.id) &&
         std::none_of(queued.begin(), queued.end(),
                      [&](const rules::Tracker::Queued& q) { return q.firing.item == item.id; });
}

bool Cat::finished() const {
  return std::all_of(states_.begin(), states_.end(),
                     [](const DimensionState& s) { return s.stop != irt::Stop::running; });
}

// A rule's target among several items: the most informative at its dimension's θ̂, so that a
// concept-level rule asks the question that tells most about this candidate.
std::optional<std::string> Cat::choose(std::span<const std::string> candidates) const {
  std::optional<std::string> best;
  double best_info = -1;
  for (const std::string& id : candidates) {
    const Item* item = find(id);
    if (item == nullptr || !running(item->dimension)) continue;
    const double info =
        irt::information(item->params, states_[dimension_index(item->dimension)].estimate.theta);
    if (info > best_info) {
      best_info = info;
      best = id;
    }
  }
  return best;
}

std::optional<Next> Cat::next() const {
  auto giveable = [&](std::string_view id) { return running(find(id)->dimension); };
  if (std::optional<rules::Firing> due = tracker_.due(giveable)) {
    return Next{due->item, find(due->item)->dimension, due->rule};
  }
  for (std::size_t d = 0; d < states_.size(); ++d) {
    if (!running(states_[d].dimension)) continue;
    std::vector<const Item*> candidates;
    std::vector<irt::ItemParams> params;
    for (const Item& item : bank_) {
      if (item.dimension == states_[d].dimension && selectable(item)) {
        candidates.push_back(&item);
        params.push_back(item.params);
      }
    }
    if (candidates.empty()) continue;  // only rule items are left here, and not yet due
    irt::Rng rng = irt::Rng::stream(config_.seed, tracker_.history().size());
    const std::size_t pick = irt::select(params, states_[d].estimate.theta, config_.top_k, rng);
    return Next{candidates[pick]->id, states_[d].dimension, {}};
  }
  // Nothing else to give: an inserted item need not wait for a "next one" that will never come.
  for (const rules::Tracker::Queued& q : tracker_.queued()) {
    if (giveable(q.firing.item)) {
      return Next{q.firing.item, find(q.firing.item)->dimension, q.firing.rule};
    }
  }
  return std::nullopt;
}

std::vector<rules::Firing> Cat::record(std::string_view id, bool correct) {
  const Item* item = find(id);
  if (item == nullptr) {
    throw std::invalid_argument("cat: answer for unknown item \"" + std::string(id) + "\"");
  }
  if (tracker_.answered(id)) {
    throw std::invalid_argument("cat: item \"" + std::string(id) + "\" was answered before");
  }
  const std::size_t d = dimension_index(item->dimension);
  if (d == std::string_view::npos || !running(item->dimension)) {
    throw std::invalid_argument("cat: item \"" + std::string(id) + "\": its dimension \"" +
                                item->dimension + "\" is not running in this session");
  }
  dims_[d].responses.push_back({item->params, correct});
  DimensionState& s = states_[d];
  s.items += 1;
  s.correct += correct ? 1 : 0;
  s.estimate = irt::eap(dims_[d].responses, quadrature_);
  s.verdict = irt::classify(s.estimate, s.cut, config_.stop.z);
  s.score = irt::ladder_score(s.estimate.theta);
  s.passed = s.verdict == irt::Verdict::pass ||
             (s.verdict == irt::Verdict::undecided && s.estimate.theta >= s.cut);

  std::vector<rules::Firing> fired = tracker_.record(
      id, correct, [this](std::span<const std::string> candidates) { return choose(candidates); });
  for (std::size_t i = 0; i < states_.size(); ++i) update(i);
  return fired;
}

void Cat::update(std::size_t d) {
  DimensionState& s = states_[d];
  if (s.stop != irt::Stop::running) return;
  if (s.items >= config_.stop.max_items) {
    s.stop = irt::Stop::max_items;
    return;
  }
  const auto& queued = tracker_.queued();
  const bool rule_item_waiting = std::any_of(queued.begin(), queued.end(), [&](const auto& q) {
    return find(q.firing.item)->dimension == s.dimension;
  });
  if (rule_item_waiting) return;  // the rule asked for it: give it before deciding
  if (s.items >= config_.stop.min_items && s.verdict != irt::Verdict::undecided &&
      s.estimate.se <= config_.stop.max_se) {
    s.stop = irt::Stop::classified;
    return;
  }
  const bool left = std::any_of(bank_.begin(), bank_.end(), [&](const Item& item) {
    return item.dimension == s.dimension && selectable(item);
  });
  if (!left) s.stop = irt::Stop::exhausted;
}

}  // namespace assess::cat
