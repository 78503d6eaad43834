// Abuse: wrong enrollment codes at full speed from one address. The flood
// must meet 429 rate_limited (with Retry-After) after a burst, so only a
// handful of its guesses are looked at; a school enrolling its tablets from
// the same address (a NAT) still enrolls them all, typos included.
#include <catch2/catch.hpp>
#include <random>
#include <sstream>

#include "abuse_util.hpp"

using namespace tandem::test;  // NOLINT(google-build-using-namespace)

namespace {

using SteadyClock = std::chrono::steady_clock;

// A well-formed code that was never issued (12 Crockford characters).
std::string wrong_code(std::mt19937_64& rng) {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  std::string code;
  for (int i = 0; i < 12; ++i) {
    if (i > 0 && i % 4 == 0) code += '-';
    code += kAlphabet[rng() % 32];
  }
  return code;
}

std::string enroll_body(const std::string& code, const std::string& name) {
  return nlohmann::json{{"code", code}, {"device_name", name}}.dump();
}

struct SchoolRun {
  int enrolled = 0;
  int throttled = 0;  // 429s the school's tablets met
  int typos = 0;
  double seconds = 0;
};

// Enrolls one tablet per code, as a school's staff would: now and then a
// mistyped code first (every fourth tablet). A 429 is waited out as its
// Retry-After says. Gives up on a tablet after `patience`.
SchoolRun enroll_school(const SchoolServer& world, const std::vector<std::string>& codes,
                        std::mt19937_64& rng, std::chrono::seconds patience) {
  SchoolRun run;
  HttpClient http;
  const auto started = SteadyClock::now();
  for (std::size_t i = 0; i < codes.size(); ++i) {
    const auto give_up = SteadyClock::now() + patience;
    bool typo = i % 4 == 3;
    while (SteadyClock::now() < give_up) {
      const auto r =
          http.post(world.server->url("/v1/enroll"),
                    enroll_body(typo ? wrong_code(rng) : codes[i], "tablet " + std::to_string(i)));
      if (r.status == 429) {
        ++run.throttled;
        const long wait_s =
            std::stol(r.headers.count("retry-after") ? r.headers.at("retry-after") : "1");
        std::this_thread::sleep_for(std::chrono::seconds(std::max(1L, wait_s)));
        continue;
      }
      if (typo) {
        ++run.typos;
        typo = false;
        continue;
      }
      if (r.status == 200) ++run.enrolled;
      break;
    }
  }
  run.seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
  return run;
}

}  // namespace

TEST_CASE("abuse: wrong enrollment codes at full speed are throttled, a school still enrolls",
          "[fault][abuse][throttle]") {
  SchoolServer world;
  std::mt19937_64 rng(20261130);
  constexpr int kTablets = 30;
  std::vector<std::string> codes;
  for (int i = 0; i < 2 * kTablets; ++i) codes.push_back(world.code_for(world.school.person));
  const std::vector<std::string> first(codes.begin(), codes.begin() + kTablets);
  const std::vector<std::string> second(codes.begin() + kTablets, codes.end());

  // A school enrolls its tablets, typos and all: never throttled.
  const SchoolRun before = enroll_school(world, first, rng, std::chrono::seconds(30));
  CHECK(before.enrolled == kTablets);
  CHECK(before.throttled == 0);

  // The flood: 4 clients on kept-alive connections, as fast as answers come.
  constexpr auto kFlood = std::chrono::seconds(3);
  std::atomic<long> looked_at{0}, refused{0}, other{0};
  std::vector<std::thread> flooders;
  for (int t = 0; t < 4; ++t) {
    flooders.emplace_back([&, t] {
      std::mt19937_64 local(static_cast<std::uint64_t>(t) * 7919 + 1);
      HttpClient http;
      const auto until = SteadyClock::now() + kFlood;
      while (SteadyClock::now() < until) {
        const auto r =
            http.post(world.server->url("/v1/enroll"), enroll_body(wrong_code(local), "x"));
        if (r.status == 401) {
          ++looked_at;
        } else if (r.status == 429 && r.error_code() == "rate_limited" &&
                   r.headers.count("retry-after")) {
          ++refused;
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& f : flooders) f.join();
  const double per_second =
      static_cast<double>(looked_at + refused + other) / static_cast<double>(kFlood.count());

  // Right after it, from the same address, the school enrolls 30 more.
  const SchoolRun after = enroll_school(world, second, rng, std::chrono::seconds(30));

  std::ostringstream result;
  result << "wrong codes at " << static_cast<long>(per_second) << "/s for " << kFlood.count()
         << " s from one address: " << looked_at << " looked at, " << refused
         << " answered 429 rate_limited; a school of " << kTablets
         << " tablets on the same address enrolled " << before.enrolled << " (0 throttled, "
         << before.typos << " typos) before and " << after.enrolled << " in " << after.seconds
         << " s after it (" << after.throttled << " waits)";
  print_reliability("enrollment code flood", looked_at + refused + other, result.str(),
                    "abuse: wrong enrollment codes at full speed are throttled, a school still "
                    "enrolls");
  INFO(result.str());
  CHECK(refused > 0);
  CHECK(other == 0);
  // The burst (30) and 1/s after it, with room for timing.
  CHECK(looked_at <= 30 + 3 * static_cast<long>(kFlood.count()) + 5);
  CHECK(after.enrolled == kTablets);
  // Each wait is one Retry-After (1 s): the flood's debt, then one per typo
  // at most.
  CHECK(after.throttled <= after.typos + 2);
  CHECK(after.seconds < 60);
}

TEST_CASE("abuse: unknown tokens at full speed are throttled, a device syncs again after",
          "[fault][abuse][throttle]") {
  SchoolServer world;
  const TestDevice device = world.enroll();
  long unauthorized = 0, refused = 0;
  std::string retry_after;
  for (int i = 0; i < 400 && refused < 20; ++i) {
    const auto r = world.http.post(world.server->url("/v1/sync"), pull_body(0),
                                   "not-a-token-" + std::to_string(i));
    if (r.status == 401) ++unauthorized;
    if (r.status == 429) {
      ++refused;
      CHECK(r.error_code() == "rate_limited");
      retry_after = r.headers.count("retry-after") ? r.headers.at("retry-after") : "";
    }
  }
  REQUIRE(!retry_after.empty());
  std::this_thread::sleep_for(std::chrono::seconds(std::stol(retry_after)));
  const auto r = world.http.post(world.server->url("/v1/sync"), pull_body(0), device.token);
  std::ostringstream result;
  result << unauthorized << " unknown tokens looked at, then 429 rate_limited (Retry-After "
         << retry_after << " s); a valid device synced after waiting it: " << r.status;
  print_reliability("unknown token flood", unauthorized + refused, result.str(),
                    "abuse: unknown tokens at full speed are throttled, a device syncs again "
                    "after");
  INFO(result.str());
  CHECK(unauthorized <= 101);
  CHECK(refused > 0);
  CHECK(r.status == 200);
}
