#include "http_session.hpp"

#include <algorithm>
#include <cstdio>

#include "access_log.hpp"
#include "tandem/server/limits.hpp"

namespace tandem::server {
namespace {
// Bytes read while waiting for a request to start.
constexpr std::size_t kReadChunk = 4096;

// The key a client's failures are counted under: its address, an IPv6 one
// cut to its /64 (one host holds a whole /64).
std::string throttle_key(const tcp::socket& socket) {
  beast::error_code ec;
  const auto endpoint = socket.remote_endpoint(ec);
  if (ec) return {};
  auto address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    address = net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6());
  if (address.is_v4()) {
    const auto bytes = address.to_v4().to_bytes();
    return std::string(bytes.begin(), bytes.end());
  }
  const auto bytes = address.to_v6().to_bytes();
  return std::string(bytes.begin(), bytes.begin() + 8);
}
}  // namespace

template <class Stream>
HttpSession<Stream>::HttpSession(tcp::socket&& socket, SessionContext& ctx) requires(!kTls)
    : stream_(std::move(socket)),
      write_timer_(stream_.get_executor()),
      ctx_(ctx),
      activity_(std::make_shared<ConnectionActivity>()) {
  init();
}

template <class Stream>
HttpSession<Stream>::HttpSession(tcp::socket&& socket, net::ssl::context& tls,
                                 SessionContext& ctx) requires(kTls)
    : stream_(std::move(socket), tls),
      write_timer_(stream_.get_executor()),
      ctx_(ctx),
      activity_(std::make_shared<ConnectionActivity>()) {
  init();
}

template <class Stream>
void HttpSession<Stream>::init() {
  ctx_.metrics.connection_opened();
  client_.throttle_key = throttle_key(lowest().socket());
}

template <class Stream>
HttpSession<Stream>::~HttpSession() {
  ctx_.metrics.connection_closed();
  ctx_.registry.remove(this);
}

template <class Stream>
void HttpSession<Stream>::start() {
  switch (ctx_.registry.admit(this->shared_from_this(), activity_)) {
    case ConnectionRegistry::Admission::kServe:
      break;
    case ConnectionRegistry::Admission::kOverflow:
      client_.overflow = true;
      break;
    case ConnectionRegistry::Admission::kRefuse:
      // Far over the limit (or stopping): not even a 503 (that would need
      // a read and a write per refused connection).
      return net::dispatch(stream_.get_executor(),
                           [self = this->shared_from_this()] { self->do_close(true); });
  }
  if constexpr (kTls) {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&HttpSession::do_handshake, this->shared_from_this()));
  } else {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&HttpSession::do_read, this->shared_from_this()));
  }
}

// A new connection must finish its handshake within the time it has to
// start its first request; until then it is a reader (reapable at the limit).
template <class Stream>
void HttpSession<Stream>::do_handshake() {
  if constexpr (kTls) {
    if (ctx_.registry.stopping()) return do_close();
    enter(State::kReading);
    started_ = Clock::now();
    deadline_ = started_ + ctx_.timeouts.request;
    expire_within(client_.overflow ? kOverflowHeaderTimeout : ctx_.timeouts.header, started_);
    stream_.async_handshake(
        net::ssl::stream_base::server,
        beast::bind_front_handler(&HttpSession::on_handshake, this->shared_from_this()));
  }
}

template <class Stream>
void HttpSession<Stream>::on_handshake(beast::error_code ec) {
  // A timeout is cut off with a reset; a client that spoke another protocol
  // version or cipher got OpenSSL's alert already.
  if (ec) return do_close(ec == beast::error::timeout);
  do_read();
}

template <class Stream>
void HttpSession<Stream>::reap() {
  net::post(stream_.get_executor(), [self = this->shared_from_this()] {
    if (self->state_ == State::kIdle || self->state_ == State::kReading) {
      self->do_close(self->state_ == State::kReading);
    } else if (self->state_ != State::kClosed) {
      self->ctx_.registry.reap_declined(self.get());
    }
  });
}

template <class Stream>
void HttpSession<Stream>::on_server_stop() {
  net::post(stream_.get_executor(), [self = this->shared_from_this()] {
    if (self->state_ == State::kIdle) self->do_close();
  });
}

template <class Stream>
void HttpSession<Stream>::enter(State state) {
  state_ = state;
  if (state != State::kIdle && state != State::kReading) activity_->busy();
}

template <class Stream>
void HttpSession<Stream>::expire_at(Clock::time_point expiry) {
  lowest().expires_at(expiry);
  activity_->waiting(expiry);
}

template <class Stream>
void HttpSession<Stream>::expire_within(std::chrono::milliseconds phase, Clock::time_point now) {
  expire_at(std::min(now + phase, deadline_));
}

// Waits for a request to start: a keep-alive connection may idle for the idle
// timeout; a new one must start within the header timeout.
template <class Stream>
void HttpSession<Stream>::do_read() {
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(kMaxHeaderBytes));
  parser_->body_limit(kMaxBodyBytes);
  log_ = RequestLog{};
  // What a large request made the buffer grow to is not kept while idle.
  if (buffer_.capacity() > kMaxIdleBufferBytes) buffer_.shrink_to_fit();
  if (buffer_.size() > 0) return do_read_header();
  if (ctx_.registry.stopping()) return do_close();
  enter(State::kIdle);
  expire_at(Clock::now() + (client_.overflow ? kOverflowHeaderTimeout
                            : first_request_ ? ctx_.timeouts.header
                                             : ctx_.timeouts.idle));
  stream_.async_read_some(
      buffer_.prepare(kReadChunk),
      beast::bind_front_handler(&HttpSession::on_first_bytes, this->shared_from_this()));
}

template <class Stream>
void HttpSession<Stream>::on_first_bytes(beast::error_code ec, std::size_t n) {
  if (ec) return do_close();  // idle timeout, peer closed, reaped, or shutdown
  buffer_.commit(n);
  do_read_header();
}

template <class Stream>
void HttpSession<Stream>::do_read_header() {
  const auto now = Clock::now();
  enter(State::kReading);
  started_ = now;
  deadline_ = now + ctx_.timeouts.request;
  expire_within(client_.overflow ? kOverflowHeaderTimeout : ctx_.timeouts.header, now);
  http::async_read_header(
      stream_, buffer_, *parser_,
      beast::bind_front_handler(&HttpSession::on_read_header, this->shared_from_this()));
}

template <class Stream>
void HttpSession<Stream>::on_read_header(beast::error_code ec, std::size_t) {
  if (ec) return fail_request(ec);
  const Request& req = parser_->get();
  // Over the limit only /healthz is answered, and no body is read for it.
  if (client_.overflow) return handle_request();
  if (beast::iequals(req[http::field::expect], "100-continue")) {
    // libcurl asks before sending larger bodies; say yes (limits were checked
    // on the headers already).
    auto cont =
        std::make_shared<http::response<http::empty_body>>(http::status::continue_, req.version());
    expire_within(ctx_.timeouts.write, Clock::now());
    http::async_write(stream_, *cont,
                      [self = this->shared_from_this(), cont](beast::error_code wec, std::size_t) {
                        if (wec) return self->do_close(wec == beast::error::timeout);
                        self->do_read_body();
                      });
    return;
  }
  do_read_body();
}

template <class Stream>
void HttpSession<Stream>::do_read_body() {
  expire_within(ctx_.timeouts.body, Clock::now());
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&HttpSession::on_read, this->shared_from_this()));
}

template <class Stream>
void HttpSession<Stream>::on_read(beast::error_code ec, std::size_t) {
  if (ec) return fail_request(ec);
  handle_request();
}

// A request that could not be read: answer what can be answered, then close
// (the rest of the stream cannot be trusted).
template <class Stream>
void HttpSession<Stream>::fail_request(beast::error_code ec) {
  if (ec == beast::error::timeout) return do_close(true);
  if (ec == http::error::end_of_stream || ec == net::error::operation_aborted ||
      ec == net::error::eof || ec == net::error::connection_reset) {
    return do_close();
  }
  const unsigned version = parser_ && parser_->is_header_done() ? parser_->get().version() : 11;
  if (ec == http::error::body_limit) {
    Response res = ctx_.api.error(ErrorCode::kPayloadTooLarge,
                                  "request body over " + std::to_string(kMaxBodyBytes) + " bytes",
                                  version, false);
    return do_write(std::move(res));
  }
  if (ec == http::error::header_limit) {
    Response res = ctx_.api.error(
        ErrorCode::kPayloadTooLarge,
        "request headers over " + std::to_string(kMaxHeaderBytes) + " bytes", version, false);
    res.result(http::status::request_header_fields_too_large);
    return do_write(std::move(res));
  }
  if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
    return do_write(
        ctx_.api.error(ErrorCode::kInvalidArgument, "malformed HTTP request", version, false));
  }
  do_close();
}

template <class Stream>
void HttpSession<Stream>::handle_request() {
  enter(State::kHandling);
  // Keeps the io_context running while a push waits for its commit.
  auto home = net::prefer(stream_.get_executor(), net::execution::outstanding_work.tracked);
  ctx_.api.handle(
      parser_->get(), client_, log_,
      [home](std::function<void()> task) { net::post(home, std::move(task)); },
      [self = this->shared_from_this()](Response res) { self->do_write(std::move(res)); });
}

template <class Stream>
void HttpSession<Stream>::do_write(Response res) {
  const auto now = Clock::now();
  enter(State::kWriting);
  if (ctx_.registry.stopping() || client_.overflow) res.keep_alive(false);
  res.prepare_payload();
  response_ = std::make_shared<Response>(std::move(res));
  // The request's deadline, but never less than kMinWriteTime to write.
  // Timed by the session's own timer, not the stream's: when it fires the
  // client is cut off with a reset (the stream's timer would close
  // gracefully, and the kernel would go on sending what it holds).
  const auto until = std::max(deadline_, now + std::min(kMinWriteTime, ctx_.timeouts.write));
  lowest().expires_never();
  write_timer_.expires_at(std::min(now + ctx_.timeouts.write, until));
  write_timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
    if (!ec && self->state_ == State::kWriting) self->do_close(true);
  });
  http::async_write(stream_, *response_,
                    beast::bind_front_handler(&HttpSession::on_write, this->shared_from_this(),
                                              response_->need_eof()));
}

template <class Stream>
void HttpSession<Stream>::on_write(bool close, beast::error_code ec, std::size_t) {
  write_timer_.cancel();
  const auto status = response_ ? response_->result_int() : 0;
  const double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
  ctx_.metrics.observe_request(log_.route, status, seconds);
  if (ctx_.access_log) {
    const bool have_request = parser_ && parser_->is_header_done();
    char line[256];
    std::snprintf(line, sizeof line, "%s %.*s %u %.1fms %s",
                  have_request ? std::string(parser_->get().method_string()).c_str() : "-",
                  static_cast<int>(log_.route.size()), log_.route.data(), status, seconds * 1000.0,
                  log_.device_id.empty() ? "-" : log_.device_id.c_str());
    log_line(line);
  }
  response_.reset();
  if (ec || close) return do_close();
  first_request_ = false;
  do_read();
}

template <class Stream>
void HttpSession<Stream>::do_close(bool reset) {
  enter(State::kClosed);
  beast::error_code ec;
  if (reset) {
    lowest().socket().set_option(net::socket_base::linger(true, 0), ec);
  } else {
    // Over TLS without a close_notify: every answer carries its length, so
    // the client cannot mistake the end (and a shutdown exchange would hold
    // the slot for a client that never answers it).
    lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
  }
  lowest().close();
}

template class HttpSession<PlainStream>;
template class HttpSession<TlsStream>;

}  // namespace tandem::server
