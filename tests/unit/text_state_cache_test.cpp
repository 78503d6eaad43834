// The Store's decoded-text cache (Store::Impl::TextCache): a text change
// starts from the Document the previous one merged only while the stored
// state is still the bytes it encoded to. A rolled-back change must not
// leak into the next one.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "tandem/core/store.hpp"
#include "test_util.hpp"

using namespace tandem;
using tandem::test::TempDir;

namespace {

// A remote `text` change inserting `text` into `record`'s goals (no
// neighbours: beside the text's first character, by the agents' order).
Change remote_insert(const std::string& record, const std::string& school, std::uint64_t seq,
                     const std::string& text) {
  Change c;
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  c.hlc = Hlc{now, static_cast<std::uint32_t>(seq), "00000000000000dd"};
  c.record = record;
  c.kind = "course";
  c.school = school;
  c.op = Op::kText;
  c.field = "goals";
  c.value = Json::array({Json{{"op", "ins"},
                              {"id", Json::array({"remote", seq})},
                              {"left", nullptr},
                              {"right", nullptr},
                              {"text", text}}});
  return c;
}

std::string goals(Store& store, const std::string& id) {
  auto r = store.get(id);
  REQUIRE(r.ok());
  return r->fields["goals"].get<std::string>();
}

}  // namespace

TEST_CASE("text cache: a change after a rolled-back one merges into the stored text",
          "[core][text][store]") {
  TempDir dir;
  std::string school;
  auto store = test::open_store_with_school(dir.file("t.db"), school);
  auto id = store->create("course", Json{{"kind", "observation"}, {"title", "T"}, {"goals", "XY"}});
  REQUIRE(id.ok());
  // A first remote change gives the field a stored state (a new record's
  // text lives in its create until then).
  REQUIRE(store->apply(remote_insert(*id, school, 9, "-")).ok());
  // Merged, then rolled back with its transaction (as a server's push that
  // fails after its text change).
  auto rolled_back = store->transaction([&]() -> Status {
    auto applied = store->apply(remote_insert(*id, school, 0, "a"));
    if (!applied) return std::move(applied).error();
    CHECK(goals(*store, *id).find('a') != std::string::npos);
    return make_error(ErrorCode::kInternal, "roll back");
  });
  REQUIRE_FALSE(rolled_back.ok());
  CHECK(goals(*store, *id).size() == 3);
  CHECK(goals(*store, *id).find('a') == std::string::npos);
  // The next change to the same field: from the stored state, without "a".
  REQUIRE(store->apply(remote_insert(*id, school, 1, "b")).ok());
  const std::string after = goals(*store, *id);
  CHECK(after.size() == 4);
  CHECK(after.find('a') == std::string::npos);
  CHECK(after.find('b') != std::string::npos);
  // Consecutive changes (the cached path) keep merging.
  REQUIRE(store->apply(remote_insert(*id, school, 2, "c")).ok());
  REQUIRE(store->apply(remote_insert(*id, school, 0, "a")).ok());
  const std::string merged = goals(*store, *id);
  CHECK(merged.size() == 6);
  for (char ch : std::string("-abcXY")) CHECK(merged.find(ch) != std::string::npos);
}
