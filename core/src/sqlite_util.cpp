#include "tandem/core/sqlite.hpp"

namespace tandem::sqlite {

Error error_from(sqlite3* db, int rc, std::string_view what) {
  const int primary = rc & 0xff;
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  // The encrypting file layer's "a page failed its MAC" (crypto/crypt_vfs.hpp),
  // also when the connection reports only primary codes.
  if (rc == SQLITE_IOERR_DATA || (primary == SQLITE_IOERR && db != nullptr &&
                                  sqlite3_extended_errcode(db) == SQLITE_IOERR_DATA)) {
    return make_error(ErrorCode::kTampered,
                      std::string(what) + ": a page of the database failed its authentication check (the file was "
                                          "changed outside Tandem or is damaged); nothing was read from it");
  }
  switch (primary) {
    case SQLITE_FULL: return make_error(ErrorCode::kDiskFull, "disk full: " + msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return make_error(ErrorCode::kBusy, msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return make_error(ErrorCode::kCorrupt, msg);
    case SQLITE_CONSTRAINT: return make_error(ErrorCode::kInvalidArgument, msg);
    default: return make_error(ErrorCode::kIo, msg);
  }
}

Result<bool> Stmt::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return error_from(db_, rc, "statement failed");
}

Status Stmt::run() {
  for (;;) {
    auto r = step();
    if (!r) return std::move(r).error();
    if (!*r) return {};
  }
}

Result<std::vector<std::string>> Stmt::texts(int col) {
  std::vector<std::string> out;
  for (;;) {
    auto r = step();
    if (!r) return std::move(r).error();
    if (!*r) return out;
    out.push_back(text(col));
  }
}

StatementCache::~StatementCache() {
  for (auto& [_, s] : cache_) sqlite3_finalize(s);
}

Result<StmtLease> StatementCache::get(const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* s = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(s);
      return error_from(db_, rc, std::string("prepare '") + sql + "'");
    }
    it = cache_.emplace(sql, s).first;
  }
  return StmtLease(db_, it->second);
}

Status exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string m = err ? err : "";
    sqlite3_free(err);
    return error_from(nullptr, rc, m);
  }
  return {};
}

}  // namespace tandem::sqlite
