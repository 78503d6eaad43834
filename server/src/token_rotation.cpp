#include "tandem/server/token_rotation.hpp"

#include "tandem/server/crypto.hpp"
#include "tandem/server/limits.hpp"

namespace tandem::server {

bool token_rotation_due(const DeviceRecord& device, std::int64_t now_ms) {
  // A token dated ahead of now (a server clock set back) is not old.
  return device.rotate_due || now_ms - device.token_ms >= kTokenMaxAgeMs;
}

bool token_write_due(const DeviceRecord& device, std::int64_t now_ms) {
  return device.by_pending_token || token_rotation_due(device, now_ms);
}

Result<std::optional<std::string>> settle_token(ServerStorage& storage, DeviceRecord& device,
                                                std::int64_t now_ms) {
  if (device.token_hash.empty())
    return make_error(ErrorCode::kInternal, "tokens are settled only for an authenticated device");
  if (device.by_pending_token) {
    // Its first use: never a new token in the same answer (the device could
    // not tell which of its requests' answers to keep).
    auto promoted = storage.promote_token(device.id, device.token_hash, now_ms);
    if (!promoted) return std::move(promoted).error();
    if (!*promoted) return make_error(ErrorCode::kUnauthorized, "unknown or revoked device token");
    device.by_pending_token = false;
    device.token_pending = false;
    device.rotate_due = false;
    device.token_ms = now_ms;
    return std::optional<std::string>();
  }
  if (!token_rotation_due(device, now_ms)) return std::optional<std::string>();
  auto token = new_device_token();
  if (!token) return std::move(token).error();
  auto stored = storage.set_next_token(device.id, device.token_hash, sha256_hex(*token));
  if (!stored) return std::move(stored).error();
  if (!*stored) return std::optional<std::string>();
  return std::optional<std::string>(std::move(*token));
}

}  // namespace tandem::server
