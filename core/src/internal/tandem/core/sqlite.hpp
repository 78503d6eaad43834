// Thin RAII helpers over the SQLite C API, shared by core's Store and the
// server's storage: error mapping, and prepared statements cached per
// connection (prepared once, then only reset and re-bound).
//
// Thread-safety: none of their own. A connection, its StatementCache and the
// statements leased from it are used by one thread at a time (the owner's
// lock or the owner's thread).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tandem/core/error.hpp"
#include "tandem/core/store.hpp"

namespace tandem::sqlite {

// Maps an SQLite result code to our stable error codes. `db` (may be null)
// supplies the detailed message.
Error error_from(sqlite3* db, int rc, std::string_view what);

// Runs SQL text without results (schema, pragmas, transaction control).
Status exec(sqlite3* db, const char* sql);
// The Store's own connection (declared in store.hpp as its friend): for the
// server's SQLite backend, which keeps its tables in the Store's file.
sqlite3* handle(Store& store);

// Operations on one prepared statement, which it does not own.
class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* stmt) noexcept : db_(db), stmt_(stmt) {}

  // Text and blobs are copied by SQLite (SQLITE_TRANSIENT): the caller's
  // buffer may go away before step().
  Stmt& bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind_blob(int i, std::string_view v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Stmt& bind_null(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }

  // SQLITE_ROW -> true, SQLITE_DONE -> false, anything else -> Error.
  Result<bool> step();
  // Steps to completion, ignoring rows (writes).
  Status run();
  // Steps to completion, collecting column `col` of every row as text.
  Result<std::vector<std::string>> texts(int col = 0);

  // Column values of the current row. text_view() is valid only until the
  // next step(), reset or column call on this statement.
  std::string_view text_view(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string_view();
  }
  std::string text(int col) const { return std::string(text_view(col)); }
  std::string blob(int col) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  std::int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

// A statement borrowed from a StatementCache, used like a pointer to its
// Stmt. When the lease ends the statement is reset and its bindings cleared,
// ready for the next get(). Movable, not copyable; must not outlive its cache.
class StmtLease {
 public:
  StmtLease(sqlite3* db, sqlite3_stmt* stmt) noexcept : stmt_(db, stmt), raw_(stmt) {}
  ~StmtLease() { release(); }
  StmtLease(StmtLease&& other) noexcept : stmt_(other.stmt_), raw_(other.raw_) {
    other.raw_ = nullptr;
  }
  StmtLease& operator=(StmtLease&& other) noexcept {
    if (this != &other) {
      release();
      stmt_ = other.stmt_;
      raw_ = other.raw_;
      other.raw_ = nullptr;
    }
    return *this;
  }
  StmtLease(const StmtLease&) = delete;
  StmtLease& operator=(const StmtLease&) = delete;

  Stmt* operator->() noexcept { return &stmt_; }
  Stmt& operator*() noexcept { return stmt_; }

 private:
  void release() noexcept {
    if (raw_) {
      sqlite3_reset(raw_);
      sqlite3_clear_bindings(raw_);
      raw_ = nullptr;
    }
  }

  Stmt stmt_;
  sqlite3_stmt* raw_;  // null once moved from
};

// Prepared statements of one connection, keyed by the address of their SQL.
class StatementCache {
 public:
  explicit StatementCache(sqlite3* db) : db_(db) {}
  ~StatementCache();
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;

  // The statement for `sql`, reset and ready for binding; prepared on first
  // use. REQUIRES: `sql` has static storage (a string literal): it is the
  // key. A statement is leased to one user at a time (do not get() the same
  // SQL again while its lease is alive). Failure to prepare is an error in
  // our SQL (or a missing table), returned with SQLite's message.
  Result<StmtLease> get(const char* sql);

 private:
  sqlite3* db_;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

}  // namespace tandem::sqlite
