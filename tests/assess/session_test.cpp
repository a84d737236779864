// The assessment session (assess/engine/session.hpp) and its report (report.hpp), over the
// small test bank in items/, with the real grader (Go 1.19 in the sandbox) and an SQLite store.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <gocxx/runtime.hpp>

#include "engine/report.hpp"
#include "engine/session.hpp"

namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace {

struct Fixture {
  fs::path dir = fs::temp_directory_path() / ("assess_session_test_" + std::to_string(::getpid()));
  assess::Bank bank = assess::load_bank(ASSESS_TEST_ITEMS);
  assess::rules::RuleSet rules = assess::rules::RuleSet::parse(R"({"rules": []})");
  assess::Grader grader{{.cache = assess::GoCache::shared, .gocache = ASSESS_TEST_GOCACHE}};
  std::unique_ptr<assess::SqliteStore> store;

  Fixture() {
    fs::remove_all(dir);
    fs::create_directories(dir);
    store = assess::open_sqlite_store(dir / "assess.db");
  }
  ~Fixture() { fs::remove_all(dir); }
  assess::Context context() { return {bank, rules, grader, *store}; }

  // The right answer, from what Go 1.19 says (choice and text items) or the reference solution.
  assess::Answer right(const assess::Item& item) {
    if (item.kind == assess::Kind::fix) {
      return assess::Answer{.files = assess::read_files(item.dir / "solution")};
    }
    assess::Oracle o = grader.oracle(item);
    if (o.choice) return assess::Answer{.choice = o.choice};
    std::string text = o.outcome;
    if (item.predict && item.predict->answer == assess::PredictSpec::Answer::number) {
      text = text.substr(text.find_last_of('\n') + 1);
    }
    return assess::Answer{.text = text};
  }
  assess::Answer wrong(const assess::Item& item) {
    if (item.kind == assess::Kind::fix) return assess::Answer{.files = {}};  // start/ unchanged
    if (!item.choices().empty()) {
      return assess::Answer{.choice = (*grader.oracle(item).choice + 1) % item.choices().size()};
    }
    return assess::Answer{.text = "certainly not the output"};
  }
};

TEST(AssessSession, RunsToItsEndAndReportsTheSeedsTable) {
  Fixture f;
  gocxx::run([&] {
    auto cand = f.store->create_candidate("alice", "Alice");
    assess::Assessment a = assess::Assessment::start(
        f.context(), cand.id, {.dimensions = {"concurrency"}, .max_items = 3, .seed = 11});
    int answered = 0;
    while (std::optional<assess::Current> c = a.current()) {
      const assess::Item& item = *f.bank.find(c->presentation.item);
      EXPECT_EQ(c->view.id, item.id);
      EXPECT_EQ(c->presentation.seq, answered + 1);
      // The first answer is wrong, the others right.
      assess::Graded g = a.answer(answered == 0 ? f.wrong(item) : f.right(item));
      ASSERT_TRUE(g.recorded) << g.results.dump(2);
      EXPECT_EQ(g.correct, answered != 0) << item.id << ": " << g.results.dump(2);
      ++answered;
    }
    EXPECT_EQ(answered, 3);
    assess::SessionRecord rec = a.record();
    EXPECT_EQ(rec.session.state, assess::SessionState::finished);
    ASSERT_EQ(rec.responses.size(), 3u);
    EXPECT_FALSE(rec.responses[0].correct);
    EXPECT_TRUE(rec.responses[1].correct);
    EXPECT_EQ(rec.estimates.size(), 3u);

    assess::Report r = assess::make_report(rec, f.bank, f.rules, {});
    ASSERT_EQ(r.dimensions.size(), 1u);
    const assess::DimensionReport& d = r.dimensions[0];
    EXPECT_EQ(d.dimension, "concurrency");
    EXPECT_EQ(d.seed_name, "并发控制力");
    EXPECT_EQ(d.pass_line, 4);
    EXPECT_EQ(d.items, 3);
    EXPECT_EQ(d.correct, 2);
    // The one missed item's defect is the key defect.
    ASSERT_EQ(d.key_defects.size(), 1u);
    EXPECT_EQ(d.key_defects[0], f.bank.find(rec.responses[0].item)->defect);
    std::string text = assess::to_text(r);
    EXPECT_THAT(text, HasSubstr("concurrency 并发控制力"));
    EXPECT_THAT(text, HasSubstr("≥4/5"));
    EXPECT_THAT(text, HasSubstr(d.key_defects[0]));
    nlohmann::json j = assess::to_json(r);
    EXPECT_EQ(j["dimensions"][0]["correct"], 2);
    EXPECT_EQ(j["path"].size(), 3u);
  });
}

// A crash between presenting an item and answering it: the resumed session shows the same item
// (same seq, same first-presented time), and answering it records exactly one response.
TEST(AssessSession, ResumesOnTheItemThatWasOnScreen) {
  Fixture f;
  gocxx::run([&] {
    auto cand = f.store->create_candidate("bob", "");
    assess::SessionId id = 0;
    assess::Presentation shown;
    {
      assess::Assessment a = assess::Assessment::start(
          f.context(), cand.id, {.dimensions = {"concurrency"}, .max_items = 3, .seed = 5});
      id = a.id();
      const assess::Item& first = *f.bank.find(a.current()->presentation.item);
      ASSERT_TRUE(a.answer(f.right(first)).recorded);
      shown = a.current()->presentation;
    }  // gone: as if the process had died here
    assess::Assessment again = assess::Assessment::resume(f.context(), id);
    std::optional<assess::Current> c = again.current();
    ASSERT_TRUE(c);
    EXPECT_EQ(c->presentation.seq, shown.seq);
    EXPECT_EQ(c->presentation.item, shown.item);
    EXPECT_EQ(c->presentation.presented_at, shown.presented_at);
    ASSERT_TRUE(again.answer(f.right(*f.bank.find(shown.item))).recorded);
    assess::SessionRecord rec = again.record();
    ASSERT_EQ(rec.responses.size(), 2u);
    EXPECT_EQ(rec.responses[1].item, shown.item);
    EXPECT_EQ(rec.presented.size(), 2u);  // the resumed item was not presented a second time
  });
}

TEST(AssessSession, RejectsADimensionTheSeedDoesNotHave) {
  Fixture f;
  auto cand = f.store->create_candidate("carol", "");
  EXPECT_THAT([&] { assess::Assessment::start(f.context(), cand.id, {.dimensions = {"speed"}}); },
              ::testing::ThrowsMessage<std::invalid_argument>(HasSubstr("unknown dimension \"speed\"")));
}

}  // namespace
