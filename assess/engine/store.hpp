// The results store: candidates, assessment sessions, every presented item and response with its
// timing and grader output, ability estimates, adaptive-rule firings, and item parameters.
//
//   auto store = assess::open_sqlite_store("assess.db");   // creates it, applies migrations
//   auto cand = store->create_candidate("alice", "Alice Example");
//   auto s = store->create_session(cand.id, {.dimensions = {"concurrency"}, .seed = 42});
//   store->record_presented(s.id, {.seq = 1, .item = "select-default-spin", .item_version = 1,
//                                  .dimension = "concurrency", .time_limit = 300s});
//   ... the candidate answers, the grader grades ...
//   store->record_response(s.id, {.seq = 1, .answer = "2", .correct = true, .score = 1,
//                                 .results_json = results.dump(), .answered_at = submitted},
//                          {{.dimension = "concurrency", .theta = 0.4, .se = 0.8}}, {});
//   // after a crash: everything committed is back, the unanswered item with its remaining time
//   auto rec = store->load_session(s.id);
//   if (auto p = rec.pending()) re_present(*p, p->remaining(assess::now()));
//   else next = rec.next_seq();
//
// Store is the narrow interface the engine, the CLI and (later) the web application use, so a
// server database can be added as another implementation; SqliteStore is the embedded default.
// Every write is one transaction, committed (fsynced: WAL, synchronous=FULL) before the call
// returns: record_response returning is the point after which a crash loses nothing, so the
// caller shows the grader's verdict only after it. A Store is safe to share between threads and
// goroutines (calls are serialized on its one connection). Calls block their thread (a commit is
// an fsync, a few milliseconds): from a goroutine, call them inside gocxx::blocking, as for
// sandbox::run (the store does not, since gocxx::blocking does not nest).
//
// Errors: std::invalid_argument for malformed input (empty or malformed ids, an answer over
// kMaxAnswerBytes, invalid UTF-8, results that are not a JSON object, ...), StoreError for
// everything the database refuses or fails at, with the operation and SQLite's message;
// DuplicateResponse (a StoreError) when a response for that (session, seq) is already committed.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace assess {

using namespace std::chrono_literals;

// Timestamps are UTC wall-clock time with millisecond resolution (stored as Unix milliseconds).
using Time = std::chrono::sys_time<std::chrono::milliseconds>;
Time now();

using CandidateId = std::int64_t;
using SessionId = std::int64_t;

// Input caps: beyond them a write fails with std::invalid_argument (nothing is truncated).
inline constexpr std::size_t kMaxAnswerBytes = 256u << 10;  // a fix item's edited files
inline constexpr std::size_t kMaxResultsBytes = 1u << 20;   // results.json (a grader's output)
inline constexpr std::size_t kMaxIdBytes = 128;    // item ids, dimensions, handles, rule names
inline constexpr std::size_t kMaxNameBytes = 256;  // a candidate's display name

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The response for that (session, seq) is already committed: a replay after a crash.
class DuplicateResponse : public StoreError {
 public:
  using StoreError::StoreError;
};

enum class SessionState { active, finished, abandoned };
const char* to_string(SessionState);

struct Candidate {
  CandidateId id = 0;
  std::string handle;  // unique login-like id ("alice", an e-mail address)
  std::string name;    // display name, may be empty
  Time created_at{};
};

struct SessionConfig {
  std::vector<std::string> dimensions;  // at least one; ids as in the bank
  bool pressure = false;                // pressure mode (time pressure, labs under load)
  int max_items = 12;                   // per dimension, 1..1000
  std::uint64_t seed = 0;               // item selection's RNG: a session replays exactly
  std::chrono::seconds time_limit{0};   // the whole session; 0 = none
};

struct Session {
  SessionId id = 0;
  CandidateId candidate_id = 0;
  SessionConfig config;
  SessionState state = SessionState::active;
  Time created_at{};
  Time updated_at{};                // the last write to the session (progress)
  std::optional<Time> finished_at;  // when it became finished or abandoned
};

// An item shown to the candidate. seq numbers a session's items 1, 2, 3, ...
struct Presentation {
  int seq = 0;
  std::string item;
  int item_version = 0;
  std::string dimension;
  std::chrono::seconds time_limit{0};  // the item's; 0 = none
  Time presented_at{};                 // set by the store when first recorded

  // Time left at `at` (never negative); nullopt without a limit. The clock runs from the first
  // presentation, also while the process was down: a restart or reload does not reset it.
  std::optional<std::chrono::milliseconds> remaining(Time at) const;
};

// What record_response takes: the candidate's answer to presentation `seq` and its grading.
struct AnswerRecord {
  int seq = 0;
  std::string answer;  // may be empty (timed out); <= kMaxAnswerBytes, UTF-8
  bool correct = false;
  double score = 0;          // 0..1 (partial credit; correct answers usually 1)
  std::string results_json;  // the grader's results.json: a JSON object
  Time answered_at{};        // when submitted (before grading); required
  std::optional<std::chrono::milliseconds> duration;  // default: answered_at - presented_at
};

// A committed response: the answer plus what it answered (copied from its presentation).
struct Response : AnswerRecord {
  std::string item;
  int item_version = 0;
  std::string dimension;
  Time started_at{};  // = the presentation's presented_at
};

// An ability estimate after response `after_seq` (set by the store to the response's seq).
struct Estimate {
  std::string dimension;
  double theta = 0;
  double se = 0;
  int after_seq = 0;
};

// An adaptive rule that fired after response `seq` (set by the store), pushing `item`.
struct RuleFiring {
  std::string rule;
  std::string item;
  int seq = 0;
};

// Everything about one session, ordered by seq: what resume and reports need.
struct SessionRecord {
  Session session;
  Candidate candidate;
  std::vector<Presentation> presented;
  std::vector<Response> responses;
  std::vector<Estimate> estimates;  // by after_seq, then dimension
  std::vector<RuleFiring> firings;

  // The item presented but not answered (at most one), to re-present on resume.
  std::optional<Presentation> pending() const;
  // The seq the next new item takes (after the pending one, if any, is answered).
  int next_seq() const;
  // The latest estimate for a dimension, if any.
  std::optional<Estimate> latest_estimate(std::string_view dimension) const;
};

struct SessionSummary {
  Session session;
  Candidate candidate;
  int responses = 0;
  int correct = 0;
};

struct SessionFilter {
  std::optional<CandidateId> candidate;
  std::optional<SessionState> state;
};

// One logged response, as calibration needs it.
struct CalibrationResponse {
  std::string item;
  int item_version = 0;
  SessionId session = 0;
  bool correct = false;
};

struct ItemParams {
  enum class Source { declared, calibrated };
  std::string item;
  int item_version = 0;
  double a = 1;                      // discrimination, > 0
  double b = 0;                      // difficulty
  std::optional<double> se_a, se_b;  // standard errors (calibrated params)
  Source source = Source::declared;
  int n = 0;          // responses the estimate used
  Time updated_at{};  // set by the store
};
const char* to_string(ItemParams::Source);

// ---- the web application's records (`assess serve`, assess/web) ----
// Every secret the web application hands out (the interviewer's credential, a browser's cookie,
// a candidate link) is stored only as its SHA-256, 64 lowercase hex digits: a copy of the
// database logs nobody in.

enum class WebRole { interviewer, candidate };
const char* to_string(WebRole);

// A logged-in browser.
struct WebSession {
  std::string token_hash;            // the cookie's token, hashed
  WebRole role = WebRole::candidate;
  std::optional<SessionId> session;  // candidate: the one assessment its cookie reaches
  std::string csrf;                  // the synchronizer token its forms carry (not a credential alone)
  Time created_at{};                 // set by the store
  Time expires_at{};
};

// A one-time candidate link (/c/<token>) to one session.
struct Invite {
  std::string token_hash;
  SessionId session = 0;
  Time created_at{};  // set by the store
  Time expires_at{};
  std::optional<Time> used_at;  // redeemed
};

// A production checklist run (`assess checklist --db`), which the web application lists for
// interviewers (/i/checklists).
using ChecklistRunId = std::int64_t;
struct ChecklistRun {
  ChecklistRunId id = 0;    // set by the store
  std::string target;       // the service's URL
  std::string lang;         // "go" | "gocxx"
  Time checked_at{};
  std::string report_json;  // the report's JSON object (assess::checklist::to_json)
};

class Store {
 public:
  virtual ~Store() = default;

  // A new candidate; the handle must be unused (StoreError otherwise).
  virtual Candidate create_candidate(const std::string& handle, const std::string& name) = 0;
  virtual std::optional<Candidate> find_candidate(const std::string& handle) = 0;

  // A new active session for an existing candidate.
  virtual Session create_session(CandidateId candidate, const SessionConfig& config) = 0;

  // Records that item p.item is shown as p.seq (= next_seq()); returns it with presented_at.
  // The previous item must be answered. Recording the same (seq, item, version) again returns
  // the stored presentation unchanged (a replay after a crash keeps the original time).
  virtual Presentation record_presented(SessionId session, const Presentation& p) = 0;

  // Commits the answer to presentation a.seq with the estimates and rule firings it produced,
  // in one transaction. DuplicateResponse if that seq is already answered.
  virtual Response record_response(SessionId session, const AnswerRecord& a,
                                   const std::vector<Estimate>& estimates,
                                   const std::vector<RuleFiring>& firings) = 0;

  // Everything about a session (StoreError if there is no such session).
  virtual SessionRecord load_session(SessionId session) = 0;

  // Sessions matching the filter ({} = all), newest first.
  virtual std::vector<SessionSummary> list_sessions(const SessionFilter& filter) = 0;

  // Ends an active session: final_state is finished or abandoned.
  virtual Session finish_session(SessionId session, SessionState final_state) = 0;

  // Every committed response of every session (any state), by item, version, session, seq.
  virtual std::vector<CalibrationResponse> calibration_responses() = 0;

  // Saves a batch of parameters in one transaction; each becomes its item's current one (the
  // history is kept).
  virtual void save_item_params(const std::vector<ItemParams>& params) = 0;
  // The current (latest saved) parameters of every (item, version), by item and version.
  virtual std::vector<ItemParams> load_item_params() = 0;

  // The web application (store_web.cpp). The interviewer's credential: replacing it also ends
  // every interviewer's web session.
  virtual void set_interviewer_token(const std::string& token_hash) = 0;
  virtual std::optional<std::string> interviewer_token() = 0;
  // A new link to the session (which must be active); the session's unused links stop working.
  virtual Invite create_invite(SessionId session, const std::string& token_hash, Time expires_at) = 0;
  virtual std::optional<Invite> find_invite(const std::string& token_hash) = 0;
  // Marks the link used and returns its session, in one transaction; nullopt when it is
  // unknown, used, expired at `at`, or its session is no longer active.
  virtual std::optional<SessionId> redeem_invite(const std::string& token_hash, Time at) = 0;
  // Stores a web session (the expired ones are dropped on the way).
  virtual WebSession create_web_session(const WebSession& s) = 0;
  // The web session, unless unknown or expired at `at`.
  virtual std::optional<WebSession> find_web_session(const std::string& token_hash, Time at) = 0;
  virtual void delete_web_session(const std::string& token_hash) = 0;
  // Production checklist runs (store_web.cpp). Saving checks the fields (lang go or gocxx, the
  // report a JSON object); listing gives the newest `limit` runs, newest first.
  virtual ChecklistRun save_checklist_run(const ChecklistRun& run) = 0;
  virtual std::vector<ChecklistRun> list_checklist_runs(std::size_t limit) = 0;
  virtual std::optional<ChecklistRun> find_checklist_run(ChecklistRunId id) = 0;
};

struct SqliteOptions {
  std::chrono::milliseconds busy_timeout = 5s;  // waiting for another process's write lock
};

// The SQLite store: one connection, its calls serialized by a mutex. Opening applies the pending
// schema migrations in order (all in one transaction, each recorded in table schema_migrations)
// and refuses a database whose schema is newer than this program's, or that is not an assess
// database. Path ":memory:" gives a private in-memory database (tests).
class SqliteStore final : public Store {
 public:
  struct Impl;
  explicit SqliteStore(std::unique_ptr<Impl> impl);
  ~SqliteStore() override;

  Candidate create_candidate(const std::string& handle, const std::string& name) override;
  std::optional<Candidate> find_candidate(const std::string& handle) override;
  Session create_session(CandidateId candidate, const SessionConfig& config) override;
  Presentation record_presented(SessionId session, const Presentation& p) override;
  Response record_response(SessionId session, const AnswerRecord& a,
                           const std::vector<Estimate>& estimates,
                           const std::vector<RuleFiring>& firings) override;
  SessionRecord load_session(SessionId session) override;
  std::vector<SessionSummary> list_sessions(const SessionFilter& filter) override;
  Session finish_session(SessionId session, SessionState final_state) override;
  std::vector<CalibrationResponse> calibration_responses() override;
  void save_item_params(const std::vector<ItemParams>& params) override;
  std::vector<ItemParams> load_item_params() override;
  void set_interviewer_token(const std::string& token_hash) override;
  std::optional<std::string> interviewer_token() override;
  Invite create_invite(SessionId session, const std::string& token_hash, Time expires_at) override;
  std::optional<Invite> find_invite(const std::string& token_hash) override;
  std::optional<SessionId> redeem_invite(const std::string& token_hash, Time at) override;
  WebSession create_web_session(const WebSession& s) override;
  std::optional<WebSession> find_web_session(const std::string& token_hash, Time at) override;
  void delete_web_session(const std::string& token_hash) override;
  ChecklistRun save_checklist_run(const ChecklistRun& run) override;
  std::vector<ChecklistRun> list_checklist_runs(std::size_t limit) override;
  std::optional<ChecklistRun> find_checklist_run(ChecklistRunId id) override;

  // The schema version of the open database (the newest applied migration).
  int schema_version();
  const std::filesystem::path& path() const;

 private:
  std::unique_ptr<Impl> impl_;
};

std::unique_ptr<SqliteStore> open_sqlite_store(const std::filesystem::path& path,
                                               const SqliteOptions& options = {});

}  // namespace assess
