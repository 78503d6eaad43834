// What a push's merge sees of the SQLite backend: see push_transaction.hpp.
#include "storage/sqlite/push_transaction.hpp"

#include "storage/sqlite/audit.hpp"
#include "storage/sqlite/devices.hpp"
#include "storage/sqlite/rows.hpp"
#include "storage/sqlite/storage.hpp"

namespace tandem::server::sqlite_backend {

using sqlite::Stmt;
using sqlite::StmtLease;

Result<std::optional<std::string>> SqlitePushTransaction::record_school(
    std::string_view record_id) {
  return s_.record_school_locked(record_id);
}

Result<AppliedChange> SqlitePushTransaction::apply(const Change& change, std::string_view body) {
  return s_.apply_locked(change, body, device_id_);
}

Result<StmtLease> SqlitePushTransaction::stmt(const char* sql) { return s_.stmts_.get(sql); }

Result<std::optional<Record>> SqlitePushTransaction::record(std::string_view id) {
  auto r = s_.store_->get(id);
  if (!r) {
    if (r.error().code == ErrorCode::kNotFound) return std::optional<Record>();
    return std::move(r).error();
  }
  return std::optional<Record>(std::move(*r));
}

Result<std::optional<RecordScope>> SqlitePushTransaction::scope(std::string_view record) {
  static const std::string sql =
      std::string("SELECT ") + kScopeColumns + " FROM server_scope WHERE record=?";
  auto st = stmt(sql.c_str());
  if (!st) return std::move(st).error();
  (*st)->bind(1, record);
  auto row = (*st)->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<RecordScope>();
  return std::optional<RecordScope>(read_scope(**st));
}

Status SqlitePushTransaction::put_scope(const RecordScope& r) {
  auto st = stmt(
      "INSERT OR REPLACE INTO server_scope(record, school, kind, parent, anchor, anchor_kind, "
      "child, author, assignee, first_seq, anchor_author) VALUES(?,?,?,?,?,?,?,?,?,?,?)");
  if (!st) return std::move(st).error();
  Status written = (*st)
      ->bind(1, r.record)
      .bind(2, r.school)
      .bind(3, r.kind)
      .bind(4, r.parent)
      .bind(5, r.anchor)
      .bind(6, r.anchor_kind)
      .bind(7, r.child)
      .bind(8, r.author)
      .bind(9, r.assignee)
      .bind(10, r.first_seq)
      .bind(11, r.anchor_author)
      .run();
  if (written) s_.caches_.changes().scopes.push_back(r);
  return written;
}

Result<std::vector<std::string>> SqlitePushTransaction::members(std::string_view anchor) {
  auto st = stmt("SELECT person FROM server_members WHERE anchor=? ORDER BY person");
  if (!st) return std::move(st).error();
  (*st)->bind(1, anchor);
  return read_texts(**st);
}

Result<std::vector<RecordScope>> SqlitePushTransaction::scopes_under(std::string_view parent) {
  static const std::string sql =
      std::string("SELECT ") + kScopeColumns + " FROM server_scope WHERE parent=? AND parent<>''";
  auto st = stmt(sql.c_str());
  if (!st) return std::move(st).error();
  (*st)->bind(1, parent);
  return read_scopes(**st);
}

Result<std::vector<RecordScope>> SqlitePushTransaction::school_scopes(std::string_view school) {
  static const std::string sql =
      std::string("SELECT ") + kScopeColumns + " FROM server_scope WHERE school=?";
  auto st = stmt(sql.c_str());
  if (!st) return std::move(st).error();
  (*st)->bind(1, school);
  return read_scopes(**st);
}

Status SqlitePushTransaction::set_members(std::string_view school, std::string_view anchor,
                                          const std::vector<std::string>& persons) {
  auto del = stmt("DELETE FROM server_members WHERE anchor=?");
  if (!del) return std::move(del).error();
  TANDEM_TRY((*del)->bind(1, anchor).run());
  for (const auto& p : persons) {
    auto ins = stmt("INSERT OR IGNORE INTO server_members(anchor, person, school) VALUES(?,?,?)");
    if (!ins) return std::move(ins).error();
    TANDEM_TRY((*ins)->bind(1, anchor).bind(2, p).bind(3, school).run());
  }
  return {};
}

Status SqlitePushTransaction::set_links(std::string_view school, std::string_view anchor,
                                        const std::vector<std::string>& children) {
  auto del = stmt("DELETE FROM server_links WHERE anchor=?");
  if (!del) return std::move(del).error();
  TANDEM_TRY((*del)->bind(1, anchor).run());
  for (const auto& c : children) {
    auto ins = stmt("INSERT OR IGNORE INTO server_links(anchor, child, school) VALUES(?,?,?)");
    if (!ins) return std::move(ins).error();
    TANDEM_TRY((*ins)->bind(1, anchor).bind(2, c).bind(3, school).run());
  }
  return {};
}

Result<std::vector<std::string>> SqlitePushTransaction::anchors_of(std::string_view school,
                                                                   std::string_view person) {
  auto st = stmt("SELECT anchor FROM server_members WHERE person=? AND school=?");
  if (!st) return std::move(st).error();
  (*st)->bind(1, person).bind(2, school);
  return read_texts(**st);
}

Result<std::vector<std::pair<std::string, std::string>>> SqlitePushTransaction::links_of(
    const std::vector<std::string>& anchors) {
  auto st = stmt(
      "SELECT anchor, child FROM server_links WHERE anchor IN (SELECT value FROM json_each(?))");
  if (!st) return std::move(st).error();
  (*st)->bind(1, json_list(anchors));
  std::vector<std::pair<std::string, std::string>> out;
  for (;;) {
    auto row = (*st)->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.emplace_back((*st)->text(0), (*st)->text(1));
  }
  return out;
}

Status SqlitePushTransaction::put_consent(const ConsentRow& c) {
  auto st = stmt(
      "INSERT OR REPLACE INTO server_consents(id, school, child, scope, given_on, withdrawn_on, "
      "live) VALUES(?,?,?,?,?,?,?)");
  if (!st) return std::move(st).error();
  return (*st)
      ->bind(1, c.id)
      .bind(2, c.school)
      .bind(3, c.child)
      .bind(4, c.scope)
      .bind(5, c.given_on)
      .bind(6, c.withdrawn_on)
      .bind(7, std::int64_t{c.live ? 1 : 0})
      .run();
}

Result<std::vector<ConsentRow>> SqlitePushTransaction::consents(std::string_view school) {
  auto st = stmt(
      "SELECT id, school, child, scope, given_on, withdrawn_on, live FROM server_consents WHERE "
      "school=?");
  if (!st) return std::move(st).error();
  (*st)->bind(1, school);
  std::vector<ConsentRow> out;
  for (;;) {
    auto row = (*st)->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    Stmt& q = **st;
    out.push_back(ConsentRow{q.text(0), q.text(1), q.text(2), q.text(3), q.text(4), q.text(5),
                             q.int64(6) != 0});
  }
  return out;
}

Result<std::int64_t> SqlitePushTransaction::scope_version(std::string_view school) {
  auto st = stmt("SELECT version FROM server_scope_versions WHERE key=?");
  if (!st) return std::move(st).error();
  (*st)->bind(1, school);
  auto row = (*st)->step();
  if (!row) return std::move(row).error();
  return *row ? (*st)->int64(0) : 0;
}

Status SqlitePushTransaction::bump_scope_version(std::string_view school) {
  s_.caches_.changes().views = true;
  auto st = stmt(
      "INSERT INTO server_scope_versions(key, version) VALUES(?, 1) "
      "ON CONFLICT(key) DO UPDATE SET version=version+1");
  if (!st) return std::move(st).error();
  return (*st)->bind(1, school).run();
}

Result<std::optional<DeviceView>> SqlitePushTransaction::device_view(std::string_view device) {
  auto st = stmt(kDeviceViewSql.c_str());
  if (!st) return std::move(st).error();
  return read_device_view(**st, device);
}

Result<std::vector<std::pair<std::string, DeviceView>>> SqlitePushTransaction::school_device_views(
    std::string_view school) {
  auto st = stmt(kSchoolDeviceViewsSql.c_str());
  if (!st) return std::move(st).error();
  (*st)->bind(1, school);
  std::vector<std::pair<std::string, DeviceView>> out;
  for (;;) {
    auto row = (*st)->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.emplace_back((*st)->text(9), device_view_columns(**st, 0));
  }
  return out;
}

Status SqlitePushTransaction::put_device_view(std::string_view device, const DeviceView& v) {
  s_.caches_.changes().views = true;
  auto st = stmt(
      "INSERT OR REPLACE INTO server_device_views(device, number, view, acked_view, "
      "scope_version, day, gone, backfill, backfill_upto, rewind) VALUES(?,?,?,?,?,?,?,?,?,?)");
  if (!st) return std::move(st).error();
  return (*st)
      ->bind(1, device)
      .bind(2, v.number)
      .bind(3, v.view)
      .bind(4, v.acked_view)
      .bind(5, v.scope_version)
      .bind(6, v.day)
      .bind(7, json_list(v.gone))
      .bind(8, json_list(v.backfill))
      .bind(9, v.backfill_upto)
      .bind(10, std::int64_t{v.rewind ? 1 : 0})
      .run();
}

Result<std::optional<DeviceRecord>> SqlitePushTransaction::device(std::string_view device_id) {
  auto st = stmt("SELECT " TANDEM_DEVICE_COLUMNS
                 " FROM server_devices "
                 "WHERE id=?");
  if (!st) return std::move(st).error();
  (*st)->bind(1, device_id);
  auto row = (*st)->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<DeviceRecord>();
  return std::optional<DeviceRecord>(sqlite_devices::read(**st));
}

Result<std::vector<std::string>> SqlitePushTransaction::record_ids(std::string_view kind) {
  auto st = stmt("SELECT id FROM records WHERE kind=? ORDER BY id");
  if (!st) return std::move(st).error();
  (*st)->bind(1, kind);
  return read_texts(**st);
}

Result<std::int64_t> SqlitePushTransaction::first_seq(std::string_view school,
                                                      std::string_view record) {
  auto st = stmt("SELECT min(seq) FROM server_changes WHERE school=? AND record=?");
  if (!st) return std::move(st).error();
  (*st)->bind(1, school).bind(2, record);
  auto row = (*st)->step();
  if (!row) return std::move(row).error();
  return *row && !(*st)->is_null(0) ? (*st)->int64(0) : 0;
}

Result<std::optional<std::string>> SqlitePushTransaction::meta(std::string_view key) {
  auto st = stmt("SELECT value FROM server_meta WHERE key=?");
  if (!st) return std::move(st).error();
  (*st)->bind(1, key);
  auto row = (*st)->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>((*st)->text(0));
}

Status SqlitePushTransaction::set_meta(std::string_view key, std::string_view value) {
  auto st = stmt("INSERT OR REPLACE INTO server_meta(key, value) VALUES(?, ?)");
  if (!st) return std::move(st).error();
  s_.caches_.changes().shared = true;  // settings are cached
  return (*st)->bind(1, key).bind(2, value).run();
}

Status SqlitePushTransaction::append_audit(const AuditEntry& entry) {
  return sqlite_audit::append(s_.writer_stmts(), entry);
}

}  // namespace tandem::server::sqlite_backend
