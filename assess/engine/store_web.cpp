// SqliteStore's operations for the web application (`assess serve`): the interviewer's
// credential, candidate links and browser sessions. Secrets arrive hashed (SHA-256 hex); the
// store checks that they look like it, so a raw token can never be stored by mistake. Also the
// production checklist runs that `assess checklist --db` saves and the web application shows.
#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "engine/store.hpp"
#include "engine/store_input.hpp"
#include "engine/store_sqlite.hpp"

namespace assess {

using sqlite::Db;
using sqlite::Query;
using sqlite::Txn;

const char* to_string(WebRole r) { return r == WebRole::interviewer ? "interviewer" : "candidate"; }

namespace {

void check_hash(std::string_view field, std::string_view h) {
  bool hex = h.size() == 64 && h.find_first_not_of("0123456789abcdef") == std::string_view::npos;
  if (!hex) throw std::invalid_argument(std::string(field) + ": not a SHA-256 hex digest");
}

constexpr std::string_view kInviteColumns = "token_hash, session_id, created_at, expires_at, used_at";

Invite read_invite(const Query& q) {
  return Invite{.token_hash = q.text(0),
                .session = q.i64(1),
                .created_at = q.time(2),
                .expires_at = q.time(3),
                .used_at = q.opt_time(4)};
}

constexpr std::string_view kChecklistColumns = "id, target, lang, checked_at, report";

ChecklistRun read_checklist_run(const Query& q) {
  return ChecklistRun{.id = q.i64(0), .target = q.text(1), .lang = q.text(2), .checked_at = q.time(3), .report_json = q.text(4)};
}

}  // namespace

void SqliteStore::set_interviewer_token(const std::string& token_hash) {
  impl_->run("set_interviewer_token", [&](Db& db) {
    check_hash("token", token_hash);
    Txn txn(db);
    db.query("INSERT INTO interviewer_token (id, token_hash, created_at) VALUES (1, ?, ?)"
             " ON CONFLICT (id) DO UPDATE SET token_hash = excluded.token_hash,"
             " created_at = excluded.created_at")
        .bind(token_hash, now())
        .run();
    db.query("DELETE FROM web_sessions WHERE role = 'interviewer'").run();
    txn.commit();
  });
}

std::optional<std::string> SqliteStore::interviewer_token() {
  return impl_->run("interviewer_token", [&](Db& db) -> std::optional<std::string> {
    Query q = db.query("SELECT token_hash FROM interviewer_token WHERE id = 1");
    if (!q.next()) return std::nullopt;
    return q.text(0);
  });
}

Invite SqliteStore::create_invite(SessionId session, const std::string& token_hash, Time expires_at) {
  return impl_->run("create_invite(session " + std::to_string(session) + ")", [&](Db& db) {
    check_hash("token", token_hash);
    Txn txn(db);
    Query state = db.query("SELECT state FROM sessions WHERE id = ?");
    if (!state.bind(session).next()) throw db.error("no session " + std::to_string(session));
    if (state.text(0) != to_string(SessionState::active))
      throw db.error("session " + std::to_string(session) + " is " + state.text(0) + ": it takes no new link");
    db.query("DELETE FROM invites WHERE session_id = ? AND used_at IS NULL").bind(session).run();
    Invite inv{.token_hash = token_hash, .session = session, .created_at = now(), .expires_at = expires_at, .used_at = std::nullopt};
    db.query("INSERT INTO invites (token_hash, session_id, created_at, expires_at) VALUES (?, ?, ?, ?)")
        .bind(inv.token_hash, inv.session, inv.created_at, inv.expires_at)
        .run();
    txn.commit();
    return inv;
  });
}

std::optional<Invite> SqliteStore::find_invite(const std::string& token_hash) {
  return impl_->run("find_invite", [&](Db& db) -> std::optional<Invite> {
    static const std::string sql = "SELECT " + std::string(kInviteColumns) + " FROM invites WHERE token_hash = ?";
    Query q = db.query(sql);
    if (!q.bind(token_hash).next()) return std::nullopt;
    return read_invite(q);
  });
}

std::optional<SessionId> SqliteStore::redeem_invite(const std::string& token_hash, Time at) {
  return impl_->run("redeem_invite", [&](Db& db) -> std::optional<SessionId> {
    Txn txn(db);
    // One UPDATE decides: two browsers redeeming the same link at once cannot both win.
    Query q = db.query(
        "UPDATE invites SET used_at = ?1 WHERE token_hash = ?2 AND used_at IS NULL AND expires_at > ?1"
        " AND (SELECT state FROM sessions WHERE id = invites.session_id) = 'active' RETURNING session_id");
    if (!q.bind(at, token_hash).next()) return std::nullopt;
    SessionId id = q.i64(0);
    q.run();
    txn.commit();
    return id;
  });
}

WebSession SqliteStore::create_web_session(const WebSession& s) {
  return impl_->run("create_web_session", [&](Db& db) {
    check_hash("token", s.token_hash);
    if (s.csrf.empty()) throw std::invalid_argument("csrf: empty");
    if ((s.role == WebRole::candidate) != s.session.has_value())
      throw std::invalid_argument("a candidate's web session has one assessment, an interviewer's none");
    WebSession out = s;
    out.created_at = now();
    Txn txn(db);
    db.query("DELETE FROM web_sessions WHERE expires_at <= ?").bind(out.created_at).run();
    db.query("INSERT INTO web_sessions (token_hash, role, session_id, csrf, created_at, expires_at)"
             " VALUES (?, ?, ?, ?, ?, ?)")
        .bind(out.token_hash, to_string(out.role), out.session, out.csrf, out.created_at, out.expires_at)
        .run();
    txn.commit();
    return out;
  });
}

std::optional<WebSession> SqliteStore::find_web_session(const std::string& token_hash, Time at) {
  return impl_->run("find_web_session", [&](Db& db) -> std::optional<WebSession> {
    Query q = db.query(
        "SELECT role, session_id, csrf, created_at, expires_at FROM web_sessions"
        " WHERE token_hash = ? AND expires_at > ?");
    if (!q.bind(token_hash, at).next()) return std::nullopt;
    WebSession s{.token_hash = token_hash,
                 .role = q.text(0) == "interviewer" ? WebRole::interviewer : WebRole::candidate,
                 .session = std::nullopt,
                 .csrf = q.text(2),
                 .created_at = q.time(3),
                 .expires_at = q.time(4)};
    if (!q.null(1)) s.session = q.i64(1);
    return s;
  });
}

void SqliteStore::delete_web_session(const std::string& token_hash) {
  impl_->run("delete_web_session", [&](Db& db) {
    db.query("DELETE FROM web_sessions WHERE token_hash = ?").bind(token_hash).run();
  });
}

ChecklistRun SqliteStore::save_checklist_run(const ChecklistRun& run) {
  return impl_->run("save_checklist_run", [&](Db& db) {
    input::check_label("target", run.target, 2048);
    if (run.lang != "go" && run.lang != "gocxx") throw std::invalid_argument("lang: \"" + run.lang + "\" is not go or gocxx");
    if (!nlohmann::json::parse(run.report_json, nullptr, false).is_object())
      throw std::invalid_argument("report: not a JSON object");
    Query q = db.query("INSERT INTO checklist_runs (target, lang, checked_at, report) VALUES (?, ?, ?, ?) RETURNING id");
    if (!q.bind(run.target, run.lang, run.checked_at, run.report_json).next()) throw db.error("no id returned");
    ChecklistRun out = run;
    out.id = q.i64(0);
    q.run();
    return out;
  });
}

std::vector<ChecklistRun> SqliteStore::list_checklist_runs(std::size_t limit) {
  return impl_->run("list_checklist_runs", [&](Db& db) {
    static const std::string sql =
        "SELECT " + std::string(kChecklistColumns) + " FROM checklist_runs ORDER BY id DESC LIMIT ?";
    Query q = db.query(sql);
    q.bind(static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
    std::vector<ChecklistRun> out;
    while (q.next()) out.push_back(read_checklist_run(q));
    return out;
  });
}

std::optional<ChecklistRun> SqliteStore::find_checklist_run(ChecklistRunId id) {
  return impl_->run("find_checklist_run", [&](Db& db) -> std::optional<ChecklistRun> {
    static const std::string sql = "SELECT " + std::string(kChecklistColumns) + " FROM checklist_runs WHERE id = ?";
    Query q = db.query(sql);
    if (!q.bind(id).next()) return std::nullopt;
    return read_checklist_run(q);
  });
}

}  // namespace assess
