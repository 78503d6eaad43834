// The audit trail's SQLite tables: what they hold, and who must hold which
// transaction, is in audit.hpp.
#include "storage/sqlite/audit.hpp"

#include <string>
#include <utility>

#include "tandem/core/json.hpp"

namespace tandem::server::sqlite_audit {
namespace {

using sqlite::Stmt;

constexpr int kAuditSchemaVersion = 1;

constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS server_audit(
  school TEXT NOT NULL, n INTEGER NOT NULL, at_ms INTEGER NOT NULL, person TEXT NOT NULL,
  device TEXT NOT NULL, action TEXT NOT NULL, records TEXT NOT NULL, hash TEXT NOT NULL,
  PRIMARY KEY(school, n)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS server_audit_chain(
  school TEXT PRIMARY KEY, first_n INTEGER NOT NULL, first_prev TEXT NOT NULL,
  last_n INTEGER NOT NULL, last_hash TEXT NOT NULL) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS server_audit_append_only BEFORE UPDATE ON server_audit
  BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
)sql";

// The current row of a statement selecting (school, n, at_ms, person,
// device, action, records, hash); nullopt when its
// records do not decode.
std::optional<AuditEntryRow> read_row(const Stmt& s) {
  AuditEntryRow row;
  row.entry.school = s.text(0);
  row.n = s.int64(1);
  row.entry.at_ms = s.int64(2);
  row.entry.person = s.text(3);
  row.entry.device = s.text(4);
  row.entry.action = s.text(5);
  auto refs = audit_decode_records(s.text_view(6));
  if (!refs) return std::nullopt;
  row.entry.records = std::move(*refs);
  row.hash = s.text(7);
  return row;
}

Result<std::vector<AuditChainState>> chains(const StmtSource& stmts) {
  auto st = stmts(
      "SELECT school, first_n, first_prev, last_n, last_hash FROM server_audit_chain "
      "ORDER BY school");
  if (!st) return std::move(st).error();
  std::vector<AuditChainState> out;
  for (;;) {
    auto row = (*st)->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    const Stmt& s = **st;
    out.push_back(AuditChainState{s.text(0), s.int64(1), s.text(2), s.int64(3), s.text(4)});
  }
  return out;
}

// Checks one school's entries against its chain row.
Result<std::optional<AuditBreak>> verify_school(const StmtSource& stmts,
                                                const AuditChainState& chain,
                                                std::int64_t& checked) {
  static constexpr const char* kSql =
      "SELECT school, n, at_ms, person, device, action, records, hash FROM server_audit "
      "WHERE school=? ORDER BY n";
  auto st = stmts(kSql);
  if (!st) return std::move(st).error();
  (*st)->bind(1, chain.school);
  AuditChainChecker checker(chain);
  for (;;) {
    auto row = (*st)->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    auto entry = read_row(**st);
    if (!entry) {
      checked += checker.checked();
      return std::optional<AuditBreak>(
          AuditBreak{chain.school, (*st)->int64(1), "records column unreadable"});
    }
    if (!checker.add(*entry)) break;
  }
  auto broken = checker.finish();
  checked += checker.checked();
  return broken;
}

}  // namespace

bool meta_version_is(sqlite3* db, const char* key, int version) {
  sqlite3_stmt* raw = nullptr;
  // Not cached: before a migration the table may lack the row (or not exist).
  if (sqlite3_prepare_v2(db, "SELECT value FROM server_meta WHERE key=?", -1, &raw, nullptr) !=
      SQLITE_OK) {
    sqlite3_finalize(raw);
    return false;
  }
  sqlite3_bind_text(raw, 1, key, -1, SQLITE_STATIC);
  const bool current = sqlite3_step(raw) == SQLITE_ROW && sqlite3_column_int(raw, 0) == version;
  sqlite3_finalize(raw);
  return current;
}

bool is_current(sqlite3* db) {
  return meta_version_is(db, "audit_schema_version", kAuditSchemaVersion);
}

Status migrate(sqlite3* db) {
  if (is_current(db)) return {};
  TANDEM_TRY(sqlite::exec(db, kSchemaV1));
  return sqlite::exec(db,
                      "INSERT OR REPLACE INTO server_meta(key, value) "
                      "VALUES('audit_schema_version', '1')");
}

Status append(const StmtSource& stmts, const AuditEntry& entry) {
  TANDEM_TRY(validate_audit_entry(entry));
  std::int64_t last_n = 0;
  std::string last_hash = kAuditGenesisHash;
  {
    auto st = stmts("SELECT last_n, last_hash FROM server_audit_chain WHERE school=?");
    if (!st) return std::move(st).error();
    (*st)->bind(1, entry.school);
    auto row = (*st)->step();
    if (!row) return std::move(row).error();
    if (*row) {
      last_n = (*st)->int64(0);
      last_hash = (*st)->text(1);
    }
  }
  const std::int64_t n = last_n + 1;
  const std::string hash = audit_hash(last_hash, entry, n);
  auto ins = stmts(
      "INSERT INTO server_audit(school, n, at_ms, person, device, action, records, hash) "
      "VALUES(?,?,?,?,?,?,?,?)");
  if (!ins) return std::move(ins).error();
  TANDEM_TRY((*ins)
                 ->bind(1, entry.school)
                 .bind(2, n)
                 .bind(3, entry.at_ms)
                 .bind(4, entry.person)
                 .bind(5, entry.device)
                 .bind(6, entry.action)
                 .bind(7, audit_encode_records(entry.records))
                 .bind(8, hash)
                 .run());
  auto head = stmts(
      "INSERT INTO server_audit_chain(school, first_n, first_prev, last_n, last_hash) "
      "VALUES(?, 1, ?, ?, ?) "
      "ON CONFLICT(school) DO UPDATE SET last_n=excluded.last_n, last_hash=excluded.last_hash");
  if (!head) return std::move(head).error();
  return (*head)->bind(1, entry.school).bind(2, kAuditGenesisHash).bind(3, n).bind(4, hash).run();
}

Result<AuditVerification> verify(const StmtSource& stmts) {
  AuditVerification v;
  auto all = chains(stmts);
  if (!all) return std::move(all).error();
  {
    // Entries of a school without a chain row: its head was deleted.
    auto st = stmts(
        "SELECT school, min(n) FROM server_audit WHERE school NOT IN "
        "(SELECT school FROM server_audit_chain) GROUP BY school ORDER BY school LIMIT 1");
    if (!st) return std::move(st).error();
    auto row = (*st)->step();
    if (!row) return std::move(row).error();
    if (*row) {
      v.broken = AuditBreak{(*st)->text(0), (*st)->int64(1), "the school's chain head is missing"};
      return v;
    }
  }
  for (const auto& chain : *all) {
    ++v.schools;
    auto broken = verify_school(stmts, chain, v.entries);
    if (!broken) return std::move(broken).error();
    if (*broken) {
      v.broken = std::move(*broken);
      return v;
    }
    v.heads.push_back(AuditSchoolHead{chain.school, chain.first_n, chain.last_n, chain.last_hash});
  }
  return v;
}

Result<std::vector<AuditEntryRow>> entries_for_child(const StmtSource& stmts,
                                                     std::string_view child) {
  // A data-subject request is rare: it scans the trail rather than make
  // every append write an index. instr() skips rows without the id cheaply;
  // the decoded records decide (ids need no escaping in JSON, see audit.cpp).
  static constexpr const char* kSql =
      "SELECT school, n, at_ms, person, device, action, records, hash FROM server_audit "
      "WHERE instr(records, ?) > 0 ORDER BY at_ms, school, n";
  auto st = stmts(kSql);
  if (!st) return std::move(st).error();
  (*st)->bind(1, "\"" + std::string(child) + "\"]");
  std::vector<AuditEntryRow> out;
  for (;;) {
    auto row = (*st)->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    auto entry = read_row(**st);
    if (!entry) {
      return make_error(ErrorCode::kCorrupt, "audit entry " + (*st)->text(0) + " #" +
                                                 std::to_string((*st)->int64(1)) +
                                                 " is unreadable; run audit verify");
    }
    std::erase_if(entry->entry.records, [&](const AuditRef& r) { return r.child != child; });
    if (!entry->entry.records.empty()) out.push_back(std::move(*entry));
  }
  return out;
}

Result<std::int64_t> prune_step(const StmtSource& stmts, std::int64_t before_ms,
                                std::int64_t budget) {
  auto all = chains(stmts);
  if (!all) return std::move(all).error();
  std::int64_t deleted = 0;
  for (const auto& chain : *all) {
    if (deleted >= budget) break;
    // The school's oldest entries, up to the first at or after the cutoff.
    std::int64_t last_old = 0, old = 0;
    std::string last_old_hash;
    {
      auto st = stmts(
          "SELECT n, at_ms, hash FROM server_audit WHERE school=? AND n>=? ORDER BY n LIMIT ?");
      if (!st) return std::move(st).error();
      (*st)->bind(1, chain.school).bind(2, chain.first_n).bind(3, budget - deleted);
      for (;;) {
        auto row = (*st)->step();
        if (!row) return std::move(row).error();
        if (!*row || (*st)->int64(1) >= before_ms) break;
        last_old = (*st)->int64(0);
        last_old_hash = (*st)->text(2);
        ++old;
      }
    }
    if (last_old == 0) continue;
    auto del = stmts("DELETE FROM server_audit WHERE school=? AND n<=?");
    if (!del) return std::move(del).error();
    TANDEM_TRY((*del)->bind(1, chain.school).bind(2, last_old).run());
    deleted += old;
    // The checkpoint: verification starts at the first entry kept, from the
    // hash of the last one deleted.
    auto cp = stmts("UPDATE server_audit_chain SET first_n=?, first_prev=? WHERE school=?");
    if (!cp) return std::move(cp).error();
    TANDEM_TRY((*cp)->bind(1, last_old + 1).bind(2, last_old_hash).bind(3, chain.school).run());
  }
  return deleted;
}

}  // namespace tandem::server::sqlite_audit
