// Abuse: clients that cost the server memory or time — never reading their
// answer, reading it at a trickle, stretching one request out, announcing a
// 2 GiB body, nesting JSON 100,000 deep. The server's resident memory is
// read from /proc/PID/status (VmRSS) while they hold on.
#include <catch2/catch.hpp>
#include <sstream>

#include "abuse_util.hpp"
#include "tandem/sync/protocol.hpp"

using namespace tandem::test;  // NOLINT(google-build-using-namespace)
using tandem::Change;

namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr int kPushes = 11;
constexpr int kChangesPerPush = 100;
// ~10.7 KB per change: 1,000 of them make the 10.7 MB page of the finding.
constexpr int kTagsPerChange = 160;

std::string raw_sync(const std::string& token, const std::string& body) {
  return "POST /v1/sync HTTP/1.1\r\nHost: abuse\r\nAuthorization: Bearer " + token +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

// A receive window this small keeps what a client does not read on the
// server's side.
constexpr int kTinyWindow = 4096;

}  // namespace

TEST_CASE("abuse: 40 clients that never read a full pull page cost the server < 100 MB",
          "[fault][abuse][memory]") {
  SchoolServer world;
  const TestDevice pusher = world.enroll();
  const TestDevice reader = world.enroll();
  push_large_courses(world, pusher, kPushes, kChangesPerPush, kTagsPerChange);
  // One honest full pull first: the server's caches hold the school now,
  // and belong to the baseline.
  const auto first =
      world.http.post(world.server->url("/v1/sync"), pull_body(0, 1000), reader.token);
  REQUIRE(first.status == 200);
  const long baseline = resident_kib(world.server->pid());
  REQUIRE(baseline > 0);

  constexpr int kClients = 40;
  std::vector<std::unique_ptr<RawConnection>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<RawConnection>(world.server->port(), kTinyWindow));
    REQUIRE(clients.back()->ok());
    REQUIRE(clients.back()->send(raw_sync(reader.token, pull_body(0, 1000))));
  }
  long peak = baseline;
  const auto until = SteadyClock::now() + std::chrono::seconds(4);
  while (SteadyClock::now() < until) {
    peak = std::max(peak, resident_kib(world.server->pid()));
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  clients.clear();
  const double growth_mb = static_cast<double>(peak - baseline) / 1024.0;
  std::ostringstream result;
  result << kClients << " clients each asking for a full pull page (" << first.body.size()
         << " bytes) and never reading it: server RSS grew " << growth_mb << " MB (peak "
         << peak / 1024 << " MB over " << baseline / 1024 << " MB); bound 100 MB";
  print_reliability("never-reading clients", kClients, result.str(),
                    "abuse: 40 clients that never read a full pull page cost the server < 100 MB");
  INFO(result.str());
  // The issue's bound is 100 MB, held in optimised builds. Under ASan the
  // server's freed buffers wait in the allocator's quarantine (256 MB by
  // default) and every allocation carries redzones: a wider bound there.
#if defined(__SANITIZE_ADDRESS__)
  CHECK(growth_mb < 400.0);
#else
  CHECK(growth_mb < 100.0);
#endif
  CHECK(healthz_status(*world.server, std::chrono::milliseconds(5000)) == 200);
}

TEST_CASE("abuse: a client reading its answer at a trickle is cut off at the write deadline",
          "[fault][abuse][memory]") {
  SchoolServer world("School", {"--write-timeout-ms", "2000"});
  const TestDevice pusher = world.enroll();
  const TestDevice reader = world.enroll();
  push_large_courses(world, pusher, kPushes, kChangesPerPush, kTagsPerChange);
  const long before = open_connections(*world.server);

  // Reads 1 KiB every 100 ms (10 KiB/s): a page would take minutes.
  RawConnection client(world.server->port(), kTinyWindow);
  REQUIRE(client.ok());
  const auto started = SteadyClock::now();
  REQUIRE(client.send(raw_sync(reader.token, pull_body(0, 1000))));
  std::string got;
  bool cut = false;
  while (!cut && SteadyClock::now() - started < std::chrono::seconds(30)) {
    got += client.read_some(1024, std::chrono::milliseconds(1000), &cut);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
  const auto length_at = got.find("Content-Length: ");
  const long length = length_at == std::string::npos ? -1 : std::stol(got.substr(length_at + 16));
  const long after = open_connections(*world.server);

  std::ostringstream result;
  result << "a client reading 10 KiB/s was cut off after " << seconds << " s (write deadline 2 s) "
         << "having read " << got.size() << " of " << length << "+ bytes; open connections "
         << before << " before, " << after << " after";
  print_reliability("trickle reader", 1, result.str(),
                    "abuse: a client reading its answer at a trickle is cut off at the write "
                    "deadline");
  INFO(result.str());
  CHECK(got.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(cut);
  CHECK(seconds < 10.0);
  CHECK(static_cast<long>(got.size()) < length);
  CHECK(after == before);
}

TEST_CASE("abuse: one request stretched past the whole-request deadline is cut off",
          "[fault][abuse][memory]") {
  // Each phase on its own is within its timeout (headers 2.5 s of 3, body
  // 2.4 s of 3); the whole is not (4 s).
  TempDir dir;
  auto server = ServerProcess::start(
      dir.path(),
      {"--header-timeout-ms", "3000", "--body-timeout-ms", "3000", "--request-timeout-ms", "4000"});
  RawConnection c(server->port());
  REQUIRE(c.ok());
  const auto started = SteadyClock::now();
  bool sent = c.send("POST /v1/enroll HTTP/1.1\r\nHost: abuse\r\nContent-Length: 8\r\n");
  for (int i = 0; sent && i < 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    sent = c.send("X-Slow: " + std::to_string(i) + "\r\n");
  }
  sent = sent && c.send("\r\n");
  for (int i = 0; sent && i < 8; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    sent = c.send("{");
  }
  bool closed = false;
  const std::string got = c.read_until_closed(std::chrono::milliseconds(5000), &closed);
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
  std::ostringstream result;
  result << "headers over 2.5 s and a body over 2.4 s: cut off after " << seconds
         << " s by the 4 s request deadline, " << (got.empty() ? "no answer" : "answered");
  print_reliability("stretched request", 1, result.str(),
                    "abuse: one request stretched past the whole-request deadline is cut off");
  INFO(result.str() << ": " << got.substr(0, 100));
  CHECK(got.empty());
  CHECK((closed || !sent));
  CHECK(seconds < 8.0);
}

TEST_CASE("abuse: a 2 GiB body is refused before it is read", "[fault][abuse][memory]") {
  SchoolServer world;
  const TestDevice device = world.enroll();
  const long baseline = resident_kib(world.server->pid());
  const std::string head = "POST /v1/sync HTTP/1.1\r\nHost: abuse\r\nAuthorization: Bearer " +
                           device.token + "\r\nContent-Type: application/json\r\n";
  constexpr std::size_t kTry = 64u * 1024 * 1024;  // what the client tries to send
  const std::string filler(64 * 1024, ' ');
  char size_line[32];
  std::snprintf(size_line, sizeof size_line, "%zx\r\n", filler.size());
  const std::string chunk = size_line + filler + "\r\n";

  struct Case {
    std::string what, headers, each;  // `each`: sent until refused, up to kTry
  };
  const std::vector<Case> cases = {
      {"declared, then sent anyway", "Content-Length: 2147483648\r\n\r\n", filler},
      {"declared, asking 100-continue",
       "Expect: 100-continue\r\nContent-Length: 2147483648\r\n\r\n", ""},
      {"chunked, never declared", "Transfer-Encoding: chunked\r\n\r\n", chunk}};
  std::size_t most_sent = 0;
  for (const auto& c : cases) {
    RawConnection conn(world.server->port());
    REQUIRE(conn.send(head + c.headers));
    std::size_t sent = 0;
    while (!c.each.empty() && sent < kTry && conn.send(c.each)) sent += c.each.size();
    most_sent = std::max(most_sent, sent);
    bool closed = false;
    const std::string got = conn.read_until_closed(std::chrono::milliseconds(5000), &closed);
    INFO(c.what << ": the server took " << sent << " bytes, answered " << got.substr(0, 80));
    CHECK(got.rfind("HTTP/1.1 413", 0) == 0);  // and no 100 Continue before it
    CHECK(got.find("payload_too_large") != std::string::npos);
    CHECK(sent < kTry);
  }
  const double growth_mb =
      static_cast<double>(resident_kib(world.server->pid()) - baseline) / 1024.0;
  std::ostringstream result;
  result << "2 GiB bodies (declared and sent, declared with 100-continue, chunked): 413 "
            "payload_too_large, the server took at most "
         << most_sent / 1024 << " KiB of each; server RSS +" << growth_mb << " MB";
  print_reliability("2 GiB body", static_cast<long>(cases.size()), result.str(),
                    "abuse: a 2 GiB body is refused before it is read");
  CHECK(growth_mb < 50.0);
  CHECK(healthz_status(*world.server, std::chrono::milliseconds(5000)) == 200);
}

TEST_CASE("abuse: JSON nested 100,000 deep is refused cheaply", "[fault][abuse][memory]") {
  SchoolServer world;
  const TestDevice device = world.enroll();
  const long baseline = resident_kib(world.server->pid());
  constexpr int kDepth = 100000;
  std::string arrays(kDepth, '[');
  arrays += std::string(kDepth, ']');
  std::string objects;
  for (int i = 0; i < kDepth; ++i) objects += "{\"a\":";
  objects += "1" + std::string(kDepth, '}');
  // Deep inside a push, under a change's value.
  const std::string in_push = R"({"push":{"mutation_id":1,"changes":[{"value":)" + arrays + "}]}}";

  struct Case {
    std::string what, path, body;
    bool auth;
  };
  const std::vector<Case> cases = {{"arrays, sync", "/v1/sync", arrays, true},
                                   {"objects, sync", "/v1/sync", objects, true},
                                   {"inside a push", "/v1/sync", in_push, true},
                                   {"arrays, enroll", "/v1/enroll", arrays, false}};
  double slowest_ms = 0;
  for (const auto& c : cases) {
    const auto started = SteadyClock::now();
    const auto r = world.http.post(world.server->url(c.path), c.body, c.auth ? device.token : "");
    const double ms =
        std::chrono::duration<double, std::milli>(SteadyClock::now() - started).count();
    slowest_ms = std::max(slowest_ms, ms);
    INFO(c.what << ": " << r.status << " " << r.body.substr(0, 200));
    CHECK(r.status == 400);
    CHECK(r.error_code() == "invalid_json");
    CHECK(r.body.size() < 600);  // a short message, not an echo
  }
  const double growth_mb =
      static_cast<double>(resident_kib(world.server->pid()) - baseline) / 1024.0;
  std::ostringstream result;
  result << "100,000-deep arrays/objects (sync, enroll, inside a change): 400 invalid_json, "
            "slowest answer "
         << static_cast<long>(slowest_ms) << " ms, server RSS +" << growth_mb << " MB";
  print_reliability("100k-deep JSON", static_cast<long>(cases.size()), result.str(),
                    "abuse: JSON nested 100,000 deep is refused cheaply");
  CHECK(slowest_ms < 5000);
  CHECK(growth_mb < 50.0);
  CHECK(healthz_status(*world.server, std::chrono::milliseconds(5000)) == 200);
}
