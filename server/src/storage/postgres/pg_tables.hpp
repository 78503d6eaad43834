// The PostgreSQL backend's devices, web sessions and audit trail: the same
// rules as the embedded backend's storage/sqlite/devices, web_sessions and
// audit (storage.hpp, token_rotation.hpp, web.hpp, audit.hpp), as SQL
// on one connection. Every function expects its caller's transaction where
// it writes more than one statement; the audit verification and the export
// expect one snapshot (REPEATABLE READ).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/postgres/pg.hpp"
#include "tandem/server/audit.hpp"
#include "tandem/server/storage.hpp"

namespace tandem::server::pg {

// Columns read by read_device(), in its order.
inline constexpr const char* kDeviceColumns =
    "id, school, person, name, created_ms, last_seen_ms, revoked_ms, wipe_ordered_ms, "
    "wipe_delivered_ms, token_ms, rotate_due, next_token_hash IS NOT NULL";
inline constexpr int kDeviceColumnCount = 12;
DeviceRecord read_device(const Rows& rows, int row);

// The device whose current or pending token hashes to `token_hash` (revoked
// or not); second: whether it is the pending one.
Result<std::optional<std::pair<DeviceRecord, bool>>> device_by_token_hash(Conn& c,
                                                                         std::string_view token_hash);
Result<bool> promote_token(Conn& c, std::string_view device_id, std::string_view token_hash,
                           std::int64_t now_ms);
Status request_rotation(Conn& c, std::string_view device_id);
Result<bool> set_next_token(Conn& c, std::string_view device_id, std::string_view current_hash,
                            std::string_view next_hash);

Status add_login_code(Conn& c, std::string_view code_hash, std::string_view person,
                      std::string_view school, std::int64_t now_ms, std::int64_t expires_ms);
Result<std::string> use_login_code(Conn& c, std::string_view code_hash, std::int64_t now_ms);
Status add_web_session(Conn& c, const WebSessionRow& s, std::int64_t now_ms);
Result<std::optional<WebSessionRow>> web_session(Conn& c, std::string_view token_hash);
Status delete_web_session(Conn& c, std::string_view token_hash);

Status append_audit(Conn& c, const AuditEntry& entry);
Result<AuditVerification> verify_audit(Conn& c);
Result<std::vector<AuditEntryRow>> audit_entries_for_child(Conn& c, std::string_view child);
Result<std::int64_t> prune_audit_step(Conn& c, std::int64_t before_ms, std::int64_t budget);

// A PostgreSQL text[] literal of `items` ('{"a","b"}'), for `= ANY($n::text[])`.
std::string text_array(const std::vector<std::string>& items);

}  // namespace tandem::server::pg
