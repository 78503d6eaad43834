// Enrolled devices' tokens in the embedded SQLite backend (the rules are in
// storage.hpp and token_rotation.hpp; this file only stores and reads).
//
//   server_devices(id, ..., token_hash, token_ms, rotate_due, next_token_hash, ...)
//     token_hash: hex SHA-256 of the device's current token; token_ms: when
//     it became current; rotate_due: the administration asked for a new
//     one; next_token_hash: a new token sent in a sync answer and not yet
//     used (NULL: none). Both hashes are unique (a partial index for the
//     pending one), so a token finds at most one device.
//
// REQUIRES (promote, request_rotation, set_next): the caller's write
// transaction. read() and by_token(): any connection.
#pragma once

#include <optional>
#include <string_view>

#include "storage/sqlite/audit.hpp"
#include "tandem/core/sqlite.hpp"
#include "tandem/server/storage.hpp"

namespace tandem::server::sqlite_devices {

using StmtSource = sqlite_audit::StmtSource;

// The columns read() reads, in its order (a macro: it is pasted into SQL
// literals, which the statement caches key by address).
#define TANDEM_DEVICE_COLUMNS                                                         \
  "id, school, person, name, created_ms, last_seen_ms, revoked_ms, wipe_ordered_ms, " \
  "wipe_delivered_ms, token_ms, rotate_due, next_token_hash IS NOT NULL"
inline constexpr int kDeviceColumns = 12;

// The device of the current row of a SELECT TANDEM_DEVICE_COLUMNS.
DeviceRecord read(const sqlite::Stmt& st);

struct TokenMatch {
  DeviceRecord device;   // token_hash set to the hash looked up
  bool pending = false;  // the hash is the device's pending token, not its current one
};
// The device whose current or pending token hashes to `token_hash`, revoked
// or not (nullopt: none).
Result<std::optional<TokenMatch>> by_token(const StmtSource& stmts, std::string_view token_hash);

// Makes `token_hash`, the pending token of `device_id`, its current one
// (token_ms = now_ms, rotate_due and the pending token cleared; the old token
// is gone). true: `token_hash` is now the device's current token (also when
// a concurrent call made it so first); false: it is neither current nor
// pending any more (replaced by a newer one, or the device was revoked).
Result<bool> promote(const StmtSource& stmts, std::string_view device_id,
                     std::string_view token_hash, std::int64_t now_ms);

// Sets rotate_due. kNotFound: no such device; kForbidden: revoked.
Status request_rotation(const StmtSource& stmts, std::string_view device_id);

// Stores `next_hash` as the pending token (replacing one) while
// `current_hash` is the current token of the live device `device_id`.
// false: it is not (nothing stored).
Result<bool> set_next(const StmtSource& stmts, std::string_view device_id,
                      std::string_view current_hash, std::string_view next_hash);

}  // namespace tandem::server::sqlite_devices
