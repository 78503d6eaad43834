// The embedded ServerStorage: one SQLite file (DIR/tandem-server.db) holding a
// tandem::Store — the same records, merge state and merge code as on every
// device — and the server's own tables next to it, written through
// sqlite::handle(Store&) inside Store::transaction() so that a merge, its place in
// the school's sequence and the device's mutation bookkeeping commit together.
//
// Durability: the Store opens the file in WAL mode with synchronous=FULL, so a
// COMMIT that returned has reached the disk before any 2xx is sent.
// Thread-safety: writes go through one connection under one mutex. Pushes
// from many devices are group-committed by one commit thread (see
// submit_mutation); no request thread waits for a disk flush. Reads (auth,
// pulls, listings) use a pool of read-only connections, one thread each at a
// time, unless the read caches answer them (tokens, each school's newest
// rows; see WriteEpoch and SchoolTail). Every connection keeps its prepared
// statements (StatementCache).
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "storage/sqlite/audit.hpp"
#include "storage/sqlite/caches.hpp"
#include "storage/sqlite/group_commit.hpp"
#include "storage/sqlite/reader_pool.hpp"
#include "storage/sqlite/devices.hpp"
#include "storage/sqlite/school_reader.hpp"
#include "storage/sqlite/schema.hpp"
#include "storage/sqlite/web_sessions.hpp"
#include "tandem/core/schema.hpp"
#include "tandem/core/sqlite.hpp"
#include "tandem/core/store.hpp"
#include "tandem/server/commit_queue.hpp"
#include "tandem/server/limits.hpp"
#include "tandem/server/storage.hpp"

namespace tandem::server {
namespace sqlite_backend {
namespace {

using sqlite::exec;
using sqlite::StatementCache;
using sqlite::Stmt;
using sqlite::StmtLease;

class SqliteStorage;

// The columns of server_scope, in this order, for every query that reads one.
constexpr const char* kScopeColumns =
    "record, school, kind, parent, anchor, anchor_kind, child, author, assignee, first_seq, "
    "anchor_author";

RecordScope read_scope(const Stmt& st) {
  RecordScope r;
  r.record = st.text(0);
  r.school = st.text(1);
  r.kind = st.text(2);
  r.parent = st.text(3);
  r.anchor = st.text(4);
  r.anchor_kind = st.text(5);
  r.child = st.text(6);
  r.author = st.text(7);
  r.assignee = st.text(8);
  r.first_seq = st.int64(9);
  r.anchor_author = st.text(10);
  return r;
}

Result<std::vector<RecordScope>> read_scopes(Stmt& st) {
  std::vector<RecordScope> out;
  for (;;) {
    auto row = st.step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.push_back(read_scope(st));
  }
  return out;
}

Result<std::vector<std::string>> read_texts(Stmt& st) {
  std::vector<std::string> out;
  for (;;) {
    auto row = st.step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.push_back(st.text(0));
  }
  return out;
}

std::string json_list(const std::vector<std::string>& items) { return Json(items).dump(); }

std::vector<std::string> parse_list(const std::string& text) {
  std::vector<std::string> out;
  auto j = Json::parse(text, nullptr, false);
  if (j.is_array()) {
    for (const auto& e : j)
      if (e.is_string()) out.push_back(e.get<std::string>());
  }
  return out;
}

class SqlitePushTransaction final : public PushTransaction {
 public:
  SqlitePushTransaction(SqliteStorage& s, std::string_view device_id)
      : s_(s), device_id_(device_id) {}
  Result<std::optional<std::string>> record_school(std::string_view record_id) override;
  Result<AppliedChange> apply(const Change& change, std::string_view body) override;
  Result<std::optional<Record>> record(std::string_view id) override;
  Result<std::optional<RecordScope>> scope(std::string_view record) override;
  Status put_scope(const RecordScope& scope) override;
  Result<std::vector<RecordScope>> scopes_under(std::string_view parent) override;
  Result<std::vector<RecordScope>> school_scopes(std::string_view school) override;
  Status set_members(std::string_view school, std::string_view anchor,
                     const std::vector<std::string>& persons) override;
  Status set_links(std::string_view school, std::string_view anchor,
                   const std::vector<std::string>& children) override;
  Result<std::vector<std::string>> anchors_of(std::string_view school,
                                              std::string_view person) override;
  Result<std::vector<std::pair<std::string, std::string>>> links_of(
      const std::vector<std::string>& anchors) override;
  Status put_consent(const ConsentRow& consent) override;
  Result<std::vector<ConsentRow>> consents(std::string_view school) override;
  Result<std::vector<std::string>> members(std::string_view anchor) override;
  Result<std::int64_t> scope_version(std::string_view key) override;
  Status bump_scope_version(std::string_view school) override;
  Result<std::optional<DeviceView>> device_view(std::string_view device) override;
  Status put_device_view(std::string_view device, const DeviceView& view) override;
  Result<std::optional<DeviceRecord>> device(std::string_view device_id) override;
  Result<std::vector<std::string>> record_ids(std::string_view kind) override;
  Result<std::int64_t> first_seq(std::string_view school, std::string_view record) override;
  Result<std::optional<std::string>> meta(std::string_view key) override;
  Status set_meta(std::string_view key, std::string_view value) override;
  Status append_audit(const AuditEntry& entry) override;

 private:
  Result<StmtLease> stmt(const char* sql);
  SqliteStorage& s_;
  std::string_view device_id_;  // the pushing device: each change's origin
};

class SqliteStorage final : public ServerStorage {
  friend class SqlitePushTransaction;

 public:
  SqliteStorage(std::unique_ptr<Store> store, std::shared_ptr<KeyStore> keys)
      : keys_(std::move(keys)), store_(std::move(store)), db_(sqlite::handle(*store_)), stmts_(db_) {}

  ~SqliteStorage() override {
    drain();
    // Readers first: they read through the writer Store's VFS.
    school_reader_.reset();
    readers_.close();
  }

  // Starts the commit thread. REQUIRES: migrate() done.
  void start_committer() {
    group_.start([this](GroupCommit::Batch& batch, const GroupCommit::Touches& touches) {
      return commit_batch(batch, touches);
    });
  }

  void drain() override { group_.drain(); }

  // REQUIRES: migrate() done (the readers need the tables).
  // The readers open the file through the writer's VFS (for an encrypted
  // database, the one that holds its key); the school reader's Stores find
  // the key in keys_.
  Status open_readers(const std::string& path, const std::string& base_vfs) {
    TANDEM_TRY(caches_.open(path));
    Host host;
    host.keys = keys_.get();
    school_reader_.emplace(path, base_vfs, host);
    return readers_.open(path, store_->vfs_name());
  }

  // Creates or upgrades the server's tables (schema.hpp).
  Status migrate() {
    std::lock_guard lock(mu_);
    return schema::migrate(*store_, stmts_);
  }

  // ---- administration ----

  Result<sync::SchoolInfo> create_school(std::string_view name) override {
    std::lock_guard lock(mu_);
    sync::SchoolInfo info;
    TANDEM_TRY(write_transaction([&]() -> Status {
      caches_.changes().shared = true;
      auto id = store_->create("school", Json{{"name", name}});
      if (!id) return std::move(id).error();
      info = {*id, std::string(name)};
      return sequence_local_writes();
    }));
    return info;
  }

  Result<sync::PersonInfo> add_person(std::string_view school, std::string_view name,
                                      std::string_view role, std::string_view profession) override {
    std::lock_guard lock(mu_);
    sync::PersonInfo info;
    TANDEM_TRY(write_transaction([&]() -> Status {
      caches_.changes().shared = true;
      auto s = store_->get(school);
      if (!s && s.error().code != ErrorCode::kNotFound) return s.error();
      if (!s || s->kind != "school" || !s->live()) {
        return make_error(ErrorCode::kNotFound,
                          "no school '" + std::string(school.substr(0, 64)) + "'");
      }
      Json fields{{"school", school}, {"name", name}, {"role", role}};
      if (!profession.empty()) fields["profession"] = profession;
      auto id = store_->create("person", fields);
      if (!id) return std::move(id).error();
      info = {*id, std::string(name), std::string(role)};
      return sequence_local_writes();
    }));
    return info;
  }

  Status update_person(std::string_view person, std::string_view role,
                       const std::optional<std::string>& profession) override {
    std::lock_guard lock(mu_);
    return write_transaction([&]() -> Status {
      caches_.changes().shared = true;
      auto p = store_->get(person);
      if (!p && p.error().code != ErrorCode::kNotFound) return p.error();
      if (!p || p->kind != "person" || !p->live()) {
        return make_error(ErrorCode::kNotFound,
                          "no person '" + std::string(person.substr(0, 64)) + "'");
      }
      TANDEM_TRY(store_->set(person, "role", Json(role)));
      if (profession) TANDEM_TRY(store_->set(person, "profession", Json(*profession)));
      TANDEM_TRY(sequence_local_writes());
      // Every view of the school is worked out again at its device's next sync.
      SqlitePushTransaction txn(*this, "");
      return txn.bump_scope_version(p->school);
    });
  }

  Result<SchoolSnapshot> school_records(std::string_view school, std::int64_t after_seq) override {
    return school_reader_->read(school, after_seq);
  }

  Result<std::optional<std::string>> setting(std::string_view key) override {
    return school_reader_->meta(key);
  }

  Status set_setting(std::string_view key, std::string_view value) override {
    std::lock_guard lock(mu_);
    return write([&]() -> Status {
      auto st = stmts_.get("INSERT OR REPLACE INTO server_meta(key, value) VALUES(?,?)");
      if (!st) return std::move(st).error();
      return (*st)->bind(1, key).bind(2, value).run();
    });
  }

  Result<std::string> add_enrollment_code(std::string_view code_hash, std::string_view person,
                                          std::int64_t now_ms, std::int64_t expires_ms) override {
    return add_person_code(person, [&](const std::string& school) -> Status {
      auto st = stmts_.get(
          "INSERT INTO server_enrollment_codes(code_hash, person, school, created_ms, expires_ms) "
          "VALUES(?,?,?,?,?)");
      if (!st) return std::move(st).error();
      return (*st)
          ->bind(1, code_hash)
          .bind(2, person)
          .bind(3, school)
          .bind(4, now_ms)
          .bind(5, expires_ms)
          .run();
    });
  }

  // On a reader of its own: never behind the commit thread's lock.
  Result<std::optional<Record>> read_record(std::string_view id) override {
    return school_reader_->record(id);
  }

  // ---- leaders' browser sessions (the tables: web_sessions.cpp) ----

  Result<std::string> add_login_code(std::string_view code_hash, std::string_view person,
                                     std::int64_t now_ms, std::int64_t expires_ms) override {
    return add_person_code(person, [&](const std::string& school) {
      return sqlite_web::add_login_code(writer_stmts(), code_hash, person, school, now_ms,
                                        expires_ms);
    });
  }

  Result<std::string> use_login_code(std::string_view code_hash, std::int64_t now_ms) override {
    std::lock_guard lock(mu_);
    std::string person;
    TANDEM_TRY(write([&]() -> Status {
      auto used = sqlite_web::use_login_code(writer_stmts(), code_hash, now_ms);
      if (!used) return std::move(used).error();
      person = std::move(*used);
      return {};
    }));
    return person;
  }

  Status add_web_session(const WebSessionRow& session, std::int64_t now_ms) override {
    std::lock_guard lock(mu_);
    return write(
        [&]() -> Status { return sqlite_web::add_session(writer_stmts(), session, now_ms); });
  }

  Result<WebSessionRow> web_session(std::string_view token_hash, std::int64_t now_ms) override {
    auto reader = readers_.acquire();
    auto found =
        sqlite_web::session([&reader](const char* sql) { return reader.stmt(sql); }, token_hash);
    if (!found) return std::move(found).error();
    if (!*found || (*found)->expires_ms <= now_ms)
      return make_error(ErrorCode::kUnauthorized, "unknown or expired session");
    return std::move(**found);
  }

  Status delete_web_session(std::string_view token_hash) override {
    std::lock_guard lock(mu_);
    return write(
        [&]() -> Status { return sqlite_web::delete_session(writer_stmts(), token_hash); });
  }

  Result<std::vector<DeviceRecord>> list_devices(std::string_view school) override {
    auto reader = readers_.acquire();
    auto st = reader.stmt(
        "SELECT " TANDEM_DEVICE_COLUMNS " FROM server_devices "
        "WHERE school=? ORDER BY created_ms, id");
    if (!st) return std::move(st).error();
    (*st)->bind(1, school);
    std::vector<DeviceRecord> out;
    for (;;) {
      auto row = (*st)->step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      out.push_back(sqlite_devices::read(**st));
    }
    return out;
  }

  Status revoke_device(std::string_view device_id, std::int64_t now_ms, bool wipe) override {
    std::lock_guard lock(mu_);
    TANDEM_TRY(write([&]() -> Status {
      auto st = stmts_.get(
          "UPDATE server_devices SET revoked_ms=coalesce(revoked_ms, ?1), "
          "wipe_ordered_ms=CASE WHEN ?3 THEN coalesce(wipe_ordered_ms, ?1) ELSE wipe_ordered_ms END "
          "WHERE id=?2");
      if (!st) return std::move(st).error();
      TANDEM_TRY((*st)->bind(1, now_ms).bind(2, device_id).bind(3, std::int64_t{wipe}).run());
      if (sqlite3_changes(db_) == 0) {
        return make_error(ErrorCode::kNotFound,
                          "no device '" + std::string(device_id.substr(0, 64)) + "'");
      }
      caches_.changes().revoked.emplace_back(device_id);
      caches_.changes().shared = true;  // the server's token cache drops the device at once
      return {};
    }));
    return {};
  }

  Status request_token_rotation(std::string_view device_id) override {
    std::lock_guard lock(mu_);
    return write([&]() -> Status {
      TANDEM_TRY(sqlite_devices::request_rotation(writer_stmts(), device_id));
      caches_.changes().shared = true;  // cached devices (here or in a running server) learn it
      return {};
    });
  }

  Result<bool> promote_token(std::string_view device_id, std::string_view token_hash,
                             std::int64_t now_ms) override {
    // Every token cache, here and in other processes, drops the old token.
    return token_write(
        [&] { return sqlite_devices::promote(writer_stmts(), device_id, token_hash, now_ms); });
  }

  Result<bool> set_next_token(std::string_view device_id, std::string_view current_hash,
                              std::string_view next_hash) override {
    // Cached records say whether a token is pending: kept true.
    return token_write([&] {
      return sqlite_devices::set_next(writer_stmts(), device_id, current_hash, next_hash);
    });
  }

  // Runs a write of a device's tokens in its own transaction; when it
  // changed something (true), the read caches of every process are dropped.
  template <typename Change>
  Result<bool> token_write(Change change) {
    std::lock_guard lock(mu_);
    bool changed = false;
    TANDEM_TRY(write([&]() -> Status {
      Result<bool> done = change();
      if (!done) return std::move(done).error();
      changed = *done;
      caches_.changes().shared = changed;
      return {};
    }));
    return changed;
  }

  // ---- protocol ----

  // What a code is for, judged exactly as enroll() judges it (the same
  // errors), without consuming it. Under mu_.
  Result<Enrollment> code_holder_locked(std::string_view code_hash, std::int64_t now_ms) {
    Enrollment e;
    std::string person_id, school_id;
    {
      auto code = stmts_.get(
          "SELECT person, school, expires_ms, used_ms FROM server_enrollment_codes WHERE "
          "code_hash=?");
      if (!code) return std::move(code).error();
      Stmt& c = **code;
      c.bind(1, code_hash);
      auto row = c.step();
      if (!row) return std::move(row).error();
      if (!*row || !c.is_null(3)) {
        return make_error(ErrorCode::kUnauthorized, "unknown or already used enrollment code");
      }
      if (c.int64(2) <= now_ms) return make_error(ErrorCode::kExpired, "enrollment code has expired");
      person_id = c.text(0);
      school_id = c.text(1);
    }
    auto person = store_->get(person_id);
    auto school = store_->get(school_id);
    if (!person || !person->live() || !school || !school->live()) {
      // The person or school was deleted after the code was issued.
      return make_error(ErrorCode::kUnauthorized, "enrollment code no longer valid");
    }
    e.school = {school_id, string_field(*school, "name")};
    e.person = {person_id, string_field(*person, "name"), string_field(*person, "role")};
    return e;
  }

  Result<Enrollment> enrollment_code(std::string_view code_hash, std::int64_t now_ms) override {
    std::lock_guard lock(mu_);
    return code_holder_locked(code_hash, now_ms);
  }

  Result<Enrollment> enroll(std::string_view code_hash, const NewDevice& device,
                            std::int64_t now_ms) override {
    std::lock_guard lock(mu_);
    Enrollment e;
    // Consuming the code and registering the device commit together or not
    // at all: a refused or failed enrollment leaves neither a used code nor
    // a device behind.
    TANDEM_TRY(write([&]() -> Status {
      auto holder = code_holder_locked(code_hash, now_ms);
      if (!holder) return std::move(holder).error();
      e = std::move(*holder);
      auto use =
          stmts_.get("UPDATE server_enrollment_codes SET used_ms=?, device=? WHERE code_hash=?");
      if (!use) return std::move(use).error();
      TANDEM_TRY((*use)->bind(1, now_ms).bind(2, device.id).bind(3, code_hash).run());
      auto ins = stmts_.get(
          "INSERT INTO server_devices(id, school, person, name, token_hash, created_ms, "
          "last_seen_ms, token_ms) VALUES(?1,?2,?3,?4,?5,?6,?7,?6)");
      if (!ins) return std::move(ins).error();
      TANDEM_TRY((*ins)
                     ->bind(1, device.id)
                     .bind(2, e.school.id)
                     .bind(3, e.person.id)
                     .bind(4, device.name)
                     .bind(5, device.token_hash)
                     .bind(6, now_ms)
                     .bind(7, now_ms)
                     .run());
      e.device.id = device.id;
      e.device.school = e.school.id;
      e.device.person = e.person.id;
      e.device.name = device.name;
      e.device.created_ms = e.device.last_seen_ms = e.device.token_ms = now_ms;
      return {};
    }));
    return e;
  }

  Result<DeviceRecord> device_by_token(std::string_view token_hash, std::int64_t now_ms) override {
    const std::string key(token_hash);
    Caches::Ticket ticket;
    auto in_memory = caches_.token(key, ticket);
    const bool cached = in_memory.has_value();
    DeviceRecord d = cached ? std::move(*in_memory) : DeviceRecord{};
    if (!cached) {
      std::optional<sqlite_devices::TokenMatch> match;
      {
        auto reader = readers_.acquire();
        auto found = sqlite_devices::by_token(
            [&reader](const char* sql) { return reader.stmt(sql); }, token_hash);
        if (!found) return std::move(found).error();
        match = std::move(*found);
      }
      if (!match) return make_error(ErrorCode::kUnauthorized, "unknown or revoked device token");
      d = std::move(match->device);
      if (d.wipe_ordered_ms) return wipe_order(d, now_ms);
      if (d.revoked_ms)
        return make_error(ErrorCode::kUnauthorized, "unknown or revoked device token");
      d.by_pending_token = match->pending;
    }
    const bool touch = now_ms - d.last_seen_ms >= kLastSeenGranularityMs;
    if (touch) d.last_seen_ms = now_ms;
    if (!cached || touch) caches_.keep_token(key, d, ticket, !cached);
    if (touch) {
      // Written by the commit thread with its next group (woken for it if
      // idle): authentication never waits for a disk flush.
      group_.touch(d.id, now_ms);
    }
    return d;
  }

  // A wiped device's contact: the order is repeated at every contact (a
  // tablet that failed to erase itself is told again); the first one is
  // recorded as its delivery, committed before the answer goes out, so the
  // device list shows it. Never cached: the device is not live.
  Error wipe_order(const DeviceRecord& d, std::int64_t now_ms) {
    Error wiped = make_error(ErrorCode::kDeviceWiped,
                             "this device was reported lost: erase its local data now");
    if (d.wipe_delivered_ms) return wiped;
    std::lock_guard lock(mu_);
    Status recorded = write([&]() -> Status {
      auto st = stmts_.get(
          "UPDATE server_devices SET wipe_delivered_ms=coalesce(wipe_delivered_ms, ?) WHERE id=?");
      if (!st) return std::move(st).error();
      return (*st)->bind(1, now_ms).bind(2, d.id).run();
    });
    // Not recorded (disk full, busy): the order still goes out; the next
    // contact records it.
    (void)recorded;
    return wiped;
  }

  // Group commit (group_commit.hpp): the job waits in the queue; the commit
  // thread runs it with a group in one transaction (commit_batch).
  void submit_mutation(DeviceRecord device, std::int64_t mutation_id, std::string batch_digest,
                       std::uint64_t cost, MutationFn fn, MutationDone done) override {
    auto job = std::make_unique<CommitJob>();
    job->device = std::move(device);
    job->mutation_id = mutation_id;
    job->digest = std::move(batch_digest);
    job->fn = std::move(fn);
    job->done = std::move(done);
    std::string school = job->device.school;
    group_.submit(std::move(school), cost, std::move(job));
  }

  // A job of the same queue without mutation bookkeeping (run_one).
  void submit_write(std::string school, std::uint64_t cost, WriteFn fn, WriteDone done) override {
    auto job = std::make_unique<CommitJob>();
    job->write_fn = std::move(fn);
    job->write_done = std::move(done);
    group_.submit(std::move(school), cost, std::move(job));
  }

  // ---- audit trail (the tables: audit.cpp) ----

  Result<AuditVerification> verify_audit() override {
    return read_snapshot<AuditVerification>(
        [](const sqlite_audit::StmtSource& stmts) { return sqlite_audit::verify(stmts); });
  }

  Result<std::vector<AuditEntryRow>> audit_entries_for_child(std::string_view child) override {
    return read_snapshot<std::vector<AuditEntryRow>>([&](const sqlite_audit::StmtSource& stmts) {
      return sqlite_audit::entries_for_child(stmts, child);
    });
  }

  Result<std::int64_t> prune_audit(std::int64_t before_ms) override {
    std::int64_t total = 0;
    for (;;) {
      std::int64_t deleted = 0;
      {
        std::lock_guard lock(mu_);
        TANDEM_TRY(write([&]() -> Status {
          auto step = sqlite_audit::prune_step(writer_stmts(), before_ms, kAuditPruneBatch);
          if (!step) return std::move(step).error();
          deleted = *step;
          return {};
        }));
      }
      total += deleted;
      if (deleted < kAuditPruneBatch) return total;
    }
  }

  // Up-to-date devices are served from the school's tail in memory. Others
  // read one snapshot: the visible rows and the school's last seq come from
  // the same read transaction, so a page that skips rows never skips past a
  // change it has not seen. A school's first pull loads its tail in the same
  // snapshot.
  Result<ChangePage> read_changes(std::string_view school, std::int64_t after_seq,
                                  std::size_t limit, std::size_t max_bytes,
                                  std::string_view skip_origin) override {
    limit = std::max<std::size_t>(limit, 1);  // a page ends at a row
    const std::string key(school);
    Caches::Ticket ticket;
    bool load_tail = false;
    if (auto cached = caches_.tail_page(key, after_seq, limit, max_bytes, skip_origin, ticket,
                                        load_tail)) {
      return std::move(*cached);
    }
    auto reader = readers_.acquire();
    auto begin = reader.stmt("BEGIN");
    if (!begin) return std::move(begin).error();
    TANDEM_TRY((*begin)->run());
    auto page = read_page(reader, school, after_seq, limit, max_bytes, skip_origin);
    if (!page) return page;  // the lease ends the transaction
    std::optional<SchoolTail> tail;
    if (load_tail) {
      auto loaded = read_tail(reader, school);
      if (!loaded) return std::move(loaded).error();
      tail = std::move(*loaded);
    }
    auto end = reader.stmt("COMMIT");
    if (!end) return std::move(end).error();
    TANDEM_TRY((*end)->run());
    if (tail) caches_.keep_tail(key, std::move(*tail), ticket);
    return page;
  }

  Result<PullState> pull_state(std::string_view device, std::string_view school,
                               std::string_view person) override {
    const std::string key(device);
    Caches::Ticket ticket;
    if (auto cached = caches_.view(key, ticket)) return std::move(*cached);
    auto state = read_pull_state(device, school, person);
    if (!state) return state;
    caches_.keep_view(key, *state, ticket);
    return state;
  }

  Result<PullState> read_pull_state(std::string_view device, std::string_view school,
                                    std::string_view person) {
    auto reader = readers_.acquire();
    auto begin = reader.stmt("BEGIN");
    if (!begin) return std::move(begin).error();
    TANDEM_TRY((*begin)->run());
    PullState state;
    {
      auto st = reader.stmt(kDeviceViewSql);
      if (!st) return std::move(st).error();
      auto view = read_device_view(**st, device);
      if (!view) return std::move(view).error();
      state.view = std::move(*view);
    }
    {
      auto st = reader.stmt(
          "SELECT coalesce(sum(version), 0) FROM server_scope_versions WHERE key IN (?, ?)");
      if (!st) return std::move(st).error();
      (*st)->bind(1, school).bind(2, person);
      auto row = (*st)->step();
      if (!row) return std::move(row).error();
      state.scope_version = *row ? (*st)->int64(0) : 0;
    }
    auto end = reader.stmt("COMMIT");
    if (!end) return std::move(end).error();
    TANDEM_TRY((*end)->run());
    return state;
  }

  Result<std::vector<RecordScope>> scopes_of(const std::vector<std::string>& records) override {
    static const std::string sql = std::string("SELECT ") + kScopeColumns +
                                   " FROM server_scope WHERE record IN (SELECT value FROM "
                                   "json_each(?))";
    auto reader = readers_.acquire();
    auto st = reader.stmt(sql.c_str());
    if (!st) return std::move(st).error();
    (*st)->bind(1, json_list(records));
    return read_scopes(**st);
  }

  Result<ChangePage> read_record_changes(std::string_view school,
                                         const std::vector<std::string>& records,
                                         std::int64_t after_seq, std::int64_t upto_seq,
                                         std::size_t limit, std::size_t max_bytes) override {
    limit = std::max<std::size_t>(limit, 1);
    auto reader = readers_.acquire();
    auto st = reader.stmt(
        "SELECT seq, body, record FROM server_changes WHERE school=? AND seq>? AND seq<=? AND "
        "record IN (SELECT value FROM json_each(?)) ORDER BY seq LIMIT ?");
    if (!st) return std::move(st).error();
    Stmt& s = **st;
    s.bind(1, school).bind(2, after_seq).bind(3, upto_seq).bind(4, json_list(records));
    s.bind(5, static_cast<std::int64_t>(limit) + 1);
    ChangePage page;
    for (;;) {
      auto row = s.step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      std::string body = s.text(1);
      if (!page.fits(body.size(), limit, max_bytes)) {
        page.more = true;
        break;
      }
      page.add(s.int64(0), std::move(body), s.text(2));
    }
    page.cursor = page.more ? page.rows.back().seq : std::max(after_seq, upto_seq);
    return page;
  }

  Result<std::int64_t> count_active_devices(std::int64_t since_ms) override {
    auto reader = readers_.acquire();
    auto st = reader.stmt(
        "SELECT count(*) FROM server_devices WHERE revoked_ms IS NULL AND last_seen_ms>=?");
    if (!st) return std::move(st).error();
    (*st)->bind(1, since_ms);
    auto row = (*st)->step();
    if (!row) return std::move(row).error();
    return (*st)->int64(0);
  }

  StorageStats stats() const override {
    return caches_.stats();
  }

  Status check_health() override {
    auto reader = readers_.acquire();
    auto st = reader.stmt("SELECT 1 FROM server_meta LIMIT 1");
    if (!st) return std::move(st).error();
    auto row = (*st)->step();
    if (!row) return std::move(row).error();
    return {};
  }

  // ---- used by SqlitePushTransaction, under mu_ inside a transaction ----

  // The writer's statements for sqlite_audit.
  sqlite_audit::StmtSource writer_stmts() {
    return [this](const char* sql) { return stmts_.get(sql); };
  }

  // Reads the Store's `records` row directly: the school is kept queryable
  // without decoding content (ROADMAP step 3), and Store::get would load a
  // record's whole text state just to learn it.
  Result<std::optional<std::string>> record_school_locked(std::string_view id) {
    auto st = stmts_.get("SELECT school FROM records WHERE id=?");
    if (!st) return std::move(st).error();
    (*st)->bind(1, id);
    auto row = (*st)->step();
    if (!row) return std::move(row).error();
    if (!*row) return std::optional<std::string>();
    return std::optional<std::string>((*st)->text(0));
  }

  Result<AppliedChange> apply_locked(const Change& change, std::string_view body,
                                     std::string_view origin) {
    auto outcome = store_->apply(change);
    if (!outcome) return std::move(outcome).error();
    AppliedChange applied{*outcome, std::nullopt};
    if (*outcome != ApplyOutcome::kApplied) return applied;
    auto seq = append_to_sequence(change, body, origin);
    if (!seq) return std::move(seq).error();
    applied.seq = *seq;
    caches_.changes().rows.push_back(TailUpdate{
        change.school, {*seq, std::string(origin), change.record, std::string(body)}, false});
    if (change.op == Op::kPurge) {
      // Erasure: the record's content leaves the sequence; the purge stays so
      // that every device erases it on its next pull.
      auto del = stmts_.get("DELETE FROM server_changes WHERE school=? AND record=? AND seq<>?");
      if (!del) return std::move(del).error();
      TANDEM_TRY((*del)->bind(1, change.school).bind(2, change.record).bind(3, *seq).run());
      purged_ = true;
      caches_.changes().rows.push_back(TailUpdate{change.school, {*seq, {}, change.record, {}}, true});
    }
    return applied;
  }

 private:
  // Stores a one-time code for a live person with `insert` (given the
  // person's school), in one transaction; returns the school. kNotFound: no
  // such live person.
  template <typename Insert>
  Result<std::string> add_person_code(std::string_view person, Insert&& insert) {
    std::lock_guard lock(mu_);
    std::string school;
    TANDEM_TRY(write([&]() -> Status {
      auto p = store_->get(person);
      if (!p && p.error().code != ErrorCode::kNotFound) return p.error();
      if (!p || p->kind != "person" || !p->live()) {
        return make_error(ErrorCode::kNotFound,
                          "no person '" + std::string(person.substr(0, 64)) + "'");
      }
      school = p->school;
      return insert(school);
    }));
    return school;
  }

  // `read` on a reader, inside one read transaction (one snapshot).
  template <typename T, typename Read>
  Result<T> read_snapshot(Read&& read) {
    auto reader = readers_.acquire();
    auto begin = reader.stmt("BEGIN");
    if (!begin) return std::move(begin).error();
    TANDEM_TRY((*begin)->run());
    Result<T> out = read([&reader](const char* sql) { return reader.stmt(sql); });
    return out;  // the lease ends the read transaction
  }

  static std::string string_field(const Record& r, const char* name) {
    auto it = r.fields.find(name);
    return it != r.fields.end() && it->is_string() ? it->get<std::string>() : std::string();
  }

  static constexpr const char* kDeviceViewSql =
      "SELECT number, view, acked_view, scope_version, day, gone, backfill, backfill_upto, rewind "
      "FROM server_device_views WHERE device=?";
  static Result<std::optional<DeviceView>> read_device_view(Stmt& st, std::string_view device) {
    st.bind(1, device);
    auto row = st.step();
    if (!row) return std::move(row).error();
    if (!*row) return std::optional<DeviceView>();
    DeviceView v;
    v.number = st.int64(0);
    v.view = st.text(1);
    v.acked_view = st.text(2);
    v.scope_version = st.int64(3);
    v.day = st.text(4);
    v.gone = parse_list(st.text(5));
    v.backfill = parse_list(st.text(6));
    v.backfill_upto = st.int64(7);
    v.rewind = st.int64(8) != 0;
    return std::optional<DeviceView>(std::move(v));
  }

  // The school's last seq (0 before its first change) through `st`, the
  // prepared kLastSeqSql of whichever connection asks.
  static constexpr const char* kLastSeqSql =
      "SELECT last_seq FROM server_school_seq WHERE school=?";
  static Result<std::int64_t> last_seq_of(Result<StmtLease> st, std::string_view school) {
    if (!st) return std::move(st).error();
    (*st)->bind(1, school);
    auto row = (*st)->step();
    if (!row) return std::move(row).error();
    return *row ? (*st)->int64(0) : 0;
  }

  // REQUIRES: a read transaction on `reader`.
  static Result<ChangePage> read_page(ReaderPool::Lease& reader, std::string_view school,
                                      std::int64_t after_seq, std::size_t limit,
                                      std::size_t max_bytes, std::string_view skip_origin) {
    ChangePage page;
    {
      auto st = reader.stmt(
          "SELECT seq, body, record FROM server_changes WHERE school=? AND seq>? AND "
          "origin<>? ORDER BY seq LIMIT ?");
      if (!st) return std::move(st).error();
      Stmt& s = **st;
      s.bind(1, school).bind(2, after_seq).bind(3, skip_origin);
      s.bind(4, static_cast<std::int64_t>(limit) + 1);
      page.rows.reserve(std::min<std::size_t>(limit, 64));
      for (;;) {
        auto row = s.step();
        if (!row) return std::move(row).error();
        if (!*row) break;
        std::string body = s.text(1);
        if (!page.fits(body.size(), limit, max_bytes)) {
          page.more = true;
          break;
        }
        page.add(s.int64(0), std::move(body), s.text(2));
      }
    }
    if (page.more) {
      page.cursor = page.rows.back().seq;
      return page;
    }
    // Everything after the cursor was read: the page ends at the school's
    // last seq, past any rows skipped for their origin.
    auto last = last_seq_of(reader.stmt(kLastSeqSql), school);
    if (!last) return std::move(last).error();
    page.cursor = std::max(after_seq, *last);
    if (!page.rows.empty()) page.cursor = std::max(page.cursor, page.rows.back().seq);
    return page;
  }

  using Batch = GroupCommit::Batch;
  using Touches = GroupCommit::Touches;

  // Runs `batch` and the last-seen `touches` in one transaction, and returns
  // how many of its mutations it answered (the first ones): it starts no
  // further one once the group has run kCommitGroupTime; those are left as
  // they were, for the next group.
  // REQUIRES: on the commit thread.
  std::size_t commit_batch(Batch& batch, const Touches& touches) {
    std::lock_guard lock(mu_);
    const auto started = std::chrono::steady_clock::now();
    std::size_t ran = 0;
    Status committed = write_transaction([&]() -> Status {
      for (auto& entry : batch) {
        if (ran > 0 && std::chrono::steady_clock::now() - started >= kCommitGroupTime) break;
        ++ran;
        CommitJob* job = entry.job.get();
        seq_undo_.clear();
        const std::size_t updates_before = caches_.changes().rows.size();
        job->status = store_->transaction([&]() -> Status {
          // An exception must not escape with the transaction open (nor stop
          // the commit thread): it fails this mutation only.
          try {
            return run_one(*job);
          } catch (const std::exception&) {
            return make_error(ErrorCode::kInternal, "internal error while applying a push");
          }
        });
        if (job->status) {
          if (!job->write_fn && job->outcome.state == MutationState::kCommitted) {
            caches_.writer().devices[job->device.id] = {job->mutation_id, job->digest};
          }
        } else {
          undo_sequence();  // its rows were rolled back with its savepoint
          caches_.changes().rows.resize(updates_before);
        }
      }
      for (const auto& [id, ms] : touches) {
        auto touch =
            stmts_.get("UPDATE server_devices SET last_seen_ms=max(last_seen_ms, ?) WHERE id=?");
        if (!touch) return std::move(touch).error();
        TANDEM_TRY((*touch)->bind(1, ms).bind(2, id).run());
      }
      return {};
    });
    if (!committed) {
      // A failed transaction answers the whole group (as before it had time
      // limits): nothing it held is retried behind the callers' backs.
      ran = batch.size();
      for (auto& entry : batch) entry.job->status = committed;
    }
    if (purged_) {
      // Erasure must not linger in the write-ahead log either: copy it into
      // the database (secure_delete zeroes freed pages) and truncate it.
      // Best effort: a reader holding an old snapshot can delay it.
      purged_ = false;
      (void)exec(db_, "PRAGMA wal_checkpoint(TRUNCATE)");
    }
    return ran;
  }

  // The school's newest rows. REQUIRES: a read transaction on `reader`.
  static Result<SchoolTail> read_tail(ReaderPool::Lease& reader, std::string_view school) {
    SchoolTail tail;
    {
      auto st = reader.stmt(
          "SELECT seq, origin, record, body FROM server_changes WHERE school=? ORDER BY seq DESC "
          "LIMIT ?");
      if (!st) return std::move(st).error();
      Stmt& s = **st;
      s.bind(1, school).bind(2, static_cast<std::int64_t>(SchoolTail::kMaxRows));
      for (;;) {
        auto row = s.step();
        if (!row) return std::move(row).error();
        if (!*row) break;
        tail.rows.push_front(SchoolTail::Row{s.int64(0), s.text(1), s.text(2), s.text(3)});
      }
    }
    // Fewer rows than the tail holds: the tail is the whole sequence.
    if (tail.rows.size() == SchoolTail::kMaxRows) tail.base = tail.rows.front().seq - 1;
    auto last = last_seq_of(reader.stmt(kLastSeqSql), school);
    if (!last) return std::move(last).error();
    tail.last_seq = *last;
    if (!tail.rows.empty()) tail.last_seq = std::max(tail.last_seq, tail.rows.back().seq);
    return tail;
  }

  // A sequencing write: runs `fn` in a write transaction that starts from a
  // valid WriterCache and stores the sequence counters it advanced. Once it
  // is durable, the tails get the rows it appended (write(): invalidate),
  // before the caller answers anyone, so a pull that follows an answer sees
  // them. A failed transaction leaves the WriterCache empty (it may hold
  // what was rolled back) and its rows out of the tails. REQUIRES: mu_ held.
  Status write_transaction(const std::function<Status()>& fn) {
    caches_.changes().sequenced = true;
    return write([&]() -> Status {
      TANDEM_TRY(check_writer_cache());
      TANDEM_TRY(fn());
      return flush_sequence();
    });
  }

  // Every write transaction on the writer connection: `fn` in one Store
  // transaction, then the caches are told how it ended (the rule in
  // caches.hpp). REQUIRES: mu_ held, not inside a transaction.
  Status write(const std::function<Status()>& fn) {
    Status s = store_->transaction(fn);
    caches_.invalidate(s ? Caches::Event::kCommitted : Caches::Event::kRolledBack);
    return s;
  }

  Status check_writer_cache() {
    auto st = stmts_.get("PRAGMA data_version");
    if (!st) return std::move(st).error();
    auto row = (*st)->step();
    if (!row) return std::move(row).error();
    caches_.writer_saw(*row ? (*st)->int64(0) : -1);
    return {};
  }

  // The school's next seq, counted in memory (undone by undo_sequence()).
  Result<std::int64_t> next_seq(const std::string& school) {
    auto it = caches_.writer().last_seq.find(school);
    if (it == caches_.writer().last_seq.end()) {
      auto last = last_seq_of(stmts_.get(kLastSeqSql), school);
      if (!last) return std::move(last).error();
      it = caches_.writer().last_seq.emplace(school, *last).first;
    }
    seq_undo_.emplace_back(school, it->second);
    if (std::find(caches_.writer().dirty_schools.begin(), caches_.writer().dirty_schools.end(), school) ==
        caches_.writer().dirty_schools.end()) {
      caches_.writer().dirty_schools.push_back(school);
    }
    return ++it->second;
  }

  void undo_sequence() {
    for (auto it = seq_undo_.rbegin(); it != seq_undo_.rend(); ++it) {
      caches_.writer().last_seq[it->first] = it->second;
    }
    seq_undo_.clear();
  }

  // Writes the counters advanced in this transaction: one row per school,
  // not one write per change.
  Status flush_sequence() {
    for (const auto& school : caches_.writer().dirty_schools) {
      auto st = stmts_.get(
          "INSERT INTO server_school_seq(school, last_seq) VALUES(?, ?) "
          "ON CONFLICT(school) DO UPDATE SET last_seq=excluded.last_seq");
      if (!st) return std::move(st).error();
      TANDEM_TRY((*st)->bind(1, school).bind(2, caches_.writer().last_seq.at(school)).run());
    }
    caches_.writer().dirty_schools.clear();
    return {};
  }

  // The device's last push: from the cache, else from its row (nullopt:
  // unknown or revoked device).
  Result<std::optional<LastMutation>> last_mutation(const std::string& device) {
    if (auto it = caches_.writer().devices.find(device); it != caches_.writer().devices.end()) {
      return std::optional<LastMutation>(it->second);
    }
    auto st = stmts_.get(
        "SELECT last_mutation_id, last_digest, revoked_ms FROM server_devices WHERE id=?");
    if (!st) return std::move(st).error();
    Stmt& s = **st;
    s.bind(1, device);
    auto row = s.step();
    if (!row) return std::move(row).error();
    if (!*row || !s.is_null(2)) return std::optional<LastMutation>();
    LastMutation last{s.int64(0), s.text(1)};
    caches_.writer().devices.emplace(device, last);
    return std::optional<LastMutation>(std::move(last));
  }

  // One mutation (or a submit_write job), inside the batch transaction (its
  // own savepoint).
  Status run_one(CommitJob& job) {
    if (job.write_fn) {
      SqlitePushTransaction txn(*this, "");  // rows it sequences have no device origin
      return job.write_fn(txn);
    }
    MutationOutcome& out = job.outcome;
    auto last = last_mutation(job.device.id);
    if (!last) return std::move(last).error();
    // Revoked between authentication and now: the push must not land.
    if (!*last) return make_error(ErrorCode::kUnauthorized, "unknown or revoked device token");
    out.last_mutation_id = (*last)->id;
    if (job.mutation_id < (*last)->id) {
      out.state = MutationState::kStale;
      return {};
    }
    if (job.mutation_id == (*last)->id) {
      if ((*last)->digest != job.digest) {
        out.state = MutationState::kReused;
        return {};
      }
      // A retry: its stored answer (rare, so not cached).
      auto st = stmts_.get("SELECT last_response FROM server_devices WHERE id=?");
      if (!st) return std::move(st).error();
      (*st)->bind(1, job.device.id);
      auto row = (*st)->step();
      if (!row) return std::move(row).error();
      if (!*row) return make_error(ErrorCode::kCorrupt, "the device's last answer is missing");
      out.state = MutationState::kReplayed;
      out.response = (*st)->text(0);
      return {};
    }
    SqlitePushTransaction txn(*this, job.device.id);
    auto answer = job.fn(txn);
    if (!answer) return std::move(answer).error();
    auto up = stmts_.get(
        "UPDATE server_devices SET last_mutation_id=?, last_digest=?, last_response=? WHERE id=?");
    if (!up) return std::move(up).error();
    TANDEM_TRY((*up)
                   ->bind(1, job.mutation_id)
                   .bind(2, job.digest)
                   .bind(3, *answer)
                   .bind(4, job.device.id)
                   .run());
    out.state = MutationState::kCommitted;
    out.response = std::move(*answer);
    out.last_mutation_id = job.mutation_id;
    return {};
  }

  // Appends a change to its school's sequence; returns its seq. `body` is
  // its canonical JSON text; `origin` the pushing device ("" for the
  // server's own).
  Result<std::int64_t> append_to_sequence(const Change& change, std::string_view body,
                                          std::string_view origin) {
    auto next = next_seq(change.school);
    if (!next) return next;
    const std::int64_t seq = *next;
    auto ins = stmts_.get(
        "INSERT INTO server_changes(school, seq, hlc, record, kind, body, origin) "
        "VALUES(?,?,?,?,?,?,?)");
    if (!ins) return std::move(ins).error();
    TANDEM_TRY((*ins)
                   ->bind(1, change.school)
                   .bind(2, seq)
                   .bind(3, change.hlc.str())
                   .bind(4, change.record)
                   .bind(5, change.kind)
                   .bind(6, body)
                   .bind(7, origin)
                   .run());
    return seq;
  }

  // Local writes (admin) land in the Store's outbox; the server has no
  // upstream, so they go into the school's sequence and leave the outbox.
  // REQUIRES: inside a Store transaction.
  Status sequence_local_writes() {
    auto pending = store_->outbox(kMaxChangesPerPush);
    if (!pending) return std::move(pending).error();
    std::vector<std::string> hlcs;
    for (const auto& logged : *pending) {
      auto seq = append_to_sequence(logged.change, logged.change.to_json().dump(), "");
      if (!seq) return std::move(seq).error();
      hlcs.push_back(logged.change.id());
      // The administration writes reference data only (schools, people):
      // every sequenced record has a scope row (access.hpp reads its kind).
      auto scope = stmts_.get(
          "INSERT OR IGNORE INTO server_scope(record, school, kind, first_seq) VALUES(?,?,?,?)");
      if (!scope) return std::move(scope).error();
      TANDEM_TRY((*scope)
                     ->bind(1, logged.change.record)
                     .bind(2, logged.change.school)
                     .bind(3, logged.change.kind)
                     .bind(4, *seq)
                     .run());
    }
    return store_->ack(hlcs);
  }

  std::shared_ptr<KeyStore> keys_;  // the database's key (--db-key), or none
  ReaderPool readers_;
  std::optional<SqliteSchoolReader> school_reader_;
  std::mutex mu_;  // the writer connection, the Store and stmts_
  std::unique_ptr<Store> store_;
  sqlite3* db_;
  StatementCache stmts_;                  // the server's statements on the writer connection
  bool purged_ = false;                   // a purge was applied in the current batch (under mu_)
  Caches caches_;  // every cache (caches.hpp: the rule that keeps them true)
  // (school, last seq before) per seq given out to the current mutation.
  std::vector<std::pair<std::string, std::int64_t>> seq_undo_;

  GroupCommit group_;  // the queue and the commit thread (stopped first: ~SqliteStorage)
};

Result<std::optional<std::string>> SqlitePushTransaction::record_school(
    std::string_view record_id) {
  return s_.record_school_locked(record_id);
}

Result<AppliedChange> SqlitePushTransaction::apply(const Change& change, std::string_view body) {
  return s_.apply_locked(change, body, device_id_);
}

Result<StmtLease> SqlitePushTransaction::stmt(const char* sql) { return s_.stmts_.get(sql); }

Result<std::optional<Record>> SqlitePushTransaction::record(std::string_view id) {
  auto r = s_.store_->get(id);
  if (!r) {
    if (r.error().code == ErrorCode::kNotFound) return std::optional<Record>();
    return std::move(r).error();
  }
  return std::optional<Record>(std::move(*r));
}

Result<std::optional<RecordScope>> SqlitePushTransaction::scope(std::string_view record) {
  static const std::string sql =
      std::string("SELECT ") + kScopeColumns + " FROM server_scope WHERE record=?";
  auto st = stmt(sql.c_str());
  if (!st) return std::move(st).error();
  (*st)->bind(1, record);
  auto row = (*st)->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<RecordScope>();
  return std::optional<RecordScope>(read_scope(**st));
}

Status SqlitePushTransaction::put_scope(const RecordScope& r) {
  auto st = stmt(
      "INSERT OR REPLACE INTO server_scope(record, school, kind, parent, anchor, anchor_kind, "
      "child, author, assignee, first_seq, anchor_author) VALUES(?,?,?,?,?,?,?,?,?,?,?)");
  if (!st) return std::move(st).error();
  return (*st)
      ->bind(1, r.record)
      .bind(2, r.school)
      .bind(3, r.kind)
      .bind(4, r.parent)
      .bind(5, r.anchor)
      .bind(6, r.anchor_kind)
      .bind(7, r.child)
      .bind(8, r.author)
      .bind(9, r.assignee)
      .bind(10, r.first_seq)
      .bind(11, r.anchor_author)
      .run();
}

Result<std::vector<std::string>> SqlitePushTransaction::members(std::string_view anchor) {
  auto st = stmt("SELECT person FROM server_members WHERE anchor=? ORDER BY person");
  if (!st) return std::move(st).error();
  (*st)->bind(1, anchor);
  return read_texts(**st);
}

Result<std::vector<RecordScope>> SqlitePushTransaction::scopes_under(std::string_view parent) {
  static const std::string sql =
      std::string("SELECT ") + kScopeColumns + " FROM server_scope WHERE parent=? AND parent<>''";
  auto st = stmt(sql.c_str());
  if (!st) return std::move(st).error();
  (*st)->bind(1, parent);
  return read_scopes(**st);
}

Result<std::vector<RecordScope>> SqlitePushTransaction::school_scopes(std::string_view school) {
  static const std::string sql =
      std::string("SELECT ") + kScopeColumns + " FROM server_scope WHERE school=?";
  auto st = stmt(sql.c_str());
  if (!st) return std::move(st).error();
  (*st)->bind(1, school);
  return read_scopes(**st);
}

Status SqlitePushTransaction::set_members(std::string_view school, std::string_view anchor,
                                          const std::vector<std::string>& persons) {
  auto del = stmt("DELETE FROM server_members WHERE anchor=?");
  if (!del) return std::move(del).error();
  TANDEM_TRY((*del)->bind(1, anchor).run());
  for (const auto& p : persons) {
    auto ins = stmt("INSERT OR IGNORE INTO server_members(anchor, person, school) VALUES(?,?,?)");
    if (!ins) return std::move(ins).error();
    TANDEM_TRY((*ins)->bind(1, anchor).bind(2, p).bind(3, school).run());
  }
  return {};
}

Status SqlitePushTransaction::set_links(std::string_view school, std::string_view anchor,
                                        const std::vector<std::string>& children) {
  auto del = stmt("DELETE FROM server_links WHERE anchor=?");
  if (!del) return std::move(del).error();
  TANDEM_TRY((*del)->bind(1, anchor).run());
  for (const auto& c : children) {
    auto ins = stmt("INSERT OR IGNORE INTO server_links(anchor, child, school) VALUES(?,?,?)");
    if (!ins) return std::move(ins).error();
    TANDEM_TRY((*ins)->bind(1, anchor).bind(2, c).bind(3, school).run());
  }
  return {};
}

Result<std::vector<std::string>> SqlitePushTransaction::anchors_of(std::string_view school,
                                                                   std::string_view person) {
  auto st = stmt("SELECT anchor FROM server_members WHERE person=? AND school=?");
  if (!st) return std::move(st).error();
  (*st)->bind(1, person).bind(2, school);
  return read_texts(**st);
}

Result<std::vector<std::pair<std::string, std::string>>> SqlitePushTransaction::links_of(
    const std::vector<std::string>& anchors) {
  auto st = stmt(
      "SELECT anchor, child FROM server_links WHERE anchor IN (SELECT value FROM json_each(?))");
  if (!st) return std::move(st).error();
  (*st)->bind(1, json_list(anchors));
  std::vector<std::pair<std::string, std::string>> out;
  for (;;) {
    auto row = (*st)->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.emplace_back((*st)->text(0), (*st)->text(1));
  }
  return out;
}

Status SqlitePushTransaction::put_consent(const ConsentRow& c) {
  auto st = stmt(
      "INSERT OR REPLACE INTO server_consents(id, school, child, scope, given_on, withdrawn_on, "
      "live) VALUES(?,?,?,?,?,?,?)");
  if (!st) return std::move(st).error();
  return (*st)
      ->bind(1, c.id)
      .bind(2, c.school)
      .bind(3, c.child)
      .bind(4, c.scope)
      .bind(5, c.given_on)
      .bind(6, c.withdrawn_on)
      .bind(7, std::int64_t{c.live ? 1 : 0})
      .run();
}

Result<std::vector<ConsentRow>> SqlitePushTransaction::consents(std::string_view school) {
  auto st = stmt(
      "SELECT id, school, child, scope, given_on, withdrawn_on, live FROM server_consents WHERE "
      "school=?");
  if (!st) return std::move(st).error();
  (*st)->bind(1, school);
  std::vector<ConsentRow> out;
  for (;;) {
    auto row = (*st)->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    Stmt& q = **st;
    out.push_back(ConsentRow{q.text(0), q.text(1), q.text(2), q.text(3), q.text(4), q.text(5),
                             q.int64(6) != 0});
  }
  return out;
}

Result<std::int64_t> SqlitePushTransaction::scope_version(std::string_view school) {
  auto st = stmt("SELECT version FROM server_scope_versions WHERE key=?");
  if (!st) return std::move(st).error();
  (*st)->bind(1, school);
  auto row = (*st)->step();
  if (!row) return std::move(row).error();
  return *row ? (*st)->int64(0) : 0;
}

Status SqlitePushTransaction::bump_scope_version(std::string_view school) {
  s_.caches_.changes().views = true;
  auto st = stmt(
      "INSERT INTO server_scope_versions(key, version) VALUES(?, 1) "
      "ON CONFLICT(key) DO UPDATE SET version=version+1");
  if (!st) return std::move(st).error();
  return (*st)->bind(1, school).run();
}

Result<std::optional<DeviceView>> SqlitePushTransaction::device_view(std::string_view device) {
  auto st = stmt(SqliteStorage::kDeviceViewSql);
  if (!st) return std::move(st).error();
  return SqliteStorage::read_device_view(**st, device);
}

Status SqlitePushTransaction::put_device_view(std::string_view device, const DeviceView& v) {
  s_.caches_.changes().views = true;
  auto st = stmt(
      "INSERT OR REPLACE INTO server_device_views(device, number, view, acked_view, "
      "scope_version, day, gone, backfill, backfill_upto, rewind) VALUES(?,?,?,?,?,?,?,?,?,?)");
  if (!st) return std::move(st).error();
  return (*st)
      ->bind(1, device)
      .bind(2, v.number)
      .bind(3, v.view)
      .bind(4, v.acked_view)
      .bind(5, v.scope_version)
      .bind(6, v.day)
      .bind(7, json_list(v.gone))
      .bind(8, json_list(v.backfill))
      .bind(9, v.backfill_upto)
      .bind(10, std::int64_t{v.rewind ? 1 : 0})
      .run();
}

Result<std::optional<DeviceRecord>> SqlitePushTransaction::device(std::string_view device_id) {
  auto st = stmt(
      "SELECT " TANDEM_DEVICE_COLUMNS " FROM server_devices "
      "WHERE id=?");
  if (!st) return std::move(st).error();
  (*st)->bind(1, device_id);
  auto row = (*st)->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<DeviceRecord>();
  return std::optional<DeviceRecord>(sqlite_devices::read(**st));
}

Result<std::vector<std::string>> SqlitePushTransaction::record_ids(std::string_view kind) {
  auto st = stmt("SELECT id FROM records WHERE kind=? ORDER BY id");
  if (!st) return std::move(st).error();
  (*st)->bind(1, kind);
  return read_texts(**st);
}

Result<std::int64_t> SqlitePushTransaction::first_seq(std::string_view school,
                                                      std::string_view record) {
  auto st = stmt("SELECT min(seq) FROM server_changes WHERE school=? AND record=?");
  if (!st) return std::move(st).error();
  (*st)->bind(1, school).bind(2, record);
  auto row = (*st)->step();
  if (!row) return std::move(row).error();
  return *row && !(*st)->is_null(0) ? (*st)->int64(0) : 0;
}

Result<std::optional<std::string>> SqlitePushTransaction::meta(std::string_view key) {
  auto st = stmt("SELECT value FROM server_meta WHERE key=?");
  if (!st) return std::move(st).error();
  (*st)->bind(1, key);
  auto row = (*st)->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>((*st)->text(0));
}

Status SqlitePushTransaction::set_meta(std::string_view key, std::string_view value) {
  auto st = stmt("INSERT OR REPLACE INTO server_meta(key, value) VALUES(?, ?)");
  if (!st) return std::move(st).error();
  return (*st)->bind(1, key).bind(2, value).run();
}

Status SqlitePushTransaction::append_audit(const AuditEntry& entry) {
  return sqlite_audit::append(s_.writer_stmts(), entry);
}

}  // namespace
}  // namespace sqlite_backend

void configure_sqlite_for_server() {
  // Every connection of this process is used by one thread at a time (the
  // writer under its mutex, readers leased), so SQLite's own per-call
  // locking is not needed; nor is its global memory accounting, which takes
  // a process-wide mutex on every allocation and showed up as a hot lock
  // with many requests at once.
  sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

Result<std::unique_ptr<ServerStorage>> open_sqlite_storage(const SqliteStorageOptions& options) {
  StoreOptions so;
  so.path = options.path;
  so.clock = options.clock;
  so.max_ahead_ms = options.max_skew_ms;
  so.vfs = options.vfs;
  // Each commit group writes every page it touched to the log: smaller pages
  // write less per group (measured with bench_server_rps: more syncs/s than
  // with 8 KiB).
  so.page_size = 4096;
  // With a key store (--db-key) the file is encrypted (a plain one is
  // migrated: Encryption::kAuto); without one an encrypted file fails with
  // key_missing.
  Host host;
  host.keys = options.keys.get();
  auto store = Store::open(so, host);
  if (!store) return std::move(store).error();
  // The Store already sets these; they are restated because the server's 2xx
  // promise depends on them.
  TANDEM_TRY(sqlite::exec(sqlite::handle(**store), "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"));
  auto storage = std::make_unique<sqlite_backend::SqliteStorage>(std::move(*store), options.keys);
  TANDEM_TRY(storage->migrate());
  TANDEM_TRY(storage->open_readers(options.path, options.vfs));
  storage->start_committer();
  return std::unique_ptr<ServerStorage>(std::move(storage));
}

}  // namespace tandem::server
