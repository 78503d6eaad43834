// The two /v1 calls a device makes, over any Transport: encode the request
// (protocol.hpp), send it, and turn the HTTP answer into a value or an Error.
// This is the one place where HTTP statuses become error codes:
//
//   2xx with a well-formed body  -> the decoded response
//   401                          -> kUnauthorized / kExpired (server's code)
//   5xx (and 2xx with a body that does not decode) -> kServer (retryable)
//   503                          -> kBusy (retryable)
//   other 4xx                    -> the server's stable code (kAlreadyExists,
//                                   kPayloadTooLarge, kInvalidArgument, ...)
//   transport failures           -> kNetwork / kTimeout, unchanged
//
// `details`, when given, receives the server's error body (server_time_ms,
// last_mutation_id) for HTTP errors; it is left untouched otherwise.
//
// Thread-safety: stateless; the Transport's rules apply.
#pragma once

#include <string_view>

#include "tandem/core/error.hpp"
#include "tandem/sync/protocol.hpp"
#include "tandem/sync/transport.hpp"

namespace tandem::sync {

inline constexpr std::string_view kEnrollPath = "/v1/enroll";
inline constexpr std::string_view kSyncPath = "/v1/sync";

// Whether an error may go away by itself: the request may be sent again
// unchanged (network, timeout, server failure, busy).
bool is_retryable(ErrorCode code) noexcept;

Result<EnrollResponse> post_enroll(Transport& transport, const EnrollRequest& request,
                                   ErrorResponse* details = nullptr);

// `body` is the encoded SyncRequest (the engine keeps the exact bytes so a
// retry sends the same request).
Result<SyncResponse> post_sync(Transport& transport, std::string_view token, std::string body,
                               ErrorResponse* details = nullptr);

}  // namespace tandem::sync
