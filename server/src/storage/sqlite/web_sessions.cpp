// The leaders' login codes and browser sessions in SQLite: see
// web_sessions.hpp (the tables, and who must hold which transaction).
#include "storage/sqlite/web_sessions.hpp"

#include <utility>

namespace tandem::server::sqlite_web {
namespace {

constexpr int kWebSchemaVersion = 1;

constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS server_login_codes(
  code_hash TEXT PRIMARY KEY, person TEXT NOT NULL, school TEXT NOT NULL,
  created_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL, used_ms INTEGER) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS server_web_sessions(
  token_hash TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, person TEXT NOT NULL, school TEXT NOT NULL,
  created_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS server_web_sessions_expires ON server_web_sessions(expires_ms);
)sql";

}  // namespace

bool is_current(sqlite3* db) {
  return sqlite_audit::meta_version_is(db, "web_schema_version", kWebSchemaVersion);
}

Status migrate(sqlite3* db) {
  if (is_current(db)) return {};
  TANDEM_TRY(sqlite::exec(db, kSchemaV1));
  return sqlite::exec(db,
                      "INSERT OR REPLACE INTO server_meta(key, value) "
                      "VALUES('web_schema_version', '1')");
}

Status add_login_code(const StmtSource& stmts, std::string_view code_hash, std::string_view person,
                      std::string_view school, std::int64_t now_ms, std::int64_t expires_ms) {
  auto st = stmts(
      "INSERT INTO server_login_codes(code_hash, person, school, created_ms, expires_ms) "
      "VALUES(?,?,?,?,?)");
  if (!st) return std::move(st).error();
  return (*st)
      ->bind(1, code_hash)
      .bind(2, person)
      .bind(3, school)
      .bind(4, now_ms)
      .bind(5, expires_ms)
      .run();
}

Result<std::string> use_login_code(const StmtSource& stmts, std::string_view code_hash,
                                   std::int64_t now_ms) {
  std::string person;
  {
    auto st = stmts("SELECT person, expires_ms, used_ms FROM server_login_codes WHERE code_hash=?");
    if (!st) return std::move(st).error();
    (*st)->bind(1, code_hash);
    auto row = (*st)->step();
    if (!row) return std::move(row).error();
    if (!*row || !(*st)->is_null(2))
      return make_error(ErrorCode::kUnauthorized, "unknown or already used login code");
    if ((*st)->int64(1) <= now_ms) return make_error(ErrorCode::kExpired, "login code has expired");
    person = (*st)->text(0);
  }
  auto use = stmts("UPDATE server_login_codes SET used_ms=? WHERE code_hash=?");
  if (!use) return std::move(use).error();
  TANDEM_TRY((*use)->bind(1, now_ms).bind(2, code_hash).run());
  return person;
}

Status add_session(const StmtSource& stmts, const WebSessionRow& s, std::int64_t now_ms) {
  for (const char* sql : {"DELETE FROM server_web_sessions WHERE expires_ms<=?",
                          "DELETE FROM server_login_codes WHERE expires_ms<=?"}) {
    auto del = stmts(sql);
    if (!del) return std::move(del).error();
    TANDEM_TRY((*del)->bind(1, now_ms).run());
  }
  auto st = stmts(
      "INSERT INTO server_web_sessions(token_hash, id, person, school, created_ms, expires_ms) "
      "VALUES(?,?,?,?,?,?)");
  if (!st) return std::move(st).error();
  return (*st)
      ->bind(1, s.token_hash)
      .bind(2, s.id)
      .bind(3, s.person)
      .bind(4, s.school)
      .bind(5, s.created_ms)
      .bind(6, s.expires_ms)
      .run();
}

Result<std::optional<WebSessionRow>> session(const StmtSource& stmts, std::string_view token_hash) {
  auto st = stmts(
      "SELECT id, person, school, created_ms, expires_ms FROM server_web_sessions "
      "WHERE token_hash=?");
  if (!st) return std::move(st).error();
  (*st)->bind(1, token_hash);
  auto row = (*st)->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<WebSessionRow>();
  WebSessionRow s;
  s.token_hash = std::string(token_hash);
  s.id = (*st)->text(0);
  s.person = (*st)->text(1);
  s.school = (*st)->text(2);
  s.created_ms = (*st)->int64(3);
  s.expires_ms = (*st)->int64(4);
  return std::optional<WebSessionRow>(std::move(s));
}

Status delete_session(const StmtSource& stmts, std::string_view token_hash) {
  auto st = stmts("DELETE FROM server_web_sessions WHERE token_hash=?");
  if (!st) return std::move(st).error();
  return (*st)->bind(1, token_hash).run();
}

}  // namespace tandem::server::sqlite_web
