// Fuzz target: importing a change bundle (core/include/tandem/core/bundle.hpp),
// read the way `tandem changes import FILE` reads it, into a tablet that
// already holds a school, a person and a course (fixtures.hpp; the seeds are
// bundles from a second tablet that edited them).
//
// Input: the bundle file's bytes.
// Invariants: a refused bundle changes nothing; an accepted one accounts for
// every change (applied + duplicates + ignored + rejected); importing it again
// applies nothing and changes nothing (idempotence); and what the tablet
// then exports rebuilds, on a copy of the same tablet, exactly the same
// records (the change log holds everything the state came from).
#include "tandem/core/bundle.hpp"

#include <string>

#include "fixtures.hpp"

namespace {

using tandem::Json;
using tandem::fuzz::check;
using tandem::fuzz::TempDir;

constexpr const char* kTablet = "tablet.db";

struct World {
  TempDir fixture{"bundle-fixture"};
  TempDir work{"bundle"};
  TempDir copy{"bundle-copy"};
  std::string fixture_dump;
};
World* g_world = nullptr;

std::unique_ptr<tandem::Store> open_copy(const TempDir& dir) {
  dir.copy_from(g_world->fixture);
  auto s = tandem::Store::open({dir.file(kTablet), &tandem::fuzz::fixture_clock()});
  check(s.ok(), "cannot open a copy of the fixture", s.ok() ? "" : s.error().message);
  return std::move(*s);
}

std::string dump(const tandem::Store& store) {
  auto d = store.canonical_dump();
  check(d.ok(), "canonical_dump fails", d.ok() ? "" : d.error().message);
  return *d;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  static World world;
  g_world = &world;
  auto store = tandem::fuzz::make_tablet(world.fixture.file(kTablet), tandem::fuzz::kFixtureSite);
  world.fixture_dump = dump(*store);
  store.reset();
  check(dump(*open_copy(world.work)) == world.fixture_dump, "a copy of the fixture differs");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // As platform/cli/cmd_changes.cpp reads a bundle file.
  auto parsed = tandem::parse_bundle(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!parsed.ok()) {
    check(parsed.error().code == tandem::ErrorCode::kInvalidJson,
          "a bundle's text refused with another code than invalid_json");
    return 0;
  }
  const Json& bundle = *parsed;

  auto store = open_copy(g_world->work);
  auto report = tandem::import_bundle(*store, bundle);
  if (!report.ok()) {
    const auto code = report.error().code;
    check(code == tandem::ErrorCode::kCorrupt || code == tandem::ErrorCode::kUnsupportedVersion ||
              code == tandem::ErrorCode::kTooManyChanges,
          "import refused the bundle with an unexpected code", report.error().message);
    check(dump(*store) == g_world->fixture_dump, "a refused bundle changed the tablet");
    return 0;
  }
  tandem::fuzz::trace(report->to_json().dump(-1, ' ', false, Json::error_handler_t::replace));
  const std::size_t total = bundle["changes"].size();
  check(report->applied + report->duplicates + report->ignored + report->rejected.size() == total,
        "the import report does not account for every change");
  const std::string after = dump(*store);

  auto again = tandem::import_bundle(*store, bundle);
  check(again.ok(), "importing an accepted bundle again fails");
  check(dump(*store) == after, "importing a bundle again changed the tablet");
  // Nothing is taken twice, but: a change refused the first time for its
  // clock (the import moved the tablet's clock on), and a change to a record
  // the bundle purged (the purge erased its history, so it is not known
  // again; the purged record stays empty: the dump above is unchanged).
  std::size_t may_apply = 0;
  for (const auto& r : report->rejected) may_apply += r.error.code == tandem::ErrorCode::kClockSkew;
  for (const auto& c : bundle["changes"]) {
    if (!c.is_object() || !c.contains("record") || !c["record"].is_string()) continue;
    auto rec = store->get(c["record"].get<std::string>());
    if (rec.ok() && !rec->purged.empty()) ++may_apply;
  }
  check(again->applied <= may_apply, "importing a bundle again applied changes");

  auto exported = tandem::export_bundle(*store);
  check(exported.ok(), "export after import fails");
  auto copy = open_copy(g_world->copy);
  auto rebuilt = tandem::import_bundle(*copy, *exported);
  check(rebuilt.ok(), "the tablet's own export does not import");
  check(rebuilt->rejected.empty(), "the tablet's own export holds changes a copy rejects",
        rebuilt->rejected.empty() ? "" : rebuilt->rejected.front().error.message);
  check(dump(*copy) == after, "the tablet's own export rebuilds other records");
  return 0;
}
