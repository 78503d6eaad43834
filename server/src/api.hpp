// Api: the HTTP face of tandem-server — routing, JSON in and out, and the one
// mapping from an Error to an HTTP status and a JSON body. It knows nothing
// about sockets; HttpSession hands it a complete request.
//
// handle() never throws and never lets an exception escape: anything thrown
// below it is answered 500 `internal`.
//
// Threads: handle() runs on a network thread (the session's strand) and does
// there what only reads: routing, authentication, parsing, pulls. What
// waits for the disk never runs there: a push waits in the storage's commit
// queue and comes back through `resume`; an enrollment (its own commit) is
// handed to the blocking pool.
// Thread-safety: handle() may run on several threads at once.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "http_types.hpp"
#include "tandem/server/metrics.hpp"
#include "tandem/server/reports.hpp"
#include "tandem/server/storage.hpp"
#include "tandem/server/sync_service.hpp"
#include "tandem/server/throttle.hpp"
#include "tandem/sync/protocol.hpp"
#include "web.hpp"

namespace tandem::server {

// Who sent a request, as far as the HTTP layer knows. Never logged.
struct ClientInfo {
  // Failures are counted under this key: the address bytes (IPv6: its /64).
  std::string throttle_key;
  // Over the connection limit: only /healthz is answered, the rest 503 busy.
  bool overflow = false;
};

// What the access log and metrics may say about a request (never bodies).
struct RequestLog {
  std::string_view route = "other";  // a fixed route name, never the raw path
  std::string device_id;             // after authentication
};

// Milliseconds on a clock that never jumps (the throttles' time).
std::int64_t steady_ms();
// Failures the throttles count: a wrong or used code, a bad token.
bool is_credential_failure(ErrorCode code);
// The path of a request target (without its query).
std::string_view path_of(std::string_view target);
// Server, Cache-Control: no-store and the server time, on every answer.
void common_headers(Response& res, std::int64_t now_ms);

// THE mapping from error codes to HTTP statuses.
http::status http_status_for(ErrorCode code) noexcept;

// A JSON error response ({"error":{"code","message"}, "server_time_ms"}).
Response make_error_response(const sync::ErrorResponse& error, unsigned version, bool keep_alive);

class Api {
 public:
  // Runs a task somewhere: the session's strand (resume) or a thread that
  // may block (offload). Must not block the caller. The same type the sync
  // service comes back through.
  using Post = SyncService::Resume;
  // Takes the one response to a request.
  using Respond = std::function<void(Response)>;

  // REQUIRES: all three outlive the Api. `offload` runs blocking handlers.
  // `secure_cookies`: the leaders' session cookie is Secure (behind TLS).
  Api(SyncService& service, ServerStorage& storage, Metrics& metrics, Post offload,
      bool secure_cookies = false);

  // Answers `request` by calling `respond` exactly once: before returning,
  // or later through `resume`. `request` and `log` must stay valid until
  // then (the session keeps them).
  void handle(const Request& request, const ClientInfo& client, RequestLog& log, Post resume,
              Respond respond) noexcept;

  // The school's view (reports.hpp), shared by /v1/schools/... and the web pages.
  Reports& reports() { return reports_; }
  // Who a request without a bearer token is (the leaders' web session); set
  // by the web pages. kUnauthorized when it has no valid session.
  using SessionLookup = std::function<Result<Viewer>(const Request&)>;
  void set_session_lookup(SessionLookup lookup) { session_lookup_ = std::move(lookup); }
  // The viewer of a request: a bearer token's device, else the session.
  Result<Viewer> viewer_of(const Request& request);

  // An error answer for failures found before routing (framing, limits).
  Response error(ErrorCode code, std::string message, unsigned version, bool keep_alive);

 private:
  Response healthz(const Request& request);
  Response metrics(const Request& request);
  Response enroll(const Request& request, const ClientInfo& client);
  void sync(const Request& request, const ClientInfo& client, RequestLog& log, Post resume,
            Respond respond);
  // GET /v1/schools/{school}/(overview|courses/{id}|tables/{name}|archive)
  void school_view(const Request& request, const ClientInfo& client, RequestLog& log, Post resume,
                   Respond respond);
  Response school_view_answer(const Request& request, const Viewer& viewer);
  // 429 rate_limited with Retry-After when `client` has failed too often
  // at `throttle`; nullopt when it may go ahead.
  std::optional<Response> throttled(FailureThrottle& throttle, const ClientInfo& client,
                                    const Request& request);
  // A response for anything that escaped a handler (never its text).
  Response internal_error(const Request& request) noexcept;
  Response json(http::status status, const Json& body, const Request& request);
  // `body` is JSON text already.
  Response json_text(http::status status, std::string body, const Request& request);

  SyncService& service_;
  ServerStorage& storage_;
  Metrics& metrics_;
  Post offload_;
  FailureThrottle enroll_failures_;
  FailureThrottle auth_failures_;
  Reports reports_;
  SessionLookup session_lookup_;
  std::atomic<std::size_t> reports_in_flight_{0};  // school views and leaders' pages
  Web web_;                                        // the leaders' pages
};

}  // namespace tandem::server
