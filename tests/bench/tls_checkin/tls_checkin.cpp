// One side of the TLS check-in benchmark (run.sh runs it against a plain and
// an HTTPS server, alternating): enrolls a device with a one-time code, pulls
// until up to date, then runs check-ins (a pull from the current cursor:
// the sync a tablet makes most) from CLIENTS threads for SECONDS, each thread
// on its own CurlTransport (one kept-alive connection, as a tablet's sync).
// With --fresh every check-in opens a new connection (a full handshake each:
// the worst case, a tablet that syncs once and goes away).
//
//   tandem_bench_tls_checkin --url URL --code CODE [--ca FILE]
//                            [--clients 4] [--seconds 5] [--fresh]
// Prints one JSON line: check-ins/s, p50/p99 latency, connections opened.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "tandem/core/change.hpp"
#include "tandem/sync/curl_transport.hpp"
#include "tandem/sync/protocol.hpp"

namespace {

using namespace tandem;  // NOLINT(google-build-using-namespace)
using SteadyClock = std::chrono::steady_clock;

struct Options {
  std::string url, code, ca;
  int clients = 4;
  double seconds = 5;
  bool fresh = false;
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "tandem_bench_tls_checkin: %s\n", what.c_str());
  std::exit(1);
}

std::unique_ptr<sync::CurlTransport> transport(const Options& o) {
  sync::CurlOptions co;
  co.base_url = o.url;
  co.ca_file = o.ca;
  // As the CLI does: validity judged at a given time, set per connection.
  co.certificate_time = [] {
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    return sync::CertificateTime{sync::CertificateTime::Mode::kAt, now.count()};
  };
  auto t = sync::CurlTransport::create(co);
  if (!t) die(t.error().message);
  return std::move(*t);
}

Json post(sync::Transport& t, const std::string& path, const Json& body, const std::string& token) {
  sync::HttpRequest r;
  r.path = path;
  r.body = body.dump();
  r.bearer_token = token;
  auto answer = t.send(r);
  if (!answer) die(path + ": " + answer.error().message);
  if (answer->status != 200) die(path + ": HTTP " + std::to_string(answer->status));
  return Json::parse(answer->body);
}

Json pull_body(std::int64_t cursor) {
  return Json{{"pull", {{"cursor", cursor}, {"limit", 1000}}}};
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto next = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--url")
      o.url = next();
    else if (a == "--code")
      o.code = next();
    else if (a == "--ca")
      o.ca = next();
    else if (a == "--clients")
      o.clients = std::max(1, std::atoi(next().c_str()));
    else if (a == "--seconds")
      o.seconds = std::atof(next().c_str());
    else if (a == "--fresh")
      o.fresh = true;
    else
      die("unknown option " + a);
  }
  if (o.url.empty() || o.code.empty()) die("--url and --code are required");

  auto setup = transport(o);
  sync::EnrollRequest enroll{o.code, "bench"};
  const Json enrolled = post(*setup, "/v1/enroll", enroll.to_json(), "");
  const std::string token = enrolled.at("token").get<std::string>();
  std::int64_t cursor = 0;
  for (;;) {
    const Json answer = post(*setup, "/v1/sync", pull_body(cursor), token);
    const Json& pull = answer.at("pull");
    cursor = pull.at("cursor").get<std::int64_t>();
    if (!pull.value("more", false)) break;
  }

  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(o.clients));
  std::vector<std::int64_t> connections(static_cast<std::size_t>(o.clients), 0);
  std::vector<std::thread> threads;
  const std::string body = pull_body(cursor).dump();
  for (int c = 0; c < o.clients; ++c) {
    threads.emplace_back([&, c] {
      auto& mine = latencies[static_cast<std::size_t>(c)];
      std::unique_ptr<sync::CurlTransport> t = transport(o);
      sync::HttpRequest r;
      r.path = "/v1/sync";
      r.body = body;
      r.bearer_token = token;
      while (!stop.load(std::memory_order_relaxed)) {
        if (o.fresh) {
          connections[static_cast<std::size_t>(c)] += t->stats().connections;
          t = transport(o);
        }
        const auto started = SteadyClock::now();
        auto answer = t->send(r);
        if (!answer || answer->status != 200)
          die("check-in failed: " +
              (answer ? std::to_string(answer->status) : answer.error().message));
        mine.push_back(
            std::chrono::duration<double, std::milli>(SteadyClock::now() - started).count());
      }
      connections[static_cast<std::size_t>(c)] += t->stats().connections;
    });
  }
  const auto started = SteadyClock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
  stop = true;
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(SteadyClock::now() - started).count();

  std::vector<double> all;
  std::int64_t opened = 0;
  for (std::size_t c = 0; c < latencies.size(); ++c) {
    all.insert(all.end(), latencies[c].begin(), latencies[c].end());
    opened += connections[c];
  }
  std::sort(all.begin(), all.end());
  const auto pct = [&](double p) {
    return all.empty()
               ? 0.0
               : all[std::min(all.size() - 1,
                              static_cast<std::size_t>(p * static_cast<double>(all.size())))];
  };
  std::printf(
      "{\"scheme\":\"%s\",\"clients\":%d,\"fresh\":%s,\"checkins\":%zu,\"per_second\":%.0f,"
      "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"connections\":%lld}\n",
      o.url.rfind("https", 0) == 0 ? "https" : "http", o.clients, o.fresh ? "true" : "false",
      all.size(), static_cast<double>(all.size()) / elapsed, pct(0.5), pct(0.99),
      static_cast<long long>(opened));
  return 0;
}
