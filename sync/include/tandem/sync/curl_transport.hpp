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
// TLS (https:// base URLs): TLS 1.2 or later; the server's certificate
// chain and its host name are always verified, against ca_file or the
// system's store, with validity judged at certificate_time (per new
// connection; see certificate_time.hpp for the rule the CLI uses). An https
// base URL allows https only: no redirect or downgrade to http. Plain
// http:// is refused before any connection unless the host is loopback
// (127.0.0.0/8, ::1, localhost) or allow_insecure_http is set. libcurl must
// use OpenSSL when certificate_time is set (checked at create()).
//
// Errors: kTimeout (a timeout expired), kResponseTooLarge (the answer went
// beyond a cap; the transfer is aborted), kCertificate (the server's
// certificate was refused: untrusted issuer, wrong host, expired or not yet
// valid, or the CA file unreadable; nothing was sent), kNetwork (everything
// else without a response), kInvalidArgument (bad base URL),
// kInsecureTransport (http:// to a host that is not loopback). HTTP statuses
// are returned, not mapped (see transport.hpp).
//
// Thread-safety: one thread at a time. curl_global_init must have run before
// threads exist; create() runs it once (curl_global_init is reference
// counted and safe to call from the main thread before any other).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "tandem/sync/certificate_time.hpp"
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
  // PEM file of the CA certificates to trust; "" = the system's store.
  std::string ca_file;
  // When certificates are judged valid, asked once per new TLS connection
  // (empty: the system clock). Runs on the thread calling send().
  std::function<CertificateTime()> certificate_time;
  // Plain http:// to a host that is not loopback (tokens and children's
  // data in clear): refused unless set (`tandem --allow-http`).
  bool allow_insecure_http = false;
};

// Whether `host` (as in a URL: a name, an IPv4 literal or a bracketed IPv6
// literal) is this machine's loopback: localhost, 127.0.0.0/8 or [::1].
bool is_loopback_host(const std::string& host);

class CurlTransport final : public Transport {
 public:
  // kInvalidArgument when base_url is not http(s)://...; kInternal when
  // libcurl cannot be initialised.
  static Result<std::unique_ptr<CurlTransport>> create(CurlOptions options);
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  Result<HttpResponse> send(const HttpRequest& request) override;
  // Drives the exchange itself (libcurl's multi interface, on this thread)
  // and runs `meanwhile` once the request is written.
  Result<HttpResponse> send_overlapped(const HttpRequest& request,
                                       const std::function<void()>& meanwhile) override;
  TransportStats stats() const override { return stats_; }

 private:
  struct Impl;
  explicit CurlTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  TransportStats stats_;
};

}  // namespace tandem::sync
