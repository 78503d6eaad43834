// Devices, web sessions and the audit trail on PostgreSQL (pg_tables.hpp).
#include "storage/postgres/pg_tables.hpp"

#include "tandem/core/json.hpp"

namespace tandem::server::pg {

DeviceRecord read_device(const Rows& r, int i) {
  DeviceRecord d;
  d.id = r.text(i, 0);
  d.school = r.text(i, 1);
  d.person = r.text(i, 2);
  d.name = r.text(i, 3);
  d.created_ms = r.int64(i, 4);
  d.last_seen_ms = r.int64(i, 5);
  d.revoked_ms = r.opt_int64(i, 6);
  d.wipe_ordered_ms = r.opt_int64(i, 7);
  d.wipe_delivered_ms = r.opt_int64(i, 8);
  d.token_ms = r.int64(i, 9);
  d.rotate_due = r.boolean(i, 10);
  d.token_pending = r.boolean(i, 11);
  return d;
}

Result<std::optional<std::pair<DeviceRecord, bool>>> device_by_token_hash(
    Conn& c, std::string_view token_hash) {
  static const std::string sql = std::string("SELECT ") + kDeviceColumns +
                                 ", coalesce(next_token_hash=$1, false) FROM server_devices "
                                 "WHERE token_hash=$1 OR next_token_hash=$1";
  auto rows = c.query(sql, {token_hash});
  if (!rows) return std::move(rows).error();
  if (rows->empty()) return std::optional<std::pair<DeviceRecord, bool>>();
  DeviceRecord d = read_device(*rows, 0);
  d.token_hash = std::string(token_hash);
  return std::optional<std::pair<DeviceRecord, bool>>(
      std::pair{std::move(d), rows->boolean(0, kDeviceColumnCount)});
}

Result<bool> promote_token(Conn& c, std::string_view device_id, std::string_view token_hash,
                           std::int64_t now_ms) {
  // One statement: the row lock makes a concurrent promotion (here or in
  // another instance) wait, then see the token already current.
  auto up = c.query(
      "UPDATE server_devices SET token_hash=next_token_hash, next_token_hash=NULL, token_ms=$3, "
      "rotate_due=false WHERE id=$1 AND revoked_ms IS NULL AND next_token_hash=$2",
      {device_id, token_hash, now_ms});
  if (!up) return std::move(up).error();
  if (up->affected() > 0) return true;
  auto now = c.query("SELECT 1 FROM server_devices WHERE id=$1 AND revoked_ms IS NULL AND token_hash=$2",
                     {device_id, token_hash});
  if (!now) return std::move(now).error();
  return !now->empty();
}

Status request_rotation(Conn& c, std::string_view device_id) {
  auto st = c.query("SELECT revoked_ms IS NOT NULL FROM server_devices WHERE id=$1", {device_id});
  if (!st) return std::move(st).error();
  const std::string shown(device_id.substr(0, 64));
  if (st->empty()) return make_error(ErrorCode::kNotFound, "no device '" + shown + "'");
  if (st->boolean(0, 0)) {
    return make_error(ErrorCode::kForbidden,
                      "device '" + shown +
                          "' is revoked: its tokens are refused already (enroll the tablet again)");
  }
  return c.run("UPDATE server_devices SET rotate_due=true WHERE id=$1", {device_id});
}

Result<bool> set_next_token(Conn& c, std::string_view device_id, std::string_view current_hash,
                            std::string_view next_hash) {
  auto up = c.query(
      "UPDATE server_devices SET next_token_hash=$3 WHERE id=$1 AND token_hash=$2 AND "
      "revoked_ms IS NULL",
      {device_id, current_hash, next_hash});
  if (!up) return std::move(up).error();
  return up->affected() > 0;
}

Status add_login_code(Conn& c, std::string_view code_hash, std::string_view person,
                      std::string_view school, std::int64_t now_ms, std::int64_t expires_ms) {
  return c.run(
      "INSERT INTO server_login_codes(code_hash, person, school, created_ms, expires_ms) "
      "VALUES($1,$2,$3,$4,$5)",
      {code_hash, person, school, now_ms, expires_ms});
}

Result<std::string> use_login_code(Conn& c, std::string_view code_hash, std::int64_t now_ms) {
  auto st = c.query(
      "SELECT person, expires_ms, used_ms FROM server_login_codes WHERE code_hash=$1 FOR UPDATE",
      {code_hash});
  if (!st) return std::move(st).error();
  if (st->empty() || !st->null(0, 2))
    return make_error(ErrorCode::kUnauthorized, "unknown or already used login code");
  if (st->int64(0, 1) <= now_ms) return make_error(ErrorCode::kExpired, "login code has expired");
  std::string person = st->text(0, 0);
  TANDEM_TRY(c.run("UPDATE server_login_codes SET used_ms=$1 WHERE code_hash=$2", {now_ms, code_hash}));
  return person;
}

Status add_web_session(Conn& c, const WebSessionRow& s, std::int64_t now_ms) {
  TANDEM_TRY(c.run("DELETE FROM server_web_sessions WHERE expires_ms<=$1", {now_ms}));
  TANDEM_TRY(c.run("DELETE FROM server_login_codes WHERE expires_ms<=$1", {now_ms}));
  return c.run(
      "INSERT INTO server_web_sessions(token_hash, id, person, school, created_ms, expires_ms) "
      "VALUES($1,$2,$3,$4,$5,$6)",
      {s.token_hash, s.id, s.person, s.school, s.created_ms, s.expires_ms});
}

Result<std::optional<WebSessionRow>> web_session(Conn& c, std::string_view token_hash) {
  auto st = c.query(
      "SELECT id, person, school, created_ms, expires_ms FROM server_web_sessions "
      "WHERE token_hash=$1",
      {token_hash});
  if (!st) return std::move(st).error();
  if (st->empty()) return std::optional<WebSessionRow>();
  WebSessionRow s;
  s.token_hash = std::string(token_hash);
  s.id = st->text(0, 0);
  s.person = st->text(0, 1);
  s.school = st->text(0, 2);
  s.created_ms = st->int64(0, 3);
  s.expires_ms = st->int64(0, 4);
  return std::optional<WebSessionRow>(std::move(s));
}

Status delete_web_session(Conn& c, std::string_view token_hash) {
  return c.run("DELETE FROM server_web_sessions WHERE token_hash=$1", {token_hash});
}

namespace {

constexpr const char* kAuditColumns = "school, n, at_ms, person, device, action, records, hash";

std::optional<AuditEntryRow> read_audit_row(const Rows& r, int i) {
  AuditEntryRow row;
  row.entry.school = r.text(i, 0);
  row.n = r.int64(i, 1);
  row.entry.at_ms = r.int64(i, 2);
  row.entry.person = r.text(i, 3);
  row.entry.device = r.text(i, 4);
  row.entry.action = r.text(i, 5);
  auto refs = audit_decode_records(r.text(i, 6));
  if (!refs) return std::nullopt;
  row.entry.records = std::move(*refs);
  row.hash = r.text(i, 7);
  return row;
}

Result<std::vector<AuditChainState>> chains(Conn& c) {
  auto st = c.query(
      "SELECT school, first_n, first_prev, last_n, last_hash FROM server_audit_chain ORDER BY school");
  if (!st) return std::move(st).error();
  std::vector<AuditChainState> out;
  for (int i = 0; i < st->size(); ++i)
    out.push_back(AuditChainState{st->text(i, 0), st->int64(i, 1), st->text(i, 2), st->int64(i, 3),
                                  st->text(i, 4)});
  return out;
}

// Entries are read in pages: a school's trail may be long.
constexpr int kAuditPage = 2000;

}  // namespace

Status append_audit(Conn& c, const AuditEntry& entry) {
  TANDEM_TRY(validate_audit_entry(entry));
  // The school's head row, locked: one chain per school, and two instances
  // appending to it take turns (other schools' chains are not held up).
  TANDEM_TRY(c.run(
      "INSERT INTO server_audit_chain(school, first_n, first_prev, last_n, last_hash) "
      "VALUES($1, 1, $2, 0, $2) ON CONFLICT(school) DO NOTHING",
      {entry.school, kAuditGenesisHash}));
  auto head = c.query("SELECT last_n, last_hash FROM server_audit_chain WHERE school=$1 FOR UPDATE",
                      {entry.school});
  if (!head) return std::move(head).error();
  const std::int64_t n = head->int64(0, 0) + 1;
  const std::string hash = audit_hash(head->text(0, 1), entry, n);
  TANDEM_TRY(c.run(std::string("INSERT INTO server_audit(") + kAuditColumns +
                       ") VALUES($1,$2,$3,$4,$5,$6,$7,$8)",
                   {entry.school, n, entry.at_ms, entry.person, entry.device, entry.action,
                    audit_encode_records(entry.records), hash}));
  return c.run("UPDATE server_audit_chain SET last_n=$2, last_hash=$3 WHERE school=$1",
               {entry.school, n, hash});
}

Result<AuditVerification> verify_audit(Conn& c) {
  AuditVerification v;
  auto all = chains(c);
  if (!all) return std::move(all).error();
  {
    auto st = c.query(
        "SELECT school, min(n) FROM server_audit WHERE school NOT IN "
        "(SELECT school FROM server_audit_chain WHERE last_n > 0) GROUP BY school ORDER BY school "
        "LIMIT 1");
    if (!st) return std::move(st).error();
    if (!st->empty()) {
      v.broken = AuditBreak{st->text(0, 0), st->int64(0, 1), "the school's chain head is missing"};
      return v;
    }
  }
  for (const auto& chain : *all) {
    if (chain.last_n == 0) continue;  // created by an append that rolled back nothing yet
    ++v.schools;
    AuditChainChecker checker(chain);
    std::int64_t after = 0;
    bool go = true;
    while (go) {
      auto st = c.query(std::string("SELECT ") + kAuditColumns +
                            " FROM server_audit WHERE school=$1 AND n>$2 ORDER BY n LIMIT $3",
                        {chain.school, after, kAuditPage});
      if (!st) return std::move(st).error();
      for (int i = 0; i < st->size() && go; ++i) {
        after = st->int64(i, 1);
        auto entry = read_audit_row(*st, i);
        if (!entry) {
          v.entries += checker.checked();
          v.broken = AuditBreak{chain.school, after, "records column unreadable"};
          return v;
        }
        go = checker.add(*entry);
      }
      if (st->size() < kAuditPage) break;
    }
    auto broken = checker.finish();
    v.entries += checker.checked();
    if (broken) {
      v.broken = std::move(broken);
      return v;
    }
    v.heads.push_back(AuditSchoolHead{chain.school, chain.first_n, chain.last_n, chain.last_hash});
  }
  return v;
}

Result<std::vector<AuditEntryRow>> audit_entries_for_child(Conn& c, std::string_view child) {
  // As the embedded backend: a rare request scans the trail; strpos skips
  // rows without the id, the decoded records decide.
  auto st = c.query(std::string("SELECT ") + kAuditColumns +
                        " FROM server_audit WHERE strpos(records, $1) > 0 ORDER BY at_ms, school, n",
                    {"\"" + std::string(child) + "\"]"});
  if (!st) return std::move(st).error();
  std::vector<AuditEntryRow> out;
  for (int i = 0; i < st->size(); ++i) {
    auto entry = read_audit_row(*st, i);
    if (!entry) {
      return make_error(ErrorCode::kCorrupt, "audit entry " + st->text(i, 0) + " #" +
                                                 std::to_string(st->int64(i, 1)) +
                                                 " is unreadable; run audit verify");
    }
    std::erase_if(entry->entry.records, [&](const AuditRef& r) { return r.child != child; });
    if (!entry->entry.records.empty()) out.push_back(std::move(*entry));
  }
  return out;
}

Result<std::int64_t> prune_audit_step(Conn& c, std::int64_t before_ms, std::int64_t budget) {
  auto all = chains(c);
  if (!all) return std::move(all).error();
  std::int64_t deleted = 0;
  for (const auto& chain : *all) {
    if (deleted >= budget) break;
    auto st = c.query("SELECT n, at_ms, hash FROM server_audit WHERE school=$1 AND n>=$2 ORDER BY n LIMIT $3",
                      {chain.school, chain.first_n, budget - deleted});
    if (!st) return std::move(st).error();
    std::int64_t last_old = 0, old = 0;
    std::string last_old_hash;
    for (int i = 0; i < st->size() && st->int64(i, 1) < before_ms; ++i) {
      last_old = st->int64(i, 0);
      last_old_hash = st->text(i, 2);
      ++old;
    }
    if (last_old == 0) continue;
    TANDEM_TRY(c.run("DELETE FROM server_audit WHERE school=$1 AND n<=$2", {chain.school, last_old}));
    deleted += old;
    TANDEM_TRY(c.run("UPDATE server_audit_chain SET first_n=$1, first_prev=$2 WHERE school=$3",
                     {last_old + 1, last_old_hash, chain.school}));
  }
  return deleted;
}

std::string text_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char ch : items[i]) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace tandem::server::pg
