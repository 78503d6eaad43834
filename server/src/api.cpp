#include "api.hpp"

#include <chrono>
#include <exception>

#include "tandem/server/limits.hpp"
#include "tandem/server/token_rotation.hpp"

namespace tandem::server {
namespace {

constexpr const char* kJsonType = "application/json";
constexpr const char* kServerName = "tandem-server";

enum class Route { kHealthz, kMetrics, kEnroll, kSync, kSchoolView, kUnknown };

struct RouteSpec {
  std::string_view path;
  http::verb method;
  Route route;
};

constexpr RouteSpec kRoutes[] = {
    {"/healthz", http::verb::get, Route::kHealthz},
    {"/metrics", http::verb::get, Route::kMetrics},
    {"/v1/enroll", http::verb::post, Route::kEnroll},
    {"/v1/sync", http::verb::post, Route::kSync},
};
// Routes under a prefix (the rest of the path is the handler's).
constexpr RouteSpec kPrefixRoutes[] = {
    {"/v1/schools/", http::verb::get, Route::kSchoolView},
};

}  // namespace

// Milliseconds on a clock that never jumps (the throttles' time).
std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Failures the throttles count: a wrong or used code, a bad token. Not
// malformed requests (they cost nothing to refuse and guess nothing).
bool is_credential_failure(ErrorCode code) {
  return code == ErrorCode::kUnauthorized || code == ErrorCode::kExpired;
}

std::string_view path_of(std::string_view target) {
  const auto q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

void common_headers(Response& res, std::int64_t now_ms) {
  res.set(http::field::server, kServerName);
  res.set(http::field::cache_control, "no-store");
  res.set(std::string(sync::kServerTimeHeader), std::to_string(now_ms));
}

http::status http_status_for(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kOk:
      return http::status::ok;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kUnknownKind:
    case ErrorCode::kUnknownField:
    case ErrorCode::kWrongType:
    case ErrorCode::kInvalidValue:
    case ErrorCode::kInvalidDate:
    case ErrorCode::kInvalidUtf8:
    case ErrorCode::kTooLong:
    case ErrorCode::kInvalidJson:
    case ErrorCode::kMissingField:
    case ErrorCode::kUnsupportedVersion:
    case ErrorCode::kClockSkew:
    case ErrorCode::kWrongSchool:
    case ErrorCode::kTextTooLarge:  // a change's own fault; the push's is payload_too_large
    case ErrorCode::kAmbiguous:     // a name fitting several records
      return http::status::bad_request;
    case ErrorCode::kNotFound:
      return http::status::not_found;
    case ErrorCode::kDeleted:
    case ErrorCode::kPurged:
      return http::status::gone;
    case ErrorCode::kUnauthorized:
    case ErrorCode::kExpired:
    case ErrorCode::kDeviceWiped:  // a lost tablet's token: refused, and told to erase itself
      return http::status::unauthorized;
    case ErrorCode::kForbidden:
      return http::status::forbidden;
    case ErrorCode::kPayloadTooLarge:
    case ErrorCode::kTooManyChanges:
      return http::status::payload_too_large;
    case ErrorCode::kTimeout:
      return http::status::request_timeout;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kNoConflict:
      return http::status::conflict;
    case ErrorCode::kBusy:
      return http::status::service_unavailable;
    case ErrorCode::kRateLimited:
      return http::status::too_many_requests;
    case ErrorCode::kDiskFull:
      return http::status::insufficient_storage;
    case ErrorCode::kIo:
    case ErrorCode::kCorrupt:
    case ErrorCode::kNetwork:
    case ErrorCode::kServer:
    case ErrorCode::kInternal:
    case ErrorCode::kResponseTooLarge:  // client-side codes: never a server's answer
    case ErrorCode::kBadResponse:
    case ErrorCode::kErasurePending:
    case ErrorCode::kCancelled:  // device-side: a cancelled sync
    case ErrorCode::kLeaseExpired:  // device-side: the offline lease ran out
    case ErrorCode::kKeyMissing:    // the server's own database key (--db-key)
    case ErrorCode::kWrongKey:
    case ErrorCode::kTampered:
    case ErrorCode::kInsecureTransport:  // client-side
    case ErrorCode::kCertificate:        // client-side
      return http::status::internal_server_error;
  }
  return http::status::internal_server_error;
}

Response make_error_response(const sync::ErrorResponse& error, unsigned version, bool keep_alive) {
  Response res{http_status_for(error.error.code), version};
  common_headers(res, error.server_time_ms.value_or(0));
  res.set(http::field::content_type, kJsonType);
  if (res.result() == http::status::unauthorized) res.set(http::field::www_authenticate, "Bearer");
  if (res.result() == http::status::service_unavailable) res.set(http::field::retry_after, "1");
  res.keep_alive(keep_alive);
  res.body() = error.to_json().dump(-1, ' ', false, Json::error_handler_t::replace);
  res.prepare_payload();
  return res;
}

Api::Api(SyncService& service, ServerStorage& storage, Metrics& metrics, Post offload,
         bool secure_cookies)
    : service_(service),
      storage_(storage),
      metrics_(metrics),
      offload_(std::move(offload)),
      enroll_failures_({kEnrollFailureBurst, kEnrollFailuresPerSecond, kMaxThrottledAddresses}),
      auth_failures_({kAuthFailureBurst, kAuthFailuresPerSecond, kMaxThrottledAddresses}),
      reports_(storage, [&service] { return service.now_ms(); }),
      web_(storage, reports_, [&service] { return service.now_ms(); }, WebOptions{secure_cookies}) {
  session_lookup_ = [this](const Request& request) { return web_.viewer_of(request); };
}

Response Api::error(ErrorCode code, std::string message, unsigned version, bool keep_alive) {
  sync::ErrorResponse e;
  e.error = make_error(code, std::move(message));
  e.server_time_ms = service_.now_ms();
  return make_error_response(e, version, keep_alive);
}

Response Api::json(http::status status, const Json& body, const Request& request) {
  return json_text(status, body.dump(-1, ' ', false, Json::error_handler_t::replace), request);
}

Response Api::json_text(http::status status, std::string body, const Request& request) {
  Response res{status, request.version()};
  common_headers(res, service_.now_ms());
  res.set(http::field::content_type, kJsonType);
  res.keep_alive(request.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

std::optional<Response> Api::throttled(FailureThrottle& throttle, const ClientInfo& client,
                                       const Request& request) {
  const std::int64_t wait = throttle.wait_ms(client.throttle_key, steady_ms());
  if (wait == 0) return std::nullopt;
  const std::int64_t seconds = (wait + 999) / 1000;
  Response res = error(
      ErrorCode::kRateLimited,
      "too many failed attempts from this address; retry in " + std::to_string(seconds) + " s",
      request.version(), request.keep_alive());
  res.set(http::field::retry_after, std::to_string(seconds));
  return res;
}

void Api::handle(const Request& request, const ClientInfo& client, RequestLog& log, Post resume,
                 Respond respond) noexcept {
  try {
    const std::string_view path =
        path_of(std::string_view(request.target().data(), request.target().size()));
    const RouteSpec* match = nullptr;
    for (const auto& r : kRoutes) {
      if (r.path == path) match = &r;
    }
    for (const auto& r : kPrefixRoutes) {
      if (!match && path.starts_with(r.path)) match = &r;
    }
    if (!match && Web::route(path)) {
      // A leader's page: off the network threads (a report reads a whole
      // school, a login commits), as boundedly as the school view's JSON.
      log.route = *Web::route(path);
      if (client.overflow || reports_in_flight_.fetch_add(1) >= kMaxQueuedReports) {
        if (!client.overflow) reports_in_flight_.fetch_sub(1);
        return respond(
            error(ErrorCode::kBusy, "too busy; retry shortly", request.version(), false));
      }
      return offload_([this, &request, &client, resume, respond]() mutable {
        Response res = web_.handle(request, client.throttle_key);
        reports_in_flight_.fetch_sub(1);
        resume([respond = std::move(respond), res = std::move(res)]() mutable {
          respond(std::move(res));
        });
      });
    }
    if (!match) {
      return respond(error(ErrorCode::kNotFound, "no such endpoint", request.version(),
                           request.keep_alive()));
    }
    log.route = match->path;
    if (client.overflow && match->route != Route::kHealthz) {
      return respond(
          error(ErrorCode::kBusy, "too many connections; retry shortly", request.version(), false));
    }
    if (request.method() != match->method) {
      Response res = error(ErrorCode::kInvalidArgument,
                           "method not allowed; use " + std::string(http::to_string(match->method)),
                           request.version(), request.keep_alive());
      res.result(http::status::method_not_allowed);
      res.set(http::field::allow, http::to_string(match->method));
      return respond(std::move(res));
    }
    switch (match->route) {
      case Route::kHealthz:
        return respond(healthz(request));
      case Route::kMetrics:
        return respond(metrics(request));
      case Route::kEnroll:
        // Its own commit: waits for the disk, so not on this thread.
        if (auto refused = throttled(enroll_failures_, client, request))
          return respond(std::move(*refused));
        return offload_([this, &request, &client, resume, respond]() mutable {
          Response res;
          try {
            res = enroll(request, client);
          } catch (...) {
            res = internal_error(request);
          }
          resume([respond = std::move(respond), res = std::move(res)]() mutable {
            respond(std::move(res));
          });
        });
      case Route::kSync:
        return sync(request, client, log, std::move(resume), std::move(respond));
      case Route::kSchoolView:
        return school_view(request, client, log, std::move(resume), std::move(respond));
      case Route::kUnknown:
        break;
    }
    return respond(
        error(ErrorCode::kNotFound, "no such endpoint", request.version(), request.keep_alive()));
  } catch (...) {
    // Never the exception text: it could quote request data. `respond` has
    // not run (it is the last call of every path above and does not throw
    // before taking the response).
  }
  respond(internal_error(request));
}

Response Api::internal_error(const Request& request) noexcept {
  try {
    return error(ErrorCode::kInternal, "internal error", request.version(), false);
  } catch (...) {
    Response res{http::status::internal_server_error, request.version()};
    res.keep_alive(false);
    return res;
  }
}

Response Api::healthz(const Request& request) {
  Status s = storage_.check_health();
  if (!s)
    return error(ErrorCode::kServer, "storage unavailable", request.version(),
                 request.keep_alive());
  return json(http::status::ok, Json{{"status", "ok"}, {"server_time_ms", service_.now_ms()}},
              request);
}

Response Api::metrics(const Request& request) {
  auto active = storage_.count_active_devices(service_.now_ms() - kActiveDeviceWindowMs);
  Response res{http::status::ok, request.version()};
  common_headers(res, service_.now_ms());
  res.set(http::field::content_type, "text/plain; version=0.0.4");
  res.keep_alive(request.keep_alive());
  res.body() = metrics_.render(active ? *active : -1, storage_.stats());
  res.prepare_payload();
  return res;
}

Response Api::enroll(const Request& request, const ClientInfo& client) {
  auto body = sync::parse_json(request.body());
  if (!body)
    return error(body.error().code, body.error().message, request.version(), request.keep_alive());
  auto req = sync::EnrollRequest::from_json(*body);
  if (!req)
    return error(req.error().code, req.error().message, request.version(), request.keep_alive());
  // A check (nothing consumed) is refused and throttled exactly as a
  // redeeming request: otherwise it would be a free code-guessing oracle.
  auto answer = [&](auto out) {
    if (!out.value) {
      if (is_credential_failure(out.error.error.code))
        enroll_failures_.failed(client.throttle_key, steady_ms());
      out.error.server_time_ms = service_.now_ms();
      return make_error_response(out.error, request.version(), request.keep_alive());
    }
    return json(http::status::ok, out.value->to_json(), request);
  };
  if (req->check) return answer(service_.check_enrollment(*req));
  return answer(service_.enroll(*req));
}

void Api::sync(const Request& request, const ClientInfo& client, RequestLog& log, Post resume,
               Respond respond) {
  // Authentication first: nothing about the body is looked at for strangers,
  // and nothing at all for an address that failed too often.
  if (auto refused = throttled(auth_failures_, client, request))
    return respond(std::move(*refused));
  auto device = service_.authenticate(std::string_view(request[http::field::authorization].data(),
                                                       request[http::field::authorization].size()));
  if (!device) {
    if (is_credential_failure(device.error().code))
      auth_failures_.failed(client.throttle_key, steady_ms());
    return respond(error(device.error().code, device.error().message, request.version(),
                         request.keep_alive()));
  }
  log.device_id = device->id;
  auto body = sync::parse_json(request.body());
  if (!body)
    return respond(
        error(body.error().code, body.error().message, request.version(), request.keep_alive()));
  auto req = sync::SyncRequest::from_json(*body);
  if (!req)
    return respond(
        error(req.error().code, req.error().message, request.version(), request.keep_alive()));
  SyncService::SyncDone answer = [this, &request,
                                  respond = std::move(respond)](Outcome<std::string> out) mutable {
    // On the session's side again: a throw here must still answer.
    Response res;
    try {
      if (!out.value) {
        out.error.server_time_ms = service_.now_ms();
        res = make_error_response(out.error, request.version(), request.keep_alive());
      } else {
        res = json_text(http::status::ok, std::move(*out.value), request);
      }
    } catch (...) {
      res = internal_error(request);
    }
    respond(std::move(res));
  };
  if (!token_write_due(*device, service_.now_ms())) {
    return service_.sync(std::move(*device), std::move(*req), std::move(resume), std::move(answer));
  }
  // A token rotation (rare) waits for its own commit: not on this thread.
  // The answer comes back to the session's side through `resume`.
  offload_([this, device = std::move(*device), req = std::move(*req), resume,
            answer = std::move(answer)]() mutable {
    SyncService::SyncDone back = [resume, answer](Outcome<std::string> out) mutable {
      resume(
          [answer = std::move(answer), out = std::move(out)]() mutable { answer(std::move(out)); });
    };
    try {
      service_.sync(std::move(device), std::move(req), resume, back);
    } catch (...) {
      // As in handle(): thrown before `done` ran; never the exception text.
      back(Outcome<std::string>::fail(make_error(ErrorCode::kInternal, "internal error")));
    }
  });
}

}  // namespace tandem::server
