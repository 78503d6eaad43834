// Abuse: the same-position text bomb (issue 11). School A's devices send
// 48,000 one-character inserts at one position, each from its own agent —
// as one change, as eight changes of 6,000 ops (in one push and in eight),
// and as the most the limits let through (changes of 250 agents, eight
// devices pushing 6,000 ops each at once) — while school B's tablet pushes
// one change after another. B's push must complete within 1 s every time
// (asserted with the measured max and median printed), the over-limit forms
// are refused per change with text_too_large, and a tablet of school A that
// pulls the accepted text does so in bounded time and memory.
//
// Real things: the tandem-server binary on loopback, libcurl, the tandem CLI
// for the pulling tablet.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "abuse_util.hpp"
#include "server_process.hpp"
#include "tandem/core/text/limits.hpp"
#include "test_util.hpp"

using namespace tandem;
using namespace tandem::test;
using Json = nlohmann::json;

namespace {

using Steady = std::chrono::steady_clock;

// issue 11: "school B's one-change push completes within 1 s": the figure
// printed (max and median) is held to that bound; the assertion has a wide
// margin over it, so a busy CI machine does not fail it by chance, and a
// wider one in unoptimised or sanitizer builds (ASan: about 10x slower).
constexpr double kBoundMs = 1000;
#if defined(__SANITIZE_ADDRESS__) || !defined(NDEBUG)
constexpr double kAssertMs = 20 * kBoundMs;
constexpr double kPullAssertMs = 80'000;
constexpr double kPullAssertMib = 900;
#else
constexpr double kAssertMs = 3 * kBoundMs;
constexpr double kPullAssertMs = 8'000;
constexpr double kPullAssertMib = 150;
#endif
constexpr std::size_t kBombOps = 48'000;

double ms_since(Steady::time_point t0) {
  return std::chrono::duration<double, std::milli>(Steady::now() - t0).count();
}

// Agent names that sort like their number (fixed width), as many as asked.
std::string agent_name(std::size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "a%09zu", i);
  return buf;
}

// `n` one-character inserts at one position (the start of an empty text:
// both neighbours null), agents first..first+n-1, one op each.
Json same_position_ops(std::size_t first, std::size_t n) {
  Json ops = Json::array();
  for (std::size_t i = first; i < first + n; ++i) {
    ops.push_back(Json{{"op", "ins"},
                       {"id", Json::array({agent_name(i), 0})},
                       {"left", nullptr},
                       {"right", nullptr},
                       {"text", "z"}});
  }
  return ops;
}

Change text_change(ChangeMaker& maker, const Change& course, Json ops) {
  Change c = course;
  c.op = Op::kText;
  c.field = "goals";
  c.value = std::move(ops);
  return maker.restamp(std::move(c));
}

// The status of each result of a 200 push answer.
std::vector<std::string> result_codes(const HttpResponse& r) {
  std::vector<std::string> out;
  const Json j = r.json();
  if (!j.contains("push")) return out;
  for (const Json& result : j["push"]["results"]) {
    out.push_back(result.value("status", "") == "rejected" ? result["error"].value("code", "")
                                                           : result.value("status", ""));
  }
  return out;
}

// School B's tablet: one new course per push, on a new connection each time,
// one push after another (20 ms apart) until stopped; every push timed.
class LightPusher {
 public:
  LightPusher(const ServerProcess& server, TestDevice device)
      : server_(server), device_(std::move(device)) {
    thread_ = std::thread([this] { run(); });
  }
  ~LightPusher() { stop(); }

  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Waits until `n` more pushes have completed.
  void wait_pushes(int n) {
    const int target = done_.load() + n;
    while (done_.load() < target) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }

  std::vector<double> ms;  // per push; read after stop()
  int failed = 0;
  std::string first_failure;

 private:
  void run() {
    ChangeMaker maker;
    while (!stop_) {
      HttpClient http;
      http.set_timeouts(std::chrono::milliseconds(30000), std::chrono::milliseconds(5000));
      const Change course = maker.create_course(device_.school, "light " + std::to_string(id_));
      const auto t0 = Steady::now();
      const HttpResponse r =
          http.post(server_.url("/v1/sync"), sync_body(++id_, {course}), device_.token);
      const double took = ms_since(t0);
      const auto codes = result_codes(r);
      if (r.status == 200 && codes == std::vector<std::string>{"accepted"}) {
        ms.push_back(took);
      } else if (++failed == 1) {
        first_failure = "status " + std::to_string(r.status) + " " + r.body.substr(0, 200);
      }
      ++done_;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  const ServerProcess& server_;
  TestDevice device_;
  std::int64_t id_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> done_{0};
  std::thread thread_;
};

struct Figures {
  double max_ms = 0;
  double median_ms = 0;
  std::size_t count = 0;
};

Figures figures(std::vector<double> ms) {
  Figures f;
  f.count = ms.size();
  if (ms.empty()) return f;
  std::sort(ms.begin(), ms.end());
  f.max_ms = ms.back();
  f.median_ms = ms[ms.size() / 2];
  return f;
}

std::string describe(const Figures& f) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "school B's one-change push: max %.0f ms, median %.0f ms over %zu",
                f.max_ms, f.median_ms, f.count);
  return buf;
}

// Two schools on one server, A with `a_devices` devices, B with one.
struct TwoSchools {
  explicit TwoSchools(int a_devices) {
    a = create_test_school(dir.path(), "School A");
    b = create_test_school(dir.path(), "School B");
    server = ServerProcess::start(dir.path());
    for (int i = 0; i < a_devices; ++i) a_devices_.push_back(enroll_test_device(*server, a.person));
    b_device = enroll_test_device(*server, b.person);
  }
  TempDir dir;
  TestSchool a;
  TestSchool b;
  std::unique_ptr<ServerProcess> server;
  std::vector<TestDevice> a_devices_;
  TestDevice b_device;
};

// Runs `bomb` (school A's pushes) while B pushes; B has pushed a few times
// before and goes on until a few pushes after the bomb.
Figures light_pushes_during(TwoSchools& world, const std::function<void()>& bomb,
                            std::string* failure) {
  LightPusher light(*world.server, world.b_device);
  light.wait_pushes(3);
  bomb();
  light.wait_pushes(3);
  light.stop();
  if (light.failed > 0) *failure = light.first_failure;
  return figures(light.ms);
}

// Runs the tandem CLI with `args` and returns its exit code, its stdout and
// its own peak RSS (wait4: the figure of this child alone).
struct Measured {
  int exit_code = -1;
  std::string out;
  double ms = 0;
  double peak_rss_mib = 0;
};
Measured run_cli_measured(const std::vector<std::string>& args) {
  const std::string cli = TANDEM_CLI_PATH;
  std::vector<std::string> argv_s{cli};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  int fds[2];
  Measured m;
  if (::pipe(fds) != 0) return m;
  const auto t0 = Steady::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::close(fds[1]);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
    m.out.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  rusage ru{};
  if (pid > 0 && ::wait4(pid, &status, 0, &ru) == pid && WIFEXITED(status)) {
    m.exit_code = WEXITSTATUS(status);
  }
  m.ms = ms_since(t0);
  m.peak_rss_mib = static_cast<double>(ru.ru_maxrss) / 1024;
  return m;
}

HttpResponse push(const ServerProcess& server, const TestDevice& device, std::int64_t mutation_id,
                  const std::vector<Change>& changes) {
  HttpClient http;
  http.set_timeouts(std::chrono::milliseconds(120000), std::chrono::milliseconds(5000));
  return http.post(server.url("/v1/sync"), sync_body(mutation_id, changes), device.token);
}

}  // namespace

TEST_CASE(
    "abuse: the same-position text bomb over the limits: one change of 48k ops and eight "
    "changes of 6k ops in one push and in eight",
    "[fault][abuse][text][commit]") {
  TwoSchools world(8);
  ChangeMaker maker;
  const Change course = maker.create_course(world.a.id, "bomb");
  REQUIRE(push(*world.server, world.a_devices_[0], 1, {course}).status == 200);

  std::vector<std::string> one_change;
  std::vector<std::string> eight_in_one;
  std::vector<std::vector<std::string>> eight_pushes(8);
  std::string failure;
  const Figures f = light_pushes_during(
      world,
      [&] {
        // One change of 48,000 inserts at one position from as many agents.
        one_change =
            result_codes(push(*world.server, world.a_devices_[0], 2,
                              {text_change(maker, course, same_position_ops(0, kBombOps))}));
        // Eight changes of 6,000 ops from different agents at one position.
        std::vector<Change> eight;
        for (std::size_t i = 0; i < 8; ++i) {
          eight.push_back(text_change(maker, course, same_position_ops(i * 6000, 6000)));
        }
        eight_in_one = result_codes(push(*world.server, world.a_devices_[0], 3, eight));
        // The same eight from eight devices at once.
        std::vector<std::thread> threads;
        for (std::size_t i = 0; i < 8; ++i) {
          threads.emplace_back([&, i] {
            eight_pushes[i] =
                result_codes(push(*world.server, world.a_devices_[i], 100, {eight[i]}));
          });
        }
        for (auto& t : threads) t.join();
      },
      &failure);

  CHECK(one_change == std::vector<std::string>{"text_too_large"});
  CHECK(eight_in_one == std::vector<std::string>(8, "text_too_large"));
  for (const auto& codes : eight_pushes) CHECK(codes == std::vector<std::string>{"text_too_large"});
  INFO(failure);
  CHECK(failure.empty());
  std::printf("refused text bomb: %s\n", describe(f).c_str());
  REQUIRE(f.count >= 6);
  CHECK(f.max_ms < kAssertMs);
  print_reliability("abuse: same-position text bomb, over the limits", 3,
                    "48k ops as 1 change and as 8x6k (1 push, 8 pushes): every change refused "
                    "text_too_large; " +
                        describe(f) + " (bound 1000 ms)",
                    "abuse: the same-position text bomb over the limits*");
}

TEST_CASE(
    "abuse: the same-position text bomb within the limits from eight devices at once and a "
    "tablet pulls it",
    "[fault][abuse][text][commit]") {
  // The most the limits let through: 48,000 inserts at one position from
  // 48,000 agents, in changes of 250 ops and agents (under 256 each), eight
  // devices pushing 6,000 ops each at the same time, twice (the second round
  // into a second record, so the first round's text is what the tablet
  // pulls and the commit thread has a backlog of 16 heavy pushes).
  constexpr std::size_t kDevices = 8;
  constexpr std::size_t kOpsPerChange = 250;
  constexpr std::size_t kOpsPerDevice = kBombOps / kDevices;
  static_assert(kOpsPerChange < text::kMaxAgentsPerChange);
  TwoSchools world(kDevices);
  ChangeMaker maker;
  const Change course = maker.create_course(world.a.id, "bomb");
  const Change second = maker.create_course(world.a.id, "bomb 2");
  REQUIRE(push(*world.server, world.a_devices_[0], 1, {course, second}).status == 200);
  // A tablet of school A, enrolled (and synced) before the bomb.
  const std::string db = world.dir.file("tablet.db");
  const ProcessResult enrolled =
      run_cli({"--db", db, "--json", "enroll", "--server", world.server->url(""), "--code",
               enrollment_code(world.dir.path(), world.a.person), "--device-name", "tablet"});
  REQUIRE(enrolled.exit_code == 0);

  std::vector<std::string> verdicts[kDevices][2];
  std::string failure;
  const auto bomb_started = Steady::now();
  double bomb_ms = 0;
  const Figures f = light_pushes_during(
      world,
      [&] {
        std::vector<std::thread> threads;
        for (std::size_t d = 0; d < kDevices; ++d) {
          threads.emplace_back([&, d] {
            ChangeMaker own;
            for (int round = 0; round < 2; ++round) {
              std::vector<Change> changes;
              for (std::size_t at = 0; at < kOpsPerDevice; at += kOpsPerChange) {
                const std::size_t first = (round * kBombOps) + d * kOpsPerDevice + at;
                changes.push_back(text_change(own, round == 0 ? course : second,
                                              same_position_ops(first, kOpsPerChange)));
              }
              verdicts[d][round] =
                  result_codes(push(*world.server, world.a_devices_[d], 10 + round, changes));
            }
          });
        }
        for (auto& t : threads) t.join();
        bomb_ms = ms_since(bomb_started);
      },
      &failure);

  for (const auto& device : verdicts) {
    for (const auto& codes : device) {
      CHECK(codes == std::vector<std::string>(kOpsPerDevice / kOpsPerChange, "accepted"));
    }
  }
  INFO(failure);
  CHECK(failure.empty());
  std::printf("text bomb within the limits: school A's 16 pushes took %.0f ms; %s\n", bomb_ms,
              describe(f).c_str());
  REQUIRE(f.count >= 6);
  CHECK(f.max_ms < kAssertMs);

  // The tablet pulls everything: both records, 96,000 inserts.
  const Measured synced = run_cli_measured({"--db", db, "--json", "sync"});
  INFO(synced.out);
  REQUIRE(synced.exit_code == 0);
  const Json summary = Json::parse(synced.out, nullptr, false);
  CHECK(summary.value("pulled", std::size_t{0}) == 2 * kBombOps / kOpsPerChange);
  const double pull_ms = synced.ms;
  const double rss_mib = synced.peak_rss_mib;
  const ProcessResult shown = run_cli({"--db", db, "--json", "show", course.record});
  REQUIRE(shown.exit_code == 0);
  const std::string goals = Json::parse(shown.out).at("fields").at("goals").get<std::string>();
  CHECK(goals == std::string(kBombOps, 'z'));
  std::printf("tablet pull of the accepted bomb: %.0f ms, peak RSS %.1f MiB\n", pull_ms, rss_mib);
  // Wide bounds (the quadratic merge took 9.8 s and 212 MB for 48k).
  CHECK(pull_ms < kPullAssertMs);
  CHECK(rss_mib < kPullAssertMib);
  print_reliability("abuse: same-position text bomb, within the limits", 2,
                    "8 devices x 2 pushes of 6k ops at one position (250 agents per change), all "
                    "accepted in " +
                        std::to_string(static_cast<long>(bomb_ms)) + " ms; " + describe(f) +
                        " (bound 1000 ms); a tablet pulls the 96k inserts in " +
                        std::to_string(static_cast<long>(pull_ms)) + " ms, peak RSS " +
                        std::to_string(static_cast<long>(rss_mib)) + " MiB",
                    "abuse: the same-position text bomb within the limits*");
}
