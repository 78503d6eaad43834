// Saving a note: C API (tandem_record_create through libtandem.so, JSON text
// in, id out) against the C++ API (Store::create) on the same kind of file,
// each save one durable transaction as an app makes it. Rounds alternate
// the two so that disk and cache effects fall on both alike; the median
// round is reported.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "tandem.h"
#include "tandem/core/store.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int notes = 2000, rounds = 5;
  std::string dir = std::filesystem::temp_directory_path() / "tandem-bench-capi";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--notes") notes = std::atoi(argv[i + 1]);
    if (k == "--rounds") rounds = std::atoi(argv[i + 1]);
    if (k == "--dir") dir = argv[i + 1];
  }
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::vector<double> cpp_us, c_us;
  for (int r = 0; r < rounds; ++r) {
    const std::string cpp_path = dir + "/cpp" + std::to_string(r) + ".db";
    const std::string c_path = dir + "/c" + std::to_string(r) + ".db";
    {  // C++
      tandem::StoreOptions o;
      o.path = cpp_path;
      auto store = tandem::Store::open(o);
      if (!store) return std::fprintf(stderr, "open: %s\n", store.error().message.c_str()), 1;
      auto school = (*store)->create("school", tandem::Json{{"name", "Bench"}});
      if (!school || !(*store)->set_default_school(*school).ok()) return std::fprintf(stderr, "school\n"), 1;
      const auto t0 = Clock::now();
      for (int i = 0; i < notes; ++i) {
        auto id = (*store)->create("action", tandem::Json{{"text", "Notat " + std::to_string(i) + " om læsning"}});
        if (!id) return std::fprintf(stderr, "create: %s\n", id.error().message.c_str()), 1;
      }
      cpp_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / notes);
    }
    {  // C
      tandem_error err;
      tandem_store* s = tandem_store_open(c_path.c_str(), nullptr, &err);
      if (s == nullptr) return std::fprintf(stderr, "open: %s\n", err.message), 1;
      char* school = tandem_record_create(s, "school", R"({"name":"Bench"})", &err);
      if (school == nullptr || !tandem_store_set_default_school(s, school, &err))
        return std::fprintf(stderr, "school: %s\n", err.message), 1;
      tandem_string_free(school);
      const auto t0 = Clock::now();
      for (int i = 0; i < notes; ++i) {
        const std::string fields = "{\"text\":\"Notat " + std::to_string(i) + " om læsning\"}";
        char* id = tandem_record_create(s, "action", fields.c_str(), &err);
        if (id == nullptr) return std::fprintf(stderr, "create: %s\n", err.message), 1;
        tandem_string_free(id);
      }
      c_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / notes);
      tandem_store_close(s);
    }
  }
  const double cpp = median(cpp_us), c = median(c_us);
  std::printf("save a note (durable), median of %d rounds of %d: C++ %.1f us, C API %.1f us, ratio %.3f\n", rounds,
              notes, cpp, c, c / cpp);
  std::filesystem::remove_all(dir);
  return 0;
}
