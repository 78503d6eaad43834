#include "abuse_util.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "fault_env.hpp"

namespace tandem::test {
namespace {

using SteadyClock = std::chrono::steady_clock;

int open_nonblocking(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all_now(int fd, const std::string& bytes) {
  const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  return n == static_cast<ssize_t>(bytes.size()) || (n < 0 && errno == EAGAIN);
}

}  // namespace

std::size_t raise_file_limit(std::size_t wanted) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < wanted) {
    rlimit raised = rl;
    raised.rlim_cur = rl.rlim_max == RLIM_INFINITY ? wanted : std::min<rlim_t>(wanted, rl.rlim_max);
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
  }
  return rl.rlim_cur == RLIM_INFINITY ? wanted : static_cast<std::size_t>(rl.rlim_cur);
}

long resident_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

void print_reliability(const std::string& fault, long cases, const std::string& result,
                       const std::string& test_name) {
  reliability_line(fault, static_cast<std::int64_t>(cases), result, suite_command(test_name, false));
}

// ---- ConnectionFlood ----

ConnectionFlood::ConnectionFlood(Options options) : options_(options) {
  thread_ = std::thread([this] { run(); });
}

ConnectionFlood::~ConnectionFlood() {
  stop_ = true;
  thread_.join();
}

bool ConnectionFlood::wait_established(std::chrono::milliseconds timeout) const {
  const auto deadline = SteadyClock::now() + timeout;
  while (established_.load() < options_.connections) {
    if (SteadyClock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

void ConnectionFlood::run() {
  enum class State { kClosed, kConnecting, kOpen };
  struct Slot {
    int fd = -1;
    State state = State::kClosed;
    bool counted = false;  // has counted towards established_
    SteadyClock::time_point next{};
  };
  // A new connection for a slot the server closed: soon, not in a hot loop.
  constexpr auto kReconnectDelay = std::chrono::milliseconds(10);
  const std::string idle_request = "GET /healthz HTTP/1.1\r\nHost: flood\r\n\r\n";
  const std::string slow_start =
      "POST /v1/sync HTTP/1.1\r\nHost: flood\r\nContent-Type: application/json\r\n"
      "Content-Length: 100\r\n";
  std::vector<Slot> slots(options_.connections);
  std::vector<pollfd> fds;
  std::vector<std::size_t> which;
  char scratch[4096];

  const auto close_slot = [&](Slot& s, bool by_server) {
    ::close(s.fd);
    s.fd = -1;
    s.state = State::kClosed;
    s.next = SteadyClock::now() + kReconnectDelay;
    --open_now_;
    if (by_server) ++closed_by_server_;
  };
  const auto count = [&](Slot& s) {
    if (!s.counted) {
      s.counted = true;
      ++established_;
    }
  };

  while (!stop_) {
    const auto now = SteadyClock::now();
    fds.clear();
    which.clear();
    for (std::size_t i = 0; i < slots.size(); ++i) {
      Slot& s = slots[i];
      if (s.state == State::kClosed && (!s.counted || options_.reconnect) && now >= s.next) {
        s.fd = open_nonblocking(options_.port);
        if (s.fd < 0) {
          s.next = now + std::chrono::milliseconds(100);
          continue;
        }
        s.state = State::kConnecting;
        ++opened_;
        ++open_now_;
      }
      if (s.state == State::kOpen && options_.mode == Mode::kSlowloris && now >= s.next) {
        if (!send_all_now(s.fd, "X-Trickle: x\r\n")) {
          close_slot(s, true);
          continue;
        }
        s.next = now + options_.trickle;
      }
      if (s.state == State::kClosed) continue;
      fds.push_back(
          pollfd{s.fd, static_cast<short>(s.state == State::kConnecting ? POLLOUT : POLLIN), 0});
      which.push_back(i);
    }
    if (fds.empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    const int ready = ::poll(fds.data(), fds.size(), 20);
    if (ready <= 0) continue;
    for (std::size_t k = 0; k < fds.size(); ++k) {
      if (fds[k].revents == 0) continue;
      Slot& s = slots[which[k]];
      if (s.state == State::kConnecting) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0 || (fds[k].revents & (POLLERR | POLLHUP))) {
          close_slot(s, true);
          continue;
        }
        s.state = State::kOpen;
        s.next = SteadyClock::now() + options_.trickle;
        if (options_.mode == Mode::kIdle) {
          if (!send_all_now(s.fd, idle_request)) close_slot(s, true);
        } else {
          if (options_.mode == Mode::kSlowloris && !send_all_now(s.fd, slow_start)) {
            close_slot(s, true);
            continue;
          }
          count(s);
        }
        continue;
      }
      const ssize_t n = ::recv(s.fd, scratch, sizeof scratch, 0);
      if (n > 0) {
        // kIdle: the health answer came; the connection now idles. Any
        // other answer (503 busy, 408) is followed by a close.
        if (options_.mode == Mode::kIdle) count(s);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      close_slot(s, true);
    }
  }
  for (auto& s : slots) {
    if (s.fd >= 0) ::close(s.fd);
  }
}

// ---- a tablet's syncs ----

SyncTally timed_syncs(const ServerProcess& server, const TestDevice& device, int count,
                      std::chrono::milliseconds within, std::chrono::milliseconds gap) {
  static std::atomic<std::int64_t> mutation_ids{0};
  SyncTally tally;
  ChangeMaker maker;
  std::int64_t cursor = 0;
  for (int i = 0; i < count; ++i) {
    HttpClient http;  // a new connection per sync
    http.set_timeouts(within + std::chrono::milliseconds(5000), within);
    const Change course = maker.create_course(device.school, "sync " + std::to_string(i));
    const auto started = SteadyClock::now();
    const HttpResponse r = http.post(server.url("/v1/sync"),
                                     sync_body(++mutation_ids, {course}, cursor, 50), device.token);
    const double ms =
        std::chrono::duration<double, std::milli>(SteadyClock::now() - started).count();
    ++tally.attempts;
    if (r.status == 200) {
      tally.worst_ms = std::max(tally.worst_ms, ms);
      const auto j = r.json();
      if (j.contains("pull")) cursor = j["pull"].value("cursor", cursor);
    }
    if (r.status == 200 && ms <= static_cast<double>(within.count())) {
      ++tally.ok;
    } else if (tally.first_failure.empty()) {
      tally.first_failure = "status " + std::to_string(r.status) + " after " +
                            std::to_string(static_cast<long>(ms)) + " ms " + r.error +
                            r.body.substr(0, 200);
    }
    std::this_thread::sleep_for(gap);
  }
  return tally;
}

long healthz_status(const ServerProcess& server, std::chrono::milliseconds within) {
  HttpClient http;
  http.set_timeouts(within, within);
  return http.get(server.url("/healthz")).status;
}

}  // namespace tandem::test
