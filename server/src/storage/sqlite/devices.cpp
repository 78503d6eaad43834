// Enrolled devices' rows and tokens in SQLite: see devices.hpp (the columns,
// and which calls need the caller's write transaction).
#include "storage/sqlite/devices.hpp"

#include <string>
#include <utility>

namespace tandem::server::sqlite_devices {

DeviceRecord read(const sqlite::Stmt& st) {
  DeviceRecord d;
  d.id = st.text(0);
  d.school = st.text(1);
  d.person = st.text(2);
  d.name = st.text(3);
  d.created_ms = st.int64(4);
  d.last_seen_ms = st.int64(5);
  if (!st.is_null(6)) d.revoked_ms = st.int64(6);
  if (!st.is_null(7)) d.wipe_ordered_ms = st.int64(7);
  if (!st.is_null(8)) d.wipe_delivered_ms = st.int64(8);
  d.token_ms = st.int64(9);
  d.rotate_due = st.int64(10) != 0;
  d.token_pending = st.int64(11) != 0;
  return d;
}

Result<std::optional<TokenMatch>> by_token(const StmtSource& stmts, std::string_view token_hash) {
  // Both hashes are indexed (unique), so this is two index probes at most.
  auto st = stmts("SELECT " TANDEM_DEVICE_COLUMNS
                  ", coalesce(next_token_hash=?1, 0) FROM server_devices "
                  "WHERE token_hash=?1 OR next_token_hash=?1");
  if (!st) return std::move(st).error();
  (*st)->bind(1, token_hash);
  auto row = (*st)->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<TokenMatch>();
  TokenMatch m{read(**st), (*st)->int64(kDeviceColumns) != 0};
  m.device.token_hash = std::string(token_hash);
  return std::optional<TokenMatch>(std::move(m));
}

Result<bool> promote(const StmtSource& stmts, std::string_view device_id,
                     std::string_view token_hash, std::int64_t now_ms) {
  bool current = false;
  bool pending = false;
  {
    auto st = stmts(
        "SELECT token_hash=?2, coalesce(next_token_hash=?2, 0) FROM server_devices "
        "WHERE id=?1 AND revoked_ms IS NULL");
    if (!st) return std::move(st).error();
    (*st)->bind(1, device_id).bind(2, token_hash);
    auto row = (*st)->step();
    if (!row) return std::move(row).error();
    if (!*row) return false;
    current = (*st)->int64(0) != 0;
    pending = (*st)->int64(1) != 0;
  }
  if (!pending) return current;
  auto st = stmts(
      "UPDATE server_devices SET token_hash=next_token_hash, next_token_hash=NULL, token_ms=?2, "
      "rotate_due=0 WHERE id=?1");
  if (!st) return std::move(st).error();
  TANDEM_TRY((*st)->bind(1, device_id).bind(2, now_ms).run());
  return true;
}

namespace {

// Whether the device exists (kNotFound if not) and is live (kForbidden if not).
Status check_live(const StmtSource& stmts, std::string_view device_id) {
  auto st = stmts("SELECT revoked_ms IS NOT NULL FROM server_devices WHERE id=?");
  if (!st) return std::move(st).error();
  (*st)->bind(1, device_id);
  auto row = (*st)->step();
  if (!row) return std::move(row).error();
  const std::string shown(device_id.substr(0, 64));
  if (!*row) return make_error(ErrorCode::kNotFound, "no device '" + shown + "'");
  if ((*st)->int64(0) != 0) {
    return make_error(ErrorCode::kForbidden,
                      "device '" + shown +
                          "' is revoked: its tokens are refused already (enroll the tablet again)");
  }
  return {};
}

}  // namespace

Status request_rotation(const StmtSource& stmts, std::string_view device_id) {
  TANDEM_TRY(check_live(stmts, device_id));
  auto st = stmts("UPDATE server_devices SET rotate_due=1 WHERE id=?");
  if (!st) return std::move(st).error();
  return (*st)->bind(1, device_id).run();
}

Result<bool> set_next(const StmtSource& stmts, std::string_view device_id,
                      std::string_view current_hash, std::string_view next_hash) {
  {
    auto st =
        stmts("SELECT 1 FROM server_devices WHERE id=? AND token_hash=? AND revoked_ms IS NULL");
    if (!st) return std::move(st).error();
    (*st)->bind(1, device_id).bind(2, current_hash);
    auto row = (*st)->step();
    if (!row) return std::move(row).error();
    if (!*row) return false;
  }
  auto st = stmts("UPDATE server_devices SET next_token_hash=? WHERE id=?");
  if (!st) return std::move(st).error();
  TANDEM_TRY((*st)->bind(1, next_hash).bind(2, device_id).run());
  return true;
}

}  // namespace tandem::server::sqlite_devices
