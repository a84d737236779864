// One candidate's assessment: the question bank, the adaptive driver (cat.hpp), the grader and
// the store, put together. What the CLI's `assess take` (and later the web application) drives.
//
//   assess::Assessment s = assess::Assessment::start(ctx, candidate, {.dimensions = {"concurrency"}});
//   while (std::optional<assess::Current> item = s.current()) {
//     show(item->view);                                       // statement, code, choices
//     assess::Graded g = s.answer(read_answer(*item));        // grades, commits, then returns
//     show(g.results);                                        // the grader's results.json
//   }
//   assess::Report report = s.report();
//
// (assess::Session, in store.hpp, is the stored record of one; this is the live object.)
//
// Crash safety: every presentation is committed before it is shown and every response (with the
// estimates and rule firings it produced) before its verdict is shown. Assessment::resume rebuilds
// the adaptive state by replaying the stored answers (the driver is deterministic given the
// session's seed), then re-presents the unanswered item with the time it had left.
//
// A grading the grader could not do (results status "error": a broken item, a sandbox failure)
// is not the candidate's fault: nothing is recorded and the same item stays current.
//
// Pressure mode (SessionConfig::pressure, `assess take --pressure`): fix items with a pressure
// drill are graded under pressure (grader.hpp), and at the levels where a dimension has drills,
// its other fix items make way for them (pressure_pool), so the adaptive test's hardest
// hands-on items are the drills.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/bank.hpp"
#include "engine/cat.hpp"
#include "engine/grader.hpp"
#include "engine/rules.hpp"
#include "engine/store.hpp"

namespace assess {

// What a session works with; all must outlive it.
struct Context {
  const Bank& bank;
  const rules::RuleSet& rules;
  Grader& grader;
  Store& store;
};

// The item on screen.
struct Current {
  Presentation presentation;  // seq, item, version, when it was first shown
  CandidateView view;         // what the candidate may see (no hidden tests, no key)
  std::string rule;           // the adaptive rule that chose it; empty: chosen by information
  std::optional<std::chrono::milliseconds> remaining;  // time left; nullopt: no limit
};

struct Graded {
  nlohmann::json results;  // results.json (Exercism v3 + "assess")
  bool recorded = false;   // false: the grader could not grade ("error"); answer again
  bool correct = false;
  bool timed_out = false;  // answered after the item's time ran out: recorded as wrong
  std::vector<rules::Firing> fired;  // adaptive rules this answer fired
};

class Assessment {
 public:
  // A new session for the candidate. The config's dimensions must be in the bank (all four when
  // empty); throws std::invalid_argument otherwise.
  static Assessment start(const Context& ctx, CandidateId candidate, SessionConfig config);
  // An existing session, as it was when last committed. Throws StoreError for an unknown id.
  static Assessment resume(const Context& ctx, SessionId id);

  SessionId id() const { return id_; }
  // The item to answer now (presented and committed on first call), or nullopt when the
  // assessment is over (then the session is marked finished).
  std::optional<Current> current();
  // Grades `answer` to the current item and commits the response. Throws std::logic_error when
  // there is no current item.
  Graded answer(const Answer& answer);  // assess::Answer of grader.hpp

  const cat::Cat& adaptive() const { return cat_; }
  SessionRecord record() const;

 private:
  Assessment(const Context& ctx, SessionId id, bool pressure, cat::Cat cat);
  const Item& item(const std::string& id) const;
  std::string artifact(const Item& item);

  Context ctx_;
  SessionId id_;
  Pressure pressure_;  // how fix items are graded: under pressure in pressure mode
  cat::Cat cat_;
  std::optional<Current> current_;
};

// The adaptive driver's view of the bank: every item of the session's dimensions with its
// current parameters (calibrated where the store has them for that version, else declared).
std::vector<cat::Item> cat_items(const Bank& bank, const std::vector<ItemParams>& stored);

// Pressure mode's item pool: `items` without the fix items that have no pressure drill, at the
// levels where their dimension has a drill; items a rule names by id stay (the rules must fit
// the pool).
std::vector<cat::Item> pressure_pool(std::vector<cat::Item> items, const Bank& bank, const rules::RuleSet& rules);

// The adaptive state of a stored session: a driver built as the session's was, with every
// stored answer recorded again.
cat::Cat replay(const SessionRecord& rec, const Bank& bank, const rules::RuleSet& rules,
                const std::vector<ItemParams>& stored);

// The session's dimensions with the seed's pass lines, in the seed's order. Throws
// std::invalid_argument for a dimension the seed does not have.
std::vector<cat::DimensionSpec> dimensions_for(const std::vector<std::string>& ids);

}  // namespace assess
