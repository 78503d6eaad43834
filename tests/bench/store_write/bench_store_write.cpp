// Local write latency and bulk rate of tandem::Store next to raw SQLite
// inserts of the same rows with the same durability (WAL, synchronous=FULL).
//
//   single: one saved note = one Store::create of an `entry` (its own durable
//           transaction), against one INSERT per autocommit transaction;
//           the two alternate call by call so machine noise hits both alike.
//   bulk:   N entries in one Store::transaction, against N INSERTs in one
//           BEGIN ... COMMIT.
// Targets (issue 2): bulk rate >= 30 % of raw; single p50 <= 2x raw.
// A third bulk row, raw inserts each inside its own SAVEPOINT, shows what
// nested savepoints cost (Store writes inside Store::transaction use them).
// Experiment knob: BENCH_TEMP_STORE_MEMORY=1 sets PRAGMA temp_store=MEMORY on
// the Store's connection (statement journals in memory instead of temp files).
// Prints a table; the exit status is 0 whatever the numbers.
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tandem/core/encryption.hpp"
#include "tandem/core/store.hpp"
#include "tandem/core/sqlite.hpp"

namespace {

using tandem::Json;
using SteadyClock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_store_write: %s\n", what.c_str());
  std::exit(1);
}

template <typename R>
auto need(R&& r, const char* what) {
  if (!r.ok()) die(std::string(what) + ": " + r.error().message);
  if constexpr (!std::is_same_v<std::decay_t<decltype(r)>, tandem::Status>) {
    return std::move(r).value();
  }
}

double ms_since(SteadyClock::time_point t0) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count();
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

// The fields of the i-th note (the same for the store and the raw rows).
Json note_fields(const std::string& session, int i) {
  return {{"session", session},
          {"type", "note"},
          {"at", "2026-03-02T09:" + std::string(i % 60 < 10 ? "0" : "") + std::to_string(i % 60) +
                     ":00Z"},
          {"text", "Note " + std::to_string(i) +
                       ": eleverne arbejder i grupper, læreren går rundt og støtter."}};
}

// The encrypted side's keys (a tablet's key store, in memory here).
class BenchKeys final : public tandem::KeyStore {
 public:
  tandem::Result<std::optional<std::string>> get(std::string_view name) override {
    auto it = keys_.find(std::string(name));
    if (it == keys_.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  tandem::Status put(std::string_view name, std::string_view secret) override {
    keys_[std::string(name)] = std::string(secret);
    return {};
  }
  tandem::Status erase(std::string_view name) override {
    keys_.erase(std::string(name));
    return {};
  }

 private:
  std::map<std::string, std::string> keys_;
};

BenchKeys& bench_keys() {
  static BenchKeys keys;
  return keys;
}

struct TandemSide {
  std::unique_ptr<tandem::Store> store;
  std::string session;

  // encrypted: the page cipher of a tablet (encryption at rest), else plain.
  explicit TandemSide(const std::string& path, bool encrypted = false) {
    tandem::StoreOptions options;
    options.path = path;
    tandem::Host host;
    if (encrypted) {
      host.keys = &bench_keys();
      options.encryption = tandem::Encryption::kRequired;
    } else {
      options.encryption = tandem::Encryption::kOff;
    }
    store = need(tandem::Store::open(options, host), "open store");
    if (store->encrypted() != encrypted) die("encryption not as asked");
    if (std::getenv("BENCH_TEMP_STORE_MEMORY") != nullptr) {
      sqlite3_exec(tandem::sqlite::handle(*store), "PRAGMA temp_store=MEMORY", nullptr, nullptr, nullptr);
    }
    const std::string school = need(store->create("school", {{"name", "Bench-skolen"}}), "school");
    need(store->set_default_school(school), "default school");
    const std::string course =
        need(store->create("course", {{"kind", "observation"}, {"title", "Bench"}}), "course");
    session = need(store->create("session", {{"course", course}}), "session");
  }
  void write(int i) { (void)need(store->create("entry", note_fields(session, i)), "create entry"); }
};

struct RawSide {
  sqlite3* db = nullptr;
  sqlite3_stmt* insert = nullptr;
  std::string session = "session_raw";

  // page_size: the Store's, so that both sides write pages of one size.
  RawSide(const std::string& path, int page_size) {
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) die("open raw");
    exec(("PRAGMA page_size=" + std::to_string(page_size)).c_str());
    exec(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
        "CREATE TABLE entries(id TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID;");
    if (sqlite3_prepare_v2(db, "INSERT INTO entries(id, body) VALUES(?, ?)", -1, &insert,
                           nullptr) != SQLITE_OK) {
      die("prepare raw");
    }
  }
  ~RawSide() {
    sqlite3_finalize(insert);
    sqlite3_close(db);
  }
  void exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      die(std::string("raw: ") + (err != nullptr ? err : "?"));
    }
  }
  void write(int i) {
    const std::string id = "entry_" + std::to_string(i);
    const std::string body = note_fields(session, i).dump();
    sqlite3_bind_text(insert, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert, 2, body.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(insert) != SQLITE_DONE) die("raw insert");
    sqlite3_reset(insert);
  }
};

int store_page_size(TandemSide& side) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(tandem::sqlite::handle(*side.store), "PRAGMA page_size", -1, &st, nullptr) != SQLITE_OK ||
      sqlite3_step(st) != SQLITE_ROW) {
    die("page_size");
  }
  const int size = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return size;
}

void row(const char* name, const std::vector<double>& lat) {
  std::printf("%-34s %9.3f %9.3f %9.3f %11.0f\n", name, percentile(lat, 50), percentile(lat, 99),
              mean(lat), 1000.0 / mean(lat));
}

}  // namespace

int main(int argc, char** argv) {
  int single = 500;
  int bulk = 10000;
  std::string dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--single") == 0)
      single = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--bulk") == 0)
      bulk = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--dir") == 0)
      dir = argv[i + 1];
    else
      die(std::string("unknown option ") + argv[i]);
  }
  if (single < 1 || bulk < 1) die("--single and --bulk must be positive");
  // A fresh directory inside --dir (default $TMPDIR or /tmp), removed at the end.
  if (dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    dir = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  std::string pattern = dir + "/tandem-bench-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) die("mkdtemp in " + dir);
  dir = pattern;

  int page_size = 4096;
  std::vector<double> store_lat;
  std::vector<double> enc_lat;
  std::vector<double> raw_lat;
  double store_bulk_ms = 0;
  double raw_bulk_ms = 0;
  {
    TandemSide store(dir + "/single_store.db");
    TandemSide enc(dir + "/single_encrypted.db", true);
    page_size = store_page_size(store);
    RawSide raw(dir + "/single_raw.db", page_size);
    for (int i = 0; i < 20; ++i) {  // warm-up: caches, WAL file growth
      store.write(1000000 + i);
      enc.write(1000000 + i);
      raw.write(1000000 + i);
    }
    for (int i = 0; i < single; ++i) {
      auto t0 = SteadyClock::now();
      store.write(i);
      store_lat.push_back(ms_since(t0));
      t0 = SteadyClock::now();
      enc.write(i);
      enc_lat.push_back(ms_since(t0));
      t0 = SteadyClock::now();
      raw.write(i);
      raw_lat.push_back(ms_since(t0));
    }
  }
  {
    RawSide raw(dir + "/bulk_raw.db", page_size);
    const auto t0 = SteadyClock::now();
    raw.exec("BEGIN");
    for (int i = 0; i < bulk; ++i) raw.write(i);
    raw.exec("COMMIT");
    raw_bulk_ms = ms_since(t0);
  }
  double raw_sp_bulk_ms = 0;
  {
    RawSide raw(dir + "/bulk_raw_savepoint.db", page_size);
    const auto t0 = SteadyClock::now();
    raw.exec("BEGIN");
    for (int i = 0; i < bulk; ++i) {
      raw.exec("SAVEPOINT row");
      raw.write(i);
      raw.exec("RELEASE row");
    }
    raw.exec("COMMIT");
    raw_sp_bulk_ms = ms_since(t0);
  }
  // Plain and encrypted bulk runs alternate (3 each, the best kept), so
  // that a busy moment of the machine does not land on one side only.
  double enc_bulk_ms = 0;
  for (int round = 0; round < 3; ++round) {
    for (const bool encrypted : {false, true}) {
      TandemSide store(dir + "/bulk_store_" + std::to_string(round) + (encrypted ? "_enc" : "") + ".db", encrypted);
      const auto t0 = SteadyClock::now();
      need(store.store->transaction([&]() -> tandem::Status {
        for (int i = 0; i < bulk; ++i) {
          auto made = store.store->create("entry", note_fields(store.session, i));
          if (!made.ok()) return std::move(made).error();
        }
        return {};
      }),
           "bulk transaction");
      const double ms = ms_since(t0);
      double& best = encrypted ? enc_bulk_ms : store_bulk_ms;
      if (best == 0 || ms < best) best = ms;
    }
  }
  std::filesystem::remove_all(dir);

  const double store_rate = bulk / (store_bulk_ms / 1000.0);
  const double raw_rate = bulk / (raw_bulk_ms / 1000.0);
  std::printf("store_write: WAL + synchronous=FULL, %d-byte pages on both sides, files in %s\n", page_size, dir.c_str());
  std::printf("%-34s %9s %9s %9s %11s\n",
              ("single durable write (n=" + std::to_string(single) + ")").c_str(), "p50 ms",
              "p99 ms", "mean ms", "writes/s");
  row("  tandem Store::create(entry)", store_lat);
  row("  tandem, encrypted at rest", enc_lat);
  row("  raw SQLite INSERT (autocommit)", raw_lat);
  std::printf("%-34s %9s %9s %9s %11s\n",
              ("bulk, " + std::to_string(bulk) + " rows in 1 tx").c_str(), "", "", "total ms",
              "rows/s");
  std::printf("%-34s %9s %9s %9.1f %11.0f\n", "  tandem Store::transaction", "", "", store_bulk_ms,
              store_rate);
  std::printf("%-34s %9s %9s %9.1f %11.0f\n", "  tandem, encrypted at rest", "", "", enc_bulk_ms,
              bulk / (enc_bulk_ms / 1000.0));
  std::printf("%-34s %9s %9s %9.1f %11.0f\n", "  raw SQLite BEGIN..COMMIT", "", "", raw_bulk_ms,
              raw_rate);
  std::printf("%-34s %9s %9s %9.1f %11.0f\n", "  raw, one SAVEPOINT per row", "", "",
              raw_sp_bulk_ms, bulk / (raw_sp_bulk_ms / 1000.0));
  const double single_ratio = percentile(store_lat, 50) / percentile(raw_lat, 50);
  const double bulk_share = 100.0 * store_rate / raw_rate;
  std::printf("single p50 store/raw: %.2fx (target <= 2x: %s)\n", single_ratio,
              single_ratio <= 2.0 ? "met" : "NOT met");
  std::printf("bulk rate store/raw:  %.0f %% (target >= 30 %%: %s)\n", bulk_share,
              bulk_share >= 30.0 ? "met" : "NOT met");
  const double enc_single = percentile(enc_lat, 50) / percentile(store_lat, 50);
  const double enc_bulk = 100.0 * store_bulk_ms / enc_bulk_ms;
  std::printf("encrypted/plain single p50: %.2fx (target <= 1.3x: %s)\n", enc_single,
              enc_single <= 1.3 ? "met" : "NOT met");
  std::printf("encrypted/plain bulk rate:  %.0f %% (target >= 70 %%: %s)\n", enc_bulk,
              enc_bulk >= 70.0 ? "met" : "NOT met");
  return 0;
}
