// SqliteStore's operations. Each takes the store's mutex for its whole length, names itself for
// error messages (Db::Op), checks its input before SQL sees it, and writes in one transaction.
#include "engine/store.hpp"

#include <algorithm>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <tuple>

#include "engine/store_input.hpp"
#include "engine/store_sqlite.hpp"

namespace assess {

using sqlite::Db;
using sqlite::Query;
using sqlite::Txn;

namespace {

std::string session_op(std::string_view name, SessionId session) {
  return std::string(name) + "(session " + std::to_string(session) + ")";
}

std::string seq_op(std::string_view name, SessionId session, int seq) {
  return std::string(name) + "(session " + std::to_string(session) + ", seq " +
         std::to_string(seq) + ")";
}

std::string config_json(const SessionConfig& c) {
  return nlohmann::json{{"dimensions", c.dimensions},
                        {"pressure", c.pressure},
                        {"max_items", c.max_items},
                        {"seed", c.seed},
                        {"time_limit_s", c.time_limit.count()}}
      .dump();
}

// Unknown keys are ignored: a later program (the web application) may store more.
SessionConfig parse_config(const Db& db, SessionId id, const std::string& text) {
  try {
    auto j = nlohmann::json::parse(text);
    return SessionConfig{.dimensions = j.at("dimensions").get<std::vector<std::string>>(),
                         .pressure = j.at("pressure").get<bool>(),
                         .max_items = j.at("max_items").get<int>(),
                         .seed = j.at("seed").get<std::uint64_t>(),
                         .time_limit = std::chrono::seconds(j.at("time_limit_s").get<long>())};
  } catch (const nlohmann::json::exception& e) {
    throw db.error("session " + std::to_string(id) + " has a malformed config: " + e.what());
  }
}

// The enumerator of `all` whose to_string is s; unknown text is a database this program does
// not understand (written by a newer one).
template <class E>
E parse_enum(const Db& db, std::string_view column, const std::string& s,
             std::initializer_list<E> all) {
  for (E e : all) {
    if (s == to_string(e)) return e;
  }
  throw db.error(std::string(column) + " \"" + s + "\" is unknown to this program");
}

// The columns read_session_row reads, in its order; `s` is sessions, `c` candidates.
constexpr std::string_view kSessionColumns =
    "s.id, s.candidate_id, s.config, s.state, s.created_at, s.updated_at, s.finished_at, "
    "c.id, c.handle, c.name, c.created_at";

std::pair<Session, Candidate> read_session_row(const Db& db, const Query& q) {
  SessionId id = q.i64(0);
  Session s{
      .id = id,
      .candidate_id = q.i64(1),
      .config = parse_config(db, id, q.text(2)),
      .state = parse_enum(db, "sessions.state", q.text(3),
                          {SessionState::active, SessionState::finished, SessionState::abandoned}),
      .created_at = q.time(4),
      .updated_at = q.time(5),
      .finished_at = q.opt_time(6)};
  return {s, Candidate{
                 .id = q.i64(7), .handle = q.text(8), .name = q.text(9), .created_at = q.time(10)}};
}

std::pair<Session, Candidate> load_session_row(Db& db, SessionId id) {
  static const std::string sql = "SELECT " + std::string(kSessionColumns) +
                                 " FROM sessions s JOIN candidates c ON c.id = s.candidate_id"
                                 " WHERE s.id = ?";
  Query q = db.query(sql);
  if (!q.bind(id).next()) throw db.error("no session " + std::to_string(id));
  return read_session_row(db, q);
}

// Writes change only active sessions.
void require_active(Db& db, SessionId id) {
  Query q = db.query("SELECT state FROM sessions WHERE id = ?");
  if (!q.bind(id).next()) throw db.error("no session " + std::to_string(id));
  if (std::string state = q.text(0); state != to_string(SessionState::active)) {
    throw db.error("session " + std::to_string(id) + " is " + state + ": it takes no more writes");
  }
}

void touch_session(Db& db, SessionId id, Time at) {
  db.query("UPDATE sessions SET updated_at = ? WHERE id = ?").bind(at, id).run();
}

constexpr std::string_view kPresentationColumns =
    "seq, item, item_version, dimension, time_limit_s, presented_at";

Presentation read_presentation(const Query& q) {
  return Presentation{.seq = q.i32(0),
                      .item = q.text(1),
                      .item_version = q.i32(2),
                      .dimension = q.text(3),
                      .time_limit = std::chrono::seconds(q.i64(4)),
                      .presented_at = q.time(5)};
}

std::optional<Presentation> find_presentation(Db& db, SessionId id, int seq) {
  static const std::string sql = "SELECT " + std::string(kPresentationColumns) +
                                 " FROM presentations WHERE session_id = ? AND seq = ?";
  Query q = db.query(sql);
  if (!q.bind(id, seq).next()) return std::nullopt;
  return read_presentation(q);
}

std::string describe(const Presentation& p) {
  return "seq " + std::to_string(p.seq) + " (" + p.item + " v" + std::to_string(p.item_version) +
         ")";
}

}  // namespace

SqliteStore::SqliteStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteStore::~SqliteStore() = default;

const std::filesystem::path& SqliteStore::path() const { return impl_->db.path(); }

int SqliteStore::schema_version() {
  return impl_->run("schema_version", [&](Db& db) {
    return std::stoi(db.scalar("SELECT coalesce(max(version), 0) FROM schema_migrations"));
  });
}

Candidate SqliteStore::create_candidate(const std::string& handle, const std::string& name) {
  return impl_->run("create_candidate", [&](Db& db) {
    input::check_label("candidate handle", handle, kMaxIdBytes);
    input::check_text("candidate name", name, kMaxNameBytes);
    Txn txn(db);
    if (Query q = db.query("SELECT id FROM candidates WHERE handle = ?"); q.bind(handle).next()) {
      throw db.error("candidate handle \"" + handle + "\" is taken (candidate " +
                     std::to_string(q.i64(0)) + ")");
    }
    Candidate c{.handle = handle, .name = name, .created_at = now()};
    {
      Query q = db.query(
          "INSERT INTO candidates (handle, name, created_at) VALUES (?, ?, ?) RETURNING id");
      q.bind(c.handle, c.name, c.created_at).next();
      c.id = q.i64(0);
    }
    txn.commit();
    return c;
  });
}

std::optional<Candidate> SqliteStore::find_candidate(const std::string& handle) {
  return impl_->run("find_candidate", [&](Db& db) -> std::optional<Candidate> {
    Query q = db.query("SELECT id, handle, name, created_at FROM candidates WHERE handle = ?");
    if (!q.bind(handle).next()) return std::nullopt;
    return Candidate{
        .id = q.i64(0), .handle = q.text(1), .name = q.text(2), .created_at = q.time(3)};
  });
}

Session SqliteStore::create_session(CandidateId candidate, const SessionConfig& config) {
  return impl_->run("create_session(candidate " + std::to_string(candidate) + ")", [&](Db& db) {
    input::check_config(config);
    Txn txn(db);
    if (!db.query("SELECT 1 FROM candidates WHERE id = ?").bind(candidate).next()) {
      throw db.error("no candidate " + std::to_string(candidate));
    }
    Time at = now();
    Session s{.candidate_id = candidate,
              .config = config,
              .state = SessionState::active,
              .created_at = at,
              .updated_at = at,
              .finished_at = std::nullopt};
    {
      Query q = db.query(
          "INSERT INTO sessions (candidate_id, config, state, created_at, updated_at)"
          " VALUES (?, ?, ?, ?, ?) RETURNING id");
      q.bind(candidate, config_json(config), to_string(s.state), at, at).next();
      s.id = q.i64(0);
    }
    txn.commit();
    return s;
  });
}

Presentation SqliteStore::record_presented(SessionId session, const Presentation& p) {
  return impl_->run(seq_op("record_presented", session, p.seq), [&](Db& db) {
    input::check_presentation(p);
    Txn txn(db);
    require_active(db, session);
    if (auto old = find_presentation(db, session, p.seq)) {
      if (old->item == p.item && old->item_version == p.item_version &&
          old->dimension == p.dimension) {
        return *old;  // a replay: the original presentation, its clock still running
      }
      throw db.error("seq " + std::to_string(p.seq) + " is already " + describe(*old));
    }
    int next = 1;
    {
      // The last presentation, and whether it is answered.
      static const std::string sql =
          "SELECT " + std::string(kPresentationColumns) +
          ", EXISTS (SELECT 1 FROM responses r WHERE r.session_id = p.session_id"
          " AND r.seq = p.seq) FROM presentations p WHERE session_id = ? ORDER BY seq DESC LIMIT 1";
      Query q = db.query(sql);
      if (q.bind(session).next()) {
        Presentation last = read_presentation(q);
        if (!q.boolean(6)) {
          throw db.error(describe(last) +
                         " is not answered yet: record its response before presenting another");
        }
        next = last.seq + 1;
      }
    }
    if (p.seq != next) {
      throw db.error("seq " + std::to_string(p.seq) + " is out of order: the next is " +
                     std::to_string(next));
    }
    Presentation out = p;
    out.presented_at = now();
    db.query(
          "INSERT INTO presentations"
          " (session_id, seq, item, item_version, dimension, time_limit_s, presented_at)"
          " VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind(session, out.seq, out.item, out.item_version, out.dimension, out.time_limit.count(),
              out.presented_at)
        .run();
    touch_session(db, session, out.presented_at);
    txn.commit();
    return out;
  });
}

Response SqliteStore::record_response(SessionId session, const AnswerRecord& a,
                                      const std::vector<Estimate>& estimates,
                                      const std::vector<RuleFiring>& firings) {
  return impl_->run(seq_op("record_response", session, a.seq), [&](Db& db) {
    input::check_answer(a, estimates, firings);
    Txn txn(db);
    require_active(db, session);
    auto p = find_presentation(db, session, a.seq);
    if (!p) {
      throw db.error("seq " + std::to_string(a.seq) +
                     " was never presented (record_presented comes first)");
    }
    if (db.query("SELECT 1 FROM responses WHERE session_id = ? AND seq = ?")
            .bind(session, a.seq)
            .next()) {
      throw DuplicateResponse(
          db.error(describe(*p) + " is already answered: an answer is recorded once").what());
    }
    Response r{a, p->item, p->item_version, p->dimension, p->presented_at};
    r.duration =
        a.duration.value_or(std::max(std::chrono::milliseconds(0), a.answered_at - r.started_at));
    db.query(
          "INSERT INTO responses (session_id, seq, item, item_version, dimension, answer, correct,"
          " score, results, started_at, answered_at, duration_ms)"
          " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .bind(session, r.seq, r.item, r.item_version, r.dimension, r.answer, r.correct, r.score,
              r.results_json, r.started_at, r.answered_at, r.duration->count())
        .run();
    for (const Estimate& e : estimates) {
      db.query(
            "INSERT INTO estimates (session_id, after_seq, dimension, theta, se)"
            " VALUES (?, ?, ?, ?, ?)")
          .bind(session, a.seq, e.dimension, e.theta, e.se)
          .run();
    }
    for (const RuleFiring& f : firings) {
      db.query("INSERT INTO rule_firings (session_id, seq, rule, item) VALUES (?, ?, ?, ?)")
          .bind(session, a.seq, f.rule, f.item)
          .run();
    }
    touch_session(db, session, now());
    txn.commit();
    return r;
  });
}

SessionRecord SqliteStore::load_session(SessionId session) {
  return impl_->run(session_op("load_session", session), [&](Db& db) {
    Txn txn(db, Txn::read);
    SessionRecord rec;
    std::tie(rec.session, rec.candidate) = load_session_row(db, session);
    {
      static const std::string sql = "SELECT " + std::string(kPresentationColumns) +
                                     " FROM presentations WHERE session_id = ? ORDER BY seq";
      Query q = db.query(sql);
      q.bind(session);
      while (q.next()) rec.presented.push_back(read_presentation(q));
    }
    {
      Query q = db.query(
          "SELECT seq, answer, correct, score, results, answered_at, duration_ms, item,"
          " item_version, dimension, started_at FROM responses WHERE session_id = ? ORDER BY seq");
      q.bind(session);
      while (q.next()) {
        Response r;
        r.seq = q.i32(0);
        r.answer = q.text(1);
        r.correct = q.boolean(2);
        r.score = q.f64(3);
        r.results_json = q.text(4);
        r.answered_at = q.time(5);
        r.duration = std::chrono::milliseconds(q.i64(6));
        r.item = q.text(7);
        r.item_version = q.i32(8);
        r.dimension = q.text(9);
        r.started_at = q.time(10);
        rec.responses.push_back(std::move(r));
      }
    }
    {
      Query q = db.query(
          "SELECT dimension, theta, se, after_seq FROM estimates WHERE session_id = ?"
          " ORDER BY after_seq, dimension");
      q.bind(session);
      while (q.next()) {
        rec.estimates.push_back(
            {.dimension = q.text(0), .theta = q.f64(1), .se = q.f64(2), .after_seq = q.i32(3)});
      }
    }
    {
      Query q = db.query(
          "SELECT rule, item, seq FROM rule_firings WHERE session_id = ? ORDER BY seq, rule");
      q.bind(session);
      while (q.next())
        rec.firings.push_back({.rule = q.text(0), .item = q.text(1), .seq = q.i32(2)});
    }
    txn.commit();
    return rec;
  });
}

std::vector<SessionSummary> SqliteStore::list_sessions(const SessionFilter& filter) {
  return impl_->run("list_sessions", [&](Db& db) {
    static const std::string sql =
        "SELECT " + std::string(kSessionColumns) +
        ", (SELECT count(*) FROM responses r WHERE r.session_id = s.id),"
        " (SELECT count(*) FROM responses r WHERE r.session_id = s.id AND r.correct = 1)"
        " FROM sessions s JOIN candidates c ON c.id = s.candidate_id"
        " WHERE (?1 IS NULL OR s.candidate_id = ?1) AND (?2 IS NULL OR s.state = ?2)"
        " ORDER BY s.id DESC";
    std::optional<std::string> state;
    if (filter.state) state = to_string(*filter.state);
    std::vector<SessionSummary> out;
    Query q = db.query(sql);
    q.bind(filter.candidate, state);
    while (q.next()) {
      auto [s, c] = read_session_row(db, q);
      out.push_back({.session = std::move(s),
                     .candidate = std::move(c),
                     .responses = q.i32(11),
                     .correct = q.i32(12)});
    }
    return out;
  });
}

Session SqliteStore::finish_session(SessionId session, SessionState final_state) {
  return impl_->run(session_op("finish_session", session), [&](Db& db) {
    if (final_state == SessionState::active)
      throw std::invalid_argument("the final state must be finished or abandoned");
    Txn txn(db);
    require_active(db, session);
    Time at = now();
    db.query("UPDATE sessions SET state = ?, finished_at = ?, updated_at = ? WHERE id = ?")
        .bind(to_string(final_state), at, at, session)
        .run();
    Session s = load_session_row(db, session).first;
    txn.commit();
    return s;
  });
}

std::vector<CalibrationResponse> SqliteStore::calibration_responses() {
  return impl_->run("calibration_responses", [&](Db& db) {
    std::vector<CalibrationResponse> out;
    Query q = db.query(
        "SELECT item, item_version, session_id, correct FROM responses"
        " ORDER BY item, item_version, session_id, seq");
    while (q.next()) {
      out.push_back({.item = q.text(0),
                     .item_version = q.i32(1),
                     .session = q.i64(2),
                     .correct = q.boolean(3)});
    }
    return out;
  });
}

void SqliteStore::save_item_params(const std::vector<ItemParams>& params) {
  return impl_->run("save_item_params", [&](Db& db) {
    for (const ItemParams& p : params) input::check_params(p);
    Txn txn(db);
    Time at = now();
    for (const ItemParams& p : params) {
      db.query(
            "INSERT INTO item_params (item, item_version, a, b, se_a, se_b, source, n, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
          .bind(p.item, p.item_version, p.a, p.b, p.se_a, p.se_b, to_string(p.source), p.n, at)
          .run();
    }
    txn.commit();
  });
}

std::vector<ItemParams> SqliteStore::load_item_params() {
  return impl_->run("load_item_params", [&](Db& db) {
    std::vector<ItemParams> out;
    Query q = db.query(
        "SELECT item, item_version, a, b, se_a, se_b, source, n, updated_at FROM item_params p"
        " WHERE id = (SELECT max(id) FROM item_params l"
        "             WHERE l.item = p.item AND l.item_version = p.item_version)"
        " ORDER BY item, item_version");
    while (q.next()) {
      out.push_back(
          {.item = q.text(0),
           .item_version = q.i32(1),
           .a = q.f64(2),
           .b = q.f64(3),
           .se_a = q.opt_f64(4),
           .se_b = q.opt_f64(5),
           .source = parse_enum(db, "item_params.source", q.text(6),
                                {ItemParams::Source::declared, ItemParams::Source::calibrated}),
           .n = q.i32(7),
           .updated_at = q.time(8)});
    }
    return out;
  });
}

std::unique_ptr<SqliteStore> open_sqlite_store(const std::filesystem::path& path,
                                               const SqliteOptions& options,
                                               std::span<const sqlite::Migration> list) {
  return std::make_unique<SqliteStore>(std::make_unique<SqliteStore::Impl>(path, options, list));
}

std::unique_ptr<SqliteStore> open_sqlite_store(const std::filesystem::path& path,
                                               const SqliteOptions& options) {
  return open_sqlite_store(path, options, sqlite::migrations());
}

}  // namespace assess
