#include "migrations.hpp"

namespace tandem::detail {

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> kMigrations = {
      {1, R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
-- One row per record ever known here. Deleted/purged records keep their row
-- (tombstones); a purged one keeps only id, kind, school and the purge stamp.
CREATE TABLE records(
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, school TEXT NOT NULL DEFAULT '',
  created TEXT NOT NULL DEFAULT '', deleted TEXT NOT NULL DEFAULT '',
  purged TEXT NOT NULL DEFAULT '') WITHOUT ROWID;
CREATE INDEX records_kind ON records(kind, id);
-- Multi-value register per field: every write is a row; a write seen by a
-- later write is 'dominated' (its value dropped). Heads = non-dominated rows:
-- the greatest is the value, the others are open conflicts.
CREATE TABLE field_writes(
  record TEXT NOT NULL, field TEXT NOT NULL, hlc TEXT NOT NULL, value TEXT,
  dominated INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(record, field, hlc)) WITHOUT ROWID;
-- Set fields: last-writer-wins per element.
CREATE TABLE set_elements(
  record TEXT NOT NULL, field TEXT NOT NULL, element TEXT NOT NULL,
  present INTEGER NOT NULL, hlc TEXT NOT NULL, PRIMARY KEY(record, field, element)) WITHOUT ROWID;
-- Every change applied here (local and remote), in arrival order.
CREATE TABLE changes(seq INTEGER PRIMARY KEY, hlc TEXT NOT NULL UNIQUE, record TEXT NOT NULL, body TEXT NOT NULL);
-- No index on record: purge (rare) scans; every sync page saves a B-tree.
-- Local changes not yet acknowledged by the server.
CREATE TABLE outbox(seq INTEGER PRIMARY KEY, hlc TEXT NOT NULL UNIQUE);
)sql"},
      {2, R"sql(
-- Scope queries (per school) without decoding content.
CREATE INDEX records_school ON records(school, kind);
-- Long text fields: sequence-CRDT state (run-length encoded) + materialised text.
CREATE TABLE texts(
  record TEXT NOT NULL, field TEXT NOT NULL, state BLOB NOT NULL, text TEXT NOT NULL,
  PRIMARY KEY(record, field)) WITHOUT ROWID;
)sql"},
      {3, R"sql(
-- lazy=1: the record's scalar and text values are still exactly those of its
-- create change (found in `changes` by the `created` stamp) and have no rows
-- of their own yet; the first write to any of its fields materialises them
-- into field_writes/texts. Recording a note is then one log row + one record
-- row instead of a row per field. References to a child always have their
-- row (which records concern a child stays queryable without decoding).
ALTER TABLE records ADD COLUMN lazy INTEGER NOT NULL DEFAULT 0;
-- Superseded writes whose change is in the log need no row: the log's unique
-- stamp already recognises their re-delivery. Only ghosts (seen before they
-- arrived) keep a dominated row.
DELETE FROM field_writes WHERE dominated=1 AND hlc IN (SELECT hlc FROM changes);
-- Never queried: every lookup is by id or by kind.
DROP INDEX records_school;
-- Observation entries are most of the rows and are listed wholesale (a scan
-- costs what the index would), so only the other kinds are indexed by kind.
DROP INDEX records_kind;
CREATE INDEX records_kind ON records(kind, id) WHERE kind <> 'entry';
-- The outbox names its changes by their place in the log: one small B-tree.
CREATE TABLE outbox_v3(seq INTEGER PRIMARY KEY);
INSERT INTO outbox_v3(seq) SELECT c.seq FROM outbox o JOIN changes c ON c.hlc = o.hlc ORDER BY o.seq;
DROP TABLE outbox;
ALTER TABLE outbox_v3 RENAME TO outbox;
)sql"},
      {4, R"sql(
-- Changes the server refused for good, with the change's JSON so that the
-- user can see (and re-create) them. Until version 4 the sync engine made
-- this table on first use; the Store owns it now, so that a purge removes
-- the record's refused changes with everything else.
CREATE TABLE IF NOT EXISTS sync_rejected(
  hlc TEXT PRIMARY KEY, record TEXT NOT NULL, kind TEXT NOT NULL, op TEXT NOT NULL,
  field TEXT NOT NULL, code TEXT NOT NULL, message TEXT NOT NULL,
  mutation_id INTEGER NOT NULL, at_ms INTEGER NOT NULL, body TEXT NOT NULL) WITHOUT ROWID;
)sql"},
      {5, R"sql(
-- Parent references (an entry's or reflection's session, a session's course,
-- an agenda item's meeting) have a row of their own from the create on, like
-- references to a child (migration 3), so that what hangs under a record is
-- found by this index instead of decoding every record of the kind: one
-- session's summary reads its entries, not the year's.
INSERT OR IGNORE INTO field_writes(record, field, hlc, value)
  SELECT r.id, p.field, r.created, json_quote(json_extract(c.body, '$.value.' || p.field))
  FROM records r
  JOIN (SELECT 'entry' AS kind, 'session' AS field UNION ALL SELECT 'reflection', 'session'
        UNION ALL SELECT 'session', 'course' UNION ALL SELECT 'agenda_item', 'meeting') p
    ON p.kind = r.kind
  JOIN changes c ON c.hlc = r.created
  WHERE r.lazy = 1 AND json_type(c.body, '$.value.' || p.field) = 'text';
CREATE INDEX field_writes_parent ON field_writes(field, value)
  WHERE field IN ('session', 'course', 'meeting', 'child') AND dominated = 0;
)sql"},
      {6, R"sql(
-- The authors of overlapping concurrent edits merged into a text and not
-- confirmed yet (Document::merged_by, a JSON array; '' for none), kept with
-- the materialised text so that reading a record does not decode its state.
-- Older states kept no deleters and have no merges: '' is right for them.
ALTER TABLE texts ADD COLUMN merged TEXT NOT NULL DEFAULT '';
)sql"},
      {7, R"sql(
-- The parent index's condition as a CASE, not an IN list: SQLite evaluates a
-- partial index's condition on every write of the table, and an IN list of
-- four built a temporary table per field write (about 40 % of a merged
-- change's cost). Not as comparisons ORed either: `field = ?` in a
-- statement would then imply one of them for some bound values, and SQLite
-- would prepare such statements again each time the value changed.
-- Queries that use the index state this condition word for word.
DROP INDEX field_writes_parent;
CREATE INDEX field_writes_parent ON field_writes(field, value)
  WHERE (CASE field WHEN 'session' THEN 1 WHEN 'course' THEN 1 WHEN 'meeting' THEN 1 WHEN 'child' THEN 1 ELSE 0 END) = 1
    AND dominated = 0;
)sql"},
  };
  return kMigrations;
}

}  // namespace tandem::detail
