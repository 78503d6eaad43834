#include "hostile_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>

namespace tandem::test {
namespace {

// Bounds on what the server reads of a request: the client under test is
// ours and sends far less; more means a broken test.
constexpr std::size_t kMaxRequestBytes = 64 * 1024 * 1024;

// Reads one request (head, then a Content-Length body); false when the
// client closed first or sent something that is not HTTP.
bool read_request(int fd, const std::atomic<bool>& stop, HostileRequest& out) {
  std::string in;
  std::size_t head_end = std::string::npos;
  std::size_t need = 0;
  char buf[16384];
  for (;;) {
    if (head_end != std::string::npos && in.size() >= need) break;
    if (stop.load() || in.size() > kMaxRequestBytes) return false;
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, 50);
    if (ready < 0 && errno != EINTR) return false;
    if (ready <= 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    in.append(buf, static_cast<std::size_t>(n));
    if (head_end == std::string::npos) {
      head_end = in.find("\r\n\r\n");
      if (head_end == std::string::npos) continue;
      std::size_t length = 0;
      std::string head = in.substr(0, head_end);
      for (char& c : head) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
      if (const auto at = head.find("\r\ncontent-length:"); at != std::string::npos) {
        length = std::strtoull(head.c_str() + at + 17, nullptr, 10);
      }
      need = head_end + 4 + length;
    }
  }
  const std::size_t line_end = in.find("\r\n");
  const std::size_t sp1 = in.find(' ');
  const std::size_t sp2 = in.find(' ', sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos || sp2 > line_end) return false;
  out.method = in.substr(0, sp1);
  out.path = in.substr(sp1 + 1, sp2 - sp1 - 1);
  out.body = in.substr(head_end + 4, need - head_end - 4);
  return true;
}

std::string_view reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 409:
      return "Conflict";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

}  // namespace

bool HostileWire::send(std::string_view bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    if (stop_.load()) return false;
    pollfd p{fd_, POLLOUT, 0};
    const int ready = ::poll(&p, 1, 50);
    if (ready < 0 && errno != EINTR) return false;
    if (ready <= 0) continue;
    if (p.revents & (POLLERR | POLLHUP)) return false;
    const ssize_t n =
        ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
    sent_ += n;
  }
  return true;
}

HostileServer::HostileServer(HostileHandler handler, bool keep_alive)
    : handler_(std::move(handler)), keep_alive_(keep_alive) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(listen_fd_ >= 0);
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(listen_fd_, 16) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

HostileServer::~HostileServer() {
  stop_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(mu_);
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

void HostileServer::accept_loop() {
  while (!stop_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard lock(mu_);
    workers_.emplace_back([this, fd] { serve(fd); });
  }
}

void HostileServer::serve(int fd) {
  ++connections_;
  HostileRequest request;
  HostileWire wire(fd, stop_, bytes_sent_);
  while (read_request(fd, stop_, request)) {
    ++requests_;
    handler_(request, wire);
    if (!keep_alive_) break;
  }
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
}

std::string http_head(int status, std::string_view headers, bool close) {
  std::string out =
      "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason(status)) + "\r\n";
  out += close ? "Content-Type: application/json\r\nConnection: close\r\n"
               : "Content-Type: application/json\r\n";
  out += headers;
  out += "\r\n";
  return out;
}

std::string http_answer(int status, std::string_view body, bool close) {
  std::string out =
      http_head(status, "Content-Length: " + std::to_string(body.size()) + "\r\n", close);
  out += body;
  return out;
}

}  // namespace tandem::test
