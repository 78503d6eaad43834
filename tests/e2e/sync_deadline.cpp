// EngineOptions::overall_timeout, on an injected monotonic clock: every
// request gets what is left of the deadline as its timeout, no backoff wait
// that would end past it is begun, and sync() ends with kTimeout however many
// attempts the retry policy would allow. (The hostile-server suite in
// tests/fault shows the same through the real CLI, curl and real time.)
#include <catch2/catch.hpp>

#include "sync_fixture.hpp"

namespace tandem::test {
namespace {

using Ms = std::chrono::milliseconds;

// Fails every request as a network failure after `cost` of fake time.
class FailingTransport final : public sync::Transport {
 public:
  FailingTransport(std::chrono::steady_clock::time_point& now, Ms cost) : now_(now), cost_(cost) {}
  Result<sync::HttpResponse> send(const sync::HttpRequest& request) override {
    timeouts.push_back(request.timeout);
    now_ += std::min(cost_, request.timeout.count() > 0 ? request.timeout : cost_);
    return make_error(ErrorCode::kNetwork, "network failure: connection refused");
  }
  std::vector<Ms> timeouts;

 private:
  std::chrono::steady_clock::time_point& now_;
  Ms cost_;
};

}  // namespace

TEST_CASE("the overall timeout bounds every request and every backoff wait",
          "[e2e][sync][deadline]") {
  TempDir dir;
  Tablet a(dir.file("a.db"));
  REQUIRE(a.store().set_meta(sync::kMetaToken, "token").ok());

  const auto start = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  auto now = start;
  FailingTransport transport(now, Ms(700));
  std::vector<Ms> waits;
  sync::EngineOptions o;
  o.retry.max_attempts = 1000;
  o.retry.initial_backoff = Ms(1000);
  o.retry.max_backoff = Ms(4000);
  o.overall_timeout = Ms(10'000);
  o.monotonic_now = [&now] { return now; };
  sync::SyncEngine engine(
      a.store(), transport, a.clock(),
      [&](Ms d) {
        waits.push_back(d);
        now += d;
      },
      [] { return std::uint64_t{7}; }, o);
  auto result = engine.sync();
  const auto elapsed = std::chrono::duration_cast<Ms>(now - start);
  INFO("fake time used " << elapsed.count() << " ms in " << transport.timeouts.size()
                         << " requests and " << waits.size() << " waits");
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == ErrorCode::kTimeout);
  CHECK(result.error().message.find("connection refused") !=
        std::string::npos);  // the last try is told
  CHECK(elapsed <= Ms(10'000));
  CHECK(transport.timeouts.size() >= 2);
  CHECK(transport.timeouts.size() < 20);
  // Each request was given what was left, never more, never "no bound".
  Ms spent{0};
  for (std::size_t i = 0; i < transport.timeouts.size(); ++i) {
    INFO("request " << i);
    CHECK(transport.timeouts[i] > Ms(0));
    CHECK(transport.timeouts[i] <= Ms(10'000) - spent);
    spent += std::min(Ms(700), transport.timeouts[i]);
    if (i < waits.size()) spent += waits[i];
  }
}

}  // namespace tandem::test
