#include "test_util.hpp"

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <random>
#include <sstream>

#include "tandem/platform/file_key_store.hpp"

namespace tandem::test {

std::unique_ptr<Store> open_store(const std::string& path, Clock* clock) {
  StoreOptions o;
  o.path = path;
  o.clock = clock;
  auto s = Store::open(o);
  if (!s) FAIL("cannot open store: " << s.error().message);
  return std::move(*s);
}

std::unique_ptr<Store> open_store_with_school(const std::string& path, std::string& school_id, Clock* clock) {
  auto s = open_store(path, clock);
  auto id = s->create("school", Json{{"name", "Skovbakkeskolen"}});
  REQUIRE(id.ok());
  REQUIRE(s->set_default_school(*id).ok());
  school_id = *id;
  return s;
}

std::string make_record(Store& store, std::string_view kind, const Json& fields) {
  auto id = store.create(kind, fields);
  if (!id) FAIL(id.error().message);
  return *id;
}

int exchange(Store& from, Store& to) {
  int applied = 0;
  auto changes = from.changes_since(0, 1'000'000);
  REQUIRE(changes.ok());
  for (const auto& lc : *changes) {
    auto r = to.apply(lc.change);
    if (!r) FAIL("apply failed: " << r.error().message);
    if (*r == ApplyOutcome::kApplied) ++applied;
  }
  return applied;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<std::optional<std::string>> MemoryKeyStore::get(std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = keys_.find(name);
  if (it == keys_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Status MemoryKeyStore::put(std::string_view name, std::string_view secret) {
  std::lock_guard<std::mutex> lock(mu_);
  keys_[std::string(name)] = std::string(secret);
  return {};
}

Status MemoryKeyStore::erase(std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = keys_.find(name);
  if (it != keys_.end()) keys_.erase(it);
  return {};
}

std::size_t MemoryKeyStore::size() {
  std::lock_guard<std::mutex> lock(mu_);
  return keys_.size();
}

namespace {

// Memory first; every secret also in the CLI's key folder when there is one.
class TestKeyStore final : public KeyStore {
 public:
  TestKeyStore() {
    if (platform::FileKeyStore::default_dir().empty()) return;
    auto files = platform::FileKeyStore::open();
    if (files) files_.emplace(std::move(*files));
  }
  Result<std::optional<std::string>> get(std::string_view name) override {
    auto mem = memory_.get(name);
    if (!mem || *mem || !files_) return mem;
    return files_->get(name);
  }
  Status put(std::string_view name, std::string_view secret) override {
    TANDEM_TRY(memory_.put(name, secret));
    return files_ ? files_->put(name, secret) : Status();
  }
  Status erase(std::string_view name) override {
    TANDEM_TRY(memory_.erase(name));
    return files_ ? files_->erase(name) : Status();
  }

 private:
  MemoryKeyStore memory_;
  std::optional<platform::FileKeyStore> files_;
};

}  // namespace

KeyStore& test_keys() {
  static TestKeyStore keys;
  return keys;
}

Host encrypted_host(Clock* clock) {
  Host h;
  h.keys = &test_keys();
  h.clock = clock;
  return h;
}

TabletSql::TabletSql(const std::string& path) {
  StoreOptions o;
  o.path = path;
  o.encryption = Encryption::kOff;
  auto s = Store::open(o, encrypted_host());
  INFO("open " << path << ": " << (s ? "" : s.error().message));
  REQUIRE(s.ok());
  store_ = std::move(*s);
}

sqlite3* TabletSql::db() const { return sqlite::handle(*store_); }

long long TabletSql::scalar(const std::string& sql) const {
  sqlite3_stmt* st = nullptr;
  long long n = -1;
  if (sqlite3_prepare_v2(db(), sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return n;
}

std::string TabletSql::exec(const std::string& sql) const {
  char* msg = nullptr;
  if (sqlite3_exec(db(), sql.c_str(), nullptr, nullptr, &msg) == SQLITE_OK) return "";
  std::string out = msg ? msg : "error";
  sqlite3_free(msg);
  return out;
}

std::size_t occurrences(const std::string& path, const std::string& text) {
  auto scan = scan_database(path, encrypted_host(), text);
  INFO("scan " << path << ": " << (scan ? "" : scan.error().message));
  REQUIRE(scan.ok());
  CHECK(scan->tampered_pages == 0);
  return static_cast<std::size_t>(scan->hits);
}

}  // namespace tandem::test
