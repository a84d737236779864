// The declarative rule engine: the seed's two rules fire exactly as stated and not otherwise,
// each rule at most once, push/insert ordering, the JSON format's errors, and the check of the
// real assess/bank/rules.json against the real bank.
#include "engine/rules.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "engine/bank.hpp"
#include "engine/cat.hpp"

namespace {

using namespace assess::rules;

const std::filesystem::path kRulesFile = std::filesystem::path(GOCXX_ASSESS_BANK) / "rules.json";

// A catalogue with the seed's items and fillers.
std::vector<ItemRef> catalogue() {
  return {
      {"chan-a", "concurrency", {"channel"}},
      {"chan-b", "concurrency", {"channel", "deadlock"}},
      {"chan-c", "concurrency", {"channel", "close"}},
      {"chan-d", "concurrency", {"channel", "select"}},
      {"chan-e", "concurrency", {"channel"}},
      {"mutex-a", "concurrency", {"mutex"}},
      {"chan-struct-vs-bool", "concurrency", {"channel", "semaphore"}},
      {"defer-lifo", "robustness", {"defer"}},
      {"defer-closure-loop", "robustness", {"defer", "closure", "loop-variable"}},
      {"defer-range-indices", "robustness", {"defer", "defer-arguments", "range"}},
      {"errors-a", "robustness", {"errors"}},
  };
}

// The real file, so the tests check what ships; its other rules name concepts this catalogue
// lacks, so only the seed's two can fire here.
RuleSet shipped() { return RuleSet::load(kRulesFile); }

Tracker tracker() { return Tracker(shipped(), catalogue()); }

TEST(RulesFile, SeedRulesAreStatedAsInTheSeed) {
  const RuleSet all = shipped();
  ASSERT_GE(all.rules().size(), 6u);
  const Rule* channel = nullptr;
  const Rule* defer = nullptr;
  for (const Rule& r : all.rules()) {
    if (r.name == "channel-streak-semaphore") channel = &r;
    if (r.name == "defer-closure-missed") defer = &r;
  }
  ASSERT_NE(channel, nullptr);
  EXPECT_EQ(channel->when.kind, Condition::Kind::streak);
  EXPECT_EQ(channel->when.selector.field, Selector::Field::concept_);
  EXPECT_EQ(channel->when.selector.value, "channel");
  EXPECT_EQ(channel->when.outcome, Condition::Outcome::correct);
  EXPECT_EQ(channel->when.count, 3);
  EXPECT_EQ(channel->then.kind, Action::Kind::push);
  EXPECT_EQ(channel->then.target.value, "chan-struct-vs-bool");
  ASSERT_NE(defer, nullptr);
  EXPECT_EQ(defer->when.kind, Condition::Kind::answered);
  EXPECT_EQ(defer->when.outcome, Condition::Outcome::wrong);
  EXPECT_EQ(defer->when.selector.value, "defer-closure-loop");
  EXPECT_EQ(defer->then.kind, Action::Kind::insert);
  EXPECT_EQ(defer->then.target.value, "defer-range-indices");
}

// Every rule names items, concepts and dimensions the real bank has.
TEST(RulesFile, FitsTheBank) {
  const assess::Bank bank = assess::load_bank(GOCXX_ASSESS_BANK);
  if (bank.items.empty()) GTEST_SKIP() << "the bank is empty";
  for (const std::string& problem : assess::cat::check_rules(RuleSet::load(kRulesFile), bank)) {
    ADD_FAILURE() << problem;
  }
}

TEST(SeedRules, ThreeChannelItemsRightInARowPushTheSemaphoreItem) {
  Tracker t = tracker();
  EXPECT_TRUE(t.record("chan-a", true).empty());
  EXPECT_TRUE(t.record("chan-b", true).empty());
  EXPECT_FALSE(t.due());
  const auto fired = t.record("chan-c", true);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].rule, "channel-streak-semaphore");
  EXPECT_EQ(fired[0].item, "chan-struct-vs-bool");
  EXPECT_EQ(fired[0].action, Action::Kind::push);
  EXPECT_EQ(fired[0].after, 3u);
  const auto due = t.due();
  ASSERT_TRUE(due);
  EXPECT_EQ(due->item, "chan-struct-vs-bool");  // next, at once
}

TEST(SeedRules, TwoInARowDoNotFire) {
  Tracker t = tracker();
  t.record("chan-a", true);
  EXPECT_TRUE(t.record("chan-b", true).empty());
  EXPECT_TRUE(t.record("defer-lifo", true).empty());  // not a channel item: no third
  EXPECT_FALSE(t.due());
}

TEST(SeedRules, AWrongOneBetweenBreaksTheStreak) {
  Tracker t = tracker();
  t.record("chan-a", true);
  t.record("chan-b", false);
  t.record("chan-c", true);
  EXPECT_TRUE(t.record("chan-d", true).empty());  // last three channel items: wrong, right, right
  const auto fired = t.record("chan-e", true);    // now right, right, right
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].item, "chan-struct-vs-bool");
}

TEST(SeedRules, OtherItemsBetweenDoNotBreakTheStreak) {
  // "In a row" counts the items with the concept: a mutex item between them is not a channel item.
  Tracker t = tracker();
  t.record("chan-a", true);
  t.record("mutex-a", false);
  t.record("chan-b", true);
  EXPECT_EQ(t.record("chan-c", true).size(), 1u);
}

TEST(SeedRules, AlreadyGivenTargetDoesNotFire) {
  Tracker t = tracker();
  t.record("chan-struct-vs-bool", true);  // a channel item itself: the first of three
  t.record("chan-a", true);
  EXPECT_TRUE(t.record("chan-b", true).empty());
  EXPECT_FALSE(t.due());
}

TEST(SeedRules, FiresOnce) {
  Tracker t = tracker();
  t.record("chan-a", true);
  t.record("chan-b", true);
  ASSERT_EQ(t.record("chan-c", true).size(), 1u);
  EXPECT_TRUE(t.record("chan-d", true).empty());  // still three in a row, and the item unanswered
  EXPECT_TRUE(t.record("chan-e", true).empty());
  EXPECT_EQ(t.queued().size(), 1u);
}

TEST(SeedRules, MissedDeferClosureInsertsTheRangeItemAfterTheNextOne) {
  Tracker t = tracker();
  const auto fired = t.record("defer-closure-loop", false);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].rule, "defer-closure-missed");
  EXPECT_EQ(fired[0].item, "defer-range-indices");
  EXPECT_EQ(fired[0].action, Action::Kind::insert);
  EXPECT_FALSE(t.due());  // not next: after the next one
  t.record("errors-a", true);
  const auto due = t.due();
  ASSERT_TRUE(due);
  EXPECT_EQ(due->item, "defer-range-indices");
  t.record("defer-range-indices", true);
  EXPECT_FALSE(t.due());
  EXPECT_TRUE(t.queued().empty());
}

TEST(SeedRules, DeferClosureAnsweredRightDoesNotFire) {
  Tracker t = tracker();
  EXPECT_TRUE(t.record("defer-closure-loop", true).empty());
  t.record("errors-a", true);
  EXPECT_FALSE(t.due());
}

TEST(SeedRules, DeferRangeAlreadyAnsweredIsNotInserted) {
  Tracker t = tracker();
  t.record("defer-range-indices", false);
  EXPECT_TRUE(t.record("defer-closure-loop", false).empty());
}

TEST(Rules, PushGoesAheadOfAnEarlierInsert) {
  Tracker t = tracker();
  t.record("chan-a", true);
  t.record("chan-b", true);
  t.record("defer-closure-loop", false);  // insert: due after the next one
  t.record("chan-c", true);               // that next one; and the streak pushes
  ASSERT_EQ(t.queued().size(), 2u);
  EXPECT_EQ(t.due()->item, "chan-struct-vs-bool");
  t.record("chan-struct-vs-bool", true);
  EXPECT_EQ(t.due()->item, "defer-range-indices");
}

TEST(Rules, ChooserAndEligibility) {
  const RuleSet set = RuleSet::parse(R"({"rules": [
    {"name": "any-defer", "when": {"missed": {"dimension": "robustness"}},
     "then": {"push": {"concept": "defer"}}}]})");
  // A chooser that refuses keeps the rule armed; it fires on a later answer.
  Tracker t(set, catalogue());
  std::vector<std::string> offered;
  EXPECT_TRUE(t.record("errors-a", false, [&](std::span<const std::string> c) {
                 offered.assign(c.begin(), c.end());
                 return std::optional<std::string>();
               }).empty());
  EXPECT_EQ(offered,
            (std::vector<std::string>{"defer-lifo", "defer-closure-loop", "defer-range-indices"}));
  const auto fired = t.record("defer-lifo", true, [](std::span<const std::string> c) {
    return std::optional<std::string>(c.back());
  });
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].item, "defer-range-indices");
  EXPECT_FALSE(t.due([](std::string_view) { return false; }));  // e.g. its dimension stopped
  EXPECT_TRUE(t.due());
  EXPECT_THROW(t.record("defer-lifo", true), std::invalid_argument);
  EXPECT_THROW(t.record("nope", true), std::invalid_argument);
  Tracker fresh(set, catalogue());
  EXPECT_THROW(
      fresh.record("errors-a", false, [](auto) { return std::optional<std::string>("mutex-a"); }),
      std::logic_error);  // not a candidate
}

std::vector<Answer> history(const std::vector<ItemRef>& items,
                            std::initializer_list<std::pair<int, bool>> answers) {
  std::vector<Answer> h;
  for (auto [i, ok] : answers) h.push_back({&items[static_cast<std::size_t>(i)], ok});
  return h;
}

TEST(Rules, ConditionSemantics) {
  const auto items = catalogue();
  auto parse = [](const char* when) {
    return RuleSet::parse(std::string(R"({"rules": [{"name": "r", "when": )") + when +
                          R"(, "then": {"push": "errors-a"}}]})")
        .rules()[0]
        .when;
  };
  const auto h = history(items, {{0, true}, {1, false}, {5, true}, {2, false}, {7, true}});
  EXPECT_TRUE(holds(parse(R"({"streak": {"concept": "channel", "wrong": 1}})"), h));
  // The channel items, latest first: chan-c wrong, chan-b wrong, chan-a right.
  EXPECT_TRUE(holds(parse(R"({"streak": {"concept": "channel", "wrong": 2}})"), h));
  EXPECT_FALSE(holds(parse(R"({"streak": {"concept": "channel", "wrong": 3}})"), h));
  EXPECT_TRUE(holds(parse(R"({"missed": {"concept": "channel", "count": 2}})"), h));
  EXPECT_FALSE(holds(parse(R"({"missed": {"concept": "channel", "count": 3}})"), h));
  EXPECT_TRUE(holds(parse(R"({"answered": {"item": "mutex-a", "correct": true}})"), h));
  EXPECT_FALSE(holds(parse(R"({"answered": {"item": "mutex-a", "correct": false}})"), h));
  EXPECT_TRUE(holds(parse(R"({"answered": {"dimension": "concurrency", "count": 4}})"), h));
  EXPECT_TRUE(holds(
      parse(
          R"({"all": [{"answered": {"item": "defer-lifo"}}, {"not": {"missed": {"item": "defer-lifo"}}}]})"),
      h));
  EXPECT_TRUE(holds(
      parse(R"({"any": [{"missed": {"item": "defer-lifo"}}, {"missed": {"item": "chan-c"}}]})"),
      h));
  EXPECT_FALSE(
      holds(parse(R"({"streak": {"concept": "semaphore", "correct": 1}})"), h));  // none yet
}

void expect_error(const std::string& text, const std::string& part) {
  try {
    RuleSet::parse(text, "rules.json");
    ADD_FAILURE() << "accepted: " << text;
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("rules.json"), std::string::npos) << e.what();
  }
}

TEST(Rules, MalformedFilesFailWithContext) {
  const std::string head = R"({"rules": [{"name": "r1", )";
  expect_error("{", "not valid JSON");
  expect_error(R"({"rule": []})", "unknown key \"rule\"");
  expect_error(
      R"({"rules": [{"name": "Bad Name", "when": {"missed": {"item": "x"}}, "then": {"push": "y"}}]})",
      "[a-z0-9-]+");
  expect_error(head + R"("when": {"streak": {"concept": "channel"}}, "then": {"push": "y"}}]})",
               "rule \"r1\": when.streak: give exactly one of");
  expect_error(
      head +
          R"("when": {"streak": {"concept": "channel", "correct": 0}}, "then": {"push": "y"}}]})",
      "integer from 1 to 1000");
  expect_error(
      head + R"("when": {"missed": {"item": "x", "concept": "y"}}, "then": {"push": "y"}}]})",
      "exactly one of \"item\"");
  expect_error(head + R"("when": {"missed": {"item": "x", "times": 2}}, "then": {"push": "y"}}]})",
               "unknown key \"times\"");
  expect_error(head + R"("when": {"soon": {}}, "then": {"push": "y"}}]})",
               "unknown condition \"soon\"");
  expect_error(head + R"("when": {"all": []}, "then": {"push": "y"}}]})",
               "when.all: must be a non-empty array");
  expect_error(head + R"("when": {"all": [{"missed": {}}]}, "then": {"push": "y"}}]})",
               "when.all[0].missed");
  expect_error(
      head + R"("when": {"missed": {"item": "x"}}, "then": {"push": "y", "insert": "z"}}]})",
      "exactly one of {\"push\"");
  expect_error(head + R"("when": {"missed": {"item": "x"}}}]})", "missing \"then\"");
  expect_error(
      R"({"rules": [{"name": "a", "when": {"missed": {"item": "x"}}, "then": {"push": "y"}},
                             {"name": "a", "when": {"missed": {"item": "x"}}, "then": {"push": "y"}}]})",
      "comes earlier");
  EXPECT_THROW(RuleSet::load("/nonexistent/rules.json"), std::invalid_argument);
}

TEST(Rules, CheckNamesWhatTheBankLacks) {
  const RuleSet set = RuleSet::parse(R"({"rules": [
    {"name": "ok", "when": {"missed": {"item": "chan-a"}}, "then": {"insert": {"concept": "defer"}}},
    {"name": "bad-item", "when": {"missed": {"item": "chan-zz"}}, "then": {"push": "chan-a"}},
    {"name": "bad-target", "when": {"any": [{"missed": {"concept": "channel"}}]}, "then": {"push": "nope"}},
    {"name": "bad-concept", "when": {"missed": {"item": "chan-a"}}, "then": {"push": {"concept": "gc"}}}]})");
  const auto problems = check(set, catalogue());
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_NE(problems[0].find("rule \"bad-item\": its condition names item \"chan-zz\""),
            std::string::npos);
  EXPECT_NE(problems[1].find("rule \"bad-target\": push names item \"nope\""), std::string::npos);
  EXPECT_NE(problems[2].find("rule \"bad-concept\": push names concept \"gc\""), std::string::npos);
}

}  // namespace
