// CurlTransport: the Transport over libcurl (easy interface, blocking).
//
// One CURL handle is kept for the transport's life, so consecutive requests
// reuse the TCP connection (HTTP/1.1 keep-alive). Every request carries
// "Accept-Encoding: gzip" (CURLOPT_ACCEPT_ENCODING; libcurl decodes) and,
// when given, "Authorization: Bearer <token>". Timeouts are per request:
// connect_timeout bounds the TCP connect, total_timeout (or the request's
// own timeout, when smaller) the whole exchange, a trickling answer
// included. The answer is held to max_response_bytes of decoded body (a
// gzip bomb is cut where it decodes past the cap, a Content-Length above it
// before the body is read) and max_response_header_bytes of headers.
//
// Errors: kTimeout (a timeout expired), kResponseTooLarge (the answer went
// beyond a cap; the transfer is aborted), kNetwork (everything else without
// a response), kInvalidArgument (bad base URL). HTTP statuses are returned,
// not mapped (see transport.hpp).
//
// Thread-safety: one thread at a time. curl_global_init must have run before
// threads exist; create() runs it once (curl_global_init is reference
// counted and safe to call from the main thread before any other).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "tandem/sync/protocol.hpp"
#include "tandem/sync/transport.hpp"

namespace tandem::sync {

struct CurlOptions {
  std::string base_url;  // "http://127.0.0.1:8080" (no trailing slash needed)
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds total_timeout{60'000};
  std::size_t max_response_bytes = kMaxResponseBytes;
  std::size_t max_response_header_bytes = kMaxResponseHeaderBytes;
  std::string user_agent = "tandem-sync/0.1";
};

class CurlTransport final : public Transport {
 public:
  // kInvalidArgument when base_url is not http(s)://...; kInternal when
  // libcurl cannot be initialised.
  static Result<std::unique_ptr<CurlTransport>> create(CurlOptions options);
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  Result<HttpResponse> send(const HttpRequest& request) override;
  TransportStats stats() const override { return stats_; }

 private:
  struct Impl;
  explicit CurlTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  TransportStats stats_;
};

}  // namespace tandem::sync
