// tandem-bench-sync: one tablet's side of the 100k-change sync benchmark
// (tests/bench/sync_100k/run.sh drives it; see there for the whole run).
//
//   tandem-bench-sync enroll --db FILE --server URL --code CODE
//   tandem-bench-sync write  --db FILE --changes N      N local field changes, one transaction
//   tandem-bench-sync sync   --db FILE [--batch N] [--page N] [--push-only]
//
// Each prints one JSON line on stdout: what it did, wall seconds, bytes on
// the wire (as libcurl counts them: request + response, headers included)
// and this process's peak RSS. The real engine, the real libcurl transport
// and the real SQLite store are used; every step is durable when it returns
// (synchronous=FULL on the device, a committed transaction per push on the
// server).
#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <thread>

#include "tandem/sync/curl_transport.hpp"
#include "tandem/sync/engine.hpp"
#include "tandem/sync/enrollment.hpp"
#include "tandem/sync/skew_clock.hpp"

namespace {

using tandem::Json;
using Clock = std::chrono::steady_clock;

long peak_rss_kb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;  // kilobytes on Linux
}

int fail(const std::string& what, const tandem::Error& e) {
  std::cerr << "tandem-bench-sync: " << what << ": " << tandem::error_code_name(e.code) << ": " << e.message
            << "\n";
  return 1;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: tandem-bench-sync enroll|write|sync --db FILE ...\n";
    return 2;
  }
  const std::string mode = argv[1];
  std::map<std::string, std::string> opt;
  for (int i = 2; i < argc; ++i) {
    std::string key = argv[i];
    if (key == "--push-only") {
      opt[key] = "1";
    } else if (i + 1 < argc) {
      opt[key] = argv[++i];
    }
  }
  tandem::StoreOptions so;
  so.path = opt["--db"];
  auto opened = tandem::sync::open_synced_store(so);
  if (!opened) return fail("open", opened.error());
  tandem::Store& store = *opened->store;

  if (mode == "enroll") {
    tandem::sync::CurlOptions co;
    co.base_url = opt["--server"];
    auto transport = tandem::sync::CurlTransport::create(co);
    if (!transport) return fail("transport", transport.error());
    tandem::sync::EnrollOptions eo;
    eo.server_url = co.base_url;
    eo.code = opt["--code"];
    eo.device_name = "bench";
    auto r = tandem::sync::enroll_device(store, **transport, *opened->clock, eo);
    if (!r) return fail("enroll", r.error());
    // First sync: the school record and people, so records can be created.
    std::mt19937_64 rng(1);
    tandem::sync::SyncEngine engine(store, **transport, *opened->clock, [](auto d) { std::this_thread::sleep_for(d); },
                                    [&rng] { return rng(); });
    auto s = engine.sync();
    if (!s) return fail("first sync", s.error());
    std::cout << Json{{"step", "enroll"}, {"device", r->device_id}, {"school", store.default_school()}}.dump() << "\n";
    return 0;
  }

  if (mode == "write") {
    const long n = std::strtol(opt["--changes"].c_str(), nullptr, 10);
    const auto t0 = Clock::now();
    // 1 create + 99 field sets per record: n field changes over n/100 records.
    tandem::Status done = store.transaction([&]() -> tandem::Status {
      long made = 0;
      std::string id;
      for (long i = 0; made < n; ++i) {
        if (i % 100 == 0) {
          auto created = store.create("course", Json{{"kind", "observation"}, {"title", "forløb " + std::to_string(i)}});
          if (!created) return created.error();
          id = *created;
        } else if (i % 2 == 0) {
          TANDEM_TRY(store.set(id, "title", "forløb " + std::to_string(i)));
        } else {
          TANDEM_TRY(store.set(id, "status", (i % 4 == 1) ? "active" : "completed"));
        }
        ++made;
      }
      return {};
    });
    if (!done) return fail("write", done.error());
    auto left = store.outbox_size();
    std::cout << Json{{"step", "write"},
                      {"changes", n},
                      {"outbox", left ? *left : -1},
                      {"seconds", seconds_since(t0)},
                      {"cpu_seconds", cpu_seconds()},
                      {"peak_rss_kb", peak_rss_kb()}}
                     .dump()
              << "\n";
    return 0;
  }

  if (mode == "sync") {
    auto url = store.meta(tandem::sync::kMetaServerUrl);
    if (!url || !*url) return fail("sync", tandem::make_error(tandem::ErrorCode::kUnauthorized, "not enrolled"));
    tandem::sync::CurlOptions co;
    co.base_url = **url;
    auto transport = tandem::sync::CurlTransport::create(co);
    if (!transport) return fail("transport", transport.error());
    tandem::sync::EngineOptions eo;
    if (opt.count("--batch")) eo.push_batch = std::strtoul(opt["--batch"].c_str(), nullptr, 10);
    if (opt.count("--page")) eo.pull_limit = std::strtoul(opt["--page"].c_str(), nullptr, 10);
    eo.pull = opt.count("--push-only") == 0;
    std::mt19937_64 rng(1);
    tandem::sync::SyncEngine engine(store, **transport, *opened->clock, [](auto d) { std::this_thread::sleep_for(d); },
                                    [&rng] { return rng(); }, eo);
    const auto t0 = Clock::now();
    auto s = engine.sync();
    const double secs = seconds_since(t0);
    if (!s) return fail("sync", s.error());
    const auto stats = (*transport)->stats();
    std::cout << Json{{"step", eo.pull ? "sync" : "push"},
                      {"seconds", secs},
                      {"pushed", s->pushed},
                      {"accepted", s->accepted},
                      {"pulled", s->pulled},
                      {"applied", s->applied},
                      {"requests", s->requests},
                      {"complete", s->complete},
                      {"bytes_sent", stats.bytes_sent},
                      {"bytes_received", stats.bytes_received},
                      {"connections", stats.connections},
                      {"cpu_seconds", cpu_seconds()},
                      {"peak_rss_kb", peak_rss_kb()}}
                     .dump()
              << "\n";
    return s->complete || !eo.pull ? 0 : 1;
  }
  std::cerr << "tandem-bench-sync: unknown mode '" << mode << "'\n";
  return 2;
}
