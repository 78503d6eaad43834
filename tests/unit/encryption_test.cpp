// Encryption at rest (core/include/tandem/core/encryption.hpp,
// core/src/crypto/): no byte of what was written is on disk, in the
// database, its WAL, its journal or temporary files, also after updates,
// deletes, purges and a crash mid-transaction; every page decrypts to what
// SQLite wrote; a flipped byte is tampering, never data; keys missing, wrong
// or rotated give clear errors and lose nothing; plain files are migrated.
#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tandem/core/encryption.hpp"
#include "tandem/core/store.hpp"
#include "test_util.hpp"

using namespace tandem;  // NOLINT(google-build-using-namespace)
using tandem::test::TempDir;

namespace {

std::string hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::size_t raw_count(const std::string& bytes, const std::string& text) {
  std::size_t n = 0;
  for (auto at = bytes.find(text); at != std::string::npos; at = bytes.find(text, at + 1)) ++n;
  return n;
}

// Occurrences on disk, in every file SQLite keeps beside the database.
std::size_t on_disk(const std::string& path, const std::string& text) {
  std::size_t n = 0;
  for (const char* suffix : {"", "-wal", "-journal", "-shm"}) n += raw_count(test::file_bytes(path + suffix), text);
  return n;
}

std::unique_ptr<Store> open_encrypted(const std::string& path, Host host = test::encrypted_host()) {
  StoreOptions o;
  o.path = path;
  o.encryption = Encryption::kRequired;
  auto s = Store::open(o, host);
  INFO("open: " << (s ? "" : s.error().message));
  REQUIRE(s.ok());
  REQUIRE((*s)->encrypted());
  if ((*s)->default_school().empty()) {
    auto school = (*s)->create("school", Json{{"name", "Skovbakkeskolen"}});
    REQUIRE(school.ok());
    REQUIRE((*s)->set_default_school(*school).ok());
  }
  return std::move(*s);
}

Error open_error(const std::string& path, Host host = test::encrypted_host()) {
  StoreOptions o;
  o.path = path;
  auto s = Store::open(o, host);
  REQUIRE_FALSE(s.ok());
  return s.error();
}

void flip_byte(const std::string& path, long offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(f);
  f.seekg(offset);
  char c = 0;
  f.get(c);
  f.seekp(offset);
  f.put(static_cast<char>(c ^ 0x20));
}

void copy_file(const std::string& from, const std::string& to) {
  std::ofstream(to, std::ios::binary) << test::file_bytes(from);
}

std::string canary(int i) { return "CANARY-" + std::to_string(i) + "-q7Zx"; }

}  // namespace

TEST_CASE("1,000 notes: no byte of them on disk, all of them in the decrypted pages, also after updates, deletes, "
          "purges and a crash mid-transaction",
          "[core][encryption]") {
  TempDir dir;
  const std::string path = dir.file("tablet.db");
  std::vector<std::string> ids;
  {
    auto s = open_encrypted(path);
    for (int i = 0; i < 1000; ++i) {
      auto id = s->create("action", Json{{"text", canary(i)}});
      REQUIRE(id.ok());
      ids.push_back(*id);
    }
    CHECK(on_disk(path, "CANARY-") == 0);
    CHECK(test::file_bytes(path + "-wal").size() > 0);  // the WAL holds them too, sealed
    // The scan decrypts: every note is there (so 0 on disk means something).
    CHECK(test::occurrences(path, canary(0)) >= 1);
    CHECK(test::occurrences(path, canary(999)) >= 1);
    CHECK(test::occurrences(path, "CANARY-") >= 1000);

    for (int i = 0; i < 200; ++i) REQUIRE(s->set(ids[i], "text", "UPDATED-" + std::to_string(i) + "-q7Zx").ok());
    for (int i = 200; i < 300; ++i) REQUIRE(s->delete_record(ids[i]).ok());
    for (int i = 300; i < 400; ++i) REQUIRE(s->purge(ids[i]).ok());
    CHECK(on_disk(path, "CANARY-") == 0);
    CHECK(on_disk(path, "UPDATED-") == 0);
    CHECK(test::occurrences(path, "UPDATED-7-q7Zx") >= 1);
    // Purged: gone from the decrypted pages as well (secure_delete, checkpoint).
    for (int i = 300; i < 400; i += 7) {
      INFO(canary(i));
      CHECK(test::occurrences(path, canary(i)) == 0);
    }
  }

  // A crash mid-transaction: a child process writes big notes inside one
  // transaction (they spill into the WAL before any commit) and dies.
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    StoreOptions o;
    o.path = path;
    auto s = Store::open(o, test::encrypted_host());
    if (!s) ::_exit(2);
    (void)(*s)->transaction([&]() -> Status {
      const std::string big(150 * 1024, 'x');
      for (int i = 0; i < 120; ++i) {
        auto id = (*s)->create("action", Json{{"text", "CRASH-" + std::to_string(i) + "-q7Zx " + big}});
        if (!id) ::_exit(3);
      }
      ::_exit(0);  // killed before the commit
    });
    ::_exit(4);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  const std::string wal = test::file_bytes(path + "-wal");
  CHECK(wal.size() > 1024u * 1024);  // the uncommitted transaction did reach the disk
  CHECK(on_disk(path, "CRASH-") == 0);
  CHECK(on_disk(path, "xxxxxxxxxxxxxxxx") == 0);
  CHECK(on_disk(path, "CANARY-") == 0);
  {
    auto s = open_encrypted(path);  // recovers past the torn, uncommitted tail
    auto live = s->list("action");
    REQUIRE(live.ok());
    CHECK(live->size() == 800);  // 1,000 - 100 deleted - 100 purged; the crash added none
    auto r = s->get(ids[999]);
    REQUIRE(r.ok());
    CHECK(r->fields["text"] == canary(999));
    CHECK(on_disk(path, "CRASH-") == 0);
  }
  std::printf("TANDEM_RELIABILITY {\"fault\":\"canary scan on encrypted files\",\"cases\":4,\"result\":\"0 of 1000 "
              "canaries on disk after writes, updates, deletes, purges and a crash mid-transaction; all found "
              "decrypted\",\"command\":\"build/ci/tests/tandem_unit_tests '[encryption]'\"}\n");
}

TEST_CASE("temporary files and rollback journals of an encrypted database are ciphertext", "[core][encryption]") {
  TempDir dir;
  const std::string path = dir.file("tablet.db");
  auto s = open_encrypted(path);
  REQUIRE(s->create("action", Json{{"text", "kept"}}).ok());

  // Another connection through the same file layer, told to keep temporary
  // tables in files (the Store keeps them in memory) in our folder.
  const std::string tmp = dir.file("tmp");
  REQUIRE(std::system(("mkdir -p '" + tmp + "'").c_str()) == 0);
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, s->vfs_name().c_str()) == SQLITE_OK);
  sqlite3_temp_directory = sqlite3_mprintf("%s", tmp.c_str());
  REQUIRE(sqlite3_exec(db,
                       "PRAGMA temp_store=FILE; PRAGMA temp.cache_size=5;"
                       " CREATE TEMP TABLE t(x); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE "
                       "i < 3000) INSERT INTO t SELECT 'TEMPCANARY-' || i || '-' || hex(randomblob(64)) FROM n;",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  // SQLite unlinks temporary files at once: read them through /proc.
  std::size_t temp_bytes = 0, temp_hits = 0;
  DIR* fds = ::opendir("/proc/self/fd");
  REQUIRE(fds != nullptr);
  while (dirent* e = ::readdir(fds)) {
    char target[4096];
    const std::string link = std::string("/proc/self/fd/") + e->d_name;
    const ssize_t n = ::readlink(link.c_str(), target, sizeof(target) - 1);
    if (n <= 0) continue;
    target[n] = '\0';
    if (std::string(target).rfind(tmp, 0) != 0) continue;
    const std::string bytes = test::file_bytes(link);
    temp_bytes += bytes.size();
    temp_hits += raw_count(bytes, "TEMPCANARY-");
  }
  ::closedir(fds);
  CHECK(temp_bytes > 100u * 1024);  // the temp table did spill to a file
  CHECK(temp_hits == 0);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE x LIKE 'TEMPCANARY-%'", -1, &st, nullptr) ==
          SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  CHECK(sqlite3_column_int(st, 0) == 3000);  // and reads back decrypted
  sqlite3_finalize(st);
  sqlite3_close(db);
  sqlite3_free(sqlite3_temp_directory);
  sqlite3_temp_directory = nullptr;

  // A rollback journal (not the Store's mode, but the layer seals it too):
  // a second database through the same layer in journal_mode=DELETE, with
  // a transaction open over old page images full of canaries.
  const std::string jpath = dir.file("journal.db");
  REQUIRE(sqlite3_open_v2(jpath.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                          s->vfs_name().c_str()) == SQLITE_OK);
  int reserve = 40;
  sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
  REQUIRE(sqlite3_exec(db,
                       "PRAGMA journal_mode=DELETE; CREATE TABLE t(x); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL "
                       "SELECT i+1 FROM n WHERE i < 500) INSERT INTO t SELECT 'JCANARY-' || i FROM n;"
                       " BEGIN; UPDATE t SET x = 'new';",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  const std::string journal = test::file_bytes(jpath + "-journal");
  CHECK(journal.size() > 1000);
  CHECK(raw_count(journal, "JCANARY-") == 0);
  CHECK(raw_count(test::file_bytes(jpath), "JCANARY-") == 0);
  REQUIRE(sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE x LIKE 'JCANARY-%'", -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  CHECK(sqlite3_column_int(st, 0) == 500);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST_CASE("a flipped byte anywhere in an encrypted database is reported as tampering, never read as data",
          "[core][encryption]") {
  TempDir dir;
  const std::string path = dir.file("tablet.db");
  {
    auto s = open_encrypted(path);
    for (int i = 0; i < 300; ++i) REQUIRE(s->create("action", Json{{"text", canary(i)}}).ok());
  }  // closed: checkpointed into the database file
  const auto size = static_cast<long>(test::file_bytes(path).size());
  REQUIRE(size >= 8 * 8192);
  std::string original;
  {
    auto s = open_encrypted(path);
    original = *s->canonical_dump();
  }
  // Page 1's readable header (page size), its ciphertext, a page's
  // ciphertext, its nonce, its MAC, the last page. A page SQLite reads fails
  // with "tampered"; one it does not read (free) returns nothing; the scan
  // reports it either way. Never different data.
  const long page = 8192;
  int refused = 0;
  for (long offset : {17L, 100L, 3 * page + 1000, 4 * page - 40 + 3, 5 * page - 5, size - 100}) {
    INFO("offset " << offset);
    const std::string copy = dir.file("copy" + std::to_string(offset) + ".db");
    copy_file(path, copy);
    flip_byte(copy, offset);
    StoreOptions o;
    o.path = copy;
    auto s = Store::open(o, test::encrypted_host());
    if (!s) {
      CHECK(s.error().code == ErrorCode::kTampered);
      ++refused;
      continue;
    }
    auto all = (*s)->canonical_dump();
    if (all) {
      CHECK(*all == original);
    } else {
      CHECK(all.error().code == ErrorCode::kTampered);
      CHECK(all.error().message.find("CANARY") == std::string::npos);
      ++refused;
    }
    s->reset();
    auto scan = scan_database(copy, test::encrypted_host(), "CANARY-");
    if (offset != 17) {  // a wrong page size: the scan cannot cut pages
      REQUIRE(scan.ok());
      CHECK(scan->tampered_pages == 1);
    }
  }
  CHECK(refused >= 4);

  // A committed frame in a WAL (copied while the store holds it open).
  {
    auto s = open_encrypted(path);
    for (int i = 0; i < 50; ++i) REQUIRE(s->create("action", Json{{"text", "late " + canary(i)}}).ok());
    copy_file(path, dir.file("w.db"));
    copy_file(path + "-wal", dir.file("w.db-wal"));
  }
  const auto wal_size = static_cast<long>(test::file_bytes(dir.file("w.db-wal")).size());
  REQUIRE(wal_size > 3 * (8192 + 24));
  flip_byte(dir.file("w.db-wal"), 32 + 24 + 500);  // the first frame's page
  StoreOptions o;
  o.path = dir.file("w.db");
  auto s = Store::open(o, test::encrypted_host());
  Error e;
  if (s) {
    auto all = (*s)->canonical_dump();
    REQUIRE_FALSE(all.ok());
    e = all.error();
  } else {
    e = s.error();
  }
  CHECK(e.code == ErrorCode::kTampered);
}

TEST_CASE("missing, wrong and rotated keys: clear errors, nothing lost", "[core][encryption]") {
  TempDir dir;
  const std::string path = dir.file("tablet.db");
  std::string before;
  {
    auto s = open_encrypted(path);
    for (int i = 0; i < 100; ++i) REQUIRE(s->create("action", Json{{"text", canary(i)}}).ok());
    before = *s->canonical_dump();
  }
  auto info = inspect_database(path);
  REQUIRE(info.ok());
  REQUIRE(info->format == DatabaseFormat::kEncrypted);
  const std::string name = info->key_name;
  const std::string key = **test::test_keys().get(name);
  const std::string file_before = test::file_bytes(path);

  SECTION("missing") {
    test::MemoryKeyStore empty;
    Host h;
    h.keys = &empty;
    Error e = open_error(path, h);
    CHECK(e.code == ErrorCode::kKeyMissing);
    CHECK(e.message.find(name) != std::string::npos);
    CHECK(open_error(path, Host{}).code == ErrorCode::kKeyMissing);  // no key store at all
  }
  SECTION("wrong") {
    test::MemoryKeyStore other;
    REQUIRE(other.put(name, std::string(32, 'k')).ok());
    Host h;
    h.keys = &other;
    CHECK(open_error(path, h).code == ErrorCode::kWrongKey);
    CHECK(test::file_bytes(path) == file_before);  // nothing was changed
  }
  SECTION("rotated") {
    REQUIRE(rotate_database_key(path, test::encrypted_host()).ok());
    auto after = inspect_database(path);
    REQUIRE(after.ok());
    CHECK(after->key_name != name);
    CHECK_FALSE(*test::test_keys().get(name));  // the old key is erased
    // The old key does not open the new file.
    test::MemoryKeyStore old;
    REQUIRE(old.put(after->key_name, key).ok());
    Host h;
    h.keys = &old;
    CHECK(open_error(path, h).code == ErrorCode::kWrongKey);
    CHECK(on_disk(path, "CANARY-") == 0);
  }
  // In every case the right key still opens the file, with everything in it.
  auto s = open_encrypted(path);
  CHECK(*s->canonical_dump() == before);
}

TEST_CASE("a plain database is encrypted when opened with a key store, every row kept", "[core][encryption]") {
  TempDir dir;
  const std::string path = dir.file("old.db");
  std::string before;
  {
    StoreOptions o;
    o.path = path;
    o.encryption = Encryption::kOff;
    auto s = Store::open(o, test::encrypted_host());
    REQUIRE(s.ok());
    CHECK_FALSE((*s)->encrypted());
    auto school = (*s)->create("school", Json{{"name", "Skovbakkeskolen"}});
    REQUIRE(school.ok());
    REQUIRE((*s)->set_default_school(*school).ok());
    for (int i = 0; i < 200; ++i) REQUIRE((*s)->create("action", Json{{"text", canary(i)}}).ok());
    before = *(*s)->canonical_dump();
  }
  CHECK(on_disk(path, "CANARY-") > 0);
  REQUIRE(inspect_database(path)->format == DatabaseFormat::kPlain);
  auto s = open_encrypted(path);  // kAuto would do the same: the host has keys
  CHECK(*s->canonical_dump() == before);
  CHECK(inspect_database(path)->format == DatabaseFormat::kEncrypted);
  CHECK(on_disk(path, "CANARY-") == 0);
  CHECK(test::occurrences(path, canary(42)) >= 1);
  REQUIRE(s->create("action", Json{{"text", "after"}}).ok());
}

// POSIX locks belong to a process and an inode: closing any descriptor of a
// database the process has open in SQLite drops that connection's locks, and
// another process closing its own connection then believes it is the last
// and deletes the WAL under the first (whose later commits go to a deleted
// file: a server stopped seeing enrollment codes issued by its admin CLI).
// Looking at the header, scanning and opening a second Store must keep them.
TEST_CASE("looking at an open database keeps its locks: another process cannot delete its WAL",
          "[core][encryption]") {
  for (const bool encrypted : {false, true}) {
    INFO((encrypted ? "encrypted" : "plain"));
    TempDir dir;
    const std::string path = dir.file("locks.db");
    StoreOptions o;
    o.path = path;
    o.encryption = encrypted ? Encryption::kRequired : Encryption::kOff;
    const Host host = encrypted ? test::encrypted_host() : Host{};
    auto first = Store::open(o, host);
    REQUIRE(first.ok());
    auto school = (*first)->create("school", Json{{"name", "Skovbakkeskolen"}});
    REQUIRE(school.ok());
    REQUIRE((*first)->set_default_school(*school).ok());
    REQUIRE(inspect_database(path).ok());
    REQUIRE(scan_database(path, host, "Skovbakke").ok());
    {
      auto second = Store::open(o, host);
      REQUIRE(second.ok());
      REQUIRE((*second)->get(*school).ok());
    }
    REQUIRE(std::filesystem::exists(path + "-wal"));
    // Another process (a fresh one: a forked child would inherit SQLite's
    // record of this process's locks and never try to take them) opens the
    // database, writes and closes.
    std::string key_env;
    if (encrypted) {
      auto info = inspect_database(path);
      REQUIRE(info.ok());
      auto key = test::test_keys().get(info->key_name);
      REQUIRE(key.ok());
      REQUIRE(key->has_value());
      key_env = "TANDEM_LOCK_HELPER_KEY=" + info->key_name + "=" + hex(**key);
    }
    const std::string db_env = "TANDEM_LOCK_HELPER_DB=" + path;
    // This program again, by its real path (through the emulator when
    // cross-built: /proc/self/exe then names the target binary).
    std::vector<std::string> args;
    {
      std::istringstream emulator(TANDEM_TEST_EMULATOR);
      for (std::string part; emulator >> part;) args.push_back(part);
    }
    std::error_code ec;
    const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    REQUIRE_FALSE(ec);
    args.push_back(self);
    args.push_back("another process writes to a database and closes it");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    // posix_spawnp: the emulator is found on PATH.
    const std::string path_env = std::string("PATH=") + (std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin");
    std::vector<char*> env = {const_cast<char*>(db_env.c_str()), const_cast<char*>(path_env.c_str())};
    if (!key_env.empty()) env.push_back(const_cast<char*>(key_env.c_str()));
    env.push_back(nullptr);
    posix_spawn_file_actions_t quiet;  // its report would interleave with ours
    REQUIRE(::posix_spawn_file_actions_init(&quiet) == 0);
    REQUIRE(::posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0) == 0);
    pid_t child = 0;
    const int spawned = ::posix_spawnp(&child, argv[0], &quiet, nullptr, argv.data(), env.data());
    ::posix_spawn_file_actions_destroy(&quiet);
    REQUIRE(spawned == 0);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    CHECK(std::filesystem::exists(path + "-wal"));
    // The first store sees the other process's write, and what it writes now
    // is in the file that others read.
    auto seen = (*first)->list("action");
    REQUIRE(seen.ok());
    CHECK(seen->size() == 1);
    auto mine = (*first)->create("action", Json{{"text", "after the other process"}});
    REQUIRE(mine.ok());
    auto third = Store::open(o, host);
    REQUIRE(third.ok());
    auto all = (*third)->list("action");
    REQUIRE(all.ok());
    CHECK(all->size() == 2);
  }
}

// The other process of the test above (hidden: run only by name, with the
// database and its key in the environment).
TEST_CASE("another process writes to a database and closes it", "[.][lock-helper]") {
  const char* db = std::getenv("TANDEM_LOCK_HELPER_DB");
  REQUIRE(db != nullptr);
  StoreOptions o;
  o.path = db;
  o.encryption = Encryption::kOff;
  Host host;
  if (const char* key = std::getenv("TANDEM_LOCK_HELPER_KEY")) {
    const std::string k = key;
    const auto eq = k.find('=');
    REQUIRE(eq != std::string::npos);
    std::string secret;
    for (std::size_t i = eq + 1; i + 1 < k.size(); i += 2)
      secret.push_back(static_cast<char>(std::stoi(k.substr(i, 2), nullptr, 16)));
    REQUIRE(test::test_keys().put(k.substr(0, eq), secret).ok());
    host = test::encrypted_host();
    o.encryption = Encryption::kRequired;
  }
  auto s = Store::open(o, host);
  REQUIRE(s.ok());
  REQUIRE((*s)->create("action", Json{{"text", "from another process"}}).ok());
}
