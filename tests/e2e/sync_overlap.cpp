// The tablet works while the server works: libcurl's transport runs the
// engine's `meanwhile` once the request is written, and the engine reads and
// encodes its next batch then. What it read is used only if the outbox still
// starts with it; the bytes of every request are what they were.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>
#include <utility>

#include "sync_fixture.hpp"
#include "tandem/sync/client.hpp"
#include "test_util.hpp"

namespace tandem::test {
namespace {

// One loopback HTTP/1.1 server thread for `requests` requests on one
// connection: it reads each whole request, then waits (up to 5 s) until
// `go` is set before it answers `{}`; `early[i]`: go was set when request i
// had arrived and nothing was answered yet.
class HoldingServer {
 public:
  explicit HoldingServer(int requests) : requests_(requests) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(listener_, 4) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~HoldingServer() {
    join();
    ::close(listener_);
  }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::atomic<bool> go{false};
  std::vector<bool> early;
  int connections = 0;

 private:
  void run() {
    int c = -1;
    std::string in;
    for (int i = 0; i < requests_; ++i) {
      if (c < 0) {
        c = ::accept(listener_, nullptr, nullptr);
        if (c < 0) return;
        ++connections;
      }
      // Headers, then Content-Length bytes of body.
      std::size_t end = std::string::npos;
      std::size_t length = 0;
      for (;;) {
        end = in.find("\r\n\r\n");
        if (end != std::string::npos) {
          const auto at = in.find("Content-Length: ");
          length = at == std::string::npos ? 0 : std::stoul(in.substr(at + 16));
          if (in.size() >= end + 4 + length) break;
        }
        char buf[65536];
        const ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) {
          ::close(c);
          return;
        }
        in.append(buf, static_cast<std::size_t>(n));
      }
      in.erase(0, end + 4 + length);
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (!go && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      early.push_back(go.load());
      go = false;
      const std::string answer =
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
      if (::send(c, answer.data(), answer.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(answer.size())) break;
    }
    if (c >= 0) ::close(c);
  }

  int requests_;
  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
};

TEST_CASE("curl's transport runs the caller's work while the server holds the request, on one connection",
          "[e2e][sync][overlap]") {
  HoldingServer server(2);
  auto transport = curl_to(server.url(), std::chrono::milliseconds(20000));
  int ran = 0;
  for (int i = 0; i < 2; ++i) {
    sync::HttpRequest request;
    request.path = "/v1/sync";
    request.body = std::string(300000, 'x');  // more than one socket write
    const auto t0 = std::chrono::steady_clock::now();
    auto answer = transport->send_overlapped(request, [&] {
      ++ran;
      server.go = true;  // the server answers only once this ran
    });
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    REQUIRE(answer.ok());
    CHECK(answer->status == 200);
    CHECK(answer->body == "{}");
    CHECK(ran == i + 1);
    // Not the server's 5 s wait: the work ran while it held the request.
    CHECK(ms < 2500);
  }
  server.join();
  CHECK(server.early == std::vector<bool>{true, true});
  CHECK(server.connections == 1);
  CHECK(transport->stats().connections == 1);
}

// Wraps a transport: `hook` runs once, right after the engine's work for the
// first request (the next batch read), as if another part of the app wrote
// while the server merged.
class HookedTransport final : public sync::Transport {
 public:
  explicit HookedTransport(sync::Transport& inner) : inner_(inner) {}
  Result<sync::HttpResponse> send(const sync::HttpRequest& request) override {
    bodies.push_back(request.body);
    return inner_.send(request);
  }
  Result<sync::HttpResponse> send_overlapped(const sync::HttpRequest& request,
                                             const std::function<void()>& meanwhile) override {
    bodies.push_back(request.body);
    return inner_.send_overlapped(request, [&] {
      meanwhile();
      ++overlapped;
      if (hook) std::exchange(hook, nullptr)();
    });
  }
  std::function<void()> hook;
  std::vector<std::string> bodies;
  int overlapped = 0;

 private:
  sync::Transport& inner_;
};

TEST_CASE("a record purged while its changes were read for the next batch never leaves the tablet",
          "[e2e][sync][overlap]") {
  SyncWorld world;
  TempDir dir;
  Tablet a(dir.file("a.db"));
  world.enroll(a);
  std::string kept;
  std::string purged;
  REQUIRE(a.store()
              .transaction([&]() -> Status {
                auto k = a.store().create("course", Json{{"kind", "observation"}, {"title", "forløb"}});
                if (!k) return k.error();
                kept = *k;
                for (int i = 1; i < 600; ++i) TANDEM_TRY(a.store().set(kept, "title", "forløb " + std::to_string(i)));
                auto p = a.store().create("course", Json{{"kind", "observation"}, {"title", "hemmelig 0"}});
                if (!p) return p.error();
                purged = *p;
                for (int i = 1; i < 400; ++i)
                  TANDEM_TRY(a.store().set(purged, "title", "hemmelig " + std::to_string(i)));
                return {};
              })
              .ok());
  REQUIRE(a.outbox_size() == 1000);
  auto curl = curl_to(world.base_url());
  HookedTransport transport(*curl);
  // The first batch (500 of the kept course's changes) is at the server; the
  // next one, read meanwhile, holds the other course's: it is purged now.
  transport.hook = [&] { REQUIRE(a.store().purge(purged).ok()); };
  sync::EngineOptions push = Tablet::fast_options();
  push.pull = false;
  push.push_batch = 500;
  auto pushed = a.sync(transport, push);
  REQUIRE(pushed.ok());
  CHECK(pushed->complete);
  CHECK(pushed->accepted == 601);  // the kept course's 600 and the purge
  CHECK(transport.overlapped == static_cast<int>(transport.bodies.size()));
  REQUIRE(transport.bodies.size() >= 2);
  for (const auto& body : transport.bodies) {
    CHECK(body.find("hemmelig") == std::string::npos);
    // Encoded as it always was: canonical JSON, one text.
    CHECK(Json::parse(body).dump() == body);
  }
  for (const auto& row : server_sequence(world)) {
    CHECK(row.at("change").dump().find("hemmelig") == std::string::npos);
  }
  CHECK(a.outbox_size() == 0);
}

TEST_CASE("a request encoded from its changes' texts is the text of its JSON", "[e2e][sync][overlap]") {
  sync::SyncRequest r;
  sync::PushRequest push;
  push.mutation_id = 42;
  for (const char* title : {"Dansk 4.b", "\"citat\" og \\ og æøå", "linje\nskift", ""}) {
    Change c;
    c.hlc = Hlc{1'790'000'000'000, 7, "0123456789abcdef"};
    c.record = "course_0123456789abcdef0123";
    c.kind = "course";
    c.school = "school_x";
    c.op = Op::kSet;
    c.field = "title";
    c.value = title;
    c.seen = {"0001a0b0c0d0-000000-0123456789abcdef"};
    push.changes.push_back(c);
  }
  r.push = push;
  std::vector<std::string> texts;
  for (const auto& c : r.push->changes) texts.push_back(c.to_json().dump());
  CHECK(r.to_text(texts) == r.to_json().dump());
  r.pull = sync::PullRequest{1234, 500, 7};
  CHECK(r.to_text(texts) == r.to_json().dump());
  r.push->changes.clear();
  CHECK(r.to_text({}) == r.to_json().dump());
}

}  // namespace
}  // namespace tandem::test
