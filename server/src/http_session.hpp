// HttpSession: one HTTP/1.1 connection, in the shape of Beast's advanced
// server: do_read -> on_read -> handle -> do_write -> on_write -> do_read ...
// Everything runs on the session's strand, the request's handling too (Api
// says what of it is handed elsewhere: nothing that waits for a disk flush
// runs here).
//
// Limits enforced here: header bytes, body bytes (413 before the body is
// read when Content-Length says so), header/body/idle/write timeouts and the
// whole-request deadline (kRequestTimeout), one request at a time per
// connection (no pipelining queue: the next request is read after the
// response is written), a read buffer shrunk between requests. A client cut
// off by a timeout gets a reset: what the kernel still held for it is
// dropped, not sent on.
//
// The session tells the ConnectionRegistry what it is doing (idle, reading,
// busy) through its ConnectionActivity, so that at the connection limit the
// registry can reap it (reap()) if it is idle or slow.
//
// Over TLS (HttpSession<TlsStream>) the session first completes the
// handshake, bounded like a request's headers (the header timeout, or
// kOverflowHeaderTimeout over the limit) and counted as reading: at the
// connection limit a half-open handshake is reaped like a slow request, so
// a client cannot hold slots with handshakes it never finishes. After the
// handshake everything is the same code on the decrypted stream.
//
// Thread-safety: methods run on the strand; reap() and on_server_stop() may
// be called from any thread.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <type_traits>

#include "api.hpp"
#include "connection_registry.hpp"
#include "http_types.hpp"
// clang-format off
#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
// clang-format on
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

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

template <class Stream>
class HttpSession final : public Connection,
                          public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  HttpSession(tcp::socket&& socket, SessionContext& ctx) requires(!kTls);
  HttpSession(tcp::socket&& socket, net::ssl::context& tls, SessionContext& ctx) requires(kTls);
  ~HttpSession() override;

  // Registers with the registry and starts reading requests (or, over the
  // limit, reads one for /healthz; or closes at once).
  void start();
  // Closes the connection if it is still idle or reading a request (the
  // registry chose it to make room); else tells the registry it stays.
  void reap() override;
  // Shutdown: close now if idle, else after the current response.
  void on_server_stop() override;

 private:
  enum class State { kIdle, kReading, kHandling, kWriting, kClosed };
  using Clock = std::chrono::steady_clock;

  void init();
  // TLS only: the server side of the handshake, then do_read().
  void do_handshake();
  void on_handshake(beast::error_code ec);
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
  // Closes the connection; `reset` drops what is still unsent (a client cut
  // off for being too slow gets nothing more).
  void do_close(bool reset = false);
  // Moves to `state`; the registry sees kHandling, kWriting, kClosed as busy.
  void enter(State state);
  // Arms the stream's timer for the next read (and tells the registry when
  // this connection would close): at `expiry`, or `phase` from now but
  // never past the request's deadline.
  void expire_at(Clock::time_point expiry);
  void expire_within(std::chrono::milliseconds phase, Clock::time_point now);

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  Stream stream_;
  net::steady_timer write_timer_;  // the write deadline (see do_write)
  beast::flat_buffer buffer_;
  SessionContext& ctx_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<Response> response_;  // alive until written
  std::shared_ptr<ConnectionActivity> activity_;
  ClientInfo client_;
  RequestLog log_;
  Clock::time_point started_;   // the current request's first byte
  Clock::time_point deadline_;  // started_ + the request timeout
  State state_ = State::kIdle;
  bool first_request_ = true;
};

extern template class HttpSession<PlainStream>;
extern template class HttpSession<TlsStream>;

}  // namespace tandem::server
