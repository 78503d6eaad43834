// Transport: how the sync engine reaches the server. One HTTP request in, one
// HTTP response (or a transport failure) out. The engine never touches
// sockets; the host supplies a Transport (libcurl on desktop and in tests,
// the app's own HTTP stack on iOS/Android, a fault-injecting fake in tests).
//
// Contract:
//  - A response with any HTTP status is a success of the transport: the
//    status and body are returned as they came. Mapping statuses to errors is
//    the protocol layer's job (decode_response in client.hpp), done once.
//  - A transport holds no more of an answer than its cap (the body as
//    decoded, and the headers; kMaxResponseBytes and kMaxResponseHeaderBytes
//    in protocol.hpp unless the host sets others): beyond it the transfer is
//    aborted, so a server cannot make a device hold more.
//  - No exchange takes longer than the transport's own total timeout, nor
//    than HttpRequest::timeout when that is set (the caller's deadline), a
//    server that trickles bytes included.
//  - Failures without a complete response are errors:
//      kTimeout           the connect or total timeout expired;
//      kResponseTooLarge  the answer went beyond the cap;
//      kNetwork           anything else (refused, reset, cut mid-response, DNS).
//    Either way the request MAY have reached the server and taken effect:
//    callers treat them as "outcome unknown" and may retry idempotently
//    (kResponseTooLarge is not retried: the same request gets the same answer).
//
// Thread-safety: a Transport is used from one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "tandem/core/error.hpp"

namespace tandem::sync {

struct HttpRequest {
  std::string method = "POST";  // "GET" or "POST"
  std::string path;             // "/v1/sync": appended to the transport's base URL
  std::string body;             // JSON text; empty for GET
  std::string bearer_token;     // empty: no Authorization header
  // The longest this exchange may take, all of it (0: the transport's own
  // total timeout only). The caller's remaining deadline; the transport
  // applies the smaller of the two.
  std::chrono::milliseconds timeout{0};
};

struct HttpResponse {
  int status = 0;      // HTTP status code
  std::string body;    // decoded body (after Content-Encoding)
};

// Counters a transport keeps for reports and benchmarks.
struct TransportStats {
  std::int64_t requests = 0;        // requests attempted
  std::int64_t failures = 0;        // of which ended without a response
  std::int64_t bytes_sent = 0;      // request line + headers + body, as sent
  std::int64_t bytes_received = 0;  // status line + headers + body, as received (compressed)
  std::int64_t connections = 0;     // new TCP connections opened
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Sends one request and waits for its response (blocking).
  virtual Result<HttpResponse> send(const HttpRequest& request) = 0;
  // The same exchange; once the request is on its way (all of it written),
  // `meanwhile` runs on this thread before the response is awaited, so that
  // work needing no answer overlaps the server's. It runs at most once (not
  // when the request could not be begun). This default: send, then meanwhile.
  virtual Result<HttpResponse> send_overlapped(const HttpRequest& request,
                                               const std::function<void()>& meanwhile) {
    auto response = send(request);
    if (meanwhile) meanwhile();
    return response;
  }
  virtual TransportStats stats() const { return {}; }
};

}  // namespace tandem::sync
