// The client bounds what a server can cost it: a hostile server in the test
// process answers the real `tandem sync` (real engine, real libcurl) with a
// 256 MiB body (with a Content-Length, chunked without one, and as a gzip
// bomb of a few hundred KiB), with one byte every 100 ms forever, and with
// `503 busy` to every try, however many tries the options allow. The device
// stops at the response cap (`response_too_large`) and at its overall
// deadline (`timeout`), keeps its memory and time bounded, and keeps
// everything it had.
#include <sys/resource.h>
#include <zlib.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "hostile_school.hpp"

namespace tandem::test {
namespace {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t kHugeBytes = 256u << 20;  // far beyond any cap a client should have
constexpr std::size_t kChunk = 1u << 20;
constexpr std::string_view kHugePrefix = R"({"server_time_ms":1,"pad":")";

#if defined(__SANITIZE_ADDRESS__)
// ASan keeps freed memory in a quarantine of up to 256 MB by default, on top
// of its shadow memory: a CLI under ASan peaked at 417 MB here. The bound
// that matters is the plain build's.
constexpr long kRssBoundMb = 640;
#else
constexpr long kRssBoundMb = 160;
#endif

// Largest resident set of any child process reaped so far (the CLI runs).
long children_peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_CHILDREN, &u);
  return u.ru_maxrss / 1024;  // kilobytes on Linux
}

double seconds_since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// The bytes of the huge body, `offset` onwards, at most kChunk of them.
std::string huge_chunk(std::size_t offset) {
  std::string out;
  while (out.size() < kChunk && offset < kHugeBytes) {
    if (offset < kHugePrefix.size()) {
      out += kHugePrefix[offset];
    } else if (offset + 2 < kHugeBytes) {
      out += 'a';
    } else {
      out += offset + 2 == kHugeBytes ? '"' : '}';
    }
    ++offset;
  }
  return out;
}

// The huge body, gzip-compressed (about 256 KiB).
const std::string& gzip_bomb() {
  static const std::string bomb = [] {
    z_stream zs{};
    REQUIRE(deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) ==
            Z_OK);
    std::string out;
    std::string buf(1u << 16, '\0');
    for (std::size_t offset = 0; offset < kHugeBytes;) {
      std::string in = huge_chunk(offset);
      offset += in.size();
      zs.next_in = reinterpret_cast<Bytef*>(in.data());
      zs.avail_in = static_cast<uInt>(in.size());
      const int flush = offset < kHugeBytes ? Z_NO_FLUSH : Z_FINISH;
      do {
        zs.next_out = reinterpret_cast<Bytef*>(buf.data());
        zs.avail_out = static_cast<uInt>(buf.size());
        deflate(&zs, flush);
        out.append(buf.data(), buf.size() - zs.avail_out);
      } while (zs.avail_out == 0);
    }
    deflateEnd(&zs);
    return out;
  }();
  return bomb;
}

struct HugeAnswer {
  const char* name;
  std::function<void(HostileWire&)> send;
};

const std::vector<HugeAnswer>& huge_answers() {
  static const std::vector<HugeAnswer> answers = {
      {"256 MiB with Content-Length",
       [](HostileWire& wire) {
         if (!wire.send(http_head(200, "Content-Length: " + std::to_string(kHugeBytes) + "\r\n")))
           return;
         for (std::size_t at = 0; at < kHugeBytes; at += kChunk) {
           if (!wire.send(huge_chunk(at))) return;
         }
       }},
      {"256 MiB chunked, no length",
       [](HostileWire& wire) {
         if (!wire.send(http_head(200, "Transfer-Encoding: chunked\r\n"))) return;
         for (std::size_t at = 0; at < kHugeBytes; at += kChunk) {
           const std::string data = huge_chunk(at);
           char size[32];
           std::snprintf(size, sizeof size, "%zx\r\n", data.size());
           if (!wire.send(size) || !wire.send(data) || !wire.send("\r\n")) return;
         }
         wire.send("0\r\n\r\n");
       }},
      {"gzip bomb (256 MiB from ~256 KiB)",
       [](HostileWire& wire) {
         const std::string& bomb = gzip_bomb();
         wire.send(http_head(200, "Content-Encoding: gzip\r\nContent-Length: " +
                                      std::to_string(bomb.size()) + "\r\n") +
                   bomb);
       }},
  };
  return answers;
}

}  // namespace

#define HUGE_TEST "a server answer beyond the response cap is cut off and memory stays bounded"
TEST_CASE(HUGE_TEST, "[fault][client][hostile]") {
  gzip_bomb();  // built before any clock starts
  std::size_t bounded = 0;
  double worst_s = 0;
  std::int64_t most_sent = 0;
  for (const HugeAnswer& huge : huge_answers()) {
    INFO("case: " << huge.name);
    HostileSchool school([&huge](int, const json&, HostileWire& wire) { huge.send(wire); });
    CliDb db;
    const LocalState before = school.enroll_with_action(db.path(), "Sprogvejledning");
    const std::int64_t sent_before = school.server().bytes_sent();

    const auto start = SteadyClock::now();
    const ProcessResult r = cli_sync(db.path(), {"--attempts", "2", "--backoff-ms", "1"});
    const double took = seconds_since(start);
    const long rss_mb = children_peak_rss_mb();
    const std::int64_t sent = school.server().bytes_sent() - sent_before;
    std::printf(
        "hostile answer '%s': tandem sync exited %d (%s) after %.2f s; the server got "
        "%.1f MiB out; peak RSS of the CLI runs so far %ld MB\n",
        huge.name, r.exit_code, cli_error_code(r).c_str(), took,
        static_cast<double>(sent) / (1 << 20), rss_mb);
    INFO("tandem sync exited " << r.exit_code << ": " << r.out << r.err);
    CHECK(r.exit_code == 1);
    CHECK(cli_error_code(r) == "response_too_large");
    CHECK(school.bodies().size() == 1);  // the same answer is not asked for again
    CHECK(rss_mb < kRssBoundMb);
    CHECK(sent < static_cast<std::int64_t>(kHugeBytes / 4));  // the client hung up early
    const bool kept = local_state(db.path()).same_data(before);
    CHECK(kept);
    if (r.exit_code == 1 && cli_error_code(r) == "response_too_large" && rss_mb < kRssBoundMb &&
        kept) {
      ++bounded;
    }
    worst_s = std::max(worst_s, took);
    most_sent = std::max(most_sent, sent);
  }
  char result[320];
  std::snprintf(result, sizeof result,
                "%zu/%zu cut off (response_too_large), nothing local changed; peak RSS %ld MB, "
                "the server wrote at most %.1f MiB before the client hung up, %.2f s",
                bounded, huge_answers().size(), children_peak_rss_mb(),
                static_cast<double>(most_sent) / (1 << 20), worst_s);
  print_reliability("hostile server: 256 MiB answers (length, chunked, gzip bomb)",
                    huge_answers().size(), result, HUGE_TEST);
}

namespace {

struct Stall {
  const char* name;
  HostileSchool::Script script;
  std::vector<std::string> options;  // of `tandem sync`
  std::size_t max_tries;
};

void busy_forever(int, const json&, HostileWire& wire) {
  const json busy{{"error", {{"code", "busy"}, {"message", "busy"}}},
                  {"server_time_ms", wall_ms()}};
  wire.send(http_answer(503, busy.dump()));
}

}  // namespace

#define DEADLINE_TEST "a stalling server cannot hold a sync past its overall timeout"
TEST_CASE(DEADLINE_TEST, "[fault][client][hostile][deadline]") {
  const std::vector<Stall> stalls = {
      // Each request may take a minute; the whole sync 2 s.
      {"1 byte per 100 ms forever, per-request timeout 60 s",
       [](int, const json&, HostileWire& wire) {
         if (!wire.send(http_head(200, "Content-Length: 1000000\r\n") + "{")) return;
         while (wire.send(" ")) std::this_thread::sleep_for(std::chrono::milliseconds(100));
       },
       {"--timeout-ms", "60000", "--attempts", "8", "--backoff-ms", "1"},
       8},
      // 100 tries with waits from 1.5 s, doubling: hours without a deadline.
      {"503 busy to every try, 100 attempts, backoff from 1.5 s",
       busy_forever,
       {"--attempts", "100", "--backoff-ms", "1500"},
       3},
      // The first wait (30-60 s) would end past the deadline: not begun.
      {"503 busy to every try, backoff from 60 s",
       busy_forever,
       {"--attempts", "100", "--backoff-ms", "60000"},
       1},
  };
  std::string result;
  std::size_t stopped = 0;
  for (const Stall& stall : stalls) {
    INFO("case: " << stall.name);
    HostileSchool school(stall.script);
    CliDb db;
    const LocalState before = school.enroll_with_action(db.path(), "Trivselsmåling");
    std::vector<std::string> options = {"--overall-timeout-ms", "2000"};
    options.insert(options.end(), stall.options.begin(), stall.options.end());

    const auto start = SteadyClock::now();
    const ProcessResult r = cli_sync(db.path(), options);
    const double took = seconds_since(start);
    const std::size_t tries = school.bodies().size();
    std::printf("%s: tandem sync exited %d (%s) after %.2f s and %zu tries (deadline 2 s)\n",
                stall.name, r.exit_code, cli_error_code(r).c_str(), took, tries);
    INFO("tandem sync exited " << r.exit_code << ": " << r.out << r.err);
    CHECK(r.exit_code == 1);
    CHECK(cli_error_code(r) == "timeout");
    CHECK(took < 15.0);  // 2 s deadline, wide margin for a loaded machine
    CHECK(tries >= 1);
    CHECK(tries <= stall.max_tries);
    CHECK(local_state(db.path()).same_data(before));
    if (r.exit_code == 1 && cli_error_code(r) == "timeout" && took < 15.0 &&
        local_state(db.path()).same_data(before)) {
      ++stopped;
    }
    char line[200];
    std::snprintf(line, sizeof line, "%s%s: stopped after %.2f s, %zu tries",
                  result.empty() ? "" : "; ", stall.name, took, tries);
    result += line;
  }
  print_reliability("hostile server: trickle forever, busy forever (deadline 2 s)", stalls.size(),
                    std::to_string(stopped) + "/" + std::to_string(stalls.size()) +
                        " stopped (timeout) with the outbox kept; " + result,
                    DEADLINE_TEST);
}

}  // namespace tandem::test
