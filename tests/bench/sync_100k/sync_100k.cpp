// tandem-bench-sync: one tablet's side of the 100k-change sync benchmark
// (tests/bench/sync_100k/run.sh drives it; see there for the whole run).
//
//   tandem-bench-sync enroll --db FILE --server URL --code CODE
//   tandem-bench-sync write  --db FILE --changes N      N local field changes, one transaction
//   tandem-bench-sync sync   --db FILE [--batch N] [--page N] [--push-only]
//   tandem-bench-sync write-action --db FILE --text TEXT   one new action
//   tandem-bench-sync school-year --db FILE --people ID,ID,... [--scale X]
//       a school year's records (tests/bench/school_view/run.sh): 300
//       courses, 2,000 sessions, 20,000 entries, 200 meetings, 1,000
//       actions (times X), about the people given (the first is the
//       resource person whose tablet this is), one transaction
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
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>
#include <algorithm>
#include <cstdio>

#include "tandem/core/encryption.hpp"
#include "tandem/platform/file_key_store.hpp"
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

// A school year 2025-08-01..2026-07-31, deterministic (seed 13).
int write_school_year(tandem::Store& store, const std::string& people_arg, const std::string& scale_arg) {
  std::vector<std::string> people;
  for (std::size_t at = 0; at <= people_arg.size();) {
    const auto comma = people_arg.find(',', at);
    const std::string id = people_arg.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    if (!id.empty()) people.push_back(id);
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  if (people.size() < 2) {
    std::cerr << "tandem-bench-sync: school-year needs --people with two ids at least\n";
    return 2;
  }
  const double scale = scale_arg.empty() ? 1.0 : std::strtod(scale_arg.c_str(), nullptr);
  const auto n = [&](int base) { return std::max(1, static_cast<int>(base * scale)); };
  std::mt19937_64 rng(13);
  const auto pick = [&](const auto& v) -> const auto& { return v[rng() % v.size()]; };
  const std::vector<std::string> kinds = {"co_teaching", "observation", "guidance", "action_learning",
                                          "supervision", "uiu"};
  const std::vector<std::string> areas = {"systemic", "relations", "classroom_management", "inclusion_plan",
                                          "reading", "language"};
  const std::vector<std::string> approaches = {"one_teach_one_observe", "one_teach_one_assist", "station",
                                               "parallel", "alternative", "team"};
  const std::vector<std::string> statuses = {"planned", "active", "completed", "evaluated"};
  const std::vector<std::string> needs = {"pedagogical_development", "staff_learning", "parent_collaboration",
                                          "group_intervention", "child_intervention"};
  const std::vector<std::string> codes = {"I-Lec", "I-RtW", "I-FUp", "I-PQ", "I-MG", "I-1o1",
                                          "S-L",   "S-Ind", "S-CG",  "S-WG", "S-AnQ", "S-SQ"};
  const auto day = [&](int offset) {  // days after 2025-08-01, within the year
    static const int kMonthDays[] = {31, 30, 31, 30, 31, 31, 28, 31, 30, 31, 30, 31};  // Aug..Jul
    int d = offset % 365, m = 0;
    while (d >= kMonthDays[m]) d -= kMonthDays[m++];
    const int month = (m + 7) % 12 + 1, year = m < 5 ? 2025 : 2026;
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year, month, d + 1);
    return std::string(buf);
  };
  const auto t0 = Clock::now();
  long records = 0;
  tandem::Status done = store.transaction([&]() -> tandem::Status {
    auto make = [&](const char* kind, const Json& fields) -> tandem::Result<std::string> {
      ++records;
      return store.create(kind, fields);
    };
    std::vector<std::string> groups;
    for (int g = 0; g < 20; ++g) {
      auto id = make("group", Json{{"name", std::to_string(g / 2) + (g % 2 ? ".b" : ".a")}, {"type", "class"}});
      if (!id) return id.error();
      groups.push_back(*id);
    }
    std::vector<std::string> courses, observation_courses;
    for (int c = 0; c < n(300); ++c) {
      const std::string kind = pick(kinds);
      Json f = {{"kind", kind},
                {"title", "Forløb " + std::to_string(c)},
                {"target", "group"},
                {"horizon", rng() % 2 ? "short" : "long"},
                {"character", rng() % 2 ? "preventive" : "intervening"},
                {"focus_areas", Json::array({pick(areas)})},
                {"status", pick(statuses)},
                {"start_date", day(static_cast<int>(rng() % 330))},
                {"tovholder", people[rng() % people.size()]},
                {"participants", Json::array({people[rng() % people.size()], people[rng() % people.size()]})},
                {"groups", Json::array({pick(groups)})},
                {"goals", "Mål for forløbet " + std::to_string(c)}};
      auto id = make("course", f);
      if (!id) return id.error();
      courses.push_back(*id);
      if (kind == "observation") observation_courses.push_back(*id);
    }
    if (observation_courses.empty()) observation_courses.push_back(courses.front());
    int entries_left = n(20000);
    const int sessions = n(2000);
    for (int s = 0; s < sessions; ++s) {
      const bool observed = s % 2 == 1;
      const std::string start = day(static_cast<int>(rng() % 330)) + "T09:00:00Z";
      Json f = {{"course", observed ? pick(observation_courses) : pick(courses)}, {"started_at", start}};
      if (observed) {
        f["template"] = "template_copus";
        f["observer"] = people[0];
        f["ended_at"] = start.substr(0, 11) + "09:40:00Z";
      } else {
        f["approach"] = pick(approaches);
        f["log"] = "Lektion " + std::to_string(s) + ": stationerne virkede.";
      }
      auto id = make("session", f);
      if (!id) return id.error();
      if (!observed) continue;
      const int here = std::min(entries_left, 20);  // ~20 ticks per observed session
      for (int e = 0; e < here; ++e) {
        auto tick = make("entry", Json{{"session", *id}, {"type", "tick"}, {"interval", e % 20},
                                       {"code", pick(codes)}, {"author", people[0]}});
        if (!tick) return tick.error();
      }
      entries_left -= here;
    }
    std::vector<std::string> items;
    for (int m = 0; m < n(200); ++m) {
      auto id = make("meeting", Json{{"date", day(static_cast<int>(rng() % 330))},
                                     {"title", "Ressourceteam " + std::to_string(m)},
                                     {"participants", Json::array({people[0], people[1], pick(people)})},
                                     {"themes", Json::array({pick(areas)})}});
      if (!id) return id.error();
      for (int i = 0; i < 3; ++i) {
        auto item = make("agenda_item", Json{{"meeting", *id}, {"need", pick(needs)}, {"position", i}});
        if (!item) return item.error();
        items.push_back(*item);
      }
    }
    for (int a = 0; a < n(1000); ++a) {
      auto id = make("action", Json{{"text", "Aftale " + std::to_string(a)},
                                    {"tovholder", pick(people)},
                                    {"due", day(static_cast<int>(rng() % 365))},
                                    {"done", rng() % 2 == 0},
                                    {"source", a % 2 ? pick(items) : pick(courses)}});
      if (!id) return id.error();
    }
    return {};
  });
  if (!done) return fail("school-year", done.error());
  std::cout << Json{{"step", "school-year"}, {"records", records}, {"seconds", seconds_since(t0)}}.dump() << "\n";
  return 0;
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
  // TANDEM_BENCH_ENCRYPTED=1: the tablet's database encrypted at rest, its
  // key in the desktop key store (TANDEM_KEY_DIR), as the CLI keeps it.
  tandem::StoreOptions so;
  so.path = opt["--db"];
  so.encryption = tandem::Encryption::kOff;
  tandem::Host host;
  std::optional<tandem::platform::FileKeyStore> keys;
  if (const char* e = std::getenv("TANDEM_BENCH_ENCRYPTED"); e != nullptr && std::strcmp(e, "1") == 0) {
    auto k = tandem::platform::FileKeyStore::open();
    if (!k) return fail("key store", k.error());
    keys.emplace(std::move(*k));
    host.keys = &*keys;
    so.encryption = tandem::Encryption::kRequired;
  }
  auto opened = tandem::Store::open(so, host);
  if (!opened) return fail("open", opened.error());
  tandem::Store& store = **opened;

  if (mode == "enroll") {
    tandem::sync::CurlOptions co;
    co.base_url = opt["--server"];
    auto transport = tandem::sync::CurlTransport::create(co);
    if (!transport) return fail("transport", transport.error());
    tandem::sync::EnrollOptions eo;
    eo.server_url = co.base_url;
    eo.code = opt["--code"];
    eo.device_name = "bench";
    auto r = tandem::sync::enroll_device(store, **transport, store.skew_clock(), eo);
    if (!r) return fail("enroll", r.error());
    // First sync: the school record and people, so records can be created.
    std::mt19937_64 rng(1);
    tandem::sync::SyncEngine engine(store, **transport, store.skew_clock(), [](auto d) { std::this_thread::sleep_for(d); },
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

  if (mode == "write-action") {
    auto id = store.create("action", Json{{"text", opt["--text"]}});
    if (!id) return fail("write-action", id.error());
    std::cout << Json{{"step", "write-action"}, {"id", *id}}.dump() << "\n";
    return 0;
  }
  if (mode == "school-year") return write_school_year(store, opt["--people"], opt["--scale"]);

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
    tandem::sync::SyncEngine engine(store, **transport, store.skew_clock(), [](auto d) { std::this_thread::sleep_for(d); },
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
