// Declarative adaptive rules: the seed's "three channel items right in a row → push the
// chan struct{} vs chan bool item" and "missed the defer-closure item → insert the
// `for i := range []int{1,2,3} { defer fmt.Println(i) }` item", as data (assess/bank/rules.json):
//
//   {"rules": [
//     {"name": "channel-streak",
//      "why": "three channel items right: probe the semaphore semantics",
//      "when": {"streak": {"concept": "channel", "correct": 3}},
//      "then": {"push": "chan-struct-vs-bool"}}
//   ]}
//
//   auto set = assess::rules::RuleSet::load(path);            // throws on a malformed file
//   for (auto& problem : assess::rules::check(set, catalogue)) ...   // unknown items/concepts
//   assess::rules::Tracker t(set, catalogue);                  // one per session
//   for (const auto& f : t.record("chan-buffered-close", true)) log(f.rule, f.item);
//   if (auto due = t.due()) give(due->item);                   // a fired rule's item, if due
//
// Conditions (over the answers so far, in order); a selector is exactly one of
// {"item": id}, {"concept": tag} (tags.concepts), {"dimension": id}:
//   {"streak": {<selector>, "correct": n}}   the last n answered items matching are all right
//   {"streak": {<selector>, "wrong": n}}     ... all wrong
//   {"missed": {<selector>[, "count": n]}}   at least n (default 1) matching items answered wrong
//   {"answered": {<selector>[, "correct": true|false][, "count": n]}}   at least n answered
//   {"all": [c, ...]}, {"any": [c, ...]}, {"not": c}
// Actions: {"push": target} gives the item next; {"insert": target} gives it after the next
// one. A target is an item id, or a selector: then the session's chooser picks among the
// matching items (the adaptive driver takes the most informative at the current θ̂).
// Each rule fires at most once per session, only when its target has an item that has not been
// answered, is not already queued, and the chooser accepts; it is evaluated after every answer.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace assess::rules {

// What the rules know about an item: the bank's id, dimension and tags.concepts.
struct ItemRef {
  std::string id;
  std::string dimension;
  std::vector<std::string> concepts;
};

struct Selector {
  enum class Field { item, concept_, dimension };  // concept_: "concept" is a C++20 keyword
  Field field = Field::item;
  std::string value;
  bool matches(const ItemRef& item) const;
};

struct Condition {
  enum class Kind { streak, answered, all, any, negate };
  enum class Outcome { any, correct, wrong };
  Kind kind = Kind::answered;
  Selector selector;                // streak, answered
  Outcome outcome = Outcome::any;   // streak: correct or wrong
  int count = 1;                    // streak: its length; answered: at least this many
  std::vector<Condition> children;  // all, any (>= 1), negate (exactly 1)
};

struct Action {
  enum class Kind { push, insert };
  Kind kind = Kind::push;
  Selector target;
};
const char* to_string(Action::Kind);

struct Rule {
  std::string name;  // [a-z0-9-]+, unique: what the session logs
  std::string why;   // optional, for people reading rules.json and the docs
  Condition when;
  Action then;
};

class RuleSet {
 public:
  RuleSet() = default;
  // Throws std::invalid_argument naming `origin`, the rule and the offending part.
  static RuleSet from_json(const nlohmann::json& document, std::string_view origin = "rules");
  static RuleSet parse(std::string_view text, std::string_view origin = "rules");
  static RuleSet load(const std::filesystem::path& file);

  const std::vector<Rule>& rules() const { return rules_; }

 private:
  std::vector<Rule> rules_;
};

// The problems that make a rule set wrong for this bank, one line each (empty: fine): a target
// or a condition's selector naming an item, concept or dimension that no bank item has (such a
// rule could never fire, or never fire as written).
std::vector<std::string> check(const RuleSet& rules, std::span<const ItemRef> bank);

struct Answer {
  const ItemRef* item;  // into the Tracker's catalogue
  bool correct;
};
bool holds(const Condition& condition, std::span<const Answer> history);

struct Firing {
  std::string rule;
  std::string item;     // the item the rule queued
  Action::Kind action;  // push: due at once; insert: due after one other item
  std::size_t after;    // the number of answers when it fired
};

// The rules' state in one session: the answers so far, which rules have fired, the queued items.
class Tracker {
 public:
  // Picks one item among the candidates (ids in catalogue order, none answered or queued), or
  // none if none is acceptable now; the default takes the first.
  using Chooser = std::function<std::optional<std::string>(std::span<const std::string>)>;

  Tracker(RuleSet rules, std::vector<ItemRef> catalogue);
  // history() points into the catalogue: a copy would point into the original's.
  Tracker(const Tracker&) = delete;
  Tracker& operator=(const Tracker&) = delete;
  Tracker(Tracker&&) = default;
  Tracker& operator=(Tracker&&) = default;

  // Appends an answer and returns the rules that fire on it (file order). Throws
  // std::invalid_argument for an item not in the catalogue or answered before.
  std::vector<Firing> record(std::string_view item, bool correct, const Chooser& choose = {});

  // The first queued item that is due now (a push, or an insert whose "next one" has been
  // answered) and that `eligible` accepts (default: all). Queued items that the session can no
  // longer give (their dimension has stopped) are simply never due.
  std::optional<Firing> due(const std::function<bool(std::string_view)>& eligible = {}) const;

  struct Queued {
    Firing firing;
    int wait;  // other answers still to come before it is due
  };
  const std::vector<Queued>& queued() const { return queued_; }
  std::span<const Answer> history() const { return history_; }
  bool answered(std::string_view item) const;
  const ItemRef* find(std::string_view item) const;

 private:
  bool queued_item(std::string_view item) const;

  RuleSet rules_;
  std::vector<ItemRef> catalogue_;
  std::vector<Answer> history_;
  std::vector<bool> fired_;  // per rule
  std::vector<Queued> queued_;
};

}  // namespace assess::rules
