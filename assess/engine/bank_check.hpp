// `assess bank check`: every item's oracle against Go 1.19, in parallel.
//
//   assess::Bank bank = assess::load_bank(root);
//   assess::Grader grader({.cache = assess::GoCache::shared, .gocache = dir / "gocache"},
//                         assess::OracleCache(dir / "oracles"));
//   assess::CheckReport report = assess::check_bank(bank, grader, {.jobs = 2});  // in a goroutine
//   std::cout << report.text();
//   return report.ok() ? 0 : 1;
//
// Per item: predict: the program run `runs` times, the same outcome every time, and (choice)
// exactly one choice equal to it or (number) an integer last line; diagnose: the artifact
// produced twice (once for gcflags_m and vet), its extractor naming exactly one choice, the
// same one both times; fix: the reference passes every check, each wrong solution fails at
// the check its expect.json states (a drill's, item.json fix.pressure, are graded under
// pressure: the reference passes the `pressure` check too, and a wrong solution that states
// "pressure" passes every other check and fails there, showing its expect.json "shows"; a lab's,
// item.json fix.lab, run their lab after the other checks, in any mode: the reference passes it,
// and a "lab" wrong solution fails it, its message showing "shows").
// Sound oracles are stored in the grader's cache, so `take` shows the same artifacts without
// running Go. The whole bank must also cover the issue's
// minimum: 100 items, 20 per dimension, every level (not checked for a single --item).
//
// Items are checked concurrently in goroutines (an errgroup limited to `jobs`), each sandbox
// run inside gocxx::blocking: call check_bank from a goroutine (inside gocxx::run).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/bank.hpp"
#include "engine/grader.hpp"

namespace assess {

struct CheckOptions {
  std::string item;  // only this id ("" = every item, and the coverage check)
  int jobs = 0;      // items checked at once (0: gocxx::procs())
};

struct ItemCheck {
  std::string id;
  std::string path;  // "<dimension>/<NN-slug>"
  std::string kind;
  bool ok = false;
  std::vector<std::string> problems;  // why the item is broken
  std::vector<std::string> notes;     // what was checked: "key: \"deadlock\" (choice 4, 3 runs)"
  std::chrono::milliseconds wall{0};
};

struct CheckReport {
  std::vector<ItemCheck> items;        // in bank order
  std::vector<std::string> errors;     // items that did not load (BankError::what())
  std::vector<std::string> coverage;   // unmet bank minimums
  std::chrono::milliseconds wall{0};
  bool ok() const;
  std::string text() const;            // one line per item, then the problems, then a summary
  nlohmann::json to_json() const;
};

ItemCheck check_item(const Item& item, Grader& grader);
CheckReport check_bank(const Bank& bank, Grader& grader, const CheckOptions& options);

// The bank's unmet minimums (100 items, 20 per dimension, each level 1-5 in each dimension).
std::vector<std::string> coverage_problems(const Bank& bank);

}  // namespace assess
