// The SQLite ServerStorage: opening, administration, settings, the leaders'
// web sessions, the audit trail and the door to group commit. The class and
// where its other concerns live: storage.hpp.
#include "storage/sqlite/storage.hpp"

#include "storage/sqlite/push_transaction.hpp"
#include "storage/sqlite/schema.hpp"
#include "storage/sqlite/web_sessions.hpp"
#include "tandem/server/stores.hpp"
#include "tandem/server/limits.hpp"

namespace tandem::server {
namespace sqlite_backend {
namespace {

// `read` on a reader, inside one read transaction (one snapshot).
template <typename T, typename Read>
Result<T> read_snapshot(ReaderPool& readers, Read&& read) {
  auto reader = readers.acquire();
  auto begin = reader.stmt("BEGIN");
  if (!begin) return std::move(begin).error();
  TANDEM_TRY((*begin)->run());
  Result<T> out = read([&reader](const char* sql) { return reader.stmt(sql); });
  return out;  // the lease ends the read transaction
}

}  // namespace

SqliteStorage::SqliteStorage(std::unique_ptr<Store> store, std::shared_ptr<KeyStore> keys)
    : keys_(std::move(keys)), store_(std::move(store)), db_(sqlite::handle(*store_)), stmts_(db_) {}

SqliteStorage::~SqliteStorage() {
  drain();
  // Readers first: they read through the writer Store's VFS.
  school_reader_.reset();
  readers_.close();
}

void SqliteStorage::start_committer() {
  group_.start([this](GroupCommit::Batch& batch, const GroupCommit::Touches& touches) {
    return commit_batch(batch, touches);
  });
}

void SqliteStorage::drain() { group_.drain(); }

Status SqliteStorage::open_readers(const std::string& path, const std::string& base_vfs) {
  TANDEM_TRY(caches_.open(path));
  Host host;
  host.keys = keys_.get();
  school_reader_.emplace(path, base_vfs, host);
  return readers_.open(path, store_->vfs_name());
}

Status SqliteStorage::migrate() {
  std::lock_guard lock(mu_);
  return schema::migrate(*store_, stmts_);
}

// ---- administration ----

Result<sync::SchoolInfo> SqliteStorage::create_school(std::string_view name) {
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

Result<sync::PersonInfo> SqliteStorage::add_person(std::string_view school, std::string_view name,
                                                   std::string_view role,
                                                   std::string_view profession) {
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

Status SqliteStorage::update_person(std::string_view person, std::string_view role,
                                    const std::optional<std::string>& profession) {
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

Result<SchoolSnapshot> SqliteStorage::school_records(std::string_view school,
                                                     std::int64_t after_seq) {
  return school_reader_->read(school, after_seq);
}

// Read by every sync (a school's lease): from memory once read.
Result<std::optional<std::string>> SqliteStorage::setting(std::string_view key) {
  const std::string k(key);
  Caches::Ticket ticket;
  if (auto cached = caches_.setting(k, ticket)) return std::move(*cached);
  auto value = school_reader_->meta(key);
  if (value) caches_.keep_setting(k, *value, ticket);
  return value;
}

Status SqliteStorage::set_setting(std::string_view key, std::string_view value) {
  std::lock_guard lock(mu_);
  return write([&]() -> Status {
    auto st = stmts_.get("INSERT OR REPLACE INTO server_meta(key, value) VALUES(?,?)");
    if (!st) return std::move(st).error();
    caches_.changes().shared = true;  // settings are cached (here and in a running server)
    return (*st)->bind(1, key).bind(2, value).run();
  });
}

// On a reader of its own: never behind the commit thread's lock.
Result<std::optional<Record>> SqliteStorage::read_record(std::string_view id) {
  return school_reader_->record(id);
}

Result<std::string> SqliteStorage::add_person_code(
    std::string_view person, const std::function<Status(const std::string&)>& insert) {
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

// ---- leaders' browser sessions (the tables: web_sessions.cpp) ----

Result<std::string> SqliteStorage::add_login_code(std::string_view code_hash,
                                                  std::string_view person, std::int64_t now_ms,
                                                  std::int64_t expires_ms) {
  return add_person_code(person, [&](const std::string& school) {
    return sqlite_web::add_login_code(writer_stmts(), code_hash, person, school, now_ms,
                                      expires_ms);
  });
}

Result<std::string> SqliteStorage::use_login_code(std::string_view code_hash, std::int64_t now_ms) {
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

Status SqliteStorage::add_web_session(const WebSessionRow& session, std::int64_t now_ms) {
  std::lock_guard lock(mu_);
  return write(
      [&]() -> Status { return sqlite_web::add_session(writer_stmts(), session, now_ms); });
}

Result<WebSessionRow> SqliteStorage::web_session(std::string_view token_hash, std::int64_t now_ms) {
  auto reader = readers_.acquire();
  auto found =
      sqlite_web::session([&reader](const char* sql) { return reader.stmt(sql); }, token_hash);
  if (!found) return std::move(found).error();
  if (!*found || (*found)->expires_ms <= now_ms)
    return make_error(ErrorCode::kUnauthorized, "unknown or expired session");
  return std::move(**found);
}

Status SqliteStorage::delete_web_session(std::string_view token_hash) {
  std::lock_guard lock(mu_);
  return write([&]() -> Status { return sqlite_web::delete_session(writer_stmts(), token_hash); });
}

// Group commit (group_commit.hpp): the job waits in the queue; the commit
// thread runs it with a group in one transaction (commit_batch).
void SqliteStorage::submit_mutation(DeviceRecord device, std::int64_t mutation_id,
                                    std::string batch_digest, std::uint64_t cost, MutationFn fn,
                                    MutationDone done) {
  group_.submit_mutation(std::move(device), mutation_id, std::move(batch_digest), cost, std::move(fn),
                         std::move(done));
}

// A job of the same queue without mutation bookkeeping (run_one).
void SqliteStorage::submit_write(std::string school, std::uint64_t cost, WriteFn fn,
                                 WriteDone done) {
  group_.submit_write(std::move(school), cost, std::move(fn), std::move(done));
}

// ---- audit trail (the tables: audit.cpp) ----

Result<AuditVerification> SqliteStorage::verify_audit() {
  return read_snapshot<AuditVerification>(
      readers_, [](const sqlite_audit::StmtSource& stmts) { return sqlite_audit::verify(stmts); });
}

Result<std::vector<AuditEntryRow>> SqliteStorage::audit_entries_for_child(std::string_view child) {
  return read_snapshot<std::vector<AuditEntryRow>>(
      readers_, [&](const sqlite_audit::StmtSource& stmts) {
        return sqlite_audit::entries_for_child(stmts, child);
      });
}

Result<std::int64_t> SqliteStorage::prune_audit(std::int64_t before_ms) {
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
  TANDEM_TRY(
      sqlite::exec(sqlite::handle(**store), "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"));
  auto storage = std::make_unique<sqlite_backend::SqliteStorage>(std::move(*store), options.keys);
  TANDEM_TRY(storage->migrate());
  TANDEM_TRY(storage->open_readers(options.path, options.vfs));
  storage->start_committer();
  return std::unique_ptr<ServerStorage>(std::move(storage));
}

}  // namespace tandem::server
