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

}  // namespace tandem::test
