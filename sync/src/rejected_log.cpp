#include "rejected_log.hpp"

#include <sqlite3.h>

#include <string>

namespace tandem::sync::detail {
namespace {

Error sqlite_failure(sqlite3* db, int rc, std::string_view what) {
  ErrorCode code = ErrorCode::kIo;
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) code = ErrorCode::kBusy;
  if (rc == SQLITE_FULL) code = ErrorCode::kDiskFull;
  if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) code = ErrorCode::kCorrupt;
  return make_error(code, std::string(what) + ": " + sqlite3_errmsg(db));
}

// One prepared statement, finalized on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  int rc() const { return rc_; }
  sqlite3_stmt* get() { return stmt_; }
  void bind(int i, std::string_view s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }
  void bind(int i, std::int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  std::string text(int i) {
    const auto* p = sqlite3_column_text(stmt_, i);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, i)))
             : std::string();
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

constexpr const char* kCreateSql = R"sql(
CREATE TABLE IF NOT EXISTS sync_rejected(
  hlc TEXT PRIMARY KEY, record TEXT NOT NULL, kind TEXT NOT NULL, op TEXT NOT NULL,
  field TEXT NOT NULL, code TEXT NOT NULL, message TEXT NOT NULL,
  mutation_id INTEGER NOT NULL, at_ms INTEGER NOT NULL, body TEXT NOT NULL) WITHOUT ROWID)sql";

}  // namespace

Status ensure_rejected_table(Store& store) {
  sqlite3* db = store.handle();
  const int rc = sqlite3_exec(db, kCreateSql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return sqlite_failure(db, rc, "cannot create sync_rejected");
  return {};
}

Status insert_rejected(Store& store, const RejectedChange& r, std::string_view body) {
  sqlite3* db = store.handle();
  Statement st(db,
               "INSERT OR REPLACE INTO sync_rejected(hlc, record, kind, op, field, code, message, mutation_id,"
               " at_ms, body) VALUES(?,?,?,?,?,?,?,?,?,?)");
  if (!st.ok()) return sqlite_failure(db, st.rc(), "cannot record a rejected change");
  st.bind(1, r.hlc);
  st.bind(2, r.record);
  st.bind(3, r.kind);
  st.bind(4, r.op);
  st.bind(5, r.field);
  st.bind(6, error_code_name(r.error.code));
  st.bind(7, r.error.message);
  st.bind(8, r.mutation_id);
  st.bind(9, r.at_ms);
  st.bind(10, body);
  const int rc = sqlite3_step(st.get());
  if (rc != SQLITE_DONE) return sqlite_failure(db, rc, "cannot record a rejected change");
  return {};
}

Result<std::vector<RejectedChange>> read_rejected(Store& store) {
  sqlite3* db = store.handle();
  Statement st(db,
               "SELECT hlc, record, kind, op, field, code, message, mutation_id, at_ms FROM sync_rejected"
               " ORDER BY at_ms, hlc");
  if (!st.ok()) return sqlite_failure(db, st.rc(), "cannot read sync_rejected");
  std::vector<RejectedChange> out;
  for (;;) {
    const int rc = sqlite3_step(st.get());
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return sqlite_failure(db, rc, "cannot read sync_rejected");
    RejectedChange r;
    r.hlc = st.text(0);
    r.record = st.text(1);
    r.kind = st.text(2);
    r.op = st.text(3);
    r.field = st.text(4);
    r.error = make_error(error_code_from_name(st.text(5)), st.text(6));
    r.mutation_id = sqlite3_column_int64(st.get(), 7);
    r.at_ms = sqlite3_column_int64(st.get(), 8);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace tandem::sync::detail
