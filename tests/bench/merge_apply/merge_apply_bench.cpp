// Benchmark (not a test): applying N remote changes through the merge engine
// (Store::apply, durable, in one transaction per 1000 like a sync page) next
// to raw SQLite inserts of equivalent rows with the same durability, in the
// same run. Prints changes/s for both, the ratio, and peak RSS.
//
//   tandem_bench_merge_apply [N=100000] [DIR=/tmp]
#include <sqlite3.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tandem/core/store.hpp"
#include "tandem/core/sqlite.hpp"

using namespace tandem;
using Steady = std::chrono::steady_clock;

namespace {

double seconds_since(Steady::time_point t0) {
  return std::chrono::duration<double>(Steady::now() - t0).count();
}

long peak_rss_kb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

std::vector<Change> make_changes(std::size_t n) {
  // 1% creates, the rest field sets on those records (like a day of edits).
  // Each set saw the write it replaces, as a tablet's edit does (`seen`).
  std::vector<Change> out;
  out.reserve(n);
  const std::string site = "00000000000000aa";
  const std::string school = "school_bench";
  std::int64_t ms = 1'790'000'000'000;
  Change school_create;
  school_create.hlc = Hlc{ms, 0, site};
  school_create.record = school;
  school_create.kind = "school";
  school_create.school = school;
  school_create.op = Op::kCreate;
  school_create.value = Json{{"name", "Bench Skole"}};
  out.push_back(school_create);
  std::vector<std::string> records;
  std::map<std::string, std::string> last;  // record + '/' + field -> stamp of the last write
  static const char* const kStatus[] = {"planned", "active", "completed", "evaluated"};
  for (std::size_t i = 1; i < n; ++i) {
    Change c;
    c.hlc = Hlc{ms + static_cast<std::int64_t>(i), 0, site};
    c.school = school;
    c.kind = "course";
    if (records.empty() || i % 100 == 0) {
      c.record = "course_" + std::to_string(100000 + i);
      c.op = Op::kCreate;
      c.value = Json{{"kind", "co_teaching"}, {"title", "Forløb " + std::to_string(i)}};
      records.push_back(c.record);
      last[c.record + "/title"] = c.hlc.str();
    } else {
      c.record = records[i % records.size()];
      c.op = Op::kSet;
      if (i % 2) {
        c.field = "title";
        c.value = "Læseløft " + std::to_string(i);
      } else {
        c.field = "status";
        c.value = kStatus[i % 4];
      }
      std::string& prev = last[c.record + "/" + c.field];
      if (!prev.empty()) c.seen.push_back(prev);
      prev = c.hlc.str();
    }
    out.push_back(std::move(c));
  }
  return out;
}

// page_size: the Store's, so that both sides write pages of one size.
double raw_inserts(const std::string& path, const std::vector<Change>& changes, int page_size) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db, ("PRAGMA page_size=" + std::to_string(page_size)).c_str(), nullptr, nullptr, nullptr);
  sqlite3_exec(db,
               "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
               "CREATE TABLE t(hlc TEXT PRIMARY KEY, record TEXT, field TEXT, value TEXT) WITHOUT ROWID;",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO t VALUES(?,?,?,?)", -1, &st, nullptr);
  const auto t0 = Steady::now();
  for (std::size_t i = 0; i < changes.size(); ++i) {
    if (i % 1000 == 0) sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    const Change& c = changes[i];
    const std::string h = c.hlc.str(), v = c.value.dump();
    sqlite3_bind_text(st, 1, h.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, c.record.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, c.field.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, v.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_step(st);
    sqlite3_reset(st);
    if (i % 1000 == 999 || i + 1 == changes.size()) sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  }
  const double s = seconds_since(t0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::stoul(argv[1]) : 100000;
  const std::filesystem::path dir = argc > 2 ? argv[2] : std::filesystem::temp_directory_path();
  const auto raw_path = (dir / "tandem-bench-raw.db").string();
  const auto store_path = (dir / "tandem-bench-store.db").string();
  for (const auto& p : {raw_path, store_path}) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(p + suffix);
  }
  const auto changes = make_changes(n);
  const long rss_before = peak_rss_kb();

  StoreOptions o;
  o.path = store_path;
  o.max_ahead_ms = 100LL * 365 * 24 * 3600 * 1000;
  auto store = Store::open(o);
  if (!store) {
    std::fprintf(stderr, "open: %s\n", store.error().message.c_str());
    return 1;
  }
  int page_size = 4096;
  {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(tandem::sqlite::handle(**store), "PRAGMA page_size", -1, &st, nullptr);
    if (sqlite3_step(st) == SQLITE_ROW) page_size = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
  }

  const double raw_s = raw_inserts(raw_path, changes, page_size);

  const auto t0 = Steady::now();
  for (std::size_t i = 0; i < changes.size(); i += 1000) {
    Status st = (*store)->transaction([&]() -> Status {
      for (std::size_t k = i; k < std::min(i + 1000, changes.size()); ++k) {
        auto r = (*store)->apply(changes[k]);
        if (!r) return std::move(r).error();
      }
      return {};
    });
    if (!st) {
      std::fprintf(stderr, "apply: %s\n", st.error().message.c_str());
      return 1;
    }
  }
  const double apply_s = seconds_since(t0);
  const double raw_rate = static_cast<double>(n) / raw_s, apply_rate = static_cast<double>(n) / apply_s;
  std::printf("both sides: WAL, synchronous=FULL, %d-byte pages\n\n", page_size);
  std::printf("| what | N | seconds | changes/s |\n|---|---|---|---|\n");
  std::printf("| raw SQLite inserts (WAL, synchronous=FULL, 1000/commit) | %zu | %.3f | %.0f |\n", n, raw_s, raw_rate);
  std::printf("| Store::apply (merge + log, WAL, synchronous=FULL, 1000/commit) | %zu | %.3f | %.0f |\n", n, apply_s, apply_rate);
  std::printf("\napply rate = %.0f %% of raw; peak RSS %ld MB (inputs held in memory: %ld MB before)\n",
              100.0 * apply_rate / raw_rate, peak_rss_kb() / 1024, rss_before / 1024);
  return 0;
}
