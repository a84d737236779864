// Loading and validating the question bank (tests/assess/items, and malformed items made here),
// and the candidate's view of an item. No Go runs here.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <random>

#include <nlohmann/json.hpp>

#include "engine/bank.hpp"

namespace {

namespace fs = std::filesystem;
using namespace assess;
using nlohmann::json;

const fs::path kItems = ASSESS_TEST_ITEMS;

void write(const fs::path& p, const std::string& s) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << s;
}

// A temporary bank with one valid predict item, which each test then breaks in one way.
class MalformedItem : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("assess-bank-test-" + std::to_string(std::random_device{}()));
    dir_ = root_ / "concurrency" / "07-sample";
    write(dir_ / "main.go", "package main\n\nfunc main() {}\n");
    write(dir_ / "statement.md", "What does it print?\n");
    item_ = {{"id", "sample"},
             {"version", 1},
             {"title", "A sample"},
             {"dimension", "concurrency"},
             {"level", 2},
             {"kind", "predict"},
             {"go", "1.19"},
             {"tags", {{"concepts", {"channel"}}, {"defect", "none"}}},
             {"predict", {{"answer", "choice"}, {"choices", {"a", "b"}}}}};
  }
  void TearDown() override { fs::remove_all(root_); }

  // The BankError load_item throws after `change` edits item.json; "" if it loads.
  std::string error_after(const std::function<void(json&)>& change) {
    json j = item_;
    change(j);
    write(dir_ / "item.json", j.dump(2));
    try {
      load_item(dir_);
    } catch (const BankError& e) {
      field_ = e.field();
      file_ = e.file();
      return e.what();
    }
    return "";
  }

  fs::path root_, dir_;
  json item_;
  std::string field_;
  fs::path file_;
};

TEST_F(MalformedItem, TheValidOneLoadsWithDefaults) {
  EXPECT_EQ(error_after([](json&) {}), "");
  Item it = load_item(dir_);
  EXPECT_EQ(it.id, "sample");
  EXPECT_EQ(it.predict->runs, 3);
  EXPECT_DOUBLE_EQ(it.irt_a, 1.0);
  EXPECT_DOUBLE_EQ(it.irt_b, -1.0);  // level 2 - 3
  EXPECT_FALSE(it.irt_declared);
  EXPECT_EQ(it.content_hash.size(), 16u);
}

TEST_F(MalformedItem, ErrorsNameTheField) {
  EXPECT_NE(error_after([](json& j) { j["predict"]["runs"] = "three"; }).find("predict.runs: must be an integer"),
            std::string::npos);
  EXPECT_EQ(field_, "predict.runs");
  EXPECT_EQ(file_, dir_ / "item.json");
  error_after([](json& j) { j["predict"]["choises"] = json::array(); });
  EXPECT_EQ(field_, "predict.choises");  // a misspelt key is unknown, not ignored
  error_after([](json& j) { j["tags"].erase("defect"); });
  EXPECT_EQ(field_, "tags.defect");
  error_after([](json& j) { j["level"] = 6; });
  EXPECT_EQ(field_, "level");
  error_after([](json& j) { j["id"] = "other"; });
  EXPECT_EQ(field_, "id");
  error_after([](json& j) { j["dimension"] = "memory"; });  // but the item is under concurrency/
  EXPECT_EQ(field_, "dimension");
  error_after([](json& j) { j["kind"] = "diagnose"; });
  EXPECT_EQ(field_, "predict");  // not allowed for kind "diagnose"
  error_after([](json& j) { j["predict"]["choices"] = {"2 1 0", "2  1\n0"}; });
  EXPECT_EQ(field_, "predict.choices");  // the same after whitespace collapsing
  error_after([](json& j) { j["show"] = {"../../etc/passwd"}; });
  EXPECT_EQ(field_, "show[0]");
  error_after([](json& j) { j["go"] = "1.22"; });
  EXPECT_EQ(field_, "go");
  error_after([](json& j) { j["irt"] = {{"a", -1}, {"b", 0}}; });
  EXPECT_EQ(field_, "irt.a");
}

TEST_F(MalformedItem, BadJsonAndMissingStatement) {
  write(dir_ / "item.json", "{\"id\": \"sample\",");
  try {
    load_item(dir_);
    FAIL() << "loaded";
  } catch (const BankError& e) {
    EXPECT_NE(std::string(e.what()).find("not valid JSON"), std::string::npos);
  }
  fs::remove(dir_ / "statement.md");
  EXPECT_NE(error_after([](json&) {}).find("statement.md"), std::string::npos);
}

TEST_F(MalformedItem, FixItemsNeedTwoWrongSolutionsWithValidExpectations) {
  write(dir_ / "start" / "a.go", "package item\n");
  write(dir_ / "solution" / "a.go", "package item\n");
  write(dir_ / "wrong" / "one" / "a.go", "package item\n");
  write(dir_ / "wrong" / "one" / "expect.json", R"({"fails": "leak", "why": "x"})");
  auto to_fix = [](json& j) {
    j["kind"] = "fix";
    j.erase("predict");
    j["fix"] = {{"package", "item"}, {"editable", {"a.go"}}, {"checks", {"build", "vet", "leak", "test"}}};
  };
  EXPECT_NE(error_after(to_fix).find("at least two known-wrong solutions"), std::string::npos);
  write(dir_ / "wrong" / "two" / "a.go", "package item\n");
  write(dir_ / "wrong" / "two" / "expect.json", R"({"fails": "race", "why": "x"})");
  std::string e = error_after(to_fix);  // race is not one of the checks
  EXPECT_NE(e.find("wrong/two/expect.json: fails:"), std::string::npos) << e;
  write(dir_ / "wrong" / "two" / "expect.json", R"({"fails": "test:TestX", "why": "x"})");
  EXPECT_EQ(error_after(to_fix), "");
  write(dir_ / "wrong" / "two" / "b.go", "package item\n");  // not editable
  EXPECT_NE(error_after(to_fix).find("b.go, which is not an editable file"), std::string::npos);
  fs::remove(dir_ / "wrong" / "two" / "b.go");
  error_after([&](json& j) {
    to_fix(j);
    j["fix"]["checks"] = {"test", "build"};
  });
  EXPECT_EQ(field_, "fix.checks[1]");
  write(dir_ / "hidden" / "a.go", "package item\n");  // hidden/ holds tests only
  EXPECT_NE(error_after(to_fix).find("hidden/a.go"), std::string::npos);
}

TEST(Bank, LoadsTheTestItems) {
  Bank bank = load_bank(kItems);
  for (const BankError& e : bank.errors) ADD_FAILURE() << e.what();
  ASSERT_EQ(bank.items.size(), 7u);
  EXPECT_EQ(bank.in_dimension("concurrency").size(), 6u);
  EXPECT_EQ(bank.in_dimension("").size(), 7u);
  const Item* fix = bank.find("fetch-leak");
  ASSERT_NE(fix, nullptr);
  EXPECT_EQ(fix->kind, Kind::fix);
  ASSERT_EQ(fix->fix->wrong.size(), 2u);
  EXPECT_EQ(fix->fix->wrong[0].name, "copies-lock");  // sorted
  EXPECT_EQ(fix->fix->wrong[0].fails, "vet");
  EXPECT_EQ(fix->fix->checks, (std::vector<std::string>{"build", "vet", "race", "leak", "test"}));
  const Item* number = bank.find("leaked-count");
  ASSERT_NE(number, nullptr);
  EXPECT_EQ(number->predict->answer, PredictSpec::Answer::number);
  EXPECT_EQ(number->predict->of, "goroutines");
  EXPECT_EQ(load_item(fix->dir).content_hash, fix->content_hash);  // stable
  EXPECT_NE(bank.find("defer-loop")->content_hash, fix->content_hash);
}

TEST(Bank, DuplicateIdsAreErrors) {
  fs::path root = fs::temp_directory_path() / ("assess-dup-" + std::to_string(std::random_device{}()));
  fs::create_directories(root / "concurrency");
  fs::copy(kItems / "concurrency" / "01-defer-loop", root / "concurrency" / "01-defer-loop", fs::copy_options::recursive);
  fs::copy(kItems / "concurrency" / "01-defer-loop", root / "concurrency" / "09-defer-loop", fs::copy_options::recursive);
  Bank bank = load_bank(root);
  fs::remove_all(root);
  EXPECT_EQ(bank.items.size(), 1u);
  ASSERT_EQ(bank.errors.size(), 1u);
  EXPECT_EQ(bank.errors[0].field(), "id");
}

TEST(Bank, MissingRootThrows) { EXPECT_THROW(load_bank("/nonexistent/bank"), BankError); }

TEST(CandidateView, FixItemShowsStartButNothingSecret) {
  Bank bank = load_bank(kItems);
  const Item* fix = bank.find("fetch-leak");
  ASSERT_NE(fix, nullptr);
  CandidateView v = candidate_view(*fix);
  EXPECT_EQ(v.answer, "files");
  EXPECT_EQ(v.editable, std::vector<std::string>{"fetch.go"});
  ASSERT_EQ(v.files.size(), 2u);
  EXPECT_EQ(v.files[0].first, "fetch.go");  // "show" first
  EXPECT_EQ(v.files[1].first, "fetch_test.go");
  std::string everything = v.statement;
  for (const auto& [name, content] : v.files) everything += name + content;
  EXPECT_EQ(everything.find("HIDDEN"), std::string::npos);        // hidden/
  EXPECT_EQ(everything.find("make(chan int, n)"), std::string::npos);  // solution/
  EXPECT_EQ(everything.find("sync.Mutex"), std::string::npos);    // wrong/
  EXPECT_EQ(everything.find(fix->dir.string()), std::string::npos);
}

TEST(CandidateView, PredictAndDiagnose) {
  Bank bank = load_bank(kItems);
  CandidateView p = candidate_view(*bank.find("defer-loop"));
  EXPECT_EQ(p.answer, "choice");
  EXPECT_EQ(p.choices.size(), 4u);
  ASSERT_EQ(p.files.size(), 1u);
  EXPECT_EQ(p.files[0].first, "main.go");
  EXPECT_NE(p.files[0].second.find("defer fmt.Println(i)"), std::string::npos);
  CandidateView d = candidate_view(*bank.find("leaking-producer"), "goroutine 1 [running]:\n");
  EXPECT_EQ(d.answer, "choice");
  EXPECT_EQ(d.artifact, "goroutine 1 [running]:\n");
  EXPECT_TRUE(d.files.empty());  // no "show": the program is not shown
}

TEST(Bank, CollapseSpace) {
  EXPECT_EQ(collapse_space("  2\n1 \t 0\n\n"), "2 1 0");
  EXPECT_EQ(collapse_space(""), "");
}

}  // namespace
