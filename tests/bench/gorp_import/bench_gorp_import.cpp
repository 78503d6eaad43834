// GORP import time: a generated file of N rows (30 distinct events in 6
// Category-Group pairs, overlapping events, one comment in 20, CRLF, a
// session across noon) parsed alone, then imported whole (parse, template,
// session and N entries in one durable Store transaction) into a fresh plain
// Store. Target (issue 16): 10,000 rows in < 1 s. Prints the median and the
// worst of R runs; the exit status is 0 whatever the numbers (1 on failure).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "tandem/core/gorp.hpp"
#include "tandem/core/gorp_import.hpp"
#include "tandem/core/store.hpp"

namespace {

using SteadyClock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_gorp_import: %s\n", what.c_str());
  std::exit(1);
}

double ms_since(SteadyClock::time_point t0) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count();
}

// Rows start every 2 s from 9:00 AM, last 1-40 s (so they overlap).
std::string generate(int rows) {
  const char* const kCategories[] = {"Instructor", "Student"};
  const char* const kGroups[] = {"Presenting", "Guiding", "Working"};
  std::string out = "Event,Time Start,Time End\r\n";
  for (int i = 0; i < rows; ++i) {
    const std::int64_t start = 9 * 3600 + 2 * i;
    const std::int64_t end = start + 1 + (i * 7919) % 40;
    std::string event;
    if (i % 20 == 19) {
      event = "Student-Comments-Observation note number " + std::to_string(i);
    } else {
      event = std::string(kCategories[i % 2]) + "-" + kGroups[i % 3] + "-Code number " +
              std::to_string(i % 5) + " with a long descriptive GORP name";
    }
    out += event + "," + tandem::gorp::format_clock(start) + "," + tandem::gorp::format_clock(end) +
           "\r\n";
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int rows = 10000;
  int runs = 5;
  std::string dir = std::filesystem::temp_directory_path().string();
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--rows") == 0) {
      rows = std::atoi(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--runs") == 0) {
      runs = std::atoi(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--dir") == 0) {
      dir = argv[i + 1];
    } else {
      die(std::string("unknown option ") + argv[i]);
    }
  }
  if (rows <= 0 || runs <= 0) die("--rows and --runs must be positive");
  const std::string file = generate(rows);

  std::vector<double> parse_ms, import_ms;
  for (int r = 0; r < runs; ++r) {
    auto t0 = SteadyClock::now();
    auto parsed = tandem::gorp::parse_file(file);
    parse_ms.push_back(ms_since(t0));
    if (!parsed.ok()) die("parse: " + parsed.error().message);

    const std::string path = dir + "/bench_gorp_" + std::to_string(::getpid()) + "_" + std::to_string(r) + ".db";
    {
      tandem::StoreOptions options;
      options.path = path;
      options.encryption = tandem::Encryption::kOff;
      auto store = tandem::Store::open(options);
      if (!store.ok()) die("open: " + store.error().message);
      auto school = (*store)->create("school", {{"name", "Bench-skolen"}});
      if (!school.ok() || !(*store)->set_default_school(*school).ok()) die("school");
      tandem::gorp::ImportOptions o;
      o.date = "2026-03-02";
      o.name = "bench.csv";
      o.now_ms = 1'790'000'000'000;
      t0 = SteadyClock::now();
      auto result = tandem::gorp::import_file(**store, file, o);
      import_ms.push_back(ms_since(t0));
      if (!result.ok()) die("import: " + result.error().message);
      if (result->entries != rows) die("imported " + std::to_string(result->entries) + " rows");
    }
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  }
  std::sort(parse_ms.begin(), parse_ms.end());
  std::sort(import_ms.begin(), import_ms.end());
  std::printf("GORP import of %d rows (%zu bytes), %d runs\n", rows, file.size(), runs);
  std::printf("  parse only        median %8.1f ms   worst %8.1f ms\n", parse_ms[parse_ms.size() / 2],
              parse_ms.back());
  std::printf("  import (one txn)  median %8.1f ms   worst %8.1f ms   target < 1000 ms\n",
              import_ms[import_ms.size() / 2], import_ms.back());
  return 0;
}
