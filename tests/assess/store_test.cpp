// The results store: migrations, every operation's round trip, resume, the UNIQUE guard against
// replayed answers, refused input, concurrent use, and crash safety (a writer SIGKILLed at
// random points loses nothing it reported committed).
#include "engine/store.hpp"

#include <gmock/gmock.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "engine/store_input.hpp"
#include "engine/store_sqlite.hpp"
#include "temp_dir.hpp"
#include "test_util.hpp"

namespace {

using namespace assess;
namespace fs = std::filesystem;
using testing::HasSubstr;
using gocxx::test::TempDir;

// A fresh directory, removed with everything in it.
// The message of the exception f throws as E ("<no exception>" if none).
template <class E>
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "<no exception>";
}

std::string results_json(bool correct) {
  return std::string(R"({"version": 3, "status": ")") + (correct ? "pass" : "fail") +
         R"(", "tests": [], "assess": {"correct": )" + (correct ? "true" : "false") + "}}";
}

Presentation item(int seq, const std::string& dimension = "concurrency") {
  return {.seq = seq,
          .item = "item-" + std::to_string(seq),
          .item_version = 1,
          .dimension = dimension,
          .time_limit = 300s,
          .presented_at = {}};
}

AnswerRecord answer(int seq, bool correct, std::string text = "42") {
  return {.seq = seq,
          .answer = std::move(text),
          .correct = correct,
          .score = correct ? 1.0 : 0.0,
          .results_json = results_json(correct),
          .answered_at = now(),
          .duration = std::nullopt};
}

// A raw connection (same settings, no migrations) for what the Store API does not show.
std::string raw_scalar(const fs::path& db, const char* sql) {
  sqlite::Db raw(db, {});
  return raw.scalar(sql);
}

SessionConfig config() {
  return {.dimensions = {"concurrency", "memory"},
          .pressure = true,
          .max_items = 8,
          .seed = std::numeric_limits<std::uint64_t>::max() - 7,
          .time_limit = 3600s};
}

// ---- migrations ------------------------------------------------------------------------------

// This program's schema version (its newest migration): the tests below add later ones.
const int kVersion = static_cast<int>(sqlite::migrations().size());

TEST(StoreMigrations, FromEmptyCreatesTheSchemaAndRecordsIt) {
  TempDir dir;
  auto store = open_sqlite_store(dir / "a.db");
  EXPECT_EQ(store->schema_version(), static_cast<int>(sqlite::migrations().size()));
  sqlite::Db raw(dir / "a.db", {});
  EXPECT_EQ(raw.scalar("SELECT group_concat(version || ':' || name, ',') FROM schema_migrations"),
            "1:engine schema,2:web application,3:checklist runs");
  EXPECT_NE(raw.scalar("SELECT applied_at FROM schema_migrations WHERE version = 1"), "0");
  EXPECT_EQ(raw.scalar("SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_schema"
                       " WHERE type = 'table' ORDER BY name)"),
            "candidates,checklist_runs,estimates,interviewer_token,invites,item_params,presentations,responses,"
            "rule_firings,schema_migrations,session_states,sessions,web_sessions");
  // The connection settings every Db gets.
  EXPECT_EQ(raw.scalar("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(raw.scalar("PRAGMA synchronous"), "2");  // FULL
  EXPECT_EQ(raw.scalar("PRAGMA foreign_keys"), "1");
  EXPECT_EQ(raw.scalar("PRAGMA busy_timeout"), "5000");
}

TEST(StoreMigrations, ReopenIsANoOp) {
  TempDir dir;
  CandidateId id = open_sqlite_store(dir / "a.db")->create_candidate("alice", "Alice").id;
  std::string history = raw_scalar(dir / "a.db",
                                   "SELECT group_concat(version || name || applied_at)"
                                   " FROM schema_migrations");
  auto store = open_sqlite_store(dir / "a.db");
  EXPECT_EQ(raw_scalar(dir / "a.db",
                       "SELECT group_concat(version || name || applied_at)"
                       " FROM schema_migrations"),
            history);
  ASSERT_TRUE(store->find_candidate("alice"));
  EXPECT_EQ(store->find_candidate("alice")->id, id);
}

TEST(StoreMigrations, NewMigrationsApplyInOrderAndOlderProgramsRefuseTheResult) {
  TempDir dir;
  open_sqlite_store(dir / "a.db")->create_candidate("alice", "");
  std::vector<sqlite::Migration> list(sqlite::migrations().begin(), sqlite::migrations().end());
  list.push_back({kVersion + 1, "invitations",
                  "CREATE TABLE invitations (token TEXT PRIMARY KEY,"
                  " session_id INTEGER REFERENCES sessions (id)) STRICT"});
  list.push_back({kVersion + 2, "invited state",
                  "INSERT INTO session_states VALUES ('invited');"
                  "ALTER TABLE invitations ADD COLUMN expires_at INTEGER"});
  EXPECT_EQ(open_sqlite_store(dir / "a.db", {}, list)->schema_version(), kVersion + 2);
  EXPECT_EQ(raw_scalar(dir / "a.db", "SELECT count(*) FROM schema_migrations"), std::to_string(kVersion + 2));
  EXPECT_EQ(raw_scalar(dir / "a.db", "SELECT count(*) FROM session_states"), "4");
  EXPECT_TRUE(open_sqlite_store(dir / "a.db", {}, list)->find_candidate("alice"));

  // This program knows only kVersion: it refuses a database from the future.
  EXPECT_THAT(error_of<StoreError>([&] { open_sqlite_store(dir / "a.db"); }),
              HasSubstr("schema version " + std::to_string(kVersion + 2) + " is newer than this program's " +
                        std::to_string(kVersion) + " (it has migration " + std::to_string(kVersion + 1) +
                        " \"invitations\"): use a newer assess"));
}

TEST(StoreMigrations, RefusesAFutureVersionWrittenByHand) {
  TempDir dir;
  open_sqlite_store(dir / "a.db");
  sqlite::Db(dir / "a.db", {})
      .exec("INSERT INTO schema_migrations VALUES (" + std::to_string(kVersion + 1) + ", 'from the future', 0)");
  std::string msg = error_of<StoreError>([&] { open_sqlite_store(dir / "a.db"); });
  EXPECT_THAT(msg, HasSubstr("a.db: open: the database's schema version " + std::to_string(kVersion + 1) + " is newer"));
}

TEST(StoreMigrations, RefusesAHistoryWithADifferentName) {
  TempDir dir;
  open_sqlite_store(dir / "a.db");
  sqlite::Db(dir / "a.db", {})
      .exec("UPDATE schema_migrations SET name = 'other' WHERE version = 1");
  EXPECT_THAT(error_of<StoreError>([&] { open_sqlite_store(dir / "a.db"); }),
              HasSubstr("migration 1 is \"other\" in the database but \"engine schema\" in this "
                        "program"));
}

TEST(StoreMigrations, AFailingMigrationChangesNothing) {
  TempDir dir;
  std::vector<sqlite::Migration> list(sqlite::migrations().begin(), sqlite::migrations().end());
  // Foreign keys are on while migrations run: a row pointing at no candidate fails.
  list.push_back({kVersion + 1, "bad",
                  "CREATE TABLE extra (x INTEGER);"
                  "INSERT INTO sessions (candidate_id, config, state, created_at,"
                  " updated_at) VALUES (999, '{}', 'active', 0, 0)"});
  std::string msg = error_of<StoreError>([&] { open_sqlite_store(dir / "a.db", {}, list); });
  EXPECT_THAT(msg, HasSubstr("migration " + std::to_string(kVersion + 1) + " \"bad\": INSERT INTO sessions"));
  EXPECT_THAT(msg, HasSubstr("FOREIGN KEY constraint failed"));
  // All pending migrations share one transaction: the program's were rolled back with the bad one.
  EXPECT_EQ(raw_scalar(dir / "a.db", "SELECT count(*) FROM sqlite_schema"), "0");
  EXPECT_EQ(open_sqlite_store(dir / "a.db")->schema_version(), kVersion);
}

TEST(StoreMigrations, MigrationVersionsMustBeConsecutive) {
  TempDir dir;
  const sqlite::Migration gap[] = {{1, "one", "SELECT 1"}, {3, "three", "SELECT 1"}};
  EXPECT_THAT(error_of<std::logic_error>([&] { open_sqlite_store(dir / "a.db", {}, gap); }),
              HasSubstr("entry 1 has version 3"));
}

TEST(StoreOpen, RefusesWhatIsNotAnAssessDatabase) {
  TempDir dir;
  sqlite::Db(dir / "other.db", {}).exec("CREATE TABLE t (x)");
  EXPECT_THAT(error_of<StoreError>([&] { open_sqlite_store(dir / "other.db"); }),
              HasSubstr("other.db: open: not an assess database (it has tables but no "
                        "schema_migrations)"));

  std::ofstream(dir / "text.db") << "this is not a database, just text that is long enough to "
                                    "fill a header of one hundred bytes, which SQLite reads first";
  EXPECT_THAT(error_of<StoreError>([&] { open_sqlite_store(dir / "text.db"); }),
              HasSubstr("file is not a database"));

  EXPECT_THAT(error_of<StoreError>([&] { open_sqlite_store(dir / "missing/dir/a.db"); }),
              HasSubstr("missing/dir/a.db: open: unable to open database file"));
}

// ---- operations: the same suite for every backend the Store interface has ----------------------

class StoreOps : public testing::TestWithParam<const char*> {
 protected:
  std::unique_ptr<Store> open() {
    return open_sqlite_store(std::string(GetParam()) == ":memory:" ? fs::path(":memory:")
                                                                   : dir_ / "ops.db");
  }
  TempDir dir_;
};

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreOps, testing::Values("file", ":memory:"),
                         [](const auto& info) {
                           return std::string(info.param) == "file" ? "File" : "Memory";
                         });

TEST_P(StoreOps, CandidatesRoundTrip) {
  auto store = open();
  Candidate c = store->create_candidate("alice@example.com", "Alice 爱丽丝");
  EXPECT_GT(c.id, 0);
  auto found = store->find_candidate("alice@example.com");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, c.id);
  EXPECT_EQ(found->name, "Alice 爱丽丝");
  EXPECT_EQ(found->created_at, c.created_at);
  EXPECT_FALSE(store->find_candidate("bob"));
  EXPECT_THAT(error_of<StoreError>([&] { store->create_candidate("alice@example.com", "x"); }),
              HasSubstr("create_candidate: candidate handle \"alice@example.com\" is taken"));
  EXPECT_THAT(
      error_of<StoreError>([&] { store->create_session(c.id + 100, config()); }),
      HasSubstr("create_session(candidate " + std::to_string(c.id + 100) + "): no candidate"));
}

TEST_P(StoreOps, ASessionRoundTrips) {
  auto store = open();
  Candidate c = store->create_candidate("alice", "");
  Session s = store->create_session(c.id, config());
  EXPECT_EQ(s.state, SessionState::active);

  Presentation p1 = store->record_presented(s.id, item(1));
  EXPECT_GE(p1.presented_at, s.created_at);
  AnswerRecord a1 = answer(1, true, "package main\n\nfunc main() { println(\"并发\") }\n");
  a1.duration = 1234ms;
  Response r1 = store->record_response(
      s.id, a1, std::vector<Estimate>{{.dimension = "concurrency", .theta = 0.5, .se = 0.9}},
      std::vector<RuleFiring>{{.rule = "three channel items right", .item = "chan-struct-sem"}});
  EXPECT_EQ(r1.item, "item-1");
  EXPECT_EQ(r1.started_at, p1.presented_at);
  store->record_presented(s.id, item(2, "memory"));
  AnswerRecord a2 = answer(2, false, "");
  a2.score = 0.25;
  a2.answered_at = p1.presented_at + 90s;
  store->record_response(
      s.id, a2,
      std::vector<Estimate>{{.dimension = "concurrency", .theta = 0.5, .se = 0.9},
                            {.dimension = "memory", .theta = -0.7, .se = 0.8}},
      {});
  store->record_presented(s.id, item(3));

  SessionRecord rec = store->load_session(s.id);
  EXPECT_EQ(rec.session.id, s.id);
  EXPECT_EQ(rec.session.config.dimensions, config().dimensions);
  EXPECT_TRUE(rec.session.config.pressure);
  EXPECT_EQ(rec.session.config.max_items, 8);
  EXPECT_EQ(rec.session.config.seed, config().seed);  // all 64 bits
  EXPECT_EQ(rec.session.config.time_limit, 3600s);
  EXPECT_EQ(rec.session.created_at, s.created_at);
  EXPECT_GE(rec.session.updated_at, rec.presented.back().presented_at);
  EXPECT_FALSE(rec.session.finished_at);
  EXPECT_EQ(rec.candidate.handle, "alice");
  ASSERT_EQ(rec.presented.size(), 3u);
  EXPECT_EQ(rec.presented[1].dimension, "memory");
  EXPECT_EQ(rec.presented[0].time_limit, 300s);
  ASSERT_EQ(rec.responses.size(), 2u);
  EXPECT_EQ(rec.responses[0].answer, a1.answer);
  EXPECT_TRUE(rec.responses[0].correct);
  EXPECT_EQ(rec.responses[0].results_json, results_json(true));
  EXPECT_EQ(rec.responses[0].duration, 1234ms);
  EXPECT_EQ(rec.responses[1].answer, "");
  EXPECT_FALSE(rec.responses[1].correct);
  EXPECT_DOUBLE_EQ(rec.responses[1].score, 0.25);
  EXPECT_EQ(rec.responses[1].dimension, "memory");
  EXPECT_EQ(rec.responses[1].answered_at, a2.answered_at);
  // Without a duration, the store takes answered_at - presented_at (never negative).
  EXPECT_EQ(rec.responses[1].duration,
            std::max(0ms, a2.answered_at - rec.presented[1].presented_at));
  ASSERT_EQ(rec.estimates.size(), 3u);
  EXPECT_EQ(rec.estimates[0].after_seq, 1);
  EXPECT_EQ(rec.estimates[2].dimension, "memory");
  EXPECT_DOUBLE_EQ(rec.estimates[2].theta, -0.7);
  EXPECT_EQ(rec.latest_estimate("concurrency")->after_seq, 2);
  EXPECT_FALSE(rec.latest_estimate("robustness"));
  ASSERT_EQ(rec.firings.size(), 1u);
  EXPECT_EQ(rec.firings[0].seq, 1);
  EXPECT_EQ(rec.firings[0].item, "chan-struct-sem");
  ASSERT_TRUE(rec.pending());
  EXPECT_EQ(rec.pending()->seq, 3);
  EXPECT_EQ(rec.next_seq(), 4);

  EXPECT_THAT(error_of<StoreError>([&] { store->load_session(s.id + 1); }),
              HasSubstr("load_session(session " + std::to_string(s.id + 1) + "): no session"));
}

TEST_P(StoreOps, ListAndFinishSessions) {
  auto store = open();
  CandidateId alice = store->create_candidate("alice", "").id;
  CandidateId bob = store->create_candidate("bob", "").id;
  SessionId s1 = store->create_session(alice, config()).id;
  SessionId s2 = store->create_session(bob, config()).id;
  SessionId s3 = store->create_session(alice, config()).id;
  store->record_presented(s1, item(1));
  store->record_response(s1, answer(1, true), {}, {});
  store->record_presented(s1, item(2));
  store->record_response(s1, answer(2, false), {}, {});

  auto ids = [](const std::vector<SessionSummary>& v) {
    std::vector<SessionId> out;
    for (const auto& s : v) out.push_back(s.session.id);
    return out;
  };
  auto all = store->list_sessions({});
  EXPECT_EQ(ids(all), (std::vector<SessionId>{s3, s2, s1}));
  EXPECT_EQ(all[2].responses, 2);
  EXPECT_EQ(all[2].correct, 1);
  EXPECT_EQ(all[1].candidate.handle, "bob");
  EXPECT_EQ(ids(store->list_sessions({.candidate = alice})), (std::vector<SessionId>{s3, s1}));

  Session done = store->finish_session(s1, SessionState::finished);
  EXPECT_EQ(done.state, SessionState::finished);
  ASSERT_TRUE(done.finished_at);
  store->finish_session(s2, SessionState::abandoned);
  EXPECT_EQ(ids(store->list_sessions({.state = SessionState::active})),
            (std::vector<SessionId>{s3}));
  EXPECT_EQ(ids(store->list_sessions({.candidate = alice, .state = SessionState::finished})),
            (std::vector<SessionId>{s1}));

  // A session that ended takes no more writes.
  EXPECT_THAT(error_of<StoreError>([&] { store->record_presented(s1, item(3)); }),
              HasSubstr("session " + std::to_string(s1) + " is finished: it takes no more"));
  EXPECT_THAT(error_of<StoreError>([&] { store->finish_session(s2, SessionState::finished); }),
              HasSubstr("is abandoned"));
  EXPECT_THAT(
      error_of<std::invalid_argument>([&] { store->finish_session(s3, SessionState::active); }),
      HasSubstr("the final state must be finished or abandoned"));
}

TEST_P(StoreOps, CalibrationResponsesAndItemParams) {
  auto store = open();
  CandidateId c = store->create_candidate("alice", "").id;
  SessionId s1 = store->create_session(c, config()).id;
  SessionId s2 = store->create_session(c, config()).id;
  for (SessionId s : {s2, s1}) {
    store->record_presented(s, item(1));
    store->record_response(s, answer(1, s == s1), {}, {});
  }
  auto log = store->calibration_responses();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].item, "item-1");
  EXPECT_EQ(log[0].item_version, 1);
  EXPECT_EQ(log[0].session, s1);
  EXPECT_TRUE(log[0].correct);
  EXPECT_EQ(log[1].session, s2);
  EXPECT_FALSE(log[1].correct);

  EXPECT_TRUE(store->load_item_params().empty());
  std::vector<ItemParams> declared{{.item = "a-item", .item_version = 1, .a = 1, .b = -2},
                                   {.item = "b-item", .item_version = 2, .a = 1, .b = 0}};
  store->save_item_params(declared);
  std::vector<ItemParams> calibrated{{.item = "b-item",
                                      .item_version = 2,
                                      .a = 1.37,
                                      .b = 0.41,
                                      .se_a = 0.12,
                                      .se_b = 0.09,
                                      .source = ItemParams::Source::calibrated,
                                      .n = 412}};
  store->save_item_params(calibrated);
  auto current = store->load_item_params();
  ASSERT_EQ(current.size(), 2u);
  EXPECT_EQ(current[0].item, "a-item");
  EXPECT_EQ(current[0].source, ItemParams::Source::declared);
  EXPECT_FALSE(current[0].se_a);
  EXPECT_EQ(current[1].item, "b-item");
  EXPECT_EQ(current[1].source, ItemParams::Source::calibrated);
  EXPECT_DOUBLE_EQ(current[1].a, 1.37);
  EXPECT_DOUBLE_EQ(*current[1].se_b, 0.09);
  EXPECT_EQ(current[1].n, 412);
  EXPECT_GT(current[1].updated_at.time_since_epoch().count(), 0);
}

// ---- resume ----------------------------------------------------------------------------------

TEST_P(StoreOps, PresentationsFollowTheSequence) {
  auto store = open();
  SessionId s = store->create_session(store->create_candidate("alice", "").id, config()).id;
  EXPECT_THAT(error_of<StoreError>([&] { store->record_presented(s, item(2)); }),
              HasSubstr("record_presented(session " + std::to_string(s) +
                        ", seq 2): seq 2 is out of order: the next is 1"));
  Presentation p = store->record_presented(s, item(1));
  // A replay of the same presentation keeps its original time (the clock keeps running).
  Presentation again = store->record_presented(s, item(1));
  EXPECT_EQ(again.presented_at, p.presented_at);
  Presentation other = item(1);
  other.item = "something-else";
  EXPECT_THAT(error_of<StoreError>([&] { store->record_presented(s, other); }),
              HasSubstr("seq 1 is already seq 1 (item-1 v1)"));
  EXPECT_THAT(error_of<StoreError>([&] { store->record_presented(s, item(2)); }),
              HasSubstr("seq 1 (item-1 v1) is not answered yet"));
  EXPECT_THAT(error_of<StoreError>([&] { store->record_response(s, answer(2, true), {}, {}); }),
              HasSubstr("seq 2 was never presented"));
}

// `assess checklist --db` saves its report; the web application lists and shows the runs.
TEST_P(StoreOps, ChecklistRunsRoundTripNewestFirst) {
  auto store = open();
  const std::string report = R"({"target": "http://127.0.0.1:1", "items": [{"id": "gc-pause", "status": "pass"}]})";
  ChecklistRun first = store->save_checklist_run(
      {.id = 0, .target = "http://127.0.0.1:1", .lang = "go", .checked_at = Time(1'000ms), .report_json = report});
  ChecklistRun second = store->save_checklist_run(
      {.id = 0, .target = "http://[::1]:2", .lang = "gocxx", .checked_at = Time(2'000ms), .report_json = "{}"});
  EXPECT_GT(second.id, first.id);
  std::optional<ChecklistRun> got = store->find_checklist_run(first.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->target, "http://127.0.0.1:1");
  EXPECT_EQ(got->lang, "go");
  EXPECT_EQ(got->checked_at, Time(1'000ms));
  EXPECT_EQ(nlohmann::json::parse(got->report_json), nlohmann::json::parse(report));
  EXPECT_FALSE(store->find_checklist_run(second.id + 1));
  std::vector<ChecklistRun> all = store->list_checklist_runs(10);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, second.id);
  EXPECT_EQ(all[1].id, first.id);
  EXPECT_EQ(store->list_checklist_runs(1).size(), 1u);
  // Refused, and nothing written.
  for (ChecklistRun bad : {ChecklistRun{.target = "", .lang = "go", .report_json = "{}"},
                           ChecklistRun{.target = "x", .lang = "rust", .report_json = "{}"},
                           ChecklistRun{.target = "x", .lang = "go", .report_json = "[1]"},
                           ChecklistRun{.target = "x", .lang = "go", .report_json = "{"}}) {
    EXPECT_THAT(error_of<std::invalid_argument>([&] { store->save_checklist_run(bad); }),
                HasSubstr("save_checklist_run"))
        << bad.target << " " << bad.lang << " " << bad.report_json;
  }
  EXPECT_EQ(store->list_checklist_runs(10).size(), 2u);
}

TEST(StoreResume, RemainingTimeRunsFromTheFirstPresentation) {
  Presentation p = item(1);
  p.presented_at = Time(1'000'000ms);
  EXPECT_EQ(p.remaining(p.presented_at), 300s);
  EXPECT_EQ(p.remaining(p.presented_at + 299'500ms), 500ms);
  EXPECT_EQ(p.remaining(p.presented_at + 1h), 0ms);
  p.time_limit = 0s;
  EXPECT_FALSE(p.remaining(p.presented_at));
}

TEST(StoreResume, AReopenedStoreShowsThePendingItemAgain) {
  TempDir dir;
  SessionId s;
  Presentation shown;
  {
    auto store = open_sqlite_store(dir / "a.db");
    s = store->create_session(store->create_candidate("alice", "").id, config()).id;
    store->record_presented(s, item(1));
    store->record_response(s, answer(1, true), {}, {});
    shown = store->record_presented(s, item(2));
  }
  auto store = open_sqlite_store(dir / "a.db");
  SessionRecord rec = store->load_session(s);
  ASSERT_TRUE(rec.pending());
  EXPECT_EQ(rec.pending()->item, "item-2");
  EXPECT_EQ(rec.pending()->presented_at, shown.presented_at);
  EXPECT_EQ(rec.pending()->remaining(shown.presented_at + 100s), 200s);
  store->record_response(s, answer(2, false), {}, {});
  rec = store->load_session(s);
  EXPECT_FALSE(rec.pending());
  EXPECT_EQ(rec.next_seq(), 3);
}

// ---- the UNIQUE guard --------------------------------------------------------------------------

TEST(StoreUnique, AReplayedResponseIsRefusedAndNotDuplicated) {
  TempDir dir;
  auto store = open_sqlite_store(dir / "a.db");
  SessionId s = store->create_session(store->create_candidate("alice", "").id, config()).id;
  store->record_presented(s, item(1));
  store->record_response(s, answer(1, true), {}, {});
  std::string msg = error_of<DuplicateResponse>([&] {
    store->record_response(s, answer(1, false),
                           std::vector<Estimate>{{.dimension = "concurrency", .theta = 1, .se = 1}},
                           {});
  });
  EXPECT_THAT(msg, HasSubstr("record_response(session " + std::to_string(s) +
                             ", seq 1): seq 1 (item-1 v1) is already answered: an answer is "
                             "recorded once"));
  SessionRecord rec = store->load_session(s);
  ASSERT_EQ(rec.responses.size(), 1u);
  EXPECT_TRUE(rec.responses[0].correct);
  EXPECT_TRUE(rec.estimates.empty());  // the refused call's estimate was rolled back with it

  // The schema itself refuses the duplicate, whoever writes it.
  sqlite::Db raw(dir / "a.db", {});
  EXPECT_THAT(
      error_of<StoreError>([&] { raw.exec("INSERT INTO responses SELECT * FROM responses"); }),
      HasSubstr("UNIQUE constraint failed: responses.session_id, responses.seq"));
}

// ---- refused input -----------------------------------------------------------------------------

TEST(StoreInput, Utf8Validation) {
  using input::invalid_utf8_at;
  constexpr auto ok = std::string_view::npos;
  EXPECT_EQ(invalid_utf8_at(""), ok);
  EXPECT_EQ(invalid_utf8_at("plain ASCII\n\t"), ok);
  EXPECT_EQ(invalid_utf8_at("并发控制力 \xF0\x9F\x98\x80 é"), ok);
  EXPECT_EQ(invalid_utf8_at("ab\xC3("), 2u);           // a lead byte without its continuation
  EXPECT_EQ(invalid_utf8_at("\x80"), 0u);              // a stray continuation byte
  EXPECT_EQ(invalid_utf8_at("x\xC0\xAF"), 1u);         // overlong '/'
  EXPECT_EQ(invalid_utf8_at("\xED\xA0\x80"), 0u);      // a UTF-16 surrogate
  EXPECT_EQ(invalid_utf8_at("\xF4\x90\x80\x80"), 0u);  // past U+10FFFF
  EXPECT_EQ(invalid_utf8_at("abc\xE4\xB8"), 3u);       // cut short
  EXPECT_EQ(invalid_utf8_at("\xFF"), 0u);
}

TEST(StoreInput, MalformedWritesFailLoudlyAndWriteNothing) {
  auto store = open_sqlite_store(":memory:");
  CandidateId c = store->create_candidate("alice", "").id;
  SessionId s = store->create_session(c, config()).id;
  store->record_presented(s, item(1));

  struct Case {
    const char* name;
    std::function<void()> write;
    std::string message;
  };
  auto respond = [&](AnswerRecord a) {
    return [&store, s, a] { store->record_response(s, a, {}, {}); };
  };
  auto with = [](std::function<void(AnswerRecord&)> f) {
    AnswerRecord a = answer(1, true);
    f(a);
    return a;
  };
  auto estimate = [&](Estimate e) {
    return [&store, s, e] { store->record_response(s, answer(1, true), std::vector{e}, {}); };
  };
  auto params = [&](ItemParams p) {
    return [&store, p] { store->save_item_params(std::vector{p}); };
  };
  SessionConfig no_dims = config();
  no_dims.dimensions.clear();
  SessionConfig twice = config();
  twice.dimensions = {"memory", "memory"};
  SessionConfig zero_items = config();
  zero_items.max_items = 0;
  Presentation upper = item(2);
  upper.item = "Select-Default";
  Presentation no_dim = item(2);
  no_dim.dimension = "";
  const double nan = std::numeric_limits<double>::quiet_NaN();

  const Case cases[] = {
      {"empty handle", [&] { store->create_candidate("", ""); },
       "create_candidate: candidate handle is empty"},
      {"handle with a newline", [&] { store->create_candidate("al\nice", ""); },
       "candidate handle \"al\nice\" contains a control character"},
      {"handle with spaces around", [&] { store->create_candidate(" alice", ""); },
       "has leading or trailing spaces"},
      {"handle too long", [&] { store->create_candidate(std::string(129, 'a'), ""); },
       "candidate handle is 129 bytes, over the limit of 128"},
      {"name not UTF-8", [&] { store->create_candidate("bob", "Bo\xFF"); },
       "candidate name is not valid UTF-8 (byte 2 of 3)"},
      {"no dimensions", [&] { store->create_session(c, no_dims); }, "config.dimensions is empty"},
      {"a dimension twice", [&] { store->create_session(c, twice); },
       "config.dimensions names \"memory\" twice"},
      {"max_items 0", [&] { store->create_session(c, zero_items); },
       "config.max_items must be in 1..1000, got 0"},
      {"item id in capitals", [&] { store->record_presented(s, upper); },
       "item \"Select-Default\" must match [a-z0-9][a-z0-9._-]*"},
      {"empty dimension", [&] { store->record_presented(s, no_dim); }, "dimension is empty"},
      {"answer over the cap",
       respond(with([](AnswerRecord& a) { a.answer.assign(kMaxAnswerBytes + 1, 'x'); })),
       "answer is 262145 bytes, over the limit of 262144"},
      {"answer not UTF-8",
       respond(with([](AnswerRecord& a) { a.answer = "fmt.Println(\"\xC3(\")"; })),
       "answer is not valid UTF-8 (byte 13 of 17)"},
      {"answer with NUL", respond(with([](AnswerRecord& a) { a.answer = std::string("a\0b", 3); })),
       "answer contains a NUL byte"},
      {"results not JSON", respond(with([](AnswerRecord& a) { a.results_json = "{\"status\": "; })),
       "results_json is not JSON: [json.exception.parse_error.101]"},
      {"results not an object", respond(with([](AnswerRecord& a) { a.results_json = "[1, 2]"; })),
       "results_json is not a JSON object"},
      {"results over the cap", respond(with([](AnswerRecord& a) {
         a.results_json = std::string(kMaxResultsBytes + 1, ' ');
       })),
       "results_json is 1048577 bytes, over the limit of 1048576"},
      {"score above 1", respond(with([](AnswerRecord& a) { a.score = 1.5; })),
       "score must be in [0, 1], got 1.5"},
      {"negative duration", respond(with([](AnswerRecord& a) { a.duration = -1ms; })),
       "duration is negative"},
      {"answered_at unset", respond(with([](AnswerRecord& a) { a.answered_at = {}; })),
       "answered_at is not set"},
      {"seq 0", respond(with([](AnswerRecord& a) { a.seq = 0; })), "seq must be >= 1, got 0"},
      {"theta NaN", estimate({.dimension = "memory", .theta = nan, .se = 1}),
       "estimate theta is nan, not a finite number"},
      {"negative se", estimate({.dimension = "memory", .theta = 0, .se = -0.1}),
       "estimate se is negative"},
      {"estimate for another seq",
       estimate({.dimension = "memory", .theta = 0, .se = 1, .after_seq = 7}),
       "estimate after_seq 7 is not the response's seq"},
      {"empty rule name",
       [&] {
         store->record_response(s, answer(1, true), {},
                                std::vector<RuleFiring>{{.rule = "", .item = "x"}});
       },
       "rule name is empty"},
      {"a = 0", params({.item = "x", .item_version = 1, .a = 0, .b = 0}),
       "x: a must be > 0, got 0"},
      {"b infinite",
       params(
           {.item = "x", .item_version = 1, .a = 1, .b = std::numeric_limits<double>::infinity()}),
       "b is inf, not a finite number"},
      {"version 0", params({.item = "x", .item_version = 0, .a = 1, .b = 0}),
       "item_version must be >= 1, got 0"},
  };
  for (const Case& k : cases) {
    EXPECT_THAT(error_of<std::invalid_argument>(k.write), HasSubstr(k.message)) << k.name;
  }
  // The cap itself is allowed; nothing refused above was written.
  SessionRecord rec = store->load_session(s);
  EXPECT_TRUE(rec.responses.empty());
  EXPECT_EQ(store->list_sessions({}).size(), 1u);
  EXPECT_FALSE(store->find_candidate("bob"));
  EXPECT_TRUE(store->load_item_params().empty());
  AnswerRecord big = answer(1, true);
  big.answer.assign(kMaxAnswerBytes, 'x');
  EXPECT_EQ(store->record_response(s, big, {}, {}).answer.size(), kMaxAnswerBytes);
  EXPECT_EQ(store->load_session(s).responses.at(0).answer.size(), kMaxAnswerBytes);
}

// ---- concurrency -------------------------------------------------------------------------------

// Goroutines share one Store, each calling it inside gocxx::blocking (the documented use).
TEST(StoreConcurrency, GoroutinesShareOneStore) {
  TempDir dir;
  auto store = open_sqlite_store(dir / "a.db");
  CandidateId c = store->create_candidate("alice", "").id;
  const int sessions = 4, answers = gocxx::test::scaled(20);
  std::vector<SessionId> ids;
  for (int i = 0; i < sessions; ++i) ids.push_back(store->create_session(c, config()).id);
  gocxx::test::run_joined(4, [&] {
    gocxx::errgroup::Group g;
    for (SessionId s : ids) {
      g.go([&store, s, answers] {
        for (int seq = 1; seq <= answers; ++seq) {
          gocxx::blocking([&] {
            store->record_presented(s, item(seq));
            store->record_response(s, answer(seq, seq % 2 == 0), {}, {});
          });
        }
        return gocxx::error();
      });
    }
    EXPECT_FALSE(g.wait());
  });
  for (SessionId s : ids) EXPECT_EQ(store->load_session(s).responses.size(), size_t(answers));
}

// Two connections (two processes, in effect: the web server and the CLI) write one database at
// once: the busy timeout and BEGIN IMMEDIATE make them take turns instead of failing.
TEST(StoreConcurrency, TwoConnectionsTakeTurns) {
  TempDir dir;
  SessionId s1, s2;
  {
    auto store = open_sqlite_store(dir / "a.db");
    CandidateId c = store->create_candidate("alice", "").id;
    s1 = store->create_session(c, config()).id;
    s2 = store->create_session(c, config()).id;
  }
  const int answers = gocxx::test::scaled(30);
  auto writer = [&](SessionId s) {
    auto store = open_sqlite_store(dir / "a.db");
    for (int seq = 1; seq <= answers; ++seq) {
      store->record_presented(s, item(seq));
      store->record_response(s, answer(seq, true), {}, {});
    }
  };
  std::thread a(writer, s1), b(writer, s2);
  a.join();
  b.join();
  auto store = open_sqlite_store(dir / "a.db");
  EXPECT_EQ(store->load_session(s1).responses.size(), size_t(answers));
  EXPECT_EQ(store->load_session(s2).responses.size(), size_t(answers));
}

// Processes that open a new database at the same moment: one migrates, the others wait for its
// lock, then find nothing left to do.
TEST(StoreConcurrency, SimultaneousFirstOpensMigrateOnce) {
  TempDir dir;
  for (int round = 0; round < gocxx::test::scaled(10); ++round) {
    fs::path db = dir / "a.db";
    fs::remove(db);
    std::vector<std::thread> openers;
    std::atomic<int> opened{0};
    for (int i = 0; i < 4; ++i) {
      openers.emplace_back([&] {
        if (open_sqlite_store(db)->schema_version() == kVersion) opened++;
      });
    }
    for (auto& t : openers) t.join();
    EXPECT_EQ(opened.load(), 4);
    EXPECT_EQ(raw_scalar(db, "SELECT count(*) FROM schema_migrations"), std::to_string(kVersion));
  }
}

// ---- crash safety ------------------------------------------------------------------------------

// The child: resumes the session and answers item after item, writing each committed seq to the
// pipe, until it is killed. Never returns.
[[noreturn]] void crash_writer(const fs::path& db, SessionId s, int fd, unsigned seed) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  try {
    std::mt19937 rng(seed);
    auto store = open_sqlite_store(db);
    SessionRecord rec = store->load_session(s);
    auto pending = rec.pending();
    int seq = pending ? pending->seq : store->record_presented(s, item(rec.next_seq())).seq;
    for (;; ++seq) {
      // Answers of 1..16 KiB: commits span several pages, and the WAL checkpoints now and then.
      std::string text(1024 + rng() % (15 * 1024), static_cast<char>('a' + seq % 26));
      AnswerRecord a = answer(seq, rng() % 2 == 0, std::move(text));
      std::vector<Estimate> e{{.dimension = "concurrency", .theta = seq / 100.0, .se = 1.0 / seq}};
      std::vector<RuleFiring> f;
      if (seq % 3 == 0) f.push_back({.rule = "every third", .item = "item-bonus"});
      store->record_response(s, a, e, f);
      if (write(fd, &seq, sizeof seq) != sizeof seq) _exit(2);
      store->record_presented(s, item(seq + 1));
    }
  } catch (const std::exception& e) {
    fprintf(stderr, "crash_writer: %s\n", e.what());
    _exit(3);
  }
}

TEST(StoreCrash, AWriterKilledAtRandomPointsLosesNothingItCommitted) {
  TempDir dir;
  const fs::path db = dir / "crash.db";
  SessionId s;
  {
    auto store = open_sqlite_store(db);
    s = store->create_session(store->create_candidate("alice", "").id, config()).id;
  }
  std::mt19937 rng(20240611);
  std::set<int> reported;
  const int rounds = 8;
  for (int round = 0; round < rounds; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      crash_writer(db, s, fds[1], rng());
    }
    close(fds[1]);
    // Kill after a random number of commits plus a random delay: mid-transaction, mid-fsync,
    // mid-checkpoint, or between two writes.
    int commits = 1 + static_cast<int>(rng() % 25);
    auto delay = std::chrono::microseconds(rng() % 3000);
    int seq;
    for (int i = 0; i < commits && read(fds[0], &seq, sizeof seq) == sizeof seq; ++i) {
      reported.insert(seq);
    }
    std::this_thread::sleep_for(delay);
    kill(pid, SIGKILL);
    while (read(fds[0], &seq, sizeof seq) == sizeof seq) reported.insert(seq);
    close(fds[0]);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "round " << round << ": the writer ended by itself (status " << status
        << "); its stderr says why";

    EXPECT_EQ(raw_scalar(db, "PRAGMA integrity_check"), "ok") << "round " << round;
    EXPECT_EQ(raw_scalar(db, "SELECT count(*) FROM pragma_foreign_key_check"), "0");
    auto store = open_sqlite_store(db);
    SessionRecord rec = store->load_session(s);
    std::set<int> stored;
    for (std::size_t i = 0; i < rec.responses.size(); ++i) {
      EXPECT_EQ(rec.responses[i].seq, static_cast<int>(i) + 1);  // no gaps, no duplicates
      stored.insert(rec.responses[i].seq);
    }
    for (int r : reported) {
      EXPECT_TRUE(stored.count(r))
          << "round " << round << ": seq " << r << " was reported committed but is lost";
    }
    // A response, its estimate and its rule firing are one transaction: all or none.
    EXPECT_EQ(rec.estimates.size(), rec.responses.size());
    EXPECT_EQ(rec.firings.size(), rec.responses.size() / 3);
    // Presentations run at most one ahead of responses.
    EXPECT_GE(rec.presented.size(), rec.responses.size());
    EXPECT_LE(rec.presented.size(), rec.responses.size() + 1);
  }
  ASSERT_GE(reported.size(), static_cast<std::size_t>(rounds));

  // The session resumes where the last writer stopped.
  auto store = open_sqlite_store(db);
  SessionRecord rec = store->load_session(s);
  int next = rec.pending() ? rec.pending()->seq : rec.next_seq();
  EXPECT_EQ(next, static_cast<int>(rec.responses.size()) + 1);
  if (!rec.pending()) store->record_presented(s, item(next));
  store->record_response(s, answer(next, true), {}, {});
  EXPECT_EQ(store->load_session(s).responses.back().seq, next);
}

}  // namespace
