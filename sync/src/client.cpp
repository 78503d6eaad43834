#include "tandem/sync/client.hpp"

#include <string>

namespace tandem::sync {
namespace {

// Maps a non-2xx response to an Error (see client.hpp for the table).
Error http_error(const HttpResponse& response, ErrorResponse* details) {
  const int status = response.status;
  std::optional<ErrorResponse> decoded;
  if (auto json = parse_json(response.body)) {
    auto e = ErrorResponse::from_json(*json);
    if (e) {
      decoded = std::move(*e);
    } else if (status < 500 && json->is_object() && json->contains("error")) {
      // Meant as our error shape, but broken (a last_mutation_id out of
      // range, ...): nothing in it can be trusted. Other bodies (a proxy's
      // page), and any body of a 5xx, fall through to the status: a
      // server failure stays retryable whatever its body says (found by
      // fuzzing: a 503 with a broken error body was a permanent refusal).
      return make_error(ErrorCode::kBadResponse, "server error answer (HTTP " +
                                                     std::to_string(status) +
                                                     ") not understood: " + e.error().message);
    }
  }
  if (decoded && details) *details = *decoded;
  const std::string what = decoded ? decoded->error.message : "HTTP " + std::to_string(status);
  if (status == 401) {
    // Only the 401 codes a device acts on pass; anything else is a refusal.
    const ErrorCode said = decoded ? decoded->error.code : ErrorCode::kUnauthorized;
    const ErrorCode code = said == ErrorCode::kExpired || said == ErrorCode::kDeviceWiped
                               ? said
                               : ErrorCode::kUnauthorized;
    return make_error(code, what);
  }
  if (status == 503) return make_error(ErrorCode::kBusy, "server busy: " + what);
  if (status >= 500) return make_error(ErrorCode::kServer, "server failure: " + what);
  if (decoded && decoded->error.code != ErrorCode::kOk) return make_error(decoded->error.code, what);
  return make_error(ErrorCode::kInvalidArgument, "request refused: " + what);
}

template <typename T>
Result<T> decode(const Result<HttpResponse>& sent, ErrorResponse* details) {
  if (!sent) return sent.error();
  if (sent->status < 200 || sent->status >= 300) return http_error(*sent, details);
  auto json = parse_json(sent->body);
  if (!json)
    return make_error(ErrorCode::kBadResponse,
                      "server answer is not JSON: " + json.error().message);
  auto value = T::from_json(*json);
  if (!value) {
    return make_error(ErrorCode::kBadResponse,
                      "server answer not understood: " + value.error().message);
  }
  return std::move(*value);
}

}  // namespace

bool is_retryable(ErrorCode code) noexcept {
  return code == ErrorCode::kNetwork || code == ErrorCode::kTimeout || code == ErrorCode::kServer ||
         code == ErrorCode::kBusy;
}

Result<EnrollResponse> post_enroll(Transport& transport, const EnrollRequest& request, ErrorResponse* details) {
  HttpRequest http;
  http.path = std::string(kEnrollPath);
  http.body = request.to_json().dump();
  return decode<EnrollResponse>(transport.send(http), details);
}

Result<EnrollCheckResponse> post_enroll_check(Transport& transport, EnrollRequest request,
                                              ErrorResponse* details) {
  request.check = true;
  HttpRequest http;
  http.path = std::string(kEnrollPath);
  http.body = request.to_json().dump();
  return decode<EnrollCheckResponse>(transport.send(http), details);
}

Result<SyncResponse> post_sync(Transport& transport, std::string_view token, std::string body,
                               ErrorResponse* details, std::chrono::milliseconds timeout,
                               const std::function<void()>& meanwhile) {
  HttpRequest http;
  http.path = std::string(kSyncPath);
  http.body = std::move(body);
  http.bearer_token = std::string(token);
  http.timeout = timeout;
  return decode<SyncResponse>(transport.send_overlapped(http, meanwhile), details);
}

}  // namespace tandem::sync
