// copy_database (core/include/tandem/core/encryption.hpp): the online copy
// behind `tandem-server backup`. A copy taken while another connection keeps
// writing holds every row committed before it began, opens only with its own
// new key, and carries no byte of content erased before it (free pages are
// not copied); it never overwrites a file.
#include <atomic>
#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <thread>

#include "tandem/core/encryption.hpp"
#include "tandem/core/store.hpp"
#include "test_util.hpp"

using namespace tandem;  // NOLINT(google-build-using-namespace)
using tandem::test::TempDir;

namespace {

std::unique_ptr<Store> open_with(const std::string& path, Host host) {
  StoreOptions o;
  o.path = path;
  auto s = Store::open(o, host);
  INFO("open: " << (s ? "" : s.error().message));
  REQUIRE(s.ok());
  return std::move(*s);
}

std::set<std::string> action_ids(Store& s) {
  std::set<std::string> ids;
  auto all = s.list("action");
  REQUIRE(all.ok());
  for (const auto& r : *all) ids.insert(r.id);
  return ids;
}

std::string canary(int i) { return "COPYCANARY-" + std::to_string(i) + "-w3Rt"; }

}  // namespace

TEST_CASE("an online copy holds every committed row, none of the erased ones, under a key of its own",
          "[core][encryption][backup]") {
  TempDir dir;
  const std::string path = dir.file("server.db");
  const std::string copy = dir.file("backup.db");
  auto source = open_with(path, test::encrypted_host());
  {
    auto school = source->create("school", Json{{"name", "Skovbakkeskolen"}});
    REQUIRE(school.ok());
    REQUIRE(source->set_default_school(*school).ok());
  }
  std::vector<std::string> ids;
  for (int i = 0; i < 300; ++i) {
    auto id = source->create("action", Json{{"text", canary(i)}});
    REQUIRE(id.ok());
    ids.push_back(*id);
  }
  // Erased before the copy: 0..49.
  for (int i = 0; i < 50; ++i) REQUIRE(source->purge(ids[i]).ok());
  REQUIRE(source->checkpoint_truncate().ok());

  // Another connection writes all through the copy.
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    auto other = open_with(path, test::encrypted_host());
    while (!stop) {
      if (other->create("action", Json{{"text", "during the copy"}}).ok()) ++written;
    }
  });
  while (written < 20) std::this_thread::yield();
  const std::set<std::string> committed_before = action_ids(*source);

  test::MemoryKeyStore backup_keys;
  Host to_host;
  to_host.keys = &backup_keys;
  const Status made = copy_database(path, test::encrypted_host(), copy, to_host);
  const int written_at_end = written;
  stop = true;
  writer.join();
  INFO("copy: " << (made.ok() ? "" : made.error().message));
  REQUIRE(made.ok());
  INFO("writes by the other connection: " << written_at_end);
  CHECK(written_at_end > 20);

  auto info = inspect_database(copy);
  REQUIRE(info.ok());
  CHECK(info->format == DatabaseFormat::kEncrypted);
  CHECK(info->key_name != inspect_database(path)->key_name);
  CHECK(backup_keys.size() == 1);
  // The source's keys do not open it; its own do, with every row that was
  // committed before the copy began.
  {
    StoreOptions o;
    o.path = copy;
    CHECK(Store::open(o, test::encrypted_host()).error().code == ErrorCode::kKeyMissing);
  }
  auto restored = open_with(copy, to_host);
  const std::set<std::string> in_copy = action_ids(*restored);
  for (const auto& id : committed_before) {
    INFO(id);
    CHECK(in_copy.count(id) == 1);
  }
  for (int i = 50; i < 300; i += 25) CHECK(restored->get(ids[i])->fields.value("text", "") == canary(i));
  for (int i = 0; i < 50; ++i) {
    auto gone = restored->get(ids[i]);  // a purged record leaves a tombstone at most
    CHECK((!gone.ok() || (!gone->live() && !gone->fields.contains("text"))));
  }
  restored.reset();
  // No byte of an erased note, decrypted or not, in any page of the copy.
  for (int i = 0; i < 50; ++i) {
    auto scan = scan_database(copy, to_host, canary(i));
    REQUIRE(scan.ok());
    CHECK(scan->hits == 0);
  }
  auto live = scan_database(copy, to_host, canary(60));
  REQUIRE(live.ok());
  CHECK(live->hits >= 1);  // the scan does see content: the zeros above mean something

  SECTION("a copy never overwrites") {
    const std::string before = test::file_bytes(copy);
    const Status again = copy_database(path, test::encrypted_host(), copy, to_host);
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().code == ErrorCode::kAlreadyExists);
    CHECK(test::file_bytes(copy) == before);
    CHECK(backup_keys.size() == 1);  // no key left behind by the refused copy
  }
  SECTION("without a key store the copy is plain and opens as it is") {
    const std::string plain = dir.file("plain.db");
    REQUIRE(copy_database(path, test::encrypted_host(), plain, Host{}).ok());
    CHECK(inspect_database(plain)->format == DatabaseFormat::kPlain);
    auto opened = open_with(plain, Host{});
    CHECK(opened->get(ids[100])->fields.value("text", "") == canary(100));
  }
  SECTION("a missing source") {
    CHECK(copy_database(dir.file("none.db"), Host{}, dir.file("x.db"), Host{}).error().code ==
          ErrorCode::kNotFound);
  }
}
