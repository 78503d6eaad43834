// Device token rotation (docs/protocol.md, "Token rotation"): the rule that
// decides when a device gets a new token, and the bookkeeping a sync does
// for it, over the backend-neutral primitives of ServerStorage.
//
// A rotation is due when the administration asked for one (device
// rotate-token) or the token is older than kTokenMaxAgeMs. The new token
// goes out in a sync answer (device.token); the server keeps only its hash,
// as the device's pending token. Both tokens authenticate the device until
// its first sync with the new one, which makes it current: the old one stops
// working. Until then every sync answer carries a fresh token replacing the
// pending one: a token cannot be sent twice (only its hash is kept), and a
// device that lost the answer syncs on with its old one, so a lost answer
// never locks a device out.
//
// A device runs one sync at a time (the engine does): two requests in flight
// with the old token would each replace the pending token, and the device
// would keep whichever answer it read last.
//
// Thread-safety: the storage's (safe from any thread). settle_token waits
// for a commit: callers run it off the network threads (token_write_due
// tells them when it will).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tandem/core/error.hpp"
#include "tandem/server/storage.hpp"

namespace tandem::server {

// Whether `device` (as authenticated) is to get a new token at `now_ms`.
bool token_rotation_due(const DeviceRecord& device, std::int64_t now_ms);

// Whether a sync of `device` at `now_ms` writes its tokens (settle_token):
// it used its pending token, or a rotation is due.
bool token_write_due(const DeviceRecord& device, std::int64_t now_ms);

// The token bookkeeping at the start of a sync of `device` (found by
// device_by_token), committed before it returns:
//  - the device used its pending token: that becomes its current token
//    (`device` updated: token_ms, rotate_due, by_pending_token); nullopt;
//  - else, when a rotation is due: a new random token, stored as the
//    pending one; returned, to be sent in this sync's answer (nullopt when
//    the storage declined: a concurrent request changed the device's tokens,
//    the next sync decides again);
//  - else nothing; nullopt.
// Errors: the storage's and the randomness source's; kUnauthorized when
// the pending token used was replaced or the device revoked meanwhile.
Result<std::optional<std::string>> settle_token(ServerStorage& storage, DeviceRecord& device,
                                                std::int64_t now_ms);

}  // namespace tandem::server
