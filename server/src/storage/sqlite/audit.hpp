// The audit trail's tables in the embedded SQLite backend (audit.hpp has the
// rules; this file only stores and reads them).
//
//   server_audit(school, n, at_ms, person, device, action, records, hash)
//     one row per entry, keyed (school, n); `records` is the JSON array
//     [[record, child], ...]. A trigger refuses every UPDATE: entries are
//     only appended, and deleted by retention.
//   server_audit_chain(school, first_n, first_prev, last_n, last_hash)
//     each school's checkpoint and head.
//
// The tables have their own version (server_meta 'audit_schema_version'), so
// they migrate apart from the server's other tables.
//
// Every function runs its statements through `stmts` (the writer's cache or a
// reader's lease) and expects its caller's transaction:
//   REQUIRES (append, prune_step, migrate): a write transaction;
//   REQUIRES (verify, entries_for_child): a read transaction, one snapshot.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "tandem/core/sqlite.hpp"
#include "tandem/server/audit.hpp"

namespace tandem::server::sqlite_audit {

// Prepared statements by SQL text (with static storage) on one connection.
using StmtSource = std::function<Result<sqlite::StmtLease>(const char* sql)>;

// Whether server_meta holds `version` under `key` (false when the row or the
// table is missing): for the tables that keep a version of their own.
bool meta_version_is(sqlite3* db, const char* key, int version);

// Whether the audit tables are at this version (false: migrate() must run).
bool is_current(sqlite3* db);
// Creates or upgrades the audit tables.
Status migrate(sqlite3* db);

// Appends `entry` to its school's chain (validated first).
Status append(const StmtSource& stmts, const AuditEntry& entry);

// Checks every school's chain; stops at the first break.
Result<AuditVerification> verify(const StmtSource& stmts);

// Entries with a record naming `child`, by time, each with only those records.
Result<std::vector<AuditEntryRow>> entries_for_child(const StmtSource& stmts,
                                                     std::string_view child);

// Deletes, school by school, the oldest entries stamped before `before_ms`
// (each school's chain up to its first entry at or after it), at most
// `budget` in all, and moves the checkpoints. Returns how many it deleted.
Result<std::int64_t> prune_step(const StmtSource& stmts, std::int64_t before_ms,
                                std::int64_t budget);

}  // namespace tandem::server::sqlite_audit
