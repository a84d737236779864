// Pressure mode (seed ch. 5: "inject 10% network jitter, watch goroutine growth"): the drill
// section of item.json, the grader's `pressure` check and its evidence in results.json, the bank
// check of drills, pressure mode's item pool, the session and the report. The Go runs use the
// tiny drill in pressure-bank/ (its _lib links to the bank's assess/pressure package) and the
// build tree's warm GOCACHE.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include <gocxx/runtime.hpp>

#include "engine/bank.hpp"
#include "engine/bank_check.hpp"
#include "engine/grader.hpp"
#include "engine/report.hpp"
#include "engine/session.hpp"
#include "temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using namespace assess;
using nlohmann::json;
using ::testing::HasSubstr;
using gocxx::test::TempDir;
using ::testing::Not;

const fs::path kBank = ASSESS_TEST_PRESSURE_BANK;
const fs::path kDrill = kBank / "concurrency" / "01-both-calls";

// A scratch directory for the test, removed at the end.
// A copy of the tiny drill in a bank of its own (with the Go packages), to break.
fs::path copy_drill(const TempDir& tmp) {
  fs::path dir = tmp / "concurrency" / "01-both-calls";
  fs::create_directories(dir.parent_path());
  fs::copy(kDrill, dir, fs::copy_options::recursive);
  fs::create_directory_symlink(fs::canonical(kBank / "_lib"), tmp / "_lib");
  return dir;
}

void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::trunc) << text; }

// item.json of `dir` with its fix.pressure replaced.
void set_pressure(const fs::path& dir, const json& pressure) {
  json j = json::parse(std::ifstream(dir / "item.json"));
  if (pressure.is_null()) j["fix"].erase("pressure");
  else j["fix"]["pressure"] = pressure;
  write(dir / "item.json", j.dump(2));
}

std::string load_error(const fs::path& dir) {
  try {
    load_item(dir);
  } catch (const BankError& e) {
    return e.what();
  }
  return "loaded";
}

TEST(PressureSpec, ParsesTheDrillSection) {
  Item it = load_item(kDrill);
  ASSERT_TRUE(it.fix && it.fix->pressure);
  const PressureSpec& p = *it.fix->pressure;
  EXPECT_EQ(p.run, "^TestPressure");
  EXPECT_EQ(p.count, 2);
  EXPECT_EQ(p.cpu, (std::vector<int>{1, 2}));
  EXPECT_EQ(p.max_goroutines, 1000);
  EXPECT_EQ(p.timeout_s, 60);
  EXPECT_EQ(p.env, (std::map<std::string, std::string>{{"BOTH_CALLS", "300"}}));
  ASSERT_EQ(it.fix->wrong.size(), 2u);
  EXPECT_EQ(it.fix->wrong[1].name, "unbuffered");
  EXPECT_EQ(it.fix->wrong[1].fails, "pressure");
  EXPECT_EQ(it.fix->wrong[1].shows, "goroutines grew");
  // The bank's Go packages, where the sandbox can mount them: the symlink resolved.
  EXPECT_EQ(bank_library(it), fs::canonical(fs::path(GOCXX_ASSESS_BANK) / "_lib"));
  EXPECT_TRUE(fs::is_regular_file(bank_library(it) / "src" / "assess" / "pressure" / "pressure.go"));
}

TEST(PressureSpec, RejectsMalformedDrills) {
  TempDir tmp{"assess-pressure-test"};
  fs::path dir = copy_drill(tmp);
  json good = json::parse(std::ifstream(dir / "item.json"))["fix"]["pressure"];
  auto with = [&](const char* key, json value) {
    json p = good;
    p[key] = std::move(value);
    set_pressure(dir, p);
    return load_error(dir);
  };
  EXPECT_THAT(with("env", {{"GOPATH", "/x"}}), HasSubstr("item.json: fix.pressure.env.GOPATH: the grader sets it"));
  EXPECT_THAT(with("env", {{"ASSESS_PRESSURE_SEED", "2"}}), HasSubstr("env.ASSESS_PRESSURE_SEED: the grader sets it"));
  EXPECT_THAT(with("env", {{"lower", "x"}}), HasSubstr("env.lower: not an environment variable name"));
  EXPECT_THAT(with("cpu", {0}), HasSubstr("fix.pressure.cpu: must hold integers from 1 to 64"));
  EXPECT_THAT(with("count", 0), HasSubstr("fix.pressure.count: must be an integer from 1 to 20"));
  EXPECT_THAT(with("rate", 0.5), HasSubstr("fix.pressure.rate: unknown field"));  // the grader's, not the item's

  set_pressure(dir, good);
  write(dir / "wrong" / "unbuffered" / "expect.json", R"({"fails": "leak", "why": "x"})");
  EXPECT_THAT(load_error(dir), HasSubstr("fix.pressure: a drill needs a known-wrong solution that fails at \"pressure\""));
  write(dir / "wrong" / "unbuffered" / "expect.json", R"({"fails": "leak", "why": "x", "shows": "grew"})");
  EXPECT_THAT(load_error(dir), HasSubstr("expect.json: shows: only for \"fails\": \"pressure\""));
  write(dir / "wrong" / "unbuffered" / "expect.json", R"({"fails": "pressure", "why": "x"})");
  set_pressure(dir, nullptr);
  EXPECT_THAT(load_error(dir), HasSubstr("expect.json: fails: \"pressure\" needs the item's fix.pressure section"));
  set_pressure(dir, good);
  EXPECT_EQ(load_error(dir), "loaded");
}

Item fake(const std::string& id, const std::string& dimension, int level, Kind kind, bool drill = false) {
  Item it;
  it.id = id;
  it.dimension = dimension;
  it.level = level;
  it.kind = kind;
  it.concepts = {"x"};
  if (kind == Kind::fix) {
    it.fix = FixSpec{};
    if (drill) it.fix->pressure = PressureSpec{};
  }
  return it;
}

TEST(PressurePool, DrillsTakeTheOtherFixItemsPlacesAtTheirLevel) {
  Bank bank;
  bank.items = {fake("drill", "concurrency", 5, Kind::fix, true), fake("fix5", "concurrency", 5, Kind::fix),
                fake("named5", "concurrency", 5, Kind::fix),       fake("fix4", "concurrency", 4, Kind::fix),
                fake("predict5", "concurrency", 5, Kind::predict), fake("mem5", "memory", 5, Kind::fix)};
  auto rules = rules::RuleSet::parse(R"({"rules": [{"name": "r", "when": {"missed": {"item": "fix4"}},
                                                   "then": {"push": "named5"}}]})");
  std::vector<std::string> ids;
  for (const cat::Item& c : pressure_pool(cat_items(bank, {}), bank, rules)) ids.push_back(c.id);
  // fix5 made way for the drill; a rule's item, other levels, other kinds and dimensions
  // without a drill keep theirs.
  EXPECT_EQ(ids, (std::vector<std::string>{"drill", "named5", "fix4", "predict5", "mem5"}));
}

// A results.json as the grader writes it for a drill that failed under pressure.
json failed_drill_results() {
  return {{"version", 3},
          {"status", "fail"},
          {"tests", json::array()},
          {"assess",
           {{"item", "both-calls"},
            {"verdict", "pressure"},
            {"correct", false},
            {"pressure",
             {{"passed", false},
              {"seed", 1},
              {"rate", 0.1},
              {"message", "goroutines grew 3 → 40 under load; 2s after it 40 were left, more than 3 + 3 (10% faults, seed 1)"},
              {"evidence",
               "goroutines every 10ms: 3 12 40\ngoroutine profile: total 40\n"
               "  37 × [chan send] item.Both.func1 /item/both.go:9, created by item.Both /item/both.go:9"}}}}}};
}

// The tiny bank, no rules, an in-memory store with one candidate: for sessions.
struct Sessions {
  Bank bank = load_bank(kBank);
  rules::RuleSet rules = rules::RuleSet::parse(R"({"rules": []})");
  std::unique_ptr<SqliteStore> store = open_sqlite_store(":memory:");
  Candidate cand = store->create_candidate("dana", "");
};

TEST(PressureReport, ShowsTheModeAndTheEvidenceOfFailedDrills) {
  Sessions f;
  auto& [bank, rules, store, cand] = f;
  for (bool pressure : {true, false}) {
    Session s = store->create_session(cand.id, {.dimensions = {"concurrency"}, .pressure = pressure, .seed = 3});
    store->record_presented(s.id, {.seq = 1, .item = "both-calls", .item_version = 1, .dimension = "concurrency"});
    json results = failed_drill_results();
    if (!pressure) results["assess"].erase("pressure");
    store->record_response(s.id,
                           {.seq = 1, .answer = "{}", .correct = false, .score = 0, .results_json = results.dump(),
                            .answered_at = now()},
                           {{.dimension = "concurrency", .theta = -0.5, .se = 0.9}}, {});
    Report r = make_report(store->load_session(s.id), bank, rules, {});
    std::string text = to_text(r);
    json j = to_json(r);
    EXPECT_EQ(j["pressure"], pressure);
    if (!pressure) {
      EXPECT_THAT(text, Not(HasSubstr("pressure mode")));
      EXPECT_THAT(text, Not(HasSubstr("Pressure drills")));
      EXPECT_FALSE(j["path"][0].contains("pressure"));
      continue;
    }
    EXPECT_THAT(text, HasSubstr("dana, active, pressure mode, started"));
    EXPECT_THAT(text, HasSubstr("wrong (pressure)"));
    EXPECT_THAT(text, HasSubstr("Pressure drills"));
    EXPECT_THAT(text, HasSubstr("both-calls                    fail: goroutines grew 3 → 40 under load"));
    EXPECT_THAT(text, HasSubstr("        goroutines every 10ms: 3 12 40\n"));
    EXPECT_THAT(text, HasSubstr("          37 × [chan send] item.Both.func1 /item/both.go:9"));
    EXPECT_THAT(j["path"][0]["pressure"]["result"].get<std::string>(), HasSubstr("goroutines grew 3 → 40"));
    EXPECT_THAT(j["path"][0]["pressure"]["evidence"].get<std::string>(), HasSubstr("goroutine profile: total 40"));
  }
}

// The Go runs: one grader, the build tree's warm GOCACHE (trusted code only).
class PressureGo : public ::testing::Test {
 protected:
  TempDir tmp{"assess-pressure-test"};
  Grader grader{{.scratch_base = tmp / "scratch", .cache = GoCache::shared, .gocache = ASSESS_TEST_GOCACHE}};
  Item drill = load_item(kDrill);
  Files files(const char* solution) {
    Files f = read_files(kDrill / solution);
    f.erase("expect.json");
    return f;
  }
  json grade(const char* solution, Pressure p) {
    json r;
    gocxx::run([&] { r = grader.grade(drill, Answer{.files = files(solution)}, p); });
    return r;
  }
};

TEST_F(PressureGo, ADrillFailsOnlyUnderPressureWithTheHelpersEvidence) {
  json normal = grade("wrong/unbuffered", {});
  EXPECT_EQ(normal["status"], "pass") << normal.dump(2);  // every other check passes
  EXPECT_FALSE(normal["assess"].contains("pressure"));

  json r = grade("wrong/unbuffered", {.on = true});
  ASSERT_EQ(r["status"], "fail") << r.dump(2);
  EXPECT_EQ(r["assess"]["verdict"], "pressure");
  EXPECT_THAT(r["message"].get<std::string>(), HasSubstr("fails at pressure: goroutines grew"));
  EXPECT_THAT(r["message"].get<std::string>(), HasSubstr("(10% faults, seed 1)"));
  const json& last = r["tests"].back();
  EXPECT_EQ(last["name"], "pressure");
  EXPECT_EQ(last["status"], "fail");
  EXPECT_LE(last["output"].get<std::string>().size(), 500u);
  const json& p = r["assess"]["pressure"];
  EXPECT_EQ(p["passed"], false);
  EXPECT_EQ(p["seed"], 1);
  EXPECT_EQ(p["rate"], 0.1);
  EXPECT_EQ(p["count"], 2);
  EXPECT_EQ(p["cpu"], json::array({1, 2}));
  EXPECT_EQ(p["failed_tests"][0], "TestPressureBoth");
  std::string evidence = p["evidence"];
  EXPECT_THAT(evidence, HasSubstr("goroutine profile: total"));
  EXPECT_THAT(evidence, HasSubstr("[chan send] item.Both.func"));  // the leaking senders
  EXPECT_THAT(evidence, HasSubstr("/item/both.go:"));              // paths rewritten
  std::string all = r.dump();
  EXPECT_THAT(all, Not(HasSubstr("HIDDEN-PRESSURE-SOURCE-5e1d")));  // names and lines only, never source
  EXPECT_THAT(all, Not(HasSubstr("faults.Next()")));

  // The seed and the rate reach the tests.
  json seeded = grade("wrong/unbuffered", {.on = true, .seed = 7, .rate = 0.2});
  EXPECT_EQ(seeded["assess"]["pressure"]["seed"], 7);
  EXPECT_THAT(seeded["message"].get<std::string>(), HasSubstr("(20% faults, seed 7)"));
}

TEST_F(PressureGo, TheReferencePassesTheDrillAndEarlierFailuresStayFirst) {
  json r = grade("solution", {.on = true});
  ASSERT_EQ(r["status"], "pass") << r.dump(2);
  EXPECT_EQ(r["tests"].back(), (json{{"name", "pressure"}, {"status", "pass"}}));
  EXPECT_EQ(r["assess"]["pressure"]["passed"], true);
  EXPECT_FALSE(r["assess"]["pressure"].contains("evidence"));
  // A solution that fails a normal check never gets to the drill.
  json early = grade("wrong/first-result-only", {.on = true});
  EXPECT_EQ(early["assess"]["verdict"], "test");
  EXPECT_FALSE(early["assess"].contains("pressure"));
}

TEST_F(PressureGo, TheBankCheckChecksTheDrillsVerdicts) {
  ItemCheck ok;
  gocxx::run([&] { ok = check_item(drill, grader); });
  EXPECT_TRUE(ok.ok) << (ok.problems.empty() ? "" : ok.problems[0]);
  EXPECT_THAT(ok.notes[0], HasSubstr("solution/ passes, also under pressure"));
  EXPECT_THAT(ok.notes[2], HasSubstr("wrong/unbuffered/ fails at pressure: goroutines grew"));

  // Misstated: the evidence expect.json names is not what the drill shows, and the other
  // "wrong" solution is the reference, which passes the drill too.
  fs::path dir = copy_drill(tmp);
  write(dir / "wrong" / "unbuffered" / "expect.json", R"({"fails": "pressure", "shows": "connections", "why": "x"})");
  fs::copy_file(kDrill / "solution" / "both.go", dir / "wrong" / "first-result-only" / "both.go",
                fs::copy_options::overwrite_existing);
  write(dir / "wrong" / "first-result-only" / "expect.json", R"({"fails": "pressure", "why": "the reference"})");
  ItemCheck bad;
  gocxx::run([&] { bad = check_item(load_item(dir), grader); });
  EXPECT_FALSE(bad.ok);
  std::string problems;
  for (const std::string& p : bad.problems) problems += p + "\n";
  EXPECT_THAT(problems, HasSubstr("wrong/unbuffered/ fails at pressure, but not showing \"connections\""));
  EXPECT_THAT(problems, HasSubstr("wrong/first-result-only/ passes every check; expect.json says it fails at pressure"));
}

TEST_F(PressureGo, APressureSessionGradesItsDrillsUnderPressure) {
  Sessions f;
  auto& [bank, rules, store, cand] = f;
  for (bool pressure : {true, false}) {
    gocxx::run([&] {
      Assessment a = Assessment::start({bank, rules, grader, *store}, cand.id,
                                       {.dimensions = {"concurrency"}, .pressure = pressure, .max_items = 1, .seed = 9});
      std::optional<Current> c = a.current();
      ASSERT_TRUE(c);
      ASSERT_EQ(c->view.id, "both-calls");
      Graded g = a.answer(Answer{.files = files("wrong/unbuffered")});
      ASSERT_TRUE(g.recorded) << g.results.dump(2);
      EXPECT_EQ(g.correct, !pressure) << g.results.dump(2);
      std::string text = to_text(make_report(a.record(), bank, rules, {}));
      if (pressure) {
        EXPECT_THAT(text, HasSubstr("pressure mode"));
        EXPECT_THAT(text, HasSubstr("fail: goroutines grew"));
        EXPECT_THAT(text, HasSubstr("[chan send] item.Both.func"));
      } else {
        EXPECT_THAT(text, Not(HasSubstr("Pressure drills")));
      }
      // A resumed session keeps its mode.
      EXPECT_EQ(Assessment::resume({bank, rules, grader, *store}, a.id()).record().session.config.pressure, pressure);
    });
  }
}

}  // namespace
