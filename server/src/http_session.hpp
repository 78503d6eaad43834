// HttpSession: one HTTP/1.1 connection, in the shape of Beast's advanced
// server: do_read -> on_read -> handle -> do_write -> on_write -> do_read ...
// Everything runs on the session's strand, the request's handling too (Api
// says what of it is handed elsewhere: nothing that waits for a disk flush
// runs here).
//
// Limits enforced here: header bytes, body bytes (413 before the body is
// read when Content-Length says so), header/body/idle/write timeouts, one
// request at a time per connection (no pipelining queue: the next request
// is read after the response is written).
//
// Thread-safety: methods run on the strand; on_server_stop() may be called
// from any thread.
#pragma once

#include <chrono>
#include <memory>
#include <optional>

#include "api.hpp"
#include "connection_registry.hpp"
#include "http_types.hpp"
#include "tandem/server/metrics.hpp"
#include "tandem/server/options.hpp"

namespace tandem::server {

// Everything sessions share. Outlives every session.
struct SessionContext {
  Api& api;
  ConnectionRegistry& registry;
  Metrics& metrics;
  Timeouts timeouts;
  bool access_log = true;
};

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket&& socket, SessionContext& ctx);
  ~HttpSession();

  // Starts reading requests.
  void run();
  // Answers 503 busy and closes (over the connection limit).
  void reject_busy();
  // Shutdown: close now if idle, else after the current response.
  void on_server_stop();

 private:
  enum class State { kIdle, kReading, kHandling, kWriting, kClosed };

  void do_read();
  void on_first_bytes(beast::error_code ec, std::size_t n);
  void do_read_header();
  void on_read_header(beast::error_code ec, std::size_t n);
  void do_read_body();
  void on_read(beast::error_code ec, std::size_t n);
  void fail_request(beast::error_code ec);
  void handle_request();
  void do_write(Response res);
  void on_write(bool close, beast::error_code ec, std::size_t n);
  void do_close();

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  SessionContext& ctx_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<Response> response_;  // alive until written
  RequestLog log_;
  std::chrono::steady_clock::time_point started_;
  State state_ = State::kIdle;
  bool first_request_ = true;
};

}  // namespace tandem::server
