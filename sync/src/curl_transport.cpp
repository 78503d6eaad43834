#include "tandem/sync/curl_transport.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>

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
  const std::string what = detail[0] != '\0' ? std::string(detail) : std::string(curl_easy_strerror(code));
  if (code == CURLE_OPERATION_TIMEDOUT) return make_error(ErrorCode::kTimeout, "request timed out: " + what);
  return make_error(ErrorCode::kNetwork, "network failure: " + what);
}

}  // namespace

struct CurlTransport::Impl {
  CurlOptions options;
  CURL* curl = nullptr;
  char error_buffer[CURL_ERROR_SIZE] = {};

  ~Impl() {
    if (curl) curl_easy_cleanup(curl);
  }
};

Result<std::unique_ptr<CurlTransport>> CurlTransport::create(CurlOptions options) {
  const std::string& url = options.base_url;
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return make_error(ErrorCode::kInvalidArgument, "server URL must start with http:// or https://");
  }
  while (!options.base_url.empty() && options.base_url.back() == '/') options.base_url.pop_back();
  if (!global_init()) return make_error(ErrorCode::kInternal, "libcurl could not be initialised");
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->curl = curl_easy_init();
  if (!impl->curl) return make_error(ErrorCode::kInternal, "libcurl could not create a handle");
  return std::unique_ptr<CurlTransport>(new CurlTransport(std::move(impl)));
}

CurlTransport::CurlTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CurlTransport::~CurlTransport() = default;

Result<HttpResponse> CurlTransport::send(const HttpRequest& request) {
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
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
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
  const CURLcode rc = curl_easy_perform(c);
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
    return curl_error(rc, impl_->error_buffer, sink);
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

}  // namespace tandem::sync
