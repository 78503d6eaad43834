// Benchmark: agreement of two 1-hour duration-coded observations (issue 16
// asks < 200 ms). Observer A codes 25 codes (GORP-style full event names),
// 12 spans each (300 events) over an hour; observer B watches the same clip
// 10 minutes and 437 ms later, with every start and end jittered by up to
// 3 s, a tenth of A's spans missed and a tenth added. Both are written to a
// fresh database (one transaction), each with a template of its own, then
// timed:
//   store:   agreement::session_agreement (what `tandem agreement` runs:
//            sessions, entries and templates read from the Store)
//   compare: agreement::compare on the codings in memory (arithmetic alone)
// Prints the median and the maximum of N runs of each.
//
//   tandem_bench_agreement [--runs N] [--max-ms MS] [--dir DIR]
// --max-ms: exit 1 when the store path's median exceeds MS (the smoke test).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "tandem/core/agreement.hpp"
#include "tandem/core/entries.hpp"
#include "tandem/core/store.hpp"

namespace {

using Steady = std::chrono::steady_clock;
using tandem::Json;
using tandem::summary::Entry;
namespace ag = tandem::agreement;

constexpr int kCodes = 25;
constexpr int kSpansPerCode = 12;
constexpr std::int64_t kHourMs = 3600 * 1000;
constexpr std::int64_t kStart = 1'772'445'600'000;  // 2026-03-02T10:00:00Z

std::string code_name(int i) {
  static const char* const kGroups[] = {"Instructor-Presenting", "Instructor-Guiding",
                                        "Students-Receiving", "Students-Working",
                                        "Students-Talking to class"};
  return std::string(kGroups[i % 5]) + "-Code " + std::to_string(i) + " with a long GORP name";
}

struct Pair {
  ag::Coding a, b;
};

Pair make_codings() {
  std::mt19937_64 rng(16);
  auto uniform = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  Pair p;
  for (int i = 0; i < kCodes; ++i) {
    p.a.template_codes.push_back(code_name(i));
    p.b.template_codes.push_back(code_name(kCodes - 1 - i));  // same codes, other order
  }
  const std::int64_t shift = 10 * 60 * 1000 + 437;
  p.a.entries.push_back(Entry::event(code_name(0), kStart));  // both start the clip at 0
  p.b.entries.push_back(Entry::event(code_name(0), kStart + shift));
  for (int i = 0; i < kCodes; ++i) {
    for (int k = 0; k < kSpansPerCode; ++k) {
      const std::int64_t at = uniform(1000, kHourMs - 130'000);
      const std::int64_t end = at + uniform(5'000, 120'000);
      p.a.entries.push_back(Entry::span(code_name(i), kStart + at, kStart + end));
      if (uniform(0, 9) == 0) continue;  // B missed it
      const std::int64_t jat = std::max<std::int64_t>(at + uniform(-3000, 3000), 0);
      const std::int64_t jend = std::max(end + uniform(-3000, 3000), jat + 1000);
      p.b.entries.push_back(Entry::span(code_name(i), kStart + shift + jat, kStart + shift + jend));
      if (uniform(0, 9) == 0) {  // B saw something A did not
        const std::int64_t x = uniform(1000, kHourMs - 60'000);
        p.b.entries.push_back(Entry::span(code_name(i), kStart + shift + x,
                                          kStart + shift + x + uniform(2000, 30000)));
      }
    }
  }
  // Both stop the clip after an hour.
  p.a.entries.push_back(Entry::span(code_name(1), kStart + kHourMs - 5000, kStart + kHourMs));
  p.b.entries.push_back(
      Entry::span(code_name(1), kStart + shift + kHourMs - 5000, kStart + shift + kHourMs));
  return p;
}

tandem::Result<std::string> write_session(tandem::Store& s, const std::string& course,
                                          const ag::Coding& c, const char* name) {
  Json codes = Json::array();
  for (const std::string& code : c.template_codes) codes.push_back({{"code", code}});
  auto tmpl = s.create(
      "template",
      Json{{"name", name}, {"kind", "event"}, {"definition", Json{{"codes", std::move(codes)}}}});
  if (!tmpl) return tmpl;
  auto session = s.create("session", Json{{"course", course}, {"template", *tmpl}});
  if (!session) return session;
  for (const Entry& e : c.entries) {
    tandem::EntryInput in;
    in.session = *session;
    in.type = "code";
    in.code = e.code;
    in.at_ms = e.at;
    in.end_ms = e.end;
    auto id = tandem::record_entry(s, in, 0);
    if (!id) return id;
  }
  return session;
}

double ms_since(Steady::time_point t0) {
  return std::chrono::duration<double, std::milli>(Steady::now() - t0).count();
}

struct Timing {
  double median = 0, max = 0;
};

template <typename F>
Timing timed(int runs, F&& f) {
  std::vector<double> t;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = Steady::now();
    if (!f()) std::exit(1);
    t.push_back(ms_since(t0));
  }
  std::sort(t.begin(), t.end());
  return {t[t.size() / 2], t.back()};
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 21;
  double max_ms = 0;
  std::string dir = std::filesystem::temp_directory_path().string();
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--runs") == 0) runs = std::max(1, std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--max-ms") == 0) max_ms = std::atof(argv[i + 1]);
    if (std::strcmp(argv[i], "--dir") == 0) dir = argv[i + 1];
  }
  const Pair p = make_codings();
  const std::string path = dir + "/bench_agreement.db";
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  tandem::StoreOptions o;
  o.path = path;
  auto opened = tandem::Store::open(o);
  if (!opened) return std::fprintf(stderr, "open: %s\n", opened.error().message.c_str()), 1;
  tandem::Store& s = **opened;
  std::string sa, sb;
  const tandem::Status written = s.transaction([&]() -> tandem::Status {
    auto school = s.create("school", Json{{"name", "Skovbakkeskolen"}});
    if (!school) return std::move(school).error();
    TANDEM_TRY(s.set_default_school(*school));
    auto course = s.create("course", Json{{"kind", "observation"}, {"title", "Fysik 8.a"}});
    if (!course) return std::move(course).error();
    auto a = write_session(s, *course, p.a, "Observatør A");
    if (!a) return std::move(a).error();
    auto b = write_session(s, *course, p.b, "Observatør B");
    if (!b) return std::move(b).error();
    sa = *a;
    sb = *b;
    return {};
  });
  if (!written) return std::fprintf(stderr, "write: %s\n", written.error().message.c_str()), 1;

  auto check = ag::session_agreement(s, sa, sb);
  if (!check) return std::fprintf(stderr, "agreement: %s\n", check.error().message.c_str()), 1;
  const ag::Agreement& r = check->agreement;
  const Timing store = timed(runs, [&] { return ag::session_agreement(s, sa, sb).ok(); });
  const Timing pure = timed(runs, [&] { return ag::compare(p.a, p.b).ok(); });
  std::printf(
      "agreement of two 1-hour observations: %zu + %zu events, %zu codes, %lld units\n"
      "  overall: jaccard %.3f kappa %.3f percent %.1f\n"
      "  store (session_agreement): median %.2f ms, max %.2f ms (%d runs)\n"
      "  compare (arithmetic only): median %.2f ms, max %.2f ms\n",
      p.a.entries.size(), p.b.entries.size(), r.codes.size(), static_cast<long long>(r.units),
      r.overall.measures.jaccard.value_or(-1), r.overall.measures.kappa.value_or(-1),
      r.overall.measures.percent_agreement.value_or(-1), store.median, store.max, runs, pure.median,
      pure.max);
  if (max_ms > 0 && store.median > max_ms) {
    std::fprintf(stderr, "median %.2f ms exceeds %.0f ms\n", store.median, max_ms);
    return 1;
  }
  return 0;
}
