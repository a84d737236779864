// One candidate's assessment (session.hpp).
#include "engine/session.hpp"

#include <algorithm>
#include <random>
#include <set>
#include <stdexcept>

#include <gocxx/runtime.hpp>

namespace assess {

namespace {

// Calls into the store read and write SQLite, fsync included: on a goroutine they run under
// gocxx::blocking, so the goroutine's thread is handed over meanwhile. (The store cannot do it
// itself: blocking() does not nest, and its callers may already be inside one.)
template <class F>
decltype(auto) in_store(F&& f) {
  return gocxx::blocking(std::forward<F>(f));
}


// What the store keeps of an answer: the answer itself, as JSON (Answer::from_json reads it).
std::string answer_json(const Answer& a) {
  nlohmann::json j = nlohmann::json::object();
  if (a.choice) j["choice"] = *a.choice;
  if (!a.text.empty()) j["text"] = a.text;
  if (!a.files.empty()) j["files"] = a.files;
  return j.dump();
}

std::uint64_t random_seed() {
  std::random_device rd;
  std::uint64_t seed = 0;
  while (seed == 0) seed = (std::uint64_t{rd()} << 32) ^ rd();
  return seed;
}

// The items a rule names by id (in its conditions or as its target).
void named_items(const rules::Condition& c, std::set<std::string>& out) {
  if (c.selector.field == rules::Selector::Field::item) out.insert(c.selector.value);
  for (const rules::Condition& child : c.children) named_items(child, out);
}

// The session's item pool: every item, or pressure mode's.
std::vector<cat::Item> session_items(const Bank& bank, const std::vector<ItemParams>& stored,
                                     const SessionConfig& config, const rules::RuleSet& rules) {
  std::vector<cat::Item> items = cat_items(bank, stored);
  return config.pressure ? pressure_pool(std::move(items), bank, rules) : items;
}

cat::Config cat_config(const SessionConfig& config) {
  cat::Config c;
  c.dimensions = dimensions_for(config.dimensions);
  c.stop.max_items = config.max_items;
  c.stop.min_items = std::min(c.stop.min_items, config.max_items);
  c.seed = config.seed;
  return c;
}

}  // namespace

std::vector<cat::DimensionSpec> dimensions_for(const std::vector<std::string>& ids) {
  std::vector<cat::DimensionSpec> all = cat::seed_dimensions(), chosen;
  for (const std::string& id : ids) {
    if (std::none_of(all.begin(), all.end(), [&](const auto& d) { return d.id == id; })) {
      throw std::invalid_argument("unknown dimension \"" + id +
                                  "\" (want concurrency, memory, robustness or ecosystem)");
    }
  }
  for (const cat::DimensionSpec& d : all) {
    if (ids.empty() || std::find(ids.begin(), ids.end(), d.id) != ids.end()) chosen.push_back(d);
  }
  return chosen;
}

std::vector<cat::Item> cat_items(const Bank& bank, const std::vector<ItemParams>& stored) {
  std::vector<cat::Item> items = cat::items_from(bank);
  for (cat::Item& c : items) {
    const int version = bank.find(c.id)->version;
    for (const ItemParams& p : stored) {
      if (p.item == c.id && p.item_version == version && p.source == ItemParams::Source::calibrated) {
        c.params = {p.a, p.b};
      }
    }
  }
  return items;
}

std::vector<cat::Item> pressure_pool(std::vector<cat::Item> items, const Bank& bank, const rules::RuleSet& rules) {
  std::set<std::pair<std::string, int>> drill_levels;  // (dimension, level)
  for (const Item& item : bank.items)
    if (item.fix && item.fix->pressure) drill_levels.emplace(item.dimension, item.level);
  std::set<std::string> named;
  for (const rules::Rule& r : rules.rules()) {
    named_items(r.when, named);
    if (r.then.target.field == rules::Selector::Field::item) named.insert(r.then.target.value);
  }
  std::erase_if(items, [&](const cat::Item& c) {
    const Item* item = bank.find(c.id);
    return item && item->fix && !item->fix->pressure && !item->fix->lab && !named.count(item->id) &&
           drill_levels.count({item->dimension, item->level});
  });
  return items;
}

cat::Cat replay(const SessionRecord& rec, const Bank& bank, const rules::RuleSet& rules,
                const std::vector<ItemParams>& stored) {
  cat::Cat c(session_items(bank, stored, rec.session.config, rules), rules, cat_config(rec.session.config));
  for (const Response& r : rec.responses) c.record(r.item, r.correct);
  return c;
}

Assessment::Assessment(const Context& ctx, SessionId id, bool pressure, cat::Cat cat)
    : ctx_(ctx), id_(id), pressure_{.on = pressure}, cat_(std::move(cat)) {}

Assessment Assessment::start(const Context& ctx, CandidateId candidate, SessionConfig config) {
  if (config.dimensions.empty()) {
    for (const cat::DimensionSpec& d : cat::seed_dimensions()) config.dimensions.push_back(d.id);
  }
  if (config.seed == 0) config.seed = random_seed();  // stored: a resumed session replays it
  cat::Cat c(session_items(ctx.bank, in_store([&] { return ctx.store.load_item_params(); }), config, ctx.rules),
             ctx.rules, cat_config(config));
  Session s = in_store([&] { return ctx.store.create_session(candidate, config); });
  return Assessment(ctx, s.id, config.pressure, std::move(c));
}

Assessment Assessment::resume(const Context& ctx, SessionId id) {
  SessionRecord rec = in_store([&] { return ctx.store.load_session(id); });
  Assessment a(ctx, id, rec.session.config.pressure,
               replay(rec, ctx.bank, ctx.rules, in_store([&] { return ctx.store.load_item_params(); })));
  if (std::optional<Presentation> p = rec.pending()) {
    const Item& item = a.item(p->item);
    std::optional<cat::Next> next = a.cat_.next();
    a.current_ = Current{*p, candidate_view(item, a.artifact(item)),
                         next && next->item == p->item ? next->rule : "", std::nullopt};
  }
  return a;
}

const Item& Assessment::item(const std::string& id) const {
  const Item* item = ctx_.bank.find(id);
  if (!item) throw std::runtime_error("item \"" + id + "\" is not in the question bank");
  return *item;
}

// A diagnose item shows the artifact its key is read from (the grader's oracle, cached).
std::string Assessment::artifact(const Item& item) {
  return item.kind == Kind::diagnose ? ctx_.grader.oracle(item).outcome : std::string();
}

std::optional<Current> Assessment::current() {
  if (!current_) {
    std::optional<cat::Next> next = cat_.next();
    if (!next) {
      SessionRecord rec = record();
      if (rec.session.state == SessionState::active) {
        in_store([&] { ctx_.store.finish_session(id_, SessionState::finished); });
      }
      return std::nullopt;
    }
    const Item& item = this->item(next->item);
    Presentation p{.seq = record().next_seq(),
                   .item = item.id,
                   .item_version = item.version,
                   .dimension = item.dimension,
                   .time_limit = std::chrono::seconds(item.time_limit_s.value_or(0))};
    CandidateView view = candidate_view(item, artifact(item));  // before committing: may fail
    current_ = Current{in_store([&] { return ctx_.store.record_presented(id_, p); }), std::move(view), next->rule,
                       std::nullopt};
  }
  current_->remaining = current_->presentation.remaining(now());
  return current_;
}

SessionRecord Assessment::record() const {
  return in_store([&] { return ctx_.store.load_session(id_); });
}

Graded Assessment::answer(const Answer& answer) {
  if (!current()) throw std::logic_error("the assessment is over: there is nothing to answer");
  Time answered_at = now();
  const Presentation& p = current_->presentation;
  const Item& item = this->item(p.item);
  Graded g;
  g.results = ctx_.grader.grade(item, answer, pressure_);
  if (g.results.value("status", "error") == "error") return g;
  std::optional<std::chrono::milliseconds> left = p.remaining(answered_at);
  g.timed_out = left && *left <= std::chrono::milliseconds::zero();
  g.correct = !g.timed_out && g.results["assess"].value("correct", false);
  if (g.timed_out) g.results["assess"]["verdict"] = "timeout";
  g.fired = cat_.record(item.id, g.correct);

  const cat::DimensionState& d = cat_.dimension(item.dimension);
  std::vector<Estimate> estimates{
      {.dimension = d.dimension, .theta = d.estimate.theta, .se = d.estimate.se, .after_seq = 0}};
  std::vector<RuleFiring> firings;
  for (const rules::Firing& f : g.fired) firings.push_back({.rule = f.rule, .item = f.item, .seq = 0});
  in_store([&] {
    ctx_.store.record_response(id_,
                               AnswerRecord{.seq = p.seq,
                                            .answer = answer_json(answer),
                                            .correct = g.correct,
                                            .score = g.correct ? 1.0 : 0.0,
                                            .results_json = g.results.dump(),
                                            .answered_at = answered_at,
                                            .duration = std::nullopt},
                               estimates, firings);
  });
  g.recorded = true;
  current_.reset();
  return g;
}

}  // namespace assess
