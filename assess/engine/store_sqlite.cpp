// SQLite plumbing: the connection and its settings, prepared statements, transactions, and the
// migration runner.
#include "engine/store_sqlite.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace assess::sqlite {

namespace {

// A statement as error messages show it: leading comments dropped, whitespace runs collapsed,
// cut at 80 characters.
std::string sql_head(std::string_view sql) {
  for (;;) {
    sql.remove_prefix(std::min(sql.size(), sql.find_first_not_of(" \t\r\n")));
    if (!sql.starts_with("--")) break;
    sql.remove_prefix(std::min(sql.size(), sql.find('\n')));
  }
  std::string out;
  for (char c : sql) {
    bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : c;
    if (out.size() > 80) return out.substr(0, 77) + "...";
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

Db::Db(const std::filesystem::path& path, const SqliteOptions& options) : path_(path) {
  // NOMUTEX: SqliteStore serializes its callers itself (one mutex held for a whole operation,
  // transactions included), so SQLite's own per-call mutex would only add cost.
  const int flags =
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  try {
    if (rc != SQLITE_OK) fail("open");
    sqlite3_busy_timeout(db_, static_cast<int>(options.busy_timeout.count()));
    // WAL: readers (a report, the web dashboard) never block the writer; a commit appends to
    // the log. synchronous=FULL: every commit is fsynced, so a committed response survives a
    // power cut, not only a crash of the process.
    std::string mode = lower(switch_to_wal(options.busy_timeout));
    if (mode != (in_memory() ? "memory" : "wal")) {
      throw error("cannot use write-ahead logging (journal_mode is " + mode +
                  "): is the database on a file system without shared memory?");
    }
    exec("PRAGMA synchronous = FULL");
    exec("PRAGMA foreign_keys = ON");
    if (scalar("PRAGMA foreign_keys") != "1") {
      throw error("this SQLite cannot enforce foreign keys");
    }
  } catch (...) {
    statements_.clear();
    sqlite3_close_v2(db_);
    throw;
  }
}

// Switching a new database to WAL takes its exclusive lock, and when several connections make
// the switch at once SQLite answers SQLITE_BUSY at once, without the busy handler (waiting
// there could deadlock): retry, for as long as the busy timeout allows.
std::string Db::switch_to_wal(std::chrono::milliseconds patience) {
  const auto give_up = std::chrono::steady_clock::now() + patience;
  for (;;) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_, "PRAGMA journal_mode = WAL", -1, &raw, nullptr) != SQLITE_OK) {
      fail("prepare PRAGMA journal_mode = WAL");
    }
    std::unique_ptr<sqlite3_stmt, Finalize> stmt(raw);
    const int rc = sqlite3_step(stmt.get());
    if (rc == SQLITE_ROW) return reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), 0));
    if ((rc & 0xff) != SQLITE_BUSY || std::chrono::steady_clock::now() >= give_up) {
      fail("PRAGMA journal_mode = WAL");
    }
    stmt.reset();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

Db::~Db() {
  statements_.clear();
  sqlite3_close_v2(db_);
}

StoreError Db::error(std::string_view what) const {
  std::string msg = "assess store " + path_.string() + ": ";
  if (!op_.empty()) msg += op_ + ": ";
  msg += what;
  return StoreError(msg);
}

void Db::fail(std::string_view what) const {
  throw error(std::string(what) + ": " + sqlite3_errmsg(db_));
}

void Db::exec(std::string_view sql) {
  // Statement by statement (not sqlite3_exec), so that an error names the one that failed.
  while (!sql.empty()) {
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &raw, &tail) !=
        SQLITE_OK) {
      fail("prepare " + sql_head(sql));
    }
    std::unique_ptr<sqlite3_stmt, Finalize> stmt(raw);  // null for a tail of comments
    std::string_view text = sql.substr(0, static_cast<std::size_t>(tail - sql.data()));
    sql.remove_prefix(text.size());
    if (!stmt) continue;
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) fail(sql_head(text));
  }
}

Query Db::query(std::string_view sql) {
  auto it = statements_.find(std::string(sql));
  if (it == statements_.end()) {
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &raw, &tail) != SQLITE_OK) {
      fail("prepare " + sql_head(sql));
    }
    std::unique_ptr<sqlite3_stmt, Finalize> stmt(raw);
    if (tail != sql.data() + sql.size()) {
      throw std::logic_error("assess store: query() takes one statement: " + sql_head(sql));
    }
    it = statements_.emplace(std::string(sql), std::move(stmt)).first;
  }
  if (sqlite3_stmt_busy(it->second.get())) {
    throw std::logic_error("assess store: statement already in use: " + sql_head(sql));
  }
  return Query(*this, it->second.get());
}

std::string Db::scalar(std::string_view sql) {
  Query q = query(sql);
  if (!q.next()) throw error("no result from " + sql_head(sql));
  return q.text(0);
}

void Db::rollback() noexcept {
  // After some errors (SQLITE_FULL, SQLITE_IOERR, ...) SQLite has already rolled back.
  if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

Query::~Query() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Query::next() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_.fail(sql_head(sqlite3_sql(stmt_)));
}

void Query::run() {
  while (next()) {
  }
}

void Query::check_bind(int rc, int i) {
  if (rc != SQLITE_OK) {
    db_.fail("bind parameter " + std::to_string(i) + " of " + sql_head(sqlite3_sql(stmt_)));
  }
}

void Query::bind_null(int i) { check_bind(sqlite3_bind_null(stmt_, i), i); }
void Query::bind_i64(int i, std::int64_t v) { check_bind(sqlite3_bind_int64(stmt_, i, v), i); }
void Query::bind_f64(int i, double v) { check_bind(sqlite3_bind_double(stmt_, i, v), i); }
void Query::bind_text(int i, std::string_view v) {
  check_bind(sqlite3_bind_text64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8), i);
}

std::int64_t Query::i64(int col) const { return sqlite3_column_int64(stmt_, col); }
int Query::i32(int col) const { return sqlite3_column_int(stmt_, col); }
double Query::f64(int col) const { return sqlite3_column_double(stmt_, col); }
bool Query::null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

std::string Query::text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))) : "";
}

std::optional<double> Query::opt_f64(int col) const {
  return null(col) ? std::nullopt : std::optional(f64(col));
}

std::optional<Time> Query::opt_time(int col) const {
  return null(col) ? std::nullopt : std::optional(time(col));
}

Txn::Txn(Db& db, Mode mode) : db_(db) { db_.exec(mode == write ? "BEGIN IMMEDIATE" : "BEGIN"); }

Txn::~Txn() {
  if (!done_) db_.rollback();
}

void Txn::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

namespace {

struct Applied {
  int version;
  std::string name;
};

std::vector<Applied> applied_migrations(Db& db) {
  std::vector<Applied> out;
  Query q = db.query("SELECT version, name FROM schema_migrations ORDER BY version");
  while (q.next()) out.push_back({q.i32(0), q.text(1)});
  return out;
}

// The database's history must be a prefix of the program's: same versions, same names.
void check_history(Db& db, const std::vector<Applied>& applied, std::span<const Migration> list) {
  for (std::size_t i = 0; i < applied.size(); ++i) {
    const Applied& a = applied[i];
    if (a.version > static_cast<int>(list.size())) {
      throw db.error("the database's schema version " + std::to_string(applied.back().version) +
                     " is newer than this program's " + std::to_string(list.size()) +
                     " (it has migration " + std::to_string(a.version) + " \"" + a.name +
                     "\"): use a newer assess, or a backup from before the upgrade");
    }
    if (a.version != static_cast<int>(i) + 1) {
      throw db.error("schema_migrations lacks version " + std::to_string(i + 1) +
                     ": the database was changed by hand");
    }
    if (a.name != list[i].name) {
      throw db.error("migration " + std::to_string(a.version) + " is \"" + a.name +
                     "\" in the database but \"" + std::string(list[i].name) +
                     "\" in this program: the database comes from a different build");
    }
  }
}

}  // namespace

int migrate(Db& db, std::span<const Migration> list) {
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (list[i].version != static_cast<int>(i) + 1) {
      throw std::logic_error("assess store: migration versions must be 1, 2, 3, ...: entry " +
                             std::to_string(i) + " has version " + std::to_string(list[i].version));
    }
  }
  Db::Op op(db, "open");
  // One statement, so one snapshot: another process may commit its first migration between
  // two separate looks, and the database would seem to have tables but no history.
  const std::string kind = db.scalar(
      "SELECT CASE WHEN EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'schema_migrations') THEN 'assess'"
      " WHEN EXISTS (SELECT 1 FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%') THEN 'other'"
      " ELSE 'empty' END");
  if (kind == "other") throw db.error("not an assess database (it has tables but no schema_migrations)");
  std::vector<Applied> applied;
  if (kind == "assess") applied = applied_migrations(db);
  check_history(db, applied, list);
  if (applied.size() == list.size()) return static_cast<int>(list.size());

  // Pending migrations: all in one transaction, so an upgrade is all or nothing. Another
  // process may have migrated while this one waited for the lock: read the history again.
  Txn txn(db);
  db.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " version INTEGER PRIMARY KEY,"
      " name TEXT NOT NULL,"
      " applied_at INTEGER NOT NULL) STRICT");
  applied = applied_migrations(db);
  check_history(db, applied, list);
  for (std::size_t i = applied.size(); i < list.size(); ++i) {
    const Migration& m = list[i];
    Db::Op step(db, "migration " + std::to_string(m.version) + " \"" + std::string(m.name) + "\"");
    db.exec(m.sql);
    db.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)")
        .bind(m.version, m.name, now())
        .run();
    if (db.query("PRAGMA foreign_key_check").next()) {
      throw db.error("leaves rows that violate a foreign key (PRAGMA foreign_key_check)");
    }
  }
  txn.commit();
  return static_cast<int>(list.size());
}

}  // namespace assess::sqlite
