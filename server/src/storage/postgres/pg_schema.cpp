// Migrations of the PostgreSQL backend (pg_schema.hpp).
#include "storage/postgres/pg_schema.hpp"

#include <string>

namespace tandem::server::pg {
namespace {

// Version 1: every table of the embedded backend's schema versions 1-5, the
// audit trail and the web sessions, in PostgreSQL types.
//
// Row-level security per school is a second line of defence behind
// access.hpp: while a device's push runs, its transaction sets
// tandem.school, and no row of another school can be read or written. With
// the setting unset (the administration, authentication by token) every row
// is reachable. PostgreSQL exempts superusers and roles with BYPASSRLS from
// policies: run tandem-server as an ordinary role (README, PostgreSQL).
constexpr const char* kV1 = R"sql(
CREATE TABLE IF NOT EXISTS server_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS server_devices(
  id TEXT PRIMARY KEY, school TEXT NOT NULL, person TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',
  token_hash TEXT NOT NULL UNIQUE, created_ms BIGINT NOT NULL, last_seen_ms BIGINT NOT NULL DEFAULT 0,
  revoked_ms BIGINT, last_mutation_id BIGINT NOT NULL DEFAULT 0, last_digest TEXT NOT NULL DEFAULT '',
  last_response TEXT NOT NULL DEFAULT '', wipe_ordered_ms BIGINT, wipe_delivered_ms BIGINT,
  token_ms BIGINT NOT NULL DEFAULT 0, rotate_due BOOLEAN NOT NULL DEFAULT false,
  next_token_hash TEXT UNIQUE);
CREATE INDEX IF NOT EXISTS server_devices_school ON server_devices(school);
CREATE TABLE IF NOT EXISTS server_enrollment_codes(
  code_hash TEXT PRIMARY KEY, person TEXT NOT NULL, school TEXT NOT NULL,
  created_ms BIGINT NOT NULL, expires_ms BIGINT NOT NULL, used_ms BIGINT, device TEXT);
CREATE TABLE IF NOT EXISTS server_school_seq(school TEXT PRIMARY KEY, last_seq BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS server_changes(
  school TEXT NOT NULL, seq BIGINT NOT NULL, hlc TEXT NOT NULL, record TEXT NOT NULL,
  kind TEXT NOT NULL, body TEXT NOT NULL, origin TEXT NOT NULL DEFAULT '',
  PRIMARY KEY(school, seq));
CREATE INDEX IF NOT EXISTS server_changes_record ON server_changes(school, record);
-- Every sequenced record and its school and kind (a record never changes
-- school): which school holds a record, whatever the visibility rows say.
CREATE TABLE IF NOT EXISTS server_records(record TEXT PRIMARY KEY, school TEXT NOT NULL, kind TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS server_records_kind ON server_records(kind);
CREATE TABLE IF NOT EXISTS server_scope(
  record TEXT PRIMARY KEY, school TEXT NOT NULL, kind TEXT NOT NULL, parent TEXT NOT NULL DEFAULT '',
  anchor TEXT NOT NULL DEFAULT '', anchor_kind TEXT NOT NULL DEFAULT '', child TEXT NOT NULL DEFAULT '',
  author TEXT NOT NULL DEFAULT '', assignee TEXT NOT NULL DEFAULT '', first_seq BIGINT NOT NULL DEFAULT 0,
  anchor_author TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS server_scope_school ON server_scope(school);
CREATE INDEX IF NOT EXISTS server_scope_parent ON server_scope(parent) WHERE parent<>'';
CREATE TABLE IF NOT EXISTS server_members(anchor TEXT NOT NULL, person TEXT NOT NULL, school TEXT NOT NULL,
  PRIMARY KEY(anchor, person));
CREATE INDEX IF NOT EXISTS server_members_person ON server_members(person, school);
CREATE TABLE IF NOT EXISTS server_links(anchor TEXT NOT NULL, child TEXT NOT NULL, school TEXT NOT NULL,
  PRIMARY KEY(anchor, child));
CREATE TABLE IF NOT EXISTS server_consents(id TEXT PRIMARY KEY, school TEXT NOT NULL, child TEXT NOT NULL,
  scope TEXT NOT NULL, given_on TEXT NOT NULL, withdrawn_on TEXT NOT NULL DEFAULT '', live BOOLEAN NOT NULL);
CREATE INDEX IF NOT EXISTS server_consents_school ON server_consents(school);
CREATE TABLE IF NOT EXISTS server_scope_versions(key TEXT PRIMARY KEY, version BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS server_device_views(device TEXT PRIMARY KEY, number BIGINT NOT NULL, view TEXT NOT NULL,
  acked_view TEXT NOT NULL, scope_version BIGINT NOT NULL, day TEXT NOT NULL, gone TEXT NOT NULL,
  backfill TEXT NOT NULL, backfill_upto BIGINT NOT NULL, rewind BOOLEAN NOT NULL);
CREATE TABLE IF NOT EXISTS server_login_codes(
  code_hash TEXT PRIMARY KEY, person TEXT NOT NULL, school TEXT NOT NULL,
  created_ms BIGINT NOT NULL, expires_ms BIGINT NOT NULL, used_ms BIGINT);
CREATE TABLE IF NOT EXISTS server_web_sessions(
  token_hash TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, person TEXT NOT NULL, school TEXT NOT NULL,
  created_ms BIGINT NOT NULL, expires_ms BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS server_web_sessions_expires ON server_web_sessions(expires_ms);
CREATE TABLE IF NOT EXISTS server_audit(
  school TEXT NOT NULL, n BIGINT NOT NULL, at_ms BIGINT NOT NULL, person TEXT NOT NULL,
  device TEXT NOT NULL, action TEXT NOT NULL, records TEXT NOT NULL, hash TEXT NOT NULL,
  PRIMARY KEY(school, n));
CREATE TABLE IF NOT EXISTS server_audit_chain(
  school TEXT PRIMARY KEY, first_n BIGINT NOT NULL, first_prev TEXT NOT NULL,
  last_n BIGINT NOT NULL, last_hash TEXT NOT NULL);
CREATE OR REPLACE FUNCTION server_audit_refuse_update() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN RAISE EXCEPTION 'audit entries are append-only'; END $$;
DROP TRIGGER IF EXISTS server_audit_append_only ON server_audit;
CREATE TRIGGER server_audit_append_only BEFORE UPDATE ON server_audit
  FOR EACH ROW EXECUTE FUNCTION server_audit_refuse_update();
CREATE OR REPLACE FUNCTION server_school_allowed(s TEXT) RETURNS BOOLEAN LANGUAGE sql STABLE AS
  $$ SELECT coalesce(nullif(current_setting('tandem.school', true), ''), s) = s $$;
DO $$
DECLARE t TEXT;
BEGIN
  FOREACH t IN ARRAY ARRAY['server_devices', 'server_enrollment_codes', 'server_school_seq',
      'server_changes', 'server_records', 'server_scope', 'server_members', 'server_links', 'server_consents',
      'server_login_codes', 'server_web_sessions', 'server_audit', 'server_audit_chain'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('DROP POLICY IF EXISTS per_school ON %I', t);
    IF t IN ('server_scope', 'server_records') THEN
      -- Which school holds a record is read across schools (a push naming
      -- another school's record is refused per change as not_found, the
      -- answer for an unknown id); writing stays inside the school.
      EXECUTE format('DROP POLICY IF EXISTS per_school_read ON %I', t);
      EXECUTE format('CREATE POLICY per_school_read ON %I FOR SELECT USING (true)', t);
      EXECUTE format('CREATE POLICY per_school ON %I FOR ALL USING (server_school_allowed(school)) '
                     'WITH CHECK (server_school_allowed(school))', t);
    ELSE
      EXECUTE format('CREATE POLICY per_school ON %I USING (server_school_allowed(school)) '
                     'WITH CHECK (server_school_allowed(school))', t);
    END IF;
  END LOOP;
END $$;
)sql";

// Migration n (1-based) is kMigrations[n - 1].
constexpr const char* kMigrations[] = {kV1};
static_assert(std::size(kMigrations) == kPgSchemaVersion);

// Any constant shared by every Tandem instance: the advisory lock of migrations.
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(7311562001)";

}  // namespace

Status migrate(Conn& conn) {
  return conn.transaction([&]() -> Status {
    TANDEM_TRY(conn.run(kMigrationLock));
    TANDEM_TRY(conn.run(
        "CREATE TABLE IF NOT EXISTS server_migrations(version INTEGER PRIMARY KEY, "
        "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"));
    auto rows = conn.query("SELECT coalesce(max(version), 0) FROM server_migrations");
    if (!rows) return std::move(rows).error();
    const std::int64_t found = rows->int64(0, 0);
    if (found > kPgSchemaVersion) {
      return make_error(ErrorCode::kUnsupportedVersion,
                        "the PostgreSQL store is from a newer tandem-server (schema version " +
                            std::to_string(found) + ")");
    }
    for (std::int64_t v = found + 1; v <= kPgSchemaVersion; ++v) {
      TANDEM_TRY(conn.script(kMigrations[v - 1]));
      TANDEM_TRY(conn.run("INSERT INTO server_migrations(version) VALUES($1)", {v}));
    }
    return {};
  });
}

}  // namespace tandem::server::pg
