// The leaders' login codes and browser sessions in the embedded SQLite
// backend (web.hpp has the rules; this file only stores and reads them).
//
//   server_login_codes(code_hash, person, school, created_ms, expires_ms, used_ms)
//     one-time codes issued by the administration, by hash (never the code).
//   server_web_sessions(token_hash, id, person, school, created_ms, expires_ms)
//     one row per browser session, by the hash of its cookie (never the
//     cookie); deleted at logout, and once expired by the next login.
//
// The tables have their own version (server_meta 'web_schema_version'), so
// they migrate apart from the server's other tables (as the audit tables do: audit.hpp).
//
// REQUIRES (migrate, add_login_code, use_login_code, add_session,
// delete_session): the caller's write transaction. session(): any connection.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "storage/sqlite/audit.hpp"
#include "tandem/server/storage.hpp"

namespace tandem::server::sqlite_web {

using StmtSource = sqlite_audit::StmtSource;

// Whether the tables are at this version (false: migrate() must run).
bool is_current(sqlite3* db);
// Creates or upgrades the tables.
Status migrate(sqlite3* db);

Status add_login_code(const StmtSource& stmts, std::string_view code_hash, std::string_view person,
                      std::string_view school, std::int64_t now_ms, std::int64_t expires_ms);
// Marks the code used and returns its person. kUnauthorized: unknown or
// used; kExpired: too late (a code is never taken after its expiry).
Result<std::string> use_login_code(const StmtSource& stmts, std::string_view code_hash,
                                   std::int64_t now_ms);

// Stores a session, and deletes the sessions and codes expired at `now_ms`
// (so the tables hold what is live, plus codes used within their lifetime).
Status add_session(const StmtSource& stmts, const WebSessionRow& session, std::int64_t now_ms);
// The session under `token_hash`, expired or not (nullopt: none).
Result<std::optional<WebSessionRow>> session(const StmtSource& stmts, std::string_view token_hash);
Status delete_session(const StmtSource& stmts, std::string_view token_hash);

}  // namespace tandem::server::sqlite_web
