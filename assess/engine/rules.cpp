#include "engine/rules.hpp"

#include <algorithm>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace assess::rules {

using nlohmann::json;

namespace {

// Parsing keeps the path to the part being read, so that an error names it.
struct Reader {
  std::string where;  // e.g. `rules.json: rule "channel-streak": when.streak`

  [[noreturn]] void fail(const std::string& what) const {
    throw std::invalid_argument(where + ": " + what);
  }
  Reader at(const std::string& part) const {
    const char* sep = part.starts_with('[') ? "" : where.ends_with('"') ? ": " : ".";
    return {where + sep + part};
  }

  const json& object(const json& j) const {
    if (!j.is_object()) fail("must be a JSON object, got " + j.dump());
    return j;
  }
  void only(const json& j, const std::vector<std::string_view>& keys) const {
    for (const auto& entry : j.items()) {
      if (std::find(keys.begin(), keys.end(), entry.key()) == keys.end()) {
        fail("unknown key \"" + entry.key() + "\"");
      }
    }
  }
  int positive(const json& j, const std::string& key) const {
    const json& v = j.at(key);
    if (!v.is_number_integer() || v.get<long long>() < 1 || v.get<long long>() > 1000) {
      fail("\"" + key + "\" must be an integer from 1 to 1000, got " + v.dump());
    }
    return v.get<int>();
  }
  std::string text(const json& j, const std::string& key) const {
    if (!j.contains(key)) fail("missing \"" + key + "\"");
    if (!j.at(key).is_string() || j.at(key).get<std::string>().empty()) {
      fail("\"" + key + "\" must be a non-empty string");
    }
    return j.at(key).get<std::string>();
  }

  // {"item": id} | {"concept": tag} | {"dimension": id}, among `extra` other allowed keys.
  Selector selector(const json& j, std::initializer_list<std::string_view> extra) const {
    object(j);
    std::vector<std::string_view> allowed{"item", "concept", "dimension"};
    allowed.insert(allowed.end(), extra.begin(), extra.end());
    only(j, allowed);
    static constexpr std::pair<std::string_view, Selector::Field> fields[] = {
        {"item", Selector::Field::item},
        {"concept", Selector::Field::concept_},
        {"dimension", Selector::Field::dimension}};
    std::optional<Selector> found;
    for (const auto& [key, field] : fields) {
      if (!j.contains(key)) continue;
      if (found) fail("a selector names exactly one of \"item\", \"concept\", \"dimension\"");
      found = Selector{field, text(j, std::string(key))};
    }
    if (!found) fail("missing the selector: one of \"item\", \"concept\", \"dimension\"");
    return *found;
  }

  Condition condition(const json& j) const {
    object(j);
    if (j.size() != 1) {
      fail(
          "a condition has exactly one of \"streak\", \"missed\", \"answered\", \"all\", "
          "\"any\", \"not\"; got " +
          j.dump());
    }
    const std::string key = j.begin().key();
    const json& body = j.begin().value();
    const Reader in = at(key);
    Condition c;
    if (key == "streak") {
      c.kind = Condition::Kind::streak;
      c.selector = in.selector(body, {"correct", "wrong"});
      if (body.contains("correct") == body.contains("wrong")) {
        in.fail("give exactly one of \"correct\": n or \"wrong\": n");
      }
      const bool right = body.contains("correct");
      c.outcome = right ? Condition::Outcome::correct : Condition::Outcome::wrong;
      c.count = in.positive(body, right ? "correct" : "wrong");
    } else if (key == "missed" || key == "answered") {
      c.kind = Condition::Kind::answered;
      c.selector = in.selector(
          body, key == "missed" ? std::initializer_list<std::string_view>{"count"}
                                : std::initializer_list<std::string_view>{"count", "correct"});
      if (key == "missed") {
        c.outcome = Condition::Outcome::wrong;
      } else if (body.contains("correct")) {
        if (!body.at("correct").is_boolean()) in.fail("\"correct\" must be true or false");
        c.outcome = body.at("correct").get<bool>() ? Condition::Outcome::correct
                                                   : Condition::Outcome::wrong;
      }
      if (body.contains("count")) c.count = in.positive(body, "count");
    } else if (key == "all" || key == "any") {
      c.kind = key == "all" ? Condition::Kind::all : Condition::Kind::any;
      if (!body.is_array() || body.empty()) in.fail("must be a non-empty array of conditions");
      for (std::size_t i = 0; i < body.size(); ++i) {
        c.children.push_back(in.at("[" + std::to_string(i) + "]").condition(body[i]));
      }
    } else if (key == "not") {
      c.kind = Condition::Kind::negate;
      c.children.push_back(in.condition(body));
    } else {
      fail("unknown condition \"" + key + "\"");
    }
    return c;
  }

  Action action(const json& j) const {
    object(j);
    if (j.size() != 1 || !(j.contains("push") || j.contains("insert"))) {
      fail("an action is exactly one of {\"push\": target} or {\"insert\": target}; got " +
           j.dump());
    }
    const std::string key = j.begin().key();
    const json& body = j.begin().value();
    Action a;
    a.kind = key == "push" ? Action::Kind::push : Action::Kind::insert;
    if (body.is_string()) {
      if (body.get<std::string>().empty()) at(key).fail("the item id is empty");
      a.target = {Selector::Field::item, body.get<std::string>()};
    } else {
      a.target = at(key).selector(body, {});
    }
    return a;
  }
};

bool valid_name(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

const char* field_name(Selector::Field f) {
  switch (f) {
    case Selector::Field::item: return "item";
    case Selector::Field::concept_: return "concept";
    case Selector::Field::dimension: return "dimension";
  }
  return "?";
}

void selectors_of(const Condition& c, std::vector<const Selector*>& out) {
  if (c.kind == Condition::Kind::streak || c.kind == Condition::Kind::answered) {
    out.push_back(&c.selector);
  }
  for (const Condition& child : c.children) selectors_of(child, out);
}

bool outcome_matches(Condition::Outcome o, bool correct) {
  return o == Condition::Outcome::any || (o == Condition::Outcome::correct) == correct;
}

}  // namespace

const char* to_string(Action::Kind k) { return k == Action::Kind::push ? "push" : "insert"; }

bool Selector::matches(const ItemRef& item) const {
  switch (field) {
    case Field::item: return item.id == value;
    case Field::dimension: return item.dimension == value;
    case Field::concept_:
      return std::find(item.concepts.begin(), item.concepts.end(), value) != item.concepts.end();
  }
  return false;
}

RuleSet RuleSet::from_json(const json& document, std::string_view origin) {
  const Reader top{std::string(origin)};
  top.object(document);
  top.only(document, {"about", "rules"});
  if (!document.contains("rules") || !document.at("rules").is_array()) {
    top.fail("missing \"rules\": an array of rules");
  }
  RuleSet set;
  std::set<std::string> names;
  const json& rules = document.at("rules");
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const Reader at_index{std::string(origin) + ": rules[" + std::to_string(i) + "]"};
    const json& r = at_index.object(rules[i]);
    Rule rule;
    rule.name = at_index.text(r, "name");
    const Reader named{std::string(origin) + ": rule \"" + rule.name + "\""};
    if (!valid_name(rule.name)) named.fail("the name must match [a-z0-9-]+");
    if (!names.insert(rule.name).second) named.fail("a rule with this name comes earlier");
    named.only(r, {"name", "why", "when", "then"});
    if (r.contains("why")) rule.why = named.text(r, "why");
    if (!r.contains("when")) named.fail("missing \"when\"");
    if (!r.contains("then")) named.fail("missing \"then\"");
    rule.when = named.at("when").condition(r.at("when"));
    rule.then = named.at("then").action(r.at("then"));
    set.rules_.push_back(std::move(rule));
  }
  return set;
}

RuleSet RuleSet::parse(std::string_view text, std::string_view origin) {
  json document;
  try {
    document = json::parse(text);
  } catch (const json::parse_error& e) {
    throw std::invalid_argument(std::string(origin) + ": not valid JSON: " + e.what());
  }
  return from_json(document, origin);
}

RuleSet RuleSet::load(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw std::invalid_argument("rules: cannot open " + file.string());
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), file.string());
}

std::vector<std::string> check(const RuleSet& rules, std::span<const ItemRef> bank) {
  std::vector<std::string> problems;
  auto known = [&](const Selector& s) {
    return std::any_of(bank.begin(), bank.end(),
                       [&](const ItemRef& item) { return s.matches(item); });
  };
  for (const Rule& rule : rules.rules()) {
    std::vector<const Selector*> selectors;
    selectors_of(rule.when, selectors);
    for (const Selector* s : selectors) {
      if (!known(*s)) {
        problems.push_back("rule \"" + rule.name + "\": its condition names " +
                           field_name(s->field) + " \"" + s->value + "\", which no bank item has");
      }
    }
    if (!known(rule.then.target)) {
      problems.push_back("rule \"" + rule.name + "\": " + to_string(rule.then.kind) + " names " +
                         field_name(rule.then.target.field) + " \"" + rule.then.target.value +
                         "\", which no bank item has");
    }
  }
  return problems;
}

bool holds(const Condition& c, std::span<const Answer> history) {
  switch (c.kind) {
    case Condition::Kind::streak: {
      int seen = 0;
      for (auto it = history.rbegin(); it != history.rend() && seen < c.count; ++it) {
        if (!c.selector.matches(*it->item)) continue;
        if (!outcome_matches(c.outcome, it->correct)) return false;
        ++seen;
      }
      return seen == c.count;
    }
    case Condition::Kind::answered: {
      const auto n = std::count_if(history.begin(), history.end(), [&](const Answer& a) {
        return c.selector.matches(*a.item) && outcome_matches(c.outcome, a.correct);
      });
      return n >= c.count;
    }
    case Condition::Kind::all:
      return std::all_of(c.children.begin(), c.children.end(),
                         [&](const Condition& x) { return holds(x, history); });
    case Condition::Kind::any:
      return std::any_of(c.children.begin(), c.children.end(),
                         [&](const Condition& x) { return holds(x, history); });
    case Condition::Kind::negate: return !holds(c.children.front(), history);
  }
  return false;
}

Tracker::Tracker(RuleSet rules, std::vector<ItemRef> catalogue)
    : rules_(std::move(rules)), catalogue_(std::move(catalogue)), fired_(rules_.rules().size()) {}

const ItemRef* Tracker::find(std::string_view item) const {
  auto it = std::find_if(catalogue_.begin(), catalogue_.end(),
                         [&](const ItemRef& r) { return r.id == item; });
  return it == catalogue_.end() ? nullptr : &*it;
}

bool Tracker::answered(std::string_view item) const {
  return std::any_of(history_.begin(), history_.end(),
                     [&](const Answer& a) { return a.item->id == item; });
}

bool Tracker::queued_item(std::string_view item) const {
  return std::any_of(queued_.begin(), queued_.end(),
                     [&](const Queued& q) { return q.firing.item == item; });
}

std::vector<Firing> Tracker::record(std::string_view item, bool correct, const Chooser& choose) {
  const ItemRef* ref = find(item);
  if (ref == nullptr) {
    throw std::invalid_argument("rules: answer for unknown item \"" + std::string(item) + "\"");
  }
  if (answered(item)) {
    throw std::invalid_argument("rules: item \"" + std::string(item) + "\" was answered before");
  }
  history_.push_back({ref, correct});

  std::erase_if(queued_, [&](const Queued& q) { return q.firing.item == item; });
  for (Queued& q : queued_) q.wait = std::max(0, q.wait - 1);

  std::vector<Firing> fired;
  std::vector<Queued> pushes;
  const auto& rules = rules_.rules();
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const Rule& rule = rules[i];
    if (fired_[i] || !holds(rule.when, history_)) continue;
    std::vector<std::string> candidates;
    for (const ItemRef& c : catalogue_) {
      if (rule.then.target.matches(c) && !answered(c.id) && !queued_item(c.id)) {
        candidates.push_back(c.id);
      }
    }
    if (candidates.empty()) continue;
    const std::optional<std::string> pick = choose ? choose(candidates) : candidates.front();
    if (!pick) continue;
    if (std::find(candidates.begin(), candidates.end(), *pick) == candidates.end()) {
      throw std::logic_error("rules: the chooser picked \"" + *pick + "\", not a candidate");
    }
    fired_[i] = true;
    Firing f{rule.name, *pick, rule.then.kind, history_.size()};
    fired.push_back(f);
    // A push is "this item next": ahead of everything queued before it.
    if (f.action == Action::Kind::push) {
      pushes.push_back({std::move(f), 0});
    } else {
      queued_.push_back({std::move(f), 1});
    }
  }
  queued_.insert(queued_.begin(), pushes.begin(), pushes.end());
  return fired;
}

std::optional<Firing> Tracker::due(const std::function<bool(std::string_view)>& eligible) const {
  for (const Queued& q : queued_) {
    if (q.wait == 0 && (!eligible || eligible(q.firing.item))) return q.firing;
  }
  return std::nullopt;
}

}  // namespace assess::rules
