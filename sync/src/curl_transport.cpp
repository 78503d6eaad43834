#include "tandem/sync/curl_transport.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <mutex>
#include <string_view>

#include "tandem/core/excerpt.hpp"

namespace tandem::sync {
namespace {

// curl_global_init is not thread-safe; run it once per process.
bool global_init() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] { ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; });
  return ok;
}

// Where one answer goes, and how much of it may.
struct Sink {
  std::string* body = nullptr;
  std::size_t max_body = 0;
  std::size_t max_headers = 0;
  std::size_t header_bytes = 0;
  bool over = false;  // a cap was reached: the transfer was aborted
};

// libcurl calls these with decoded body bytes and with header lines;
// returning less than given aborts the transfer (CURLE_WRITE_ERROR).
std::size_t write_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t n = size * count;
  if (n > sink->max_body - sink->body->size()) {
    sink->over = true;
    return 0;
  }
  sink->body->append(data, n);
  return n;
}

std::size_t count_header(char*, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t n = size * count;
  sink->header_bytes += n;
  if (sink->header_bytes > sink->max_headers) {
    sink->over = true;
    return 0;
  }
  return n;
}

Error curl_error(CURLcode code, const char* detail, const Sink& sink) {
  if (sink.over || code == CURLE_FILESIZE_EXCEEDED) {
    return make_error(ErrorCode::kResponseTooLarge,
                      "the server's answer is larger than this device accepts (" +
                          std::to_string(sink.max_body) + " bytes of body, " +
                          std::to_string(sink.max_headers) + " of headers); transfer aborted");
  }
  const std::string what =
      detail[0] != '\0' ? std::string(detail) : std::string(curl_easy_strerror(code));
  if (code == CURLE_OPERATION_TIMEDOUT)
    return make_error(ErrorCode::kTimeout, "request timed out: " + what);
  return make_error(ErrorCode::kNetwork, "network failure: " + what);
}

// The host part of `url` as libcurl itself parses it (the same parser as
// the transfer: no disagreement about what "the host" is). "" when none.
std::string url_host(const std::string& url) {
  CURLU* u = curl_url();
  if (!u) return {};
  std::string host;
  char* part = nullptr;
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_HOST, &part, 0) == CURLUE_OK && part) {
    host = part;
    curl_free(part);
  }
  curl_url_cleanup(u);
  return host;
}

// What a TLS connection's certificate was judged by (see certificate_time).
struct TlsTime {
  std::function<CertificateTime()> source;
  CertificateTime last;  // what the latest new connection used
};

// libcurl's SSL-context callback (OpenSSL backend): runs for each new
// connection, before the handshake, with the connection's own SSL_CTX.
CURLcode apply_certificate_time(CURL*, void* ssl_ctx, void* user) {
  auto* t = static_cast<TlsTime*>(user);
  try {
    t->last = t->source ? t->source() : CertificateTime{};
  } catch (...) {
    return CURLE_SSL_CERTPROBLEM;
  }
  X509_VERIFY_PARAM* param = SSL_CTX_get0_param(static_cast<SSL_CTX*>(ssl_ctx));
  switch (t->last.mode) {
    case CertificateTime::Mode::kAt:
      X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(t->last.at_ms / 1000));
      break;
    case CertificateTime::Mode::kUnchecked:
      X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_NO_CHECK_TIME);
      break;
    case CertificateTime::Mode::kSystemClock:
      break;
  }
  return CURLE_OK;
}

std::string utc_text(std::int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  char buf[32] = "?";
  if (gmtime_r(&t, &tm)) std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

// kCertificate for a refused certificate: which rule failed, in our words
// (nothing of the certificate itself is echoed).
// `detail`: libcurl's own message (read, never echoed).
Error certificate_error(long verify_result, const CertificateTime& judged, const CurlOptions& o,
                        const char* detail) {
  const auto when = [&] {
    if (judged.mode == CertificateTime::Mode::kAt) {
      return " (judged at " + utc_text(judged.at_ms) +
             ", this device's time corrected by its server's; if the device has never synced, "
             "check its date)";
    }
    return std::string(" (judged by this device's clock: check its date)");
  };
  const std::string trust =
      o.ca_file.empty() ? "the system's trusted CAs" : "the CA file " + excerpt(o.ca_file);
  // libcurl checks the host name itself, after the chain, and leaves the
  // verify result at ok or "unspecified".
  const bool host_mismatch = std::string_view(detail).find("host name") != std::string_view::npos;
  if ((verify_result == X509_V_OK || verify_result == X509_V_ERR_UNSPECIFIED) && host_mismatch)
    verify_result = X509_V_ERR_HOSTNAME_MISMATCH;
  switch (verify_result) {
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return make_error(ErrorCode::kCertificate, "the server's certificate is not for host " +
                                                     excerpt(url_host(o.base_url)));
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return make_error(ErrorCode::kCertificate, "the server's certificate has expired" + when());
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return make_error(ErrorCode::kCertificate,
                        "the server's certificate is not yet valid" + when());
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
      return make_error(ErrorCode::kCertificate,
                        "the server's certificate is not issued by " + trust);
    default:
      return make_error(ErrorCode::kCertificate,
                        std::string("the server's certificate was refused: ") +
                            X509_verify_cert_error_string(verify_result));
  }
}

// Whether libcurl's TLS backend is OpenSSL (the SSL-context callback and
// X509_VERIFY_PARAM need it).
bool curl_uses_openssl() {
  const curl_version_info_data* v = curl_version_info(CURLVERSION_NOW);
  return v && v->ssl_version && std::string(v->ssl_version).rfind("OpenSSL", 0) == 0;
}

}  // namespace

bool is_loopback_host(const std::string& host) {
  std::string h = host;
  std::transform(h.begin(), h.end(), h.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (h == "localhost") return true;
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') {
    in6_addr a6{};
    return inet_pton(AF_INET6, h.substr(1, h.size() - 2).c_str(), &a6) == 1 &&
           IN6_IS_ADDR_LOOPBACK(&a6);
  }
  in_addr a4{};
  return inet_pton(AF_INET, h.c_str(), &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

struct CurlTransport::Impl {
  CurlOptions options;
  bool https = false;
  TlsTime tls_time;
  CURL* curl = nullptr;
  // Drives `curl` (and keeps its connections): a request is performed step
  // by step, so that the caller can work while the server answers.
  CURLM* multi = nullptr;
  char error_buffer[CURL_ERROR_SIZE] = {};

  ~Impl() {
    if (multi && curl) curl_multi_remove_handle(multi, curl);
    if (curl) curl_easy_cleanup(curl);
    if (multi) curl_multi_cleanup(multi);
  }
};

Result<std::unique_ptr<CurlTransport>> CurlTransport::create(CurlOptions options) {
  const std::string& url = options.base_url;
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "server URL must start with http:// or https://");
  }
  while (!options.base_url.empty() && options.base_url.back() == '/') options.base_url.pop_back();
  if (!global_init()) return make_error(ErrorCode::kInternal, "libcurl could not be initialised");
  const bool https = url.rfind("https://", 0) == 0;
  if (!https && !options.allow_insecure_http) {
    const std::string host = url_host(options.base_url);
    if (host.empty()) return make_error(ErrorCode::kInvalidArgument, "server URL has no host");
    if (!is_loopback_host(host)) {
      return make_error(ErrorCode::kInsecureTransport,
                        "plain http:// to " + excerpt(host) +
                            " would send the device's token and children's data unencrypted: "
                            "use https:// (or allow it explicitly with --allow-http)");
    }
  }
  if (https && options.certificate_time && !curl_uses_openssl()) {
    const curl_version_info_data* v = curl_version_info(CURLVERSION_NOW);
    return make_error(ErrorCode::kInternal,
                      std::string("libcurl's TLS backend (") +
                          (v && v->ssl_version ? v->ssl_version : "none") +
                          ") cannot judge certificates by the device's corrected time: "
                          "libcurl must be built with OpenSSL");
  }
  auto impl = std::make_unique<Impl>();
  impl->https = https;
  impl->tls_time.source = options.certificate_time;
  impl->options = std::move(options);
  impl->curl = curl_easy_init();
  impl->multi = curl_multi_init();
  if (!impl->curl || !impl->multi) return make_error(ErrorCode::kInternal, "libcurl could not create a handle");
  return std::unique_ptr<CurlTransport>(new CurlTransport(std::move(impl)));
}

CurlTransport::CurlTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CurlTransport::~CurlTransport() = default;

Result<HttpResponse> CurlTransport::send(const HttpRequest& request) { return send_overlapped(request, {}); }

namespace {

// Performs `c` on `m` until it ends; `meanwhile` runs once the request is
// written (the server has all of it), or at the end if the exchange ended
// before that. The easy handle's own timeouts apply as with curl_easy_perform.
CURLcode perform(CURLM* m, CURL* c, curl_off_t request_bytes, const std::function<void()>& meanwhile) {
  bool waiting = static_cast<bool>(meanwhile);
  if (curl_multi_add_handle(m, c) != CURLM_OK) {
    if (waiting) meanwhile();
    return CURLE_FAILED_INIT;
  }
  // Taken off the multi handle however this ends (meanwhile may throw), so
  // that the next request can be added.
  struct Added {
    CURLM* m;
    CURL* c;
    ~Added() { curl_multi_remove_handle(m, c); }
  } added{m, c};
  CURLcode result = CURLE_OK;
  bool done = false;
  while (!done) {
    int running = 0;
    if (curl_multi_perform(m, &running) != CURLM_OK) {
      result = CURLE_FAILED_INIT;
      break;
    }
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(m, &left)) {
      if (msg->msg == CURLMSG_DONE && msg->easy_handle == c) {
        result = msg->data.result;
        done = true;
      }
    }
    if (done) break;
    if (running == 0) {  // ended without saying how: not expected of libcurl
      result = CURLE_GOT_NOTHING;
      break;
    }
    if (waiting) {
      curl_off_t sent = 0;
      curl_easy_getinfo(c, CURLINFO_SIZE_UPLOAD_T, &sent);
      if (sent >= request_bytes) {
        waiting = false;
        meanwhile();
        continue;  // the answer may be in already
      }
    }
    if (curl_multi_poll(m, nullptr, 0, 1000, nullptr) != CURLM_OK) {
      result = CURLE_FAILED_INIT;
      break;
    }
  }
  if (waiting) meanwhile();
  return result;
}

}  // namespace

Result<HttpResponse> CurlTransport::send_overlapped(const HttpRequest& request,
                                                    const std::function<void()>& meanwhile) {
  CURL* c = impl_->curl;
  const CurlOptions& o = impl_->options;
  // Reset per-request options but keep the handle (and its connection cache).
  curl_easy_reset(c);
  impl_->error_buffer[0] = '\0';

  HttpResponse response;
  const std::string url = o.base_url + request.path;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, impl_->error_buffer);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM: safe in apps with threads
  auto total = o.total_timeout;
  if (request.timeout.count() > 0) total = std::min(total, request.timeout);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min(o.connect_timeout, total).count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(total.count()));
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "gzip");
  curl_easy_setopt(c, CURLOPT_USERAGENT, o.user_agent.c_str());
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  // An https server is reached over https only (no redirect, no downgrade).
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, impl_->https ? "https" : "http");
  if (impl_->https) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
    if (!o.ca_file.empty()) {
      // The given CA only: not the system's store beside it.
      curl_easy_setopt(c, CURLOPT_CAINFO, o.ca_file.c_str());
      curl_easy_setopt(c, CURLOPT_CAPATH, nullptr);
    }
    if (impl_->tls_time.source) {
      curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, &impl_->tls_time);
      if (curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, apply_certificate_time) != CURLE_OK) {
        return make_error(ErrorCode::kInternal,
                          "libcurl cannot set the certificate verification time "
                          "(CURLOPT_SSL_CTX_FUNCTION unsupported by its TLS backend)");
      }
    }
  }
  Sink sink{&response.body, o.max_response_bytes, o.max_response_header_bytes};
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, count_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &sink);
  // A Content-Length above the cap is refused before the body is read.
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(o.max_response_bytes));

  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Accept: application/json");
  // No "Expect: 100-continue" round trip for large bodies.
  headers = curl_slist_append(headers, "Expect:");
  std::string auth;
  if (!request.bearer_token.empty()) {
    auth = "Authorization: Bearer " + request.bearer_token;
    headers = curl_slist_append(headers, auth.c_str());
  }
  if (request.method == "POST") {
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);

  ++stats_.requests;
  const CURLcode rc =
      perform(impl_->multi, c, static_cast<curl_off_t>(request.method == "POST" ? request.body.size() : 0), meanwhile);
  curl_slist_free_all(headers);

  long request_size = 0;
  curl_off_t uploaded = 0;
  long header_size = 0;
  curl_off_t downloaded = 0;
  long connects = 0;
  curl_easy_getinfo(c, CURLINFO_REQUEST_SIZE, &request_size);
  curl_easy_getinfo(c, CURLINFO_SIZE_UPLOAD_T, &uploaded);
  curl_easy_getinfo(c, CURLINFO_HEADER_SIZE, &header_size);
  curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &downloaded);
  curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
  stats_.bytes_sent += request_size + uploaded;
  stats_.bytes_received += header_size + downloaded;
  stats_.connections += connects;

  if (rc != CURLE_OK) {
    ++stats_.failures;
    if (rc == CURLE_PEER_FAILED_VERIFICATION) {
      long verify_result = X509_V_OK;
      curl_easy_getinfo(c, CURLINFO_SSL_VERIFYRESULT, &verify_result);
      return certificate_error(verify_result, impl_->tls_time.last, o, impl_->error_buffer);
    }
    if (rc == CURLE_SSL_CACERT_BADFILE) {
      return make_error(ErrorCode::kCertificate,
                        "cannot read the CA file " + excerpt(o.ca_file) + " (PEM certificates)");
    }
    return curl_error(rc, impl_->error_buffer, sink);
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

}  // namespace tandem::sync
