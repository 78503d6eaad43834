// Abuse: connection floods beside real clients. One client (this process,
// one address, as a school's NAT or loopback makes every client look) holds
// 1,030 connections that do nothing useful, idle or trickling; another
// device's syncs, each on a new connection over real libcurl, must still get
// through, and /healthz must answer. The server runs with its default
// connection limit (1024).
#include <catch2/catch.hpp>
#include <sstream>

#include "abuse_util.hpp"

using namespace tandem::test;  // NOLINT(google-build-using-namespace)

namespace {

constexpr std::size_t kFloodConnections = 1030;
constexpr int kSyncs = 48;
constexpr auto kSyncBound = std::chrono::milliseconds(5000);
constexpr double kRequiredShare = 0.9;

// Room for the flood, the server's own files are its own business.
std::size_t flood_size() {
  const std::size_t limit = raise_file_limit(kFloodConnections + 256);
  if (limit < kFloodConnections + 64) {
    WARN("file limit " << limit << ": flooding with fewer connections");
    return limit > 128 ? limit - 128 : 0;
  }
  return kFloodConnections;
}

void run_flood_case(ConnectionFlood::Mode mode, bool reconnect, const std::string& fault,
                    const std::string& test_name) {
  const std::size_t n = flood_size();
  REQUIRE(n > 0);
  SchoolServer world;
  const TestDevice device = world.enroll();
  ConnectionFlood::Options options;
  options.port = world.server->port();
  options.connections = n;
  options.mode = mode;
  options.reconnect = reconnect;
  ConnectionFlood flood(options);
  CHECK(flood.wait_established(std::chrono::milliseconds(30000)));
  const long health = healthz_status(*world.server, kSyncBound);
  const SyncTally tally =
      timed_syncs(*world.server, device, kSyncs, kSyncBound, std::chrono::milliseconds(50));
  const long health_after = healthz_status(*world.server, kSyncBound);

  std::ostringstream result;
  result << tally.ok << "/" << tally.attempts << " syncs of another device answered within "
         << kSyncBound.count() / 1000 << " s (slowest " << static_cast<long>(tally.worst_ms)
         << " ms) beside " << n << " " << fault << " connections from one address ("
         << flood.opened() << " opened, " << flood.closed_by_server()
         << " closed by the server); /healthz " << health << ", then " << health_after;
  print_reliability(fault + " connection flood", tally.attempts, result.str(), test_name);
  INFO(result.str() << "; first failure: " << tally.first_failure);
  CHECK(health == 200);
  CHECK(health_after == 200);
  CHECK(tally.ok >= static_cast<int>(kRequiredShare * tally.attempts));
}

}  // namespace

TEST_CASE("abuse: 1030 idle connections from one client do not lock devices out",
          "[fault][abuse][connections]") {
  run_flood_case(ConnectionFlood::Mode::kIdle, false, "idle",
                 "abuse: 1030 idle connections from one client do not lock devices out");
}

TEST_CASE("abuse: 1030 silent connections, reopened as they are closed, do not lock devices out",
          "[fault][abuse][connections]") {
  run_flood_case(
      ConnectionFlood::Mode::kSilent, true, "silent reconnecting",
      "abuse: 1030 silent connections, reopened as they are closed, do not lock devices out");
}

TEST_CASE("abuse: reconnecting slowloris does not lock devices out",
          "[fault][abuse][connections]") {
  run_flood_case(ConnectionFlood::Mode::kSlowloris, true, "slowloris reconnecting",
                 "abuse: reconnecting slowloris does not lock devices out");
}
