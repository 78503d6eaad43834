// The two /v1 calls a device makes, over any Transport: encode the request
// (protocol.hpp), send it, and turn the HTTP answer into a value or an Error.
// This is the one place where HTTP statuses become error codes:
//
//   2xx with a well-formed body  -> the decoded response
//   401                          -> kUnauthorized / kExpired / kDeviceWiped
//                                   (server's code; the last: erase the device)
//   5xx                          -> kServer (retryable)
//   503                          -> kBusy (retryable)
//   other 4xx                    -> the server's stable code (kAlreadyExists,
//                                   kPayloadTooLarge, kInvalidArgument, ...)
//   a body that breaks the protocol: a 2xx body that does not decode, an
//   error body that does not (a number out of range, ...)
//                                -> kBadResponse (not retried: the server
//                                   would say it again)
//   transport failures           -> kNetwork / kTimeout / kResponseTooLarge,
//                                   unchanged
//
// Every number is range-checked by the decoders (protocol.hpp); what an
// answer must be against its request is check_sync_response's to say.
// `details`, when given, receives the server's error body (server_time_ms,
// last_mutation_id) for HTTP errors; it is left untouched otherwise.
//
// Thread-safety: stateless; the Transport's rules apply.
#pragma once

#include <chrono>
#include <functional>
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
// POST /v1/enroll with "check": whom the code is for; nothing is consumed
// (request.check is set here). Errors as post_enroll's.
Result<EnrollCheckResponse> post_enroll_check(Transport& transport, EnrollRequest request,
                                              ErrorResponse* details = nullptr);

// `body` is the encoded SyncRequest (the engine keeps the exact bytes so a
// retry sends the same request); `timeout`, when set, bounds the exchange
// (HttpRequest::timeout); `meanwhile`, when set, runs while the server
// works on the request (Transport::send_overlapped).
Result<SyncResponse> post_sync(Transport& transport, std::string_view token, std::string body,
                               ErrorResponse* details = nullptr,
                               std::chrono::milliseconds timeout = std::chrono::milliseconds(0),
                               const std::function<void()>& meanwhile = {});

}  // namespace tandem::sync
