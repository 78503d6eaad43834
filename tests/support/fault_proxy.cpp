#include "fault_proxy.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <list>
#include <random>
#include <vector>

namespace tandem::test {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr std::size_t kMaxBuffered = 1 << 20;  // stop reading a side while this much waits

void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK); }

// Closes with RST instead of FIN: the peer sees the connection broken.
void close_hard(int fd) {
  if (fd < 0) return;
  linger l{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close(fd);
}

int connect_loopback(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  set_nonblocking(fd);
  return fd;
}

struct Conn {
  int client = -1;
  int upstream = -1;
  std::string to_up;    // waiting to be written to the server
  std::string to_down;  // waiting to be written to the client
  std::int64_t up_seen = 0;
  std::int64_t down_seen = 0;
  std::int64_t cut_up_at = -1;    // >= 0: cut after this many client bytes
  std::int64_t cut_down_at = -1;  // >= 0: cut after this many server bytes
  SteadyClock::time_point hold_until{};
  bool client_eof = false;
  bool upstream_eof = false;
  bool close_after_flush = false;  // response cut: flush the prefix, then RST
  bool broken = false;             // a fault cut this connection: close with RST
  bool dead = false;
};

// Writes as much of `buf` as the socket takes; false on a hard error.
bool flush(int fd, std::string& buf) {
  while (!buf.empty()) {
    const ssize_t n = send(fd, buf.data(), buf.size(), MSG_NOSIGNAL);
    if (n > 0) {
      buf.erase(0, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return true;
    return false;
  }
  return true;
}

}  // namespace

struct FaultProxy::Impl {
  int listen_fd = -1;
  std::atomic<int> upstream_port{0};
  mutable std::mutex mu;  // guards plan, rng, stats
  FaultPlan plan;
  std::mt19937_64 rng;
  std::int64_t faults_left = -1;
  FaultStats stats;
  std::list<Conn> conns;

  void decide(Conn& c) {
    std::lock_guard lock(mu);
    ++stats.connections;
    if (faults_left == 0) return;
    std::uniform_real_distribution<double> u(0.0, 1.0);
    const double r = u(rng);
    const std::int64_t random_bytes =
        1 + static_cast<std::int64_t>(
                rng() % static_cast<std::uint64_t>(std::max<std::int64_t>(1, plan.cut_bytes_max)));
    const std::int64_t bytes = plan.cut_at >= 0 ? plan.cut_at : random_bytes;
    if (r < plan.cut_request) {
      c.cut_up_at = bytes;
    } else if (r < plan.cut_request + plan.cut_response) {
      c.cut_down_at = bytes;
    } else if (r < plan.cut_request + plan.cut_response + plan.delay) {
      c.hold_until = SteadyClock::now() + plan.delay_for;
      ++stats.delays;
    } else {
      return;
    }
    if (faults_left > 0) --faults_left;
  }
};

FaultProxy::FaultProxy(int upstream_port, FaultPlan plan) : impl_(std::make_unique<Impl>()) {
  impl_->upstream_port = upstream_port;
  impl_->plan = plan;
  impl_->rng.seed(plan.seed);
  impl_->faults_left = plan.max_faults;
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(listen(fd, 64) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  port_ = ntohs(addr.sin_port);
  set_nonblocking(fd);
  impl_->listen_fd = fd;
  thread_ = std::thread([this] { run(); });
}

FaultProxy::~FaultProxy() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  for (auto& c : impl_->conns) {
    if (c.client >= 0) close(c.client);
    if (c.upstream >= 0) close(c.upstream);
  }
  if (impl_->listen_fd >= 0) close(impl_->listen_fd);
}

FaultStats FaultProxy::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

void FaultProxy::set_plan(const FaultPlan& plan) {
  std::lock_guard lock(impl_->mu);
  if (plan.seed != impl_->plan.seed) impl_->rng.seed(plan.seed);
  impl_->plan = plan;
  impl_->faults_left = plan.max_faults;
}

void FaultProxy::set_upstream_port(int port) { impl_->upstream_port = port; }

void FaultProxy::run() {
  Impl& m = *impl_;
  std::vector<pollfd> fds;
  std::vector<Conn*> owners;  // parallel to fds (nullptr: the listener)
  while (!stop_) {
    fds.clear();
    owners.clear();
    fds.push_back(pollfd{m.listen_fd, POLLIN, 0});
    owners.push_back(nullptr);
    const auto now = SteadyClock::now();
    for (auto& c : m.conns) {
      const bool holding = now < c.hold_until;
      short ce = 0;
      if (!c.client_eof && c.to_up.size() < kMaxBuffered && !c.close_after_flush) ce |= POLLIN;
      if (!c.to_down.empty() && !holding) ce |= POLLOUT;
      short ue = 0;
      if (c.upstream >= 0 && !c.upstream_eof && c.to_down.size() < kMaxBuffered) ue |= POLLIN;
      if (c.upstream >= 0 && !c.to_up.empty()) ue |= POLLOUT;
      fds.push_back(pollfd{c.client, ce, 0});
      owners.push_back(&c);
      fds.push_back(pollfd{c.upstream, ue, 0});
      owners.push_back(&c);
    }
    const int ready = poll(fds.data(), fds.size(), 20);
    if (ready < 0 && errno != EINTR) break;

    if (fds[0].revents & POLLIN) {
      for (;;) {
        const int client = accept4(m.listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (client < 0) break;
        Conn c;
        c.client = client;
        c.upstream = connect_loopback(m.upstream_port);
        if (c.upstream < 0) {
          close_hard(client);
          continue;
        }
        m.decide(c);
        m.conns.push_back(std::move(c));
      }
    }

    char buf[64 * 1024];
    for (std::size_t i = 1; i < fds.size(); i += 2) {
      Conn& c = *owners[i];
      const pollfd& cf = fds[i];
      const pollfd& uf = fds[i + 1];
      // client -> server
      if (cf.revents & (POLLIN | POLLHUP | POLLERR)) {
        const ssize_t n = recv(c.client, buf, sizeof buf, 0);
        if (n > 0) {
          std::int64_t take = n;
          bool cut = false;
          if (c.cut_up_at >= 0 && c.up_seen + n >= c.cut_up_at) {
            take = c.cut_up_at - c.up_seen;
            cut = true;
          }
          c.to_up.append(buf, static_cast<std::size_t>(take));
          c.up_seen += take;
          {
            std::lock_guard lock(m.mu);
            m.stats.bytes_up += take;
            if (cut) ++m.stats.cut_requests;
          }
          if (cut) {
            (void)flush(c.upstream, c.to_up);
            c.broken = true;
            c.dead = true;
          }
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
          c.client_eof = true;
        }
      }
      // server -> client
      if (!c.dead && c.upstream >= 0 && (uf.revents & (POLLIN | POLLHUP | POLLERR))) {
        const ssize_t n = recv(c.upstream, buf, sizeof buf, 0);
        if (n > 0) {
          std::int64_t take = n;
          bool cut = false;
          if (c.cut_down_at >= 0 && c.down_seen + n >= c.cut_down_at) {
            take = c.cut_down_at - c.down_seen;
            cut = true;
          }
          c.to_down.append(buf, static_cast<std::size_t>(take));
          c.down_seen += take;
          {
            std::lock_guard lock(m.mu);
            m.stats.bytes_down += take;
            if (cut) ++m.stats.cut_responses;
          }
          if (cut) {
            close_hard(c.upstream);
            c.upstream = -1;
            c.upstream_eof = true;
            c.close_after_flush = true;
            c.broken = true;
          }
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
          c.upstream_eof = true;
        }
      }
      if (c.dead) continue;
      if (c.upstream >= 0 && !c.to_up.empty() && !flush(c.upstream, c.to_up)) c.dead = true;
      if (SteadyClock::now() >= c.hold_until && !c.to_down.empty() && !flush(c.client, c.to_down))
        c.dead = true;
      // Done when a side has ended and everything it sent was delivered.
      if (c.close_after_flush && c.to_down.empty()) c.dead = true;
      if (c.upstream_eof && c.to_down.empty()) c.dead = true;
      if (c.client_eof && c.to_up.empty()) c.dead = true;
    }
    for (auto it = m.conns.begin(); it != m.conns.end();) {
      if (it->dead) {
        if (it->broken) {
          close_hard(it->client);
          close_hard(it->upstream);
        } else {
          close(it->client);
          if (it->upstream >= 0) close(it->upstream);
        }
        it = m.conns.erase(it);
      } else {
        ++it;
      }
    }
  }
}

}  // namespace tandem::test
