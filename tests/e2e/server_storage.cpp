// The embedded server storage in-process, on a real SQLite file: what its
// read caches (device tokens, the newest rows of each school's sequence)
// serve must be what the file holds, also after another process (here: a
// second storage on the same file, as the admin CLI opens it) has written.
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <future>
#include <random>

#include "cli_runner.hpp"
#include "server_process.hpp"
#include "storage_conformance.hpp"
#include "tandem/server/limits.hpp"
#include "tandem/server/storage.hpp"
#include "tandem/server/stores.hpp"

using tandem::Change;
using tandem::Op;
using tandem::server::ChangePage;
using tandem::server::DeviceRecord;
using tandem::server::MutationOutcome;
using tandem::server::MutationState;
using tandem::server::NewDevice;
using tandem::server::PushTransaction;
using tandem::server::ServerStorage;
using tandem::test::ChangeMaker;
using tandem::test::TempDir;
using tandem::test::conformance::make_school;  // a school with one person and enrolled devices
using tandem::test::conformance::School;
using tandem::test::conformance::seqs;

namespace {

std::unique_ptr<ServerStorage> open_storage(const TempDir& dir) {
  auto s = tandem::server::open_sqlite_storage({dir.file("tandem-server.db")});
  REQUIRE(s);
  return std::move(*s);
}

// Pushes `changes` as one mutation of `device` and waits until it is durable.
MutationOutcome push(ServerStorage& storage, const DeviceRecord& device, std::int64_t mutation_id,
                     const std::vector<Change>& changes) {
  std::promise<tandem::Result<MutationOutcome>> done;
  storage.submit_mutation(
      device, mutation_id, "digest-" + std::to_string(mutation_id), changes.size(),
      [&](PushTransaction& txn) -> tandem::Result<std::string> {
        for (const auto& c : changes) {
          auto applied = txn.apply(c, c.to_json().dump());
          if (!applied) return std::move(applied).error();
        }
        return std::string("{}");
      },
      [&](tandem::Result<MutationOutcome> outcome) { done.set_value(std::move(outcome)); });
  auto outcome = done.get_future().get();
  REQUIRE(outcome);
  REQUIRE(outcome->state == MutationState::kCommitted);
  return *outcome;
}

ChangePage read(ServerStorage& storage, const std::string& school, std::int64_t cursor,
                std::size_t limit, const std::string& skip_origin,
                std::size_t max_bytes = tandem::server::kMaxPullPageBytes) {
  auto page = storage.read_changes(school, cursor, limit, max_bytes, skip_origin);
  REQUIRE(page);
  // Within both bounds, except that a page always holds its first row.
  CHECK(page->rows.size() <= std::max<std::size_t>(limit, 1));
  if (page->rows.size() > 1) CHECK(page->bytes <= max_bytes);
  return *page;
}

void check_same_page(const ChangePage& served, const ChangePage& from_file) {
  CHECK(seqs(served) == seqs(from_file));
  CHECK(served.cursor == from_file.cursor);
  CHECK(served.more == from_file.more);
  for (std::size_t i = 0; i < std::min(served.rows.size(), from_file.rows.size()); ++i) {
    CHECK(served.rows[i].body == from_file.rows[i].body);
  }
}

}  // namespace

TEST_CASE("storage: pages served from memory are the pages the file holds", "[sqlite-only][server][storage]") {
  TempDir dir;
  auto storage = open_storage(dir);
  const School school = make_school(*storage, "Skolen", 3);
  ChangeMaker maker;
  std::mt19937 rng(20261123);
  std::vector<Change> courses;
  std::int64_t mutation_ids[3] = {0, 0, 0};
  // Pushes from three devices, with pulls in between (the first one loads
  // the school's rows into memory), edits of earlier records, and purges.
  for (int round = 0; round < 200; ++round) {
    const std::size_t who = rng() % 3;
    std::vector<Change> batch;
    const int n = 1 + static_cast<int>(rng() % 5);
    for (int i = 0; i < n; ++i) {
      const auto pick = rng() % 10;
      if (pick < 6 || courses.empty()) {
        courses.push_back(maker.create_course(school.id, "course " + std::to_string(round)));
        batch.push_back(courses.back());
      } else if (pick < 9) {
        batch.push_back(maker.set_field(courses[rng() % courses.size()], "title",
                                        "edit " + std::to_string(round)));
      } else {
        batch.push_back(maker.op(courses[rng() % courses.size()], Op::kPurge));
      }
    }
    push(*storage, school.devices[who], ++mutation_ids[who], batch);
    if (round % 7 == 0) (void)read(*storage, school.id, 0, 50, school.devices[who].id);
  }

  // Every cursor, with each device's own rows left out or none: the same
  // page as a storage that has only the file (its first read of a school is
  // from the file).
  const std::string nobody = "dev_none";  // leaves out no row ("" would: the server's own)
  const ChangePage head = read(*storage, school.id, 0, 100000, nobody, SIZE_MAX);
  REQUIRE(head.rows.size() > 300);
  std::vector<std::int64_t> cursors = {0, head.cursor, head.cursor - 1, head.cursor + 5};
  for (int i = 0; i < 12; ++i) {
    cursors.push_back(head.rows[rng() % head.rows.size()].seq);
  }
  for (const std::int64_t cursor : cursors) {
    for (const std::string& skip : {school.devices[0].id, school.devices[2].id, nobody}) {
      for (const std::size_t limit : {std::size_t{1}, std::size_t{7}, std::size_t{50}}) {
        // Byte budgets too: below one change (a page of one), a few changes,
        // none that binds.
        for (const std::size_t max_bytes : {std::size_t{1}, std::size_t{700}, SIZE_MAX}) {
          INFO("cursor " << cursor << " skip '" << skip << "' limit " << limit << " max_bytes "
                         << max_bytes);
          const ChangePage served = read(*storage, school.id, cursor, limit, skip, max_bytes);
          auto fresh = open_storage(dir);
          check_same_page(served, read(*fresh, school.id, cursor, limit, skip, max_bytes));
        }
      }
    }
  }
}

TEST_CASE("storage: what another process writes reaches a running server's next request",
          "[sqlite-only][server][storage]") {
  TempDir dir;
  auto server = open_storage(dir);
  const School school = make_school(*server, "Skolen", 2);
  const DeviceRecord& tablet = school.devices[0];
  ChangeMaker maker;
  push(*server, tablet, 1, {maker.create_course(school.id, "first")});
  // The server now holds the token and the school's rows in memory.
  REQUIRE(server->device_by_token("Skolen-token-0", 10));
  const ChangePage before = read(*server, school.id, 0, 1000, school.devices[1].id);

  // The admin CLI is another process with its own connection to the file.
  auto admin = open_storage(dir);
  auto person = admin->add_person(school.id, "New teacher", "teacher", "");
  REQUIRE(person);

  SECTION("new records of the school are pulled at once, and new pushes follow them") {
    const ChangePage after = read(*server, school.id, before.cursor, 1000, school.devices[1].id);
    REQUIRE(after.rows.size() == 1);
    CHECK(after.rows[0].body.find(person->id) != std::string::npos);
    // The server's next push gets the next seq, not one the CLI already used.
    push(*server, tablet, 2, {maker.create_course(school.id, "second")});
    const ChangePage all = read(*server, school.id, 0, 1000, "dev_none");
    std::vector<std::int64_t> expected(all.rows.size());
    for (std::size_t i = 0; i < expected.size(); ++i)
      expected[i] = 1 + static_cast<std::int64_t>(i);
    CHECK(seqs(all) == expected);  // dense: nothing skipped, nothing numbered twice
    check_same_page(all, read(*open_storage(dir), school.id, 0, 1000, "dev_none"));
  }
  SECTION("a device revoked from the CLI is refused on its next request") {
    REQUIRE(server->device_by_token("Skolen-token-0", 15));  // held in memory again
    REQUIRE(admin->revoke_device(tablet.id, 20));
    auto refused = server->device_by_token("Skolen-token-0", 30);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == tandem::ErrorCode::kUnauthorized);
    // A push that was authenticated before the revocation does not land.
    std::promise<tandem::Result<MutationOutcome>> done;
    server->submit_mutation(
        tablet, 2, "late", 1, [](PushTransaction&) { return tandem::Result<std::string>("{}"); },
        [&](tandem::Result<MutationOutcome> o) { done.set_value(std::move(o)); });
    auto late = done.get_future().get();
    REQUIRE_FALSE(late);
    CHECK(late.error().code == tandem::ErrorCode::kUnauthorized);
    // The other device is unaffected.
    CHECK(server->device_by_token("Skolen-token-1", 40));
  }
  SECTION("a write that does not announce itself is seen after the next commit group") {
    REQUIRE(server->device_by_token("Skolen-token-0", 15));  // held in memory again
    // As the sqlite3 shell, or an admin command killed before its bump.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(dir.file("tandem-server.db").c_str(), &db) == SQLITE_OK);
    const std::string sql = "UPDATE server_devices SET revoked_ms=20 WHERE id='" + tablet.id + "'";
    CHECK(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
    push(*server, school.devices[1], 1, {maker.create_course(school.id, "by the other tablet")});
    auto refused = server->device_by_token("Skolen-token-0", 30);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == tandem::ErrorCode::kUnauthorized);
  }
}

TEST_CASE("storage: a rotated token replaces the old one in every process at once",
          "[sqlite-only][server][storage][token]") {
  using tandem::ErrorCode;
  TempDir dir;
  auto server = open_storage(dir);
  const School school = make_school(*server, "Skolen", 1);
  const std::string id = school.devices[0].id;
  const std::string h0 = "Skolen-token-0";  // the hash the device authenticates with
  auto fresh = server->device_by_token(h0, 10);
  REQUIRE(fresh);
  CHECK(fresh->token_ms == 1);  // dated at enrollment
  CHECK_FALSE(fresh->rotate_due);
  CHECK_FALSE(fresh->token_pending);
  CHECK(fresh->token_hash == h0);
  // Another server process on the same file holds the token in memory too.
  auto other = open_storage(dir);
  REQUIRE(other->device_by_token(h0, 11));

  // The administration (a third process) asks for a rotation.
  auto admin = open_storage(dir);
  REQUIRE(admin->request_token_rotation(id));
  auto unknown = admin->request_token_rotation("dev_nope");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code == ErrorCode::kNotFound);
  auto due = server->device_by_token(h0, 12);
  REQUIRE(due);
  CHECK(due->rotate_due);

  // A new token is stored only while the caller's token is the current one;
  // a second one replaces the first (whose answer was lost).
  auto stale = server->set_next_token(id, "not-the-current-token", "h1");
  REQUIRE(stale);
  CHECK_FALSE(*stale);
  for (const char* next : {"h1", "h2"}) {
    auto stored = server->set_next_token(id, h0, next);
    REQUIRE(stored);
    CHECK(*stored);
  }
  auto replaced = server->device_by_token("h1", 13);
  REQUIRE_FALSE(replaced);
  CHECK(replaced.error().code == ErrorCode::kUnauthorized);
  auto both = other->device_by_token(h0, 14);
  REQUIRE(both);
  CHECK(both->token_pending);

  // The new token authenticates as the pending one; a sync in the other
  // process makes it current (the one that was replaced cannot be).
  auto by_new = other->device_by_token("h2", 15);
  REQUIRE(by_new);
  CHECK(by_new->by_pending_token);
  CHECK(by_new->token_hash == "h2");
  REQUIRE(server->device_by_token(h0, 15));  // held in memory here
  auto lost = server->promote_token(id, "h1", 15);
  REQUIRE(lost);
  CHECK_FALSE(*lost);
  auto promoted = other->promote_token(id, "h2", 15);
  REQUIRE(promoted);
  CHECK(*promoted);
  auto current = other->device_by_token("h2", 16);
  REQUIRE(current);
  CHECK_FALSE(current->by_pending_token);
  CHECK(current->token_ms == 15);
  CHECK_FALSE(current->rotate_due);
  CHECK_FALSE(current->token_pending);
  for (ServerStorage* s : {server.get(), other.get()}) {
    auto old = s->device_by_token(h0, 16);  // the server held it in memory
    REQUIRE_FALSE(old);
    CHECK(old.error().code == ErrorCode::kUnauthorized);
    REQUIRE(s->device_by_token("h2", 17));
  }
  auto listed = admin->list_devices(school.id);
  REQUIRE(listed);
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().token_ms == 15);
  CHECK_FALSE(listed->front().rotate_due);
  auto old_current = server->set_next_token(id, h0, "h3");
  REQUIRE(old_current);
  CHECK_FALSE(*old_current);

  // A revoked device gets no new token, and its pending one does not work.
  REQUIRE(server->set_next_token(id, "h2", "h5"));
  REQUIRE(admin->revoke_device(id, 20));
  auto after_revoke = server->set_next_token(id, "h2", "h6");
  REQUIRE(after_revoke);
  CHECK_FALSE(*after_revoke);
  auto pending = server->device_by_token("h5", 21);
  REQUIRE_FALSE(pending);
  CHECK(pending.error().code == ErrorCode::kUnauthorized);
  auto revoked = admin->request_token_rotation(id);
  REQUIRE_FALSE(revoked);
  CHECK(revoked.error().code == ErrorCode::kForbidden);
}

TEST_CASE("storage: the epoch file made by root belongs to the database's owner",
          "[sqlite-only][server][storage]") {
  if (geteuid() != 0) {
    WARN("needs root (an admin command run with sudo): skipped");
    return;
  }
  TempDir dir;
  const std::string db = dir.file("tandem-server.db");
  open_storage(dir);  // creates the database, as root
  REQUIRE(std::remove((db + "-epoch").c_str()) == 0);
  REQUIRE(chown(db.c_str(), 65534, 65534) == 0);  // as if the server's user made it
  REQUIRE(chmod(db.c_str(), 0640) == 0);
  auto admin = open_storage(dir);  // an admin command with sudo
  struct stat st {};
  REQUIRE(::stat((db + "-epoch").c_str(), &st) == 0);
  CHECK(st.st_uid == 65534);
  CHECK(st.st_gid == 65534);
  CHECK((st.st_mode & 0777 & ~0640u) == 0);  // no permission the database does not give
}
