// The baseline for bench_server_rps: a bare Boost.Beast HTTP/1.1 server that
// reads each request (body included) and answers a fixed JSON body of the
// shape of a sync answer. Same threads and I/O model as tandem-server, none
// of its work (no JSON parsing, no auth, no storage).
//   bench_bare_endpoint [HOST:PORT] [THREADS]   -> prints "listening on HOST:PORT"
// clang-format off

#include <utility>  // first: Boost 1.74 asio uses std::exchange without it

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <csignal>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tandem/server/options.hpp"
// clang-format on

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

const std::string kBody =
    R"({"server_time_ms":1700000000000,"push":{"mutation_id":1,"results":[{"hlc":"018bcfe56800-000000-0123456789abcdef","seq":1,"status":"accepted"}]},"pull":{"changes":[],"cursor":1,"more":false}})";

class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket&& socket) : stream_(std::move(socket)) {}
  void run() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::do_read, shared_from_this()));
  }

 private:
  void do_read() {
    req_ = {};
    stream_.expires_after(std::chrono::seconds(60));
    http::async_read(stream_, buffer_, req_,
                     beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }
  void on_read(beast::error_code ec, std::size_t) {
    if (ec) return close();
    res_ = {http::status::ok, req_.version()};
    res_.set(http::field::server, "bare");
    res_.set(http::field::content_type, "application/json");
    res_.keep_alive(req_.keep_alive());
    res_.body() = kBody;
    res_.prepare_payload();
    http::async_write(stream_, res_,
                      beast::bind_front_handler(&Session::on_write, shared_from_this()));
  }
  void on_write(beast::error_code ec, std::size_t) {
    if (ec || !res_.keep_alive()) return close();
    do_read();
  }
  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
};

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(net::io_context& ioc, tcp::endpoint ep) : ioc_(ioc), acceptor_(net::make_strand(ioc)) {
    acceptor_.open(ep.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen(net::socket_base::max_listen_connections);
  }
  tcp::endpoint local() const { return acceptor_.local_endpoint(); }
  void run() { do_accept(); }
  void stop() {
    net::post(acceptor_.get_executor(), [self = shared_from_this()] { self->acceptor_.close(); });
  }

 private:
  void do_accept() {
    acceptor_.async_accept(net::make_strand(ioc_),
                           beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
  }
  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted) return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true));
      std::make_shared<Session>(std::move(socket))->run();
    }
    do_accept();
  }
  net::io_context& ioc_;
  tcp::acceptor acceptor_;
};

}  // namespace

int main(int argc, char** argv) {
  const std::string listen = argc > 1 ? argv[1] : "127.0.0.1:0";
  // Threads as tandem-server sets them by default.
  const int threads =
      argc > 2 ? std::stoi(argv[2]) : static_cast<int>(tandem::server::default_io_threads());
  const auto colon = listen.rfind(':');
  net::io_context ioc(threads);
  auto listener = std::make_shared<Listener>(
      ioc, tcp::endpoint(net::ip::make_address(listen.substr(0, colon)),
                         static_cast<unsigned short>(std::stoi(listen.substr(colon + 1)))));
  std::cout << "listening on " << listener->local().address().to_string() << ":"
            << listener->local().port() << std::endl;
  net::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](beast::error_code, int) { ioc.stop(); });
  listener->run();
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
  return 0;
}
