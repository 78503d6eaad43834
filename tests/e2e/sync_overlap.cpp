// The tablet works while the server works: libcurl's transport runs the
// engine's `meanwhile` once the request is written, and the engine reads and
// encodes its next batch then. What it read is used only if the outbox still
// starts with it; the bytes of every request are what they were.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>
#include <utility>

#include "hostile_server.hpp"
#include "sync_fixture.hpp"
#include "tandem/sync/client.hpp"
#include "test_util.hpp"

namespace tandem::test {
namespace {

TEST_CASE("curl's transport runs the caller's work while the server holds the request, on one connection",
          "[e2e][sync][overlap]") {
  // A loopback server that keeps the connection and holds each request
  // (up to 5 s) until `go` is set, then answers `{}`; `early`: requests for
  // which go was already set when they had arrived whole.
  std::atomic<bool> go{false};
  std::atomic<int> early{0};
  HostileServer server(
      [&](const HostileRequest&, HostileWire& wire) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!go && !wire.stopping() && std::chrono::steady_clock::now() < until)
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        if (go.exchange(false)) ++early;
        wire.send(http_answer(200, "{}", false));
      },
      /*keep_alive=*/true);
  auto transport = curl_to(server.url(), std::chrono::milliseconds(20000));
  int ran = 0;
  for (int i = 0; i < 2; ++i) {
    sync::HttpRequest request;
    request.path = "/v1/sync";
    request.body = std::string(300000, 'x');  // more than one socket write
    const auto t0 = std::chrono::steady_clock::now();
    auto answer = transport->send_overlapped(request, [&] {
      ++ran;
      go = true;  // the server answers only once this ran
    });
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    REQUIRE(answer.ok());
    CHECK(answer->status == 200);
    CHECK(answer->body == "{}");
    CHECK(ran == i + 1);
    // Not the server's 5 s wait: the work ran while it held the request.
    CHECK(ms < 2500);
  }
  CHECK(server.requests() == 2);
  CHECK(early == 2);
  CHECK(server.connections() == 1);
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
