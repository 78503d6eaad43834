#include "listener.hpp"

#include "access_log.hpp"
#include "tandem/server/limits.hpp"

namespace tandem::server {
namespace {
constexpr std::chrono::milliseconds kAcceptRetryDelay{50};
}  // namespace

Listener::Listener(net::io_context& ioc, SessionContext& ctx, net::ssl::context* tls)
    : ioc_(ioc),
      ctx_(ctx),
      tls_(tls),
      acceptor_(net::make_strand(ioc)),
      retry_(acceptor_.get_executor()) {}

Status Listener::open(const tcp::endpoint& endpoint) {
  beast::error_code ec;
  const auto fail = [&](const char* what) {
    return make_error(ErrorCode::kIo, std::string(what) + " " + endpoint.address().to_string() +
                                          ":" + std::to_string(endpoint.port()) + ": " +
                                          ec.message());
  };
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return fail("cannot open");
  acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (ec) return fail("cannot configure");
  acceptor_.bind(endpoint, ec);
  if (ec) return fail("cannot bind");
  acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return fail("cannot listen on");
  return {};
}

tcp::endpoint Listener::local_endpoint() const {
  beast::error_code ec;
  return acceptor_.local_endpoint(ec);
}

void Listener::run() {
  net::dispatch(acceptor_.get_executor(),
                beast::bind_front_handler(&Listener::do_accept, shared_from_this()));
}

void Listener::stop() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    beast::error_code ec;
    self->retry_.cancel();
    self->acceptor_.close(ec);
  });
}

void Listener::do_accept() {
  if (!acceptor_.is_open()) return;
  acceptor_.async_accept(net::make_strand(ioc_),
                         beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
}

void Listener::on_accept(beast::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    log_line("accept failed: " + ec.message());
    retry_.expires_after(kAcceptRetryDelay);
    retry_.async_wait([self = shared_from_this()](beast::error_code wec) {
      if (!wec) self->do_accept();
    });
    return;
  }
  beast::error_code option_ec;
  socket.set_option(tcp::no_delay(true), option_ec);
  socket.set_option(net::socket_base::send_buffer_size(kSocketSendBufferBytes), option_ec);
  if (tls_) {
    std::make_shared<HttpSession<TlsStream>>(std::move(socket), *tls_, ctx_)->start();
  } else {
    std::make_shared<HttpSession<PlainStream>>(std::move(socket), ctx_)->start();
  }
  do_accept();
}

}  // namespace tandem::server
