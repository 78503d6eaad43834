#include "http_session.hpp"

#include <cstdio>

#include "access_log.hpp"
#include "tandem/server/limits.hpp"

namespace tandem::server {
namespace {
// Bytes read while waiting for a request to start.
constexpr std::size_t kReadChunk = 4096;
}  // namespace

HttpSession::HttpSession(tcp::socket&& socket, SessionContext& ctx)
    : stream_(std::move(socket)), ctx_(ctx) {
  ctx_.metrics.connection_opened();
}

HttpSession::~HttpSession() {
  ctx_.metrics.connection_closed();
  ctx_.registry.remove(this);
}

void HttpSession::run() {
  net::dispatch(stream_.get_executor(),
                beast::bind_front_handler(&HttpSession::do_read, shared_from_this()));
}

void HttpSession::reject_busy() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    self->log_.route = "other";
    self->started_ = std::chrono::steady_clock::now();
    self->do_write(
        self->ctx_.api.error(ErrorCode::kBusy, "too many connections; retry shortly", 11, false));
  });
}

void HttpSession::on_server_stop() {
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    if (self->state_ == State::kIdle) self->do_close();
  });
}

// Waits for a request to start: a keep-alive connection may idle for the idle
// timeout; a new one must start within the header timeout.
void HttpSession::do_read() {
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(kMaxHeaderBytes));
  parser_->body_limit(kMaxBodyBytes);
  log_ = RequestLog{};
  if (buffer_.size() > 0) return do_read_header();
  if (ctx_.registry.stopping()) return do_close();
  state_ = State::kIdle;
  stream_.expires_after(first_request_ ? ctx_.timeouts.header : ctx_.timeouts.idle);
  stream_.async_read_some(
      buffer_.prepare(kReadChunk),
      beast::bind_front_handler(&HttpSession::on_first_bytes, shared_from_this()));
}

void HttpSession::on_first_bytes(beast::error_code ec, std::size_t n) {
  if (ec) return do_close();  // idle timeout, peer closed, or shutdown
  buffer_.commit(n);
  do_read_header();
}

void HttpSession::do_read_header() {
  state_ = State::kReading;
  started_ = std::chrono::steady_clock::now();
  stream_.expires_after(ctx_.timeouts.header);
  http::async_read_header(
      stream_, buffer_, *parser_,
      beast::bind_front_handler(&HttpSession::on_read_header, shared_from_this()));
}

void HttpSession::on_read_header(beast::error_code ec, std::size_t) {
  if (ec) return fail_request(ec);
  const Request& req = parser_->get();
  if (beast::iequals(req[http::field::expect], "100-continue")) {
    // libcurl asks before sending larger bodies; say yes (limits were checked
    // on the headers already).
    auto cont =
        std::make_shared<http::response<http::empty_body>>(http::status::continue_, req.version());
    stream_.expires_after(ctx_.timeouts.write);
    http::async_write(stream_, *cont,
                      [self = shared_from_this(), cont](beast::error_code wec, std::size_t) {
                        if (wec) return self->do_close();
                        self->do_read_body();
                      });
    return;
  }
  do_read_body();
}

void HttpSession::do_read_body() {
  stream_.expires_after(ctx_.timeouts.body);
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
}

void HttpSession::on_read(beast::error_code ec, std::size_t) {
  if (ec) return fail_request(ec);
  handle_request();
}

// A request that could not be read: answer what can be answered, then close
// (the rest of the stream cannot be trusted).
void HttpSession::fail_request(beast::error_code ec) {
  if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
      ec == net::error::operation_aborted || ec == net::error::eof ||
      ec == net::error::connection_reset) {
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

void HttpSession::handle_request() {
  state_ = State::kHandling;
  // Keeps the io_context running while a push waits for its commit.
  auto home = net::prefer(stream_.get_executor(), net::execution::outstanding_work.tracked);
  ctx_.api.handle(
      parser_->get(), log_,
      [home](std::function<void()> task) { net::post(home, std::move(task)); },
      [self = shared_from_this()](Response res) { self->do_write(std::move(res)); });
}

void HttpSession::do_write(Response res) {
  state_ = State::kWriting;
  if (ctx_.registry.stopping()) res.keep_alive(false);
  res.prepare_payload();
  response_ = std::make_shared<Response>(std::move(res));
  stream_.expires_after(ctx_.timeouts.write);
  http::async_write(
      stream_, *response_,
      beast::bind_front_handler(&HttpSession::on_write, shared_from_this(), response_->need_eof()));
}

void HttpSession::on_write(bool close, beast::error_code ec, std::size_t) {
  const auto status = response_ ? response_->result_int() : 0;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
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

void HttpSession::do_close() {
  state_ = State::kClosed;
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream_.close();
}

}  // namespace tandem::server
