// The server's tables and their migrations: see schema.hpp.
#include "storage/sqlite/schema.hpp"

#include <sqlite3.h>

#include <array>
#include <cstdlib>
#include <string>

#include "storage/sqlite/audit.hpp"
#include "storage/sqlite/web_sessions.hpp"

namespace tandem::server::sqlite_backend::schema {
namespace {

using sqlite::exec;
using sqlite::Stmt;

// The server's tables. Names start with server_ to stay clear of the Store's.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS server_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
-- Enrolled devices. token_hash: hex SHA-256 of the bearer token (the token
-- itself is never stored). last_mutation_id/last_response/last_digest: the
-- device's last push, answered again verbatim when retried.
CREATE TABLE IF NOT EXISTS server_devices(
  id TEXT PRIMARY KEY, school TEXT NOT NULL, person TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',
  token_hash TEXT NOT NULL UNIQUE, created_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL DEFAULT 0,
  revoked_ms INTEGER, last_mutation_id INTEGER NOT NULL DEFAULT 0, last_digest TEXT NOT NULL DEFAULT '',
  last_response TEXT NOT NULL DEFAULT '') WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS server_devices_school ON server_devices(school);
-- One-time enrollment codes, by hash; used_ms set when consumed.
CREATE TABLE IF NOT EXISTS server_enrollment_codes(
  code_hash TEXT PRIMARY KEY, person TEXT NOT NULL, school TEXT NOT NULL,
  created_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL, used_ms INTEGER, device TEXT) WITHOUT ROWID;
-- Per-school change sequence: what devices pull. seq is dense per school,
-- given out by server_school_seq (never reused, even after a purge).
CREATE TABLE IF NOT EXISTS server_school_seq(school TEXT PRIMARY KEY, last_seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS server_changes(
  school TEXT NOT NULL, seq INTEGER NOT NULL, hlc TEXT NOT NULL UNIQUE, record TEXT NOT NULL,
  kind TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY(school, seq)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS server_changes_record ON server_changes(record);
)sql";

// Version 2: the device that pushed each change (empty: written on the
// server), so that a device's pulls skip what it sent itself.
constexpr const char* kSchemaV2 = R"sql(
ALTER TABLE server_changes ADD COLUMN origin TEXT NOT NULL DEFAULT '';
)sql";

// Version 3: the sequence without secondary indexes. Every push wrote three
// B-trees per change; the stamp is already unique in the Store's log (only
// changes that log accepted are sequenced), and the one query by record, a
// purge, is rare enough to scan its school's range of the primary key.
constexpr const char* kSchemaV3 = R"sql(
CREATE TABLE server_changes_v3(
  school TEXT NOT NULL, seq INTEGER NOT NULL, hlc TEXT NOT NULL, record TEXT NOT NULL,
  kind TEXT NOT NULL, body TEXT NOT NULL, origin TEXT NOT NULL DEFAULT '',
  PRIMARY KEY(school, seq)) WITHOUT ROWID;
INSERT INTO server_changes_v3(school, seq, hlc, record, kind, body, origin)
  SELECT school, seq, hlc, record, kind, body, origin FROM server_changes;
DROP TABLE server_changes;
ALTER TABLE server_changes_v3 RENAME TO server_changes;
)sql";

// Version 4: visibility (access.hpp). Where each record stands (its scope),
// the people and children of each course, meeting and action, the consents,
// a per-school counter of changes to any of those, and what each device was
// told about its view. All kept beside the records so that deciding what a
// device sees never decodes a change body.
constexpr const char* kSchemaV4 = R"sql(
CREATE TABLE IF NOT EXISTS server_scope(
  record TEXT PRIMARY KEY, school TEXT NOT NULL, kind TEXT NOT NULL, parent TEXT NOT NULL DEFAULT '',
  anchor TEXT NOT NULL DEFAULT '', anchor_kind TEXT NOT NULL DEFAULT '', child TEXT NOT NULL DEFAULT '',
  author TEXT NOT NULL DEFAULT '', assignee TEXT NOT NULL DEFAULT '', first_seq INTEGER NOT NULL DEFAULT 0,
  anchor_author TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS server_scope_school ON server_scope(school);
CREATE INDEX IF NOT EXISTS server_scope_parent ON server_scope(parent) WHERE parent<>'';
CREATE TABLE IF NOT EXISTS server_members(anchor TEXT NOT NULL, person TEXT NOT NULL, school TEXT NOT NULL,
  PRIMARY KEY(anchor, person)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS server_members_person ON server_members(person, school);
CREATE TABLE IF NOT EXISTS server_links(anchor TEXT NOT NULL, child TEXT NOT NULL, school TEXT NOT NULL,
  PRIMARY KEY(anchor, child)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS server_consents(id TEXT PRIMARY KEY, school TEXT NOT NULL, child TEXT NOT NULL,
  scope TEXT NOT NULL, given_on TEXT NOT NULL, withdrawn_on TEXT NOT NULL DEFAULT '',
  live INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS server_consents_school ON server_consents(school);
CREATE TABLE IF NOT EXISTS server_scope_versions(key TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS server_device_views(device TEXT PRIMARY KEY, number INTEGER NOT NULL, view TEXT NOT NULL,
  acked_view TEXT NOT NULL, scope_version INTEGER NOT NULL, day TEXT NOT NULL, gone TEXT NOT NULL,
  backfill TEXT NOT NULL, backfill_upto INTEGER NOT NULL, rewind INTEGER NOT NULL) WITHOUT ROWID;
)sql";

// Version 5: lost tablets and token rotation. A wipe order (revoke --wipe)
// and its delivery; when the current token was issued, a rotation asked for
// by the administration, and the hash of a new token sent to the device but
// not yet used by it (both tokens are valid until it is: a lost answer never
// locks a device out).
constexpr const char* kSchemaV5 = R"sql(
ALTER TABLE server_devices ADD COLUMN wipe_ordered_ms INTEGER;
ALTER TABLE server_devices ADD COLUMN wipe_delivered_ms INTEGER;
ALTER TABLE server_devices ADD COLUMN token_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE server_devices ADD COLUMN rotate_due INTEGER NOT NULL DEFAULT 0;
ALTER TABLE server_devices ADD COLUMN next_token_hash TEXT;
UPDATE server_devices SET token_ms = created_ms;
CREATE UNIQUE INDEX IF NOT EXISTS server_devices_next_token ON server_devices(next_token_hash)
  WHERE next_token_hash IS NOT NULL;
)sql";

// kMigrations[N - 1] brings the tables to version N. Version 1 creates them
// (IF NOT EXISTS: it runs on every upgrade, before the version is read).
constexpr std::array<const char*, kVersion> kMigrations = {kSchemaV1, kSchemaV2, kSchemaV3,
                                                           kSchemaV4, kSchemaV5};

// The server's version in server_meta; 0 before the tables exist.
Result<int> schema_version(sqlite3* db) {
  // Not cached: the statement must be prepared again once the table exists.
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT value FROM server_meta WHERE key='schema_version'", -1, &raw,
                         nullptr) != SQLITE_OK) {
    sqlite3_finalize(raw);
    return 0;
  }
  Stmt st(db, raw);
  auto row = st.step();
  const int version = row && *row ? std::atoi(st.text(0).c_str()) : 0;
  sqlite3_finalize(raw);
  if (!row) return std::move(row).error();
  return version;
}

}  // namespace

Status migrate(Store& store, sqlite::StatementCache& stmts) {
  sqlite3* db = sqlite::handle(store);
  auto version = schema_version(db);
  if (version && *version == kVersion && sqlite_audit::is_current(db) && sqlite_web::is_current(db))
    return {};
  return store.transaction([&]() -> Status {
    TANDEM_TRY(exec(db, kMigrations[0]));
    auto found = schema_version(db);
    if (!found) return std::move(found).error();
    if (*found > kVersion) {
      return make_error(
          ErrorCode::kUnsupportedVersion,
          "server tables are from a newer tandem-server (version " + std::to_string(*found) + ")");
    }
    for (int v = 2; v <= kVersion; ++v) {
      if (*found < v) TANDEM_TRY(exec(db, kMigrations[static_cast<std::size_t>(v - 1)]));
    }
    TANDEM_TRY(sqlite_audit::migrate(db));  // versioned on its own
    TANDEM_TRY(sqlite_web::migrate(db));    // so are the web sessions
    auto set =
        stmts.get("INSERT OR REPLACE INTO server_meta(key, value) VALUES('schema_version', ?)");
    if (!set) return std::move(set).error();
    return (*set)->bind(1, std::to_string(kVersion)).run();
  });
}

}  // namespace tandem::server::sqlite_backend::schema
