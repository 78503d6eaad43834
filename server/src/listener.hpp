// Listener: accepts connections and starts an HttpSession for each (the
// session and the ConnectionRegistry decide whether it is served, makes room,
// or is turned away); over TLS when given a context (every connection then,
// no plain HTTP beside it).
// Thread-safety: run()/stop() may be called from any thread; the acceptor
// lives on its own strand.
#pragma once

#include <memory>

#include "http_session.hpp"
#include "http_types.hpp"
#include "tandem/core/error.hpp"

namespace tandem::server {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // `tls`: serve HTTPS with it (must outlive the listener's sessions);
  // nullptr: plain HTTP.
  Listener(net::io_context& ioc, SessionContext& ctx, net::ssl::context* tls = nullptr);

  // Opens, binds and listens. kIo with the reason on failure.
  Status open(const tcp::endpoint& endpoint);
  tcp::endpoint local_endpoint() const;

  void run();
  // Stops accepting (closes the acceptor); open sessions are not touched.
  void stop();

 private:
  void do_accept();
  void on_accept(beast::error_code ec, tcp::socket socket);

  net::io_context& ioc_;
  SessionContext& ctx_;
  net::ssl::context* tls_;
  tcp::acceptor acceptor_;
  net::steady_timer retry_;  // after accept errors such as EMFILE
};

}  // namespace tandem::server
