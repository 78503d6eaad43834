#include "test_util.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <random>
#include <sstream>

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

MemoryKeyStore& test_keys() {
  static MemoryKeyStore keys;
  return keys;
}

Host encrypted_host(Clock* clock) {
  Host h;
  h.keys = &test_keys();
  h.clock = clock;
  return h;
}

std::size_t occurrences(const std::string& path, const std::string& text) {
  auto scan = scan_database(path, encrypted_host(), text);
  INFO("scan " << path << ": " << (scan ? "" : scan.error().message));
  REQUIRE(scan.ok());
  CHECK(scan->tampered_pages == 0);
  return static_cast<std::size_t>(scan->hits);
}

}  // namespace tandem::test
