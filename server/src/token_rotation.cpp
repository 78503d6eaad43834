#include "tandem/server/token_rotation.hpp"

#include "tandem/server/crypto.hpp"
#include "tandem/server/limits.hpp"

namespace tandem::server {

bool token_rotation_due(const DeviceRecord& device, std::int64_t now_ms) {
  // A token dated ahead of now (a server clock set back) is not old.
  return device.rotate_due || now_ms - device.token_ms >= kTokenMaxAgeMs;
}

Result<std::optional<std::string>> issue_next_token(ServerStorage& storage,
                                                    const DeviceRecord& device) {
  if (device.token_hash.empty())
    return make_error(ErrorCode::kInternal, "a token is issued only to an authenticated device");
  auto token = new_device_token();
  if (!token) return std::move(token).error();
  auto stored = storage.set_next_token(device.id, device.token_hash, sha256_hex(*token));
  if (!stored) return std::move(stored).error();
  if (!*stored) return std::optional<std::string>();
  return std::optional<std::string>(std::move(*token));
}

}  // namespace tandem::server
