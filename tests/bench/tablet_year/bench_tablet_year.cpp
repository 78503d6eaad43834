// A tablet holding a school year (40 people, 300 courses, 2,000 sessions,
// 20,000 entries, 1,000 actions of which some are overdue): how long opening
// it and showing the overdue list takes through the C API, and the peak RSS,
// in a fresh process. `generate` writes the file with the C++ API in one
// transaction; `open` measures; `both` does both (the smoke test, small).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "tandem.h"
#include "tandem/core/store.hpp"

namespace {

int generate(const std::string& path, bool small) {
  std::filesystem::remove(path);
  tandem::StoreOptions o;
  o.path = path;
  auto opened = tandem::Store::open(o);
  if (!opened) return std::fprintf(stderr, "open: %s\n", opened.error().message.c_str()), 1;
  tandem::Store& s = **opened;
  const int people = 40, courses = small ? 10 : 300, sessions = small ? 20 : 2000, per_session = 10,
            actions = small ? 20 : 1000;
  tandem::Status done = s.transaction([&]() -> tandem::Status {
    auto school = s.create("school", tandem::Json{{"name", "Skovbakkeskolen"}});
    if (!school) return std::move(school).error();
    TANDEM_TRY(s.set_default_school(*school));
    std::vector<std::string> ps, cs;
    for (int i = 0; i < people; ++i) {
      auto id = s.create("person", tandem::Json{{"name", "Person " + std::to_string(i)}, {"role", "teacher"}});
      if (!id) return std::move(id).error();
      ps.push_back(*id);
    }
    for (int i = 0; i < courses; ++i) {
      auto id = s.create("course", tandem::Json{{"kind", "co_teaching"}, {"title", "Forløb " + std::to_string(i)},
                                                {"tovholder", ps[i % people]}});
      if (!id) return std::move(id).error();
      cs.push_back(*id);
    }
    for (int i = 0; i < sessions; ++i) {
      auto session = s.create("session", tandem::Json{{"course", cs[i % courses]}, {"approach", "station"}});
      if (!session) return std::move(session).error();
      for (int j = 0; j < per_session; ++j) {
        auto e = s.create("entry", tandem::Json{{"session", *session}, {"type", "note"},
                                                {"text", "Observation " + std::to_string(j) + " i timen"}});
        if (!e) return std::move(e).error();
      }
    }
    for (int i = 0; i < actions; ++i) {
      // Due dates over the school year: the first third is overdue today.
      const int day = 1 + i % 28, month = 8 + (i % 11);
      char due[16];
      std::snprintf(due, sizeof due, "%04d-%02d-%02d", month > 12 ? 2027 : 2026, month > 12 ? month - 12 : month, day);
      auto a = s.create("action", tandem::Json{{"text", "Opfølgning " + std::to_string(i)}, {"due", due},
                                               {"tovholder", ps[i % people]}, {"done", i % 3 == 0}});
      if (!a) return std::move(a).error();
    }
    return {};
  });
  if (!done.ok()) return std::fprintf(stderr, "generate: %s\n", done.error().message.c_str()), 1;
  std::printf("generated %s\n", path.c_str());
  return 0;
}

int measure(const std::string& path) {
  const auto t0 = std::chrono::steady_clock::now();
  tandem_error err;
  tandem_store* s = tandem_store_open(path.c_str(), nullptr, &err);
  if (s == nullptr) return std::fprintf(stderr, "open: %s\n", err.message), 1;
  const auto t1 = std::chrono::steady_clock::now();
  char* overdue = tandem_actions_list(s, nullptr, true, &err);
  if (overdue == nullptr) return std::fprintf(stderr, "overdue: %s\n", err.message), 1;
  const auto t2 = std::chrono::steady_clock::now();
  std::size_t n = 0;
  for (const char* p = overdue; (p = std::strstr(p, "\"overdue\":true")) != nullptr; ++p) ++n;
  tandem_string_free(overdue);
  tandem_store_close(s);
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  using ms = std::chrono::duration<double, std::milli>;
  std::printf("tablet school year: open %.1f ms, overdue list (%zu actions) %.1f ms, total %.1f ms, peak RSS %.1f MB\n",
              ms(t1 - t0).count(), n, ms(t2 - t1).count(), ms(t2 - t0).count(),
              static_cast<double>(ru.ru_maxrss) / 1024.0);
  return n > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) return std::fprintf(stderr, "usage: %s generate|open|both DB\n", argv[0]), 2;
  const std::string mode = argv[1], path = argv[2];
  const bool small = std::getenv("TANDEM_BENCH_SMALL") != nullptr;
  if (mode == "generate" || mode == "both") {
    if (int rc = generate(path, small); rc != 0) return rc;
  }
  if (mode == "open" || mode == "both") return measure(path);
  return 0;
}
