// Listener: accepts connections and starts an HttpSession for each (the
// session and the ConnectionRegistry decide whether it is served, makes room,
// or is turned away).
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
  Listener(net::io_context& ioc, SessionContext& ctx);

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
  tcp::acceptor acceptor_;
  net::steady_timer retry_;  // after accept errors such as EMFILE
};

}  // namespace tandem::server
