// HostileServer: a plain HTTP/1.1 server on loopback, inside the test
// process, that answers whatever the test scripts — an endless body, a
// trickle of one byte at a time, a gzip bomb, numbers out of range — to test
// that the REAL client (libcurl transport, sync engine, `tandem` CLI) bounds
// what a server can make it do. Only 127.0.0.1 is ever used.
//
//   tandem::test::HostileServer srv([](const HostileRequest& req, HostileWire& wire) {
//     wire.send(http_answer(200, R"({"server_time_ms":-1})"));
//   });
//   ... point the client at srv.url() ...
//
// Each connection is served by its own thread: the request (head and a
// Content-Length body) is read, the handler writes the answer through the
// wire, then the connection is closed (answers should say
// "Connection: close") — or, with keep_alive, the next request on it is read
// (answers made with http_answer(status, body, false)). Handlers run on those threads: state they share with
// the test must be atomic or locked. The destructor stops the listener,
// tells handlers to stop (HostileWire::stopping) and joins every thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace tandem::test {

struct HostileRequest {
  std::string method;
  std::string path;
  std::string body;
};

// The connection a handler answers on.
class HostileWire {
 public:
  HostileWire(int fd, const std::atomic<bool>& stop, std::atomic<std::int64_t>& sent)
      : fd_(fd), stop_(stop), sent_(sent) {}
  // Sends every byte; false once the client has closed or reset the
  // connection, or the server is stopping.
  bool send(std::string_view bytes);
  bool stopping() const { return stop_.load(); }

 private:
  int fd_;
  const std::atomic<bool>& stop_;
  std::atomic<std::int64_t>& sent_;
};

using HostileHandler = std::function<void(const HostileRequest&, HostileWire&)>;

class HostileServer {
 public:
  // Listens on 127.0.0.1 (a free port); fails the current test if it cannot.
  explicit HostileServer(HostileHandler handler, bool keep_alive = false);
  ~HostileServer();
  HostileServer(const HostileServer&) = delete;
  HostileServer& operator=(const HostileServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::int64_t requests() const { return requests_.load(); }      // requests read whole
  std::int64_t bytes_sent() const { return bytes_sent_.load(); }  // by every handler
  std::int64_t connections() const { return connections_.load(); }  // accepted

 private:
  void accept_loop();
  void serve(int fd);

  HostileHandler handler_;
  bool keep_alive_ = false;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::int64_t> requests_{0};
  std::atomic<std::int64_t> bytes_sent_{0};
  std::atomic<std::int64_t> connections_{0};
  std::mutex mu_;  // guards workers_
  std::vector<std::thread> workers_;
  std::thread acceptor_;
};

// "HTTP/1.1 <status> X\r\nContent-Type: application/json\r\nConnection: close\r\n"
// + `headers` (each ending in "\r\n") + "\r\n": the head of an answer whose
// body the caller streams. `close` false: without "Connection: close".
std::string http_head(int status, std::string_view headers = {}, bool close = true);
// A whole answer: head with Content-Length, then `body`.
std::string http_answer(int status, std::string_view body, bool close = true);

}  // namespace tandem::test
