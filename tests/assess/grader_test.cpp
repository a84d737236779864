// The grader against Go 1.19 in the sandbox, on the items in tests/assess/items (sound) and
// tests/assess/broken (each broken in one way; a misstated fix item is made from a sound one
// here), plus the outcome rules on synthetic runs.
// The Go runs share one GOCACHE in the build tree (trusted code), so only the first run of a
// build directory pays for compiling the standard library with -race.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <random>

#include <gocxx/gocxx.hpp>

#include "engine/bank.hpp"
#include "engine/bank_check.hpp"
#include "engine/grader.hpp"

namespace {

namespace fs = std::filesystem;
using namespace assess;
using nlohmann::json;

// One scratch base and oracle cache per test process, removed at the end.
class GraderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    base_ = new fs::path(fs::temp_directory_path() / ("assess-grader-test-" + std::to_string(std::random_device{}())));
    fs::create_directories(*base_);
    items_ = new Bank(load_bank(ASSESS_TEST_ITEMS));
    broken_ = new Bank(load_bank(ASSESS_TEST_BROKEN));
  }
  static void TearDownTestSuite() {
    fs::remove_all(*base_);
    delete base_;
    delete items_;
    delete broken_;
  }

  static Grader make_grader(GoCache cache = GoCache::shared) {
    return Grader({.scratch_base = *base_ / "scratch", .cache = cache, .gocache = ASSESS_TEST_GOCACHE},
                  OracleCache(*base_ / "oracles"));
  }
  static const Item& item(const char* id) {
    const Item* it = items_->find(id);
    if (!it) it = broken_->find(id);
    if (!it) throw std::runtime_error(std::string("no test item ") + id);
    return *it;
  }
  // Nothing is left in the scratch base after a grading.
  static void expect_scratch_clean() {
    fs::path s = *base_ / "scratch";
    EXPECT_TRUE(!fs::exists(s) || fs::is_empty(s));
  }

  static fs::path* base_;
  static Bank* items_;
  static Bank* broken_;
};
fs::path* GraderTest::base_;
Bank* GraderTest::items_;
Bank* GraderTest::broken_;

sandbox::Outcome exited(int code, std::string out, std::string err) {
  sandbox::Outcome o;
  o.status = sandbox::Status::exited;
  o.exit_code = code;
  o.stdout_data = std::move(out);
  o.stderr_data = std::move(err);
  return o;
}

TEST(PredictOutcome, FollowsTheSpec) {
  EXPECT_EQ(predict_outcome(exited(0, "2 \n1\n0\n\n\n", "")), "2\n1\n0");
  EXPECT_EQ(predict_outcome(exited(2, "partial\n",
                                   "fatal error: all goroutines are asleep - deadlock!\n\ngoroutine 1 [chan send]:\n")),
            "deadlock");
  EXPECT_EQ(predict_outcome(exited(2, "", "panic: boom [recovered]\n\tpanic: again\n\ngoroutine 1 [running]:\n")),
            "panic: boom");
  EXPECT_EQ(predict_outcome(exited(2, "", "panic: printed by the program\npanic: runtime error: integer divide by zero\n"
                                          "[signal SIGFPE: floating-point exception]\n\ngoroutine 1 [running]:\n")),
            "panic: runtime error: integer divide by zero");
  EXPECT_EQ(predict_outcome(exited(2, "", "fatal error: concurrent map writes\n\ngoroutine 5 [running]:\n")),
            "fatal error: concurrent map writes");
  EXPECT_EQ(predict_outcome(exited(3, "x", "")), "exit 3");
  EXPECT_EQ(predict_outcome(exited(2, "", "usage\n")), "exit 2");
  sandbox::Outcome killed;
  killed.status = sandbox::Status::timeout;
  EXPECT_EQ(predict_outcome(killed), "");  // not an outcome: the item is broken
}

TEST(RewritePaths, MakesArtifactsScratchIndependent) {
  EXPECT_EQ(rewrite_paths("\t/tmp/s-1/gopath/src/item/main.go:9 +0x1\n/tmp/s-1/tmp/x /tmp/s-10/y", "/tmp/s-1"),
            "\t/item/main.go:9 +0x1\n/scratch/tmp/x /tmp/s-10/y");
}

TEST(AnswerJson, Forms) {
  EXPECT_EQ(*Answer::from_json(json::parse(R"({"choice": 2})")).choice, 2u);
  EXPECT_EQ(Answer::from_json(json::parse(R"({"text": "2 1 0"})")).text, "2 1 0");
  EXPECT_EQ(Answer::from_json(json::parse(R"({"files": {"a.go": "package a"}})")).files.at("a.go"), "package a");
  EXPECT_THROW(Answer::from_json(json::parse(R"({"choice": -1})")), std::invalid_argument);
  EXPECT_THROW(Answer::from_json(json::parse(R"({"choice": 1, "text": "x"})")), std::invalid_argument);
}

TEST_F(GraderTest, PredictDeadlock) {
  Grader g = make_grader();
  Oracle o = g.compute_oracle(item("unbuffered-deadlock"));
  ASSERT_EQ(o.problem, "");
  EXPECT_EQ(o.outcome, "deadlock");
  EXPECT_EQ(o.choice, 2u);
  json r = g.grade(item("unbuffered-deadlock"), Answer{.choice = 2});
  EXPECT_EQ(r["version"], 3);
  EXPECT_EQ(r["status"], "pass");
  EXPECT_EQ(r["assess"]["correct"], true);
  EXPECT_EQ(r["assess"]["item"], "unbuffered-deadlock");
  r = g.grade(item("unbuffered-deadlock"), Answer{.text = "1"});  // by the choice's text
  EXPECT_EQ(r["status"], "fail");
  EXPECT_EQ(r["assess"]["verdict"], "answer");
  EXPECT_EQ(r["tests"][0]["name"], "answer");
  r = g.grade(item("unbuffered-deadlock"), Answer{.choice = 9});
  EXPECT_EQ(r["status"], "fail");
  expect_scratch_clean();
}

TEST_F(GraderTest, PredictPanicDeferOutputAndNumber) {
  Grader g = make_grader();
  Oracle o = g.compute_oracle(item("index-panic"));
  EXPECT_EQ(o.outcome, "panic: runtime error: index out of range [3] with length 3");  // "before" is ignored
  EXPECT_EQ(o.choice, 1u);
  o = g.compute_oracle(item("defer-loop"));
  EXPECT_EQ(o.outcome, "2\n1\n0");
  EXPECT_EQ(o.choice, 1u);  // "2 1 0": whitespace collapsed
  EXPECT_EQ(g.grade(item("worker-output"), Answer{.text = "0\n1\n4\n9\n"})["status"], "pass");
  EXPECT_EQ(g.grade(item("worker-output"), Answer{.text = "0 1 4 9"})["status"], "pass");
  json wrong = g.grade(item("worker-output"), Answer{.text = "0 1 2 3"});
  EXPECT_EQ(wrong["status"], "fail");
  EXPECT_NE(wrong["message"].get<std::string>().find("0\n1\n4\n9"), std::string::npos);
  EXPECT_EQ(g.grade(item("leaked-count"), Answer{.text = " 4 "})["status"], "pass");  // main + 3 blocked senders
  EXPECT_EQ(g.grade(item("leaked-count"), Answer{.text = "1"})["status"], "fail");
  // The oracle is cached: the cache file exists now and a second grader reads it.
  EXPECT_TRUE(fs::exists(OracleCache(*base_ / "oracles").path(item("leaked-count"), g.go_version())));
  EXPECT_EQ(g.go_version().rfind("go1.19", 0), 0u) << g.go_version();
  expect_scratch_clean();
}

TEST_F(GraderTest, DiagnoseLeakFunctionFromARealDump) {
  Grader g = make_grader();
  Oracle o = g.compute_oracle(item("leaking-producer"), 2);
  ASSERT_EQ(o.problem, "");
  EXPECT_EQ(o.choice, 0u);  // main.producer: 5 blocked senders against 2 consumers
  EXPECT_NE(o.outcome.find("goroutine "), std::string::npos);
  EXPECT_NE(o.outcome.find("/item/main.go:"), std::string::npos);   // rewritten
  EXPECT_EQ(o.outcome.find("/gopath/src/"), std::string::npos);
  EXPECT_EQ(g.grade(item("leaking-producer"), Answer{.text = "main.producer"})["status"], "pass");
  EXPECT_EQ(g.grade(item("leaking-producer"), Answer{.choice = 1})["status"], "fail");
}

TEST_F(GraderTest, FixReferencePassesAndWrongSolutionsFailAtTheirChecks) {
  Grader g = make_grader();
  const Item& fix = item("fetch-leak");
  FixResult ref = g.run_fix(fix, read_files(fix.dir / "solution"));
  EXPECT_EQ(ref.verdict, "pass") << ref.message << "\n" << ref.tests.dump(2);
  FixResult leak = g.run_fix(fix, read_files(fix.dir / "wrong" / "still-leaks"));
  EXPECT_EQ(leak.verdict, "leak") << leak.message;
  FixResult vet = g.run_fix(fix, read_files(fix.dir / "wrong" / "copies-lock"));
  EXPECT_EQ(vet.verdict, "vet") << vet.message;
  ASSERT_FALSE(vet.tests.empty());
  EXPECT_NE(vet.tests.back()["output"].get<std::string>().find("passes lock by value"), std::string::npos);
  expect_scratch_clean();
}

TEST_F(GraderTest, FixResultsJsonForACandidate) {
  Grader g = make_grader();
  const Item& fix = item("fetch-leak");
  json pass = g.grade(fix, Answer{.files = read_files(fix.dir / "solution")});
  EXPECT_EQ(pass["status"], "pass") << pass.dump(2);
  EXPECT_EQ(pass["assess"]["verdict"], "pass");
  std::vector<std::string> names;
  for (const json& t : pass["tests"]) names.push_back(t["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"build", "vet", "race", "leak", "TestFirstIsAResult", "TestFirstOfMany"}));
  EXPECT_FALSE(pass["assess"]["sandbox"]["isolation"].is_null());

  json compile = g.grade(fix, Answer{.files = {{"fetch.go", "package item\n\nfunc First(n int) int { return }\n"}}});
  EXPECT_EQ(compile["status"], "fail");  // the candidate's compile error is a fail, not an error
  EXPECT_EQ(compile["assess"]["verdict"], "build");

  json not_editable = g.grade(fix, Answer{.files = {{"fetch_test.go", "package item\n"}}});
  EXPECT_EQ(not_editable["status"], "fail");

  expect_scratch_clean();
}

// Size and modification time of every file under dir.
std::map<std::string, std::pair<std::uintmax_t, fs::file_time_type>> stat_tree(const fs::path& dir) {
  std::map<std::string, std::pair<std::uintmax_t, fs::file_time_type>> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out[e.path().string()] = {e.file_size(), e.last_write_time()};
  return out;
}

TEST_F(GraderTest, ACandidateCannotReadHiddenTestsNorChangeTheWarmCache) {
  // A submission that prints every test file it can find (the hidden ones are gone when its
  // code runs) and tries to write into every GOCACHE file (the warm snapshot is read-only).
  std::string snoop = R"(package item

import (
	"fmt"
	"os"
	"path/filepath"
)

func First(n int) int {
	linked, changed := 0, 0
	filepath.Walk(os.Getenv("GOCACHE"), func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode()&os.ModeSymlink != 0 { // the warm cache's entries
			linked++
			if f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0); err == nil {
				if _, err := f.WriteString("poison"); err == nil {
					changed++
				}
				f.Close()
			}
			if os.Chmod(p, 0666) == nil {
				changed++
			}
		}
		return nil
	})
	fmt.Printf("changed %d of %d\n", changed, linked)
	files, _ := filepath.Glob("*_test.go")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		fmt.Println(string(b))
	}
	return 0
}
)";
  // Made once per build tree: copying the warm cache takes seconds.
  fs::path snapshot = fs::path(ASSESS_TEST_GOCACHE).parent_path() / "gocache-test-snapshot";
  if (!fs::exists(snapshot)) snapshot_gocache(ASSESS_TEST_GOCACHE, snapshot);
  auto before = stat_tree(snapshot);
  ASSERT_FALSE(before.empty());
  Grader candidate({.scratch_base = *base_ / "scratch", .cache = GoCache::seeded, .gocache = snapshot});
  json snooped = candidate.grade(item("fetch-leak"), Answer{.files = {{"fetch.go", snoop}}});
  EXPECT_EQ(snooped["status"], "pass") << snooped.dump(2);  // First returns 0: a result
  std::string dump = snooped.dump();
  EXPECT_NE(dump.find("changed 0 of "), std::string::npos) << dump;
  EXPECT_EQ(dump.find("changed 0 of 0\\n"), std::string::npos) << dump;  // it did try
  EXPECT_EQ(dump.find("HIDDEN-SOURCE-4b1c"), std::string::npos) << dump;
  EXPECT_EQ(dump.find("HIDDEN-MARKER"), std::string::npos) << dump;
  EXPECT_EQ(dump.find("goleak.VerifyTestMain"), std::string::npos) << dump;
  EXPECT_TRUE(stat_tree(snapshot) == before);
  expect_scratch_clean();
}

TEST_F(GraderTest, BrokenItemsAreReportedBroken) {
  Grader g = make_grader();
  Oracle o = g.compute_oracle(item("no-matching-choice"));
  EXPECT_NE(o.problem.find("no choice matches"), std::string::npos) << o.problem;
  json r = g.grade(item("no-matching-choice"), Answer{.choice = 0});
  EXPECT_EQ(r["status"], "error");  // never the candidate's fault
  o = g.compute_oracle(item("nondeterministic"));
  EXPECT_NE(o.problem.find("nondeterministic"), std::string::npos) << o.problem;
  o = g.compute_oracle(item("vet-two-match"));  // "lostcancel" and "context leak" both in vet's output
  EXPECT_NE(o.problem.find("both match"), std::string::npos) << o.problem;

  // fetch-leak with two expect.json files misstated: one wrong solution fails earlier than it
  // says, the other is the reference and passes.
  fs::path dir = *base_ / "misstated" / "concurrency" / "06-fetch-leak";
  fs::create_directories(dir.parent_path());
  fs::copy(item("fetch-leak").dir, dir, fs::copy_options::recursive);
  std::ofstream(dir / "wrong" / "copies-lock" / "expect.json") << R"({"fails": "leak", "why": "fails at vet first"})";
  fs::rename(dir / "wrong" / "still-leaks", dir / "wrong" / "passes");
  fs::copy_file(dir / "solution" / "fetch.go", dir / "wrong" / "passes" / "fetch.go", fs::copy_options::overwrite_existing);
  std::ofstream(dir / "wrong" / "passes" / "expect.json") << R"({"fails": "test", "why": "the reference"})";
  ItemCheck c = check_item(load_item(dir), g);
  EXPECT_FALSE(c.ok);
  std::string problems;
  for (const std::string& p : c.problems) problems += p + "\n";
  EXPECT_NE(problems.find("wrong/copies-lock/ fails at vet, not at leak"), std::string::npos) << problems;
  EXPECT_NE(problems.find("wrong/passes/ passes every check"), std::string::npos) << problems;
}

TEST_F(GraderTest, BankCheckInGoroutines) {
  Grader g = make_grader();
  CheckReport report;
  gocxx::run([&] { report = check_bank(*items_, g, {.jobs = 2}); }, gocxx::Options{.procs = 2});
  ASSERT_EQ(report.items.size(), 7u);
  for (const ItemCheck& c : report.items) EXPECT_TRUE(c.ok) << c.path << ": " << (c.problems.empty() ? "" : c.problems[0]);
  EXPECT_FALSE(report.coverage.empty());  // 7 items are not a bank
  EXPECT_FALSE(report.ok());
  EXPECT_NE(report.text().find("ok "), std::string::npos);
  CheckReport one;
  gocxx::run([&] { one = check_bank(*broken_, g, {.item = "nondeterministic"}); });
  ASSERT_EQ(one.items.size(), 1u);
  EXPECT_FALSE(one.ok());
  EXPECT_TRUE(one.coverage.empty());  // a single item is not held to the bank's minimums
  EXPECT_EQ(one.to_json()["items"][0]["ok"], false);
}

}  // namespace
