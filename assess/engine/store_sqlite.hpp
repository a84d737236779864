// SQLite plumbing behind SqliteStore (not a public API of the engine): RAII wrappers for the
// connection, cached prepared statements and transactions, and the schema migrations. A later
// part that adds its own tables (the web application) adds migrations to store_migrations.cpp
// and may reuse these wrappers for its own queries.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <concepts>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "engine/store.hpp"

namespace assess::sqlite {

// One schema change. Versions are 1, 2, 3, ... in order and never change once released: a new
// change is a new migration appended to the list.
struct Migration {
  int version;
  std::string_view name;  // recorded in schema_migrations; checked against the database's
  std::string_view sql;   // one or more statements, no bound values
};

// The engine's migrations, oldest first (store_migrations.cpp).
std::span<const Migration> migrations();

class Query;

// One connection. Errors throw StoreError naming the database, the current operation (Op), the
// statement and SQLite's message.
class Db {
 public:
  Db(const std::filesystem::path& path, const SqliteOptions& options);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  const std::filesystem::path& path() const { return path_; }
  bool in_memory() const { return path_ == ":memory:"; }

  // Runs statements without values (DDL, pragmas, transaction control).
  void exec(std::string_view sql);
  // The prepared statement for sql (prepared once per connection, then reused), reset and
  // unbound when the Query ends.
  Query query(std::string_view sql);
  // The single value a pragma or query without parameters returns, as text.
  std::string scalar(std::string_view sql);

  // Rolls back the open transaction, if any (never throws: for unwinding).
  void rollback() noexcept;

  // StoreError "assess store <db>: <op>: <what>".
  StoreError error(std::string_view what) const;
  // Throws error("<what>: <sqlite3_errmsg>").
  [[noreturn]] void fail(std::string_view what) const;

  // Names the operation in progress in error messages while it lives.
  class Op {
   public:
    Op(Db& db, std::string name) : db_(db), outer_(std::exchange(db.op_, std::move(name))) {}
    ~Op() { db_.op_ = std::move(outer_); }
    Op(const Op&) = delete;
    Op& operator=(const Op&) = delete;

   private:
    Db& db_;
    std::string outer_;
  };

 private:
  struct Finalize {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  // PRAGMA journal_mode = WAL, retried while other connections hold the lock; the mode set.
  std::string switch_to_wal(std::chrono::milliseconds patience);

  sqlite3* db_ = nullptr;
  std::filesystem::path path_;
  std::string op_;
  std::unordered_map<std::string, std::unique_ptr<sqlite3_stmt, Finalize>> statements_;
};

// A use of a prepared statement: bind(...) binds every parameter in order (values only, never
// SQL text); next() steps to the following row; the destructor resets it for the next use.
class Query {
 public:
  Query(Db& db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Query();
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  template <class... Args>
  Query& bind(const Args&... args) {
    int i = 0;
    (bind_one(++i, args), ...);
    return *this;
  }
  bool next();  // true: a row is ready
  void run();   // steps to the end (a statement returning no rows)

  std::int64_t i64(int col) const;
  int i32(int col) const;
  double f64(int col) const;
  bool boolean(int col) const { return i64(col) != 0; }
  bool null(int col) const;
  std::string text(int col) const;
  Time time(int col) const { return Time(std::chrono::milliseconds(i64(col))); }
  std::optional<double> opt_f64(int col) const;
  std::optional<Time> opt_time(int col) const;

 private:
  template <class T>
  void bind_one(int i, const T& v) {
    if constexpr (std::is_same_v<T, std::nullopt_t>) {
      bind_null(i);
    } else if constexpr (requires {
                           v.has_value();
                           *v;
                         }) {
      if (v)
        bind_one(i, *v);
      else
        bind_null(i);
    } else if constexpr (std::is_same_v<T, Time>) {
      bind_i64(i, v.time_since_epoch().count());
    } else if constexpr (std::is_same_v<T, bool>) {
      bind_i64(i, v ? 1 : 0);
    } else if constexpr (std::is_integral_v<T>) {
      bind_i64(i, static_cast<std::int64_t>(v));
    } else if constexpr (std::is_floating_point_v<T>) {
      bind_f64(i, static_cast<double>(v));
    } else {
      bind_text(i, std::string_view(v));
    }
  }
  void bind_null(int i);
  void bind_i64(int i, std::int64_t v);
  void bind_f64(int i, double v);
  void bind_text(int i, std::string_view v);
  void check_bind(int rc, int i);

  Db& db_;
  sqlite3_stmt* stmt_;
};

// A transaction; rolls back unless commit() ran. write: BEGIN IMMEDIATE takes the write lock up
// front (waiting up to the busy timeout), so a transaction that reads, then writes, never fails
// halfway for a lock. read: BEGIN, one consistent snapshot for several SELECTs.
class Txn {
 public:
  enum Mode { read, write };
  explicit Txn(Db& db, Mode mode = write);
  ~Txn();
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  void commit();

 private:
  Db& db_;
  bool done_ = false;
};

// Brings the database to the newest of `list` (see SqliteStore): refuses a foreign or newer
// database, applies the pending migrations in one transaction. Returns the schema version.
int migrate(Db& db, std::span<const Migration> list);

}  // namespace assess::sqlite

namespace assess {

struct SqliteStore::Impl {
  Impl(const std::filesystem::path& path, const SqliteOptions& options,
       std::span<const sqlite::Migration> list)
      : db(path, options) {
    sqlite::migrate(db, list);
  }
  // Runs f(db) as one operation of the store: the mutex held (one connection, one caller at a
  // time), `op` naming it in error messages, refused input reported as
  // std::invalid_argument "assess store: <op>: <what>".
  template <class F>
  decltype(auto) run(const std::string& op, F&& f) {
    std::lock_guard lock(mu);
    sqlite::Db::Op named(db, op);
    try {
      return std::forward<F>(f)(db);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("assess store: " + op + ": " + e.what());
    }
  }

  std::mutex mu;
  sqlite::Db db;
};

// open_sqlite_store with another migration list (tests of the migration runner).
std::unique_ptr<SqliteStore> open_sqlite_store(const std::filesystem::path& path,
                                               const SqliteOptions& options,
                                               std::span<const sqlite::Migration> list);

}  // namespace assess
