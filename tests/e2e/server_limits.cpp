// tandem-server's bounds on what one client can take: pull pages bounded in
// bytes, and at the connection limit the connections that do nothing
// useful make room for new ones (never one being answered), /healthz still
// answered when nothing can make room.
#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "server_process.hpp"
#include "tandem/sync/protocol.hpp"

using namespace tandem::test;  // NOLINT(google-build-using-namespace)
using nlohmann::json;
using tandem::Change;

namespace {

// ~10.7 KB per change: 1,000 would be the 10.7 MB page of the finding.
constexpr int kTagsPerChange = 160;

// A kept-alive connection that has been served one request.
std::unique_ptr<RawConnection> served_connection(int port) {
  auto c = std::make_unique<RawConnection>(port);
  REQUIRE(c->ok());
  REQUIRE(c->send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  bool closed = false;
  const std::string got = c->read_until_closed(std::chrono::milliseconds(300), &closed);
  REQUIRE(got.rfind("HTTP/1.1 200", 0) == 0);
  REQUIRE_FALSE(closed);
  return c;
}

// A connection that has sent half of a request's headers.
std::unique_ptr<RawConnection> slow_connection(int port) {
  auto c = std::make_unique<RawConnection>(port);
  REQUIRE(c->ok());
  REQUIRE(c->send("POST /v1/sync HTTP/1.1\r\nHost: x\r\n"));
  return c;
}

bool closed_soon(RawConnection& c) {
  bool closed = false;
  c.read_until_closed(std::chrono::milliseconds(1500), &closed);
  return closed;
}

bool still_open(RawConnection& c) {
  bool closed = false;
  c.read_until_closed(std::chrono::milliseconds(100), &closed);
  return !closed;
}

// Waits until the server counts `n` open connections besides the one asking.
void await_open_connections(const ServerProcess& server, long n) {
  for (int i = 0; i < 100; ++i) {
    if (open_connections(server) == n + 1) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
  FAIL("the server never settled at " << n << " open connections");
}

}  // namespace

TEST_CASE("server: a pull page stops before its byte budget, and paging still finds every change",
          "[server][e2e][limits]") {
  SchoolServer world;
  const TestDevice pusher = world.enroll();
  const TestDevice reader = world.enroll();
  std::set<std::string> pushed;
  push_large_courses(world, pusher, 11, 100, kTagsPerChange, &pushed);  // 1,100 changes, ~11.8 MB

  std::int64_t cursor = 0;
  std::int64_t last_seq = 0;
  std::size_t largest = 0;
  int pages = 0;
  std::set<std::string> seen;
  for (;;) {
    const auto r =
        world.http.post(world.server->url("/v1/sync"), pull_body(cursor, 1000), reader.token);
    REQUIRE(r.status == 200);
    largest = std::max(largest, r.body.size());
    const json page = r.json().at("pull");
    ++pages;
    REQUIRE_FALSE(page.at("changes").empty());  // every page makes progress
    // The budget counts the changes' text; the answer adds ~40 bytes each.
    CHECK(r.body.size() <= tandem::sync::kMaxPullPageBytes + 1000 * 48 + 256);
    for (const auto& c : page.at("changes")) {
      const auto seq = c.at("seq").get<std::int64_t>();
      CHECK(seq > last_seq);
      last_seq = seq;
      seen.insert(c.at("change").at("hlc").get<std::string>());
    }
    cursor = page.at("cursor").get<std::int64_t>();
    if (!page.at("more").get<bool>()) break;
    REQUIRE(pages < 100);
  }
  INFO("largest answer " << largest << " bytes in " << pages << " pages");
  CHECK(pages >= 11);
  for (const auto& h : pushed) CHECK(seen.count(h) == 1);
  // Past the end: nothing, and no more.
  const auto end = world.http.post(world.server->url("/v1/sync"), pull_body(cursor), reader.token);
  CHECK(end.json().at("pull").at("changes").empty());
  CHECK(end.json().at("pull").at("more") == false);
}

TEST_CASE("server: at the connection limit the connection nearest its timeout makes room",
          "[server][e2e][limits]") {
  // Four slots; idle connections would time out in 60 s, half-sent
  // requests in 10 s: the slow ones go first, each the oldest first, then
  // the idle ones.
  TempDir dir;
  auto server = ServerProcess::start(dir.path(), {"--max-connections", "4"});
  await_open_connections(*server, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the asker's is gone too
  auto idle1 = served_connection(server->port());
  auto idle2 = served_connection(server->port());
  auto slow1 = slow_connection(server->port());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto slow2 = slow_connection(server->port());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // all four are being read

  HttpClient http;
  CHECK(http.get(server->url("/healthz")).status == 200);  // a fifth connection gets in
  CHECK(closed_soon(*slow1));
  CHECK(still_open(*slow2));
  CHECK(still_open(*idle1));
  CHECK(still_open(*idle2));

  HttpClient second;
  CHECK(second.get(server->url("/healthz")).status == 200);
  CHECK(closed_soon(*slow2));
  CHECK(still_open(*idle1));

  // Now only idle ones (and the two clients' kept-alive connections, newer).
  HttpClient third;
  CHECK(third.get(server->url("/healthz")).status == 200);
  CHECK(closed_soon(*idle1));
  CHECK(still_open(*idle2));
}

TEST_CASE("server: connections being answered are never reaped, /healthz is still answered",
          "[server][e2e][limits]") {
  SchoolServer world("School", {"--max-connections", "2"});
  const TestDevice pusher = world.enroll();
  const TestDevice reader = world.enroll();
  push_large_courses(world, pusher, 1, 100, kTagsPerChange);  // a 1 MB page

  // Two clients that ask for the page, eight times over on one connection,
  // and never read: the kernel takes a few MiB of answers, then both
  // connections stay busy writing. The pusher's kept-alive connection, idle,
  // makes room for the second.
  std::vector<std::unique_ptr<RawConnection>> hogs;
  const std::string body = pull_body(0, 1000);
  std::string requests;
  for (int i = 0; i < 8; ++i) {
    requests += "POST /v1/sync HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + reader.token +
                "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }
  for (int i = 0; i < 2; ++i) {
    hogs.push_back(std::make_unique<RawConnection>(world.server->port(), 4096));
    REQUIRE(hogs.back()->ok());
    REQUIRE(hogs.back()->send(requests));
    // Busy writing before the next one arrives, which then reaps the idle
    // connection rather than a hog still being read.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }

  HttpClient http;
  const auto health = http.get(world.server->url("/healthz"));
  CHECK(health.status == 200);
  HttpClient other;
  const auto sync = other.post(world.server->url("/v1/sync"), pull_body(0), reader.token);
  CHECK(sync.status == 503);
  CHECK(sync.error_code() == "busy");
  CHECK(sync.headers.count("retry-after") == 1);
  // The hogs were not cut off for them: each is still being answered.
  for (auto& hog : hogs) {
    bool closed = false;
    CHECK(hog->read_some(64, std::chrono::milliseconds(100), &closed).rfind("HTTP/1.1 200", 0) ==
          0);
    CHECK_FALSE(closed);
  }
}
