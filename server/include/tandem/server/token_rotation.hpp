// Device token rotation (docs/protocol.md, "Lost tablet, offline lease,
// device token"): the rule that decides when a device gets a new token, and
// how one is issued, over the backend-neutral primitives of ServerStorage.
//
// A rotation is due when the administration asked for one (device
// rotate-token) or the token is older than kTokenMaxAgeMs. The new token
// goes out in a sync answer (device.token); the server keeps only its hash,
// as the device's pending token. Both tokens authenticate the device until
// it first uses the new one (device_by_token then makes it current and the
// old one stops working). Until then every sync answer carries a fresh
// token replacing the pending one: a token cannot be sent twice (only its
// hash is kept), and a device that lost the answer syncs on with its old
// one, so a lost answer never locks a device out.
//
// A device runs one sync at a time (the engine does): two requests in flight
// with the old token would each replace the pending token, and the device
// would keep whichever answer it read last.
//
// Thread-safety: the storage's (safe from any thread).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tandem/core/error.hpp"
#include "tandem/server/storage.hpp"

namespace tandem::server {

// Whether `device` (as authenticated) is to get a new token at `now_ms`.
bool token_rotation_due(const DeviceRecord& device, std::int64_t now_ms);

// Issues a new token for `device` (found by device_by_token: its token_hash
// is set): random, stored as its pending token. Returns the token to send,
// or nullopt when the storage declined (a concurrent request changed the
// device's tokens: no token in this answer, the next one decides again).
// Errors: the randomness source's and the storage's.
Result<std::optional<std::string>> issue_next_token(ServerStorage& storage,
                                                    const DeviceRecord& device);

}  // namespace tandem::server
