// The embedded ServerStorage: one SQLite file (DIR/tandem-server.db) holding a
// tandem::Store — the same records, merge state and merge code as on every
// device — and the server's own tables next to it (schema.hpp), written
// through sqlite::handle(Store&) inside Store::transaction() so that a merge,
// its place in the school's sequence and the device's mutation bookkeeping
// commit together. open_sqlite_storage() (tandem/server/stores.hpp) makes one.
//
// Where each concern lives:
//   storage.cpp        opening, administration, settings, web sessions, audit
//   device_access.cpp  enrollment, authentication, revocation, token rotation
//   reads.cpp          pulls and listings on the reader pool (reader_pool.hpp)
//   writer.cpp         write transactions, the school sequence, a commit group
//   push_transaction   what a push's merge sees (PushTransaction)
//   group_commit       the queue and the commit thread
//   caches             every cache, and the one rule that keeps them true
//
// Durability: the Store opens the file in WAL mode with synchronous=FULL, so a
// COMMIT that returned has reached the disk before any 2xx is sent.
// Invariants: every write transaction goes through write() (writer.cpp),
// which ends it with Caches::invalidate(); the one exception is the migration
// at open (before anything is cached).
// Thread-safety: every public method may be called from any thread. Writes
// go through one connection under mu_; pushes from many devices are
// group-committed by one commit thread (group_commit.hpp), so no request
// thread waits for a disk flush. Reads (auth, pulls, listings) use the pool
// of read-only connections, unless the read caches answer them. Lock order:
// mu_, then the caches' own mutex.
#pragma once

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/sqlite/audit.hpp"
#include "storage/sqlite/caches.hpp"
#include "storage/group_commit.hpp"
#include "storage/sqlite/reader_pool.hpp"
#include "storage/sqlite/school_reader.hpp"
#include "tandem/core/sqlite.hpp"
#include "tandem/core/store.hpp"
#include "tandem/server/storage.hpp"
#include "tandem/server/stores.hpp"

namespace tandem::server::sqlite_backend {

class SqliteStorage final : public ServerStorage {
 public:
  SqliteStorage(std::unique_ptr<Store> store, std::shared_ptr<KeyStore> keys);
  ~SqliteStorage() override;

  // ---- opening, in this order (open_sqlite_storage) ----

  // Creates or upgrades the server's tables (schema.hpp).
  Status migrate();
  // Opens the caches' epoch file, the reader pool and the school readers.
  // The readers open the file through the writer's VFS (for an encrypted
  // database, the one that holds its key); the school reader's Stores find
  // the key in keys_. REQUIRES: migrate() done (the readers need the tables).
  Status open_readers(const std::string& path, const std::string& base_vfs);
  // Starts the commit thread. REQUIRES: migrate() done.
  void start_committer();

  // ---- ServerStorage (storage.cpp) ----
  void drain() override;
  Result<sync::SchoolInfo> create_school(std::string_view name) override;
  Result<sync::PersonInfo> add_person(std::string_view school, std::string_view name,
                                      std::string_view role, std::string_view profession) override;
  Status update_person(std::string_view person, std::string_view role,
                       const std::optional<std::string>& profession) override;
  Result<SchoolSnapshot> school_records(std::string_view school, std::int64_t after_seq) override;
  Result<std::optional<std::string>> setting(std::string_view key) override;
  Status set_setting(std::string_view key, std::string_view value) override;
  Result<std::optional<Record>> read_record(std::string_view id) override;
  Result<std::string> add_login_code(std::string_view code_hash, std::string_view person,
                                     std::int64_t now_ms, std::int64_t expires_ms) override;
  Result<std::string> use_login_code(std::string_view code_hash, std::int64_t now_ms) override;
  Status add_web_session(const WebSessionRow& session, std::int64_t now_ms) override;
  Result<WebSessionRow> web_session(std::string_view token_hash, std::int64_t now_ms) override;
  Status delete_web_session(std::string_view token_hash) override;
  void submit_mutation(DeviceRecord device, std::int64_t mutation_id, std::string batch_digest,
                       std::uint64_t cost, MutationFn fn, MutationDone done) override;
  void submit_write(std::string school, std::uint64_t cost, WriteFn fn, WriteDone done) override;
  Result<AuditVerification> verify_audit() override;
  Result<std::vector<AuditEntryRow>> audit_entries_for_child(std::string_view child) override;
  Result<std::int64_t> prune_audit(std::int64_t before_ms) override;

  // ---- ServerStorage: devices (device_access.cpp) ----
  Result<std::string> add_enrollment_code(std::string_view code_hash, std::string_view person,
                                          std::int64_t now_ms, std::int64_t expires_ms) override;
  Result<std::vector<DeviceRecord>> list_devices(std::string_view school) override;
  Status revoke_device(std::string_view device_id, std::int64_t now_ms, bool wipe) override;
  Status request_token_rotation(std::string_view device_id) override;
  Result<bool> promote_token(std::string_view device_id, std::string_view token_hash,
                             std::int64_t now_ms) override;
  Result<bool> set_next_token(std::string_view device_id, std::string_view current_hash,
                              std::string_view next_hash) override;
  Result<Enrollment> enrollment_code(std::string_view code_hash, std::int64_t now_ms) override;
  Result<Enrollment> enroll(std::string_view code_hash, const NewDevice& device,
                            std::int64_t now_ms) override;
  Result<DeviceRecord> device_by_token(std::string_view token_hash, std::int64_t now_ms) override;

  // ---- ServerStorage: reads (reads.cpp) ----
  Result<ChangePage> read_changes(std::string_view school, std::int64_t after_seq,
                                  std::size_t limit, std::size_t max_bytes,
                                  std::string_view skip_origin) override;
  Result<PullState> pull_state(std::string_view device, std::string_view school,
                               std::string_view person) override;
  Result<std::vector<ScopeRef>> scopes_of(const std::vector<std::string>& records) override;
  Result<ChangePage> read_record_changes(std::string_view school,
                                         const std::vector<std::string>& records,
                                         std::int64_t after_seq, std::int64_t upto_seq,
                                         std::size_t limit, std::size_t max_bytes) override;
  Result<std::int64_t> count_active_devices(std::int64_t since_ms) override;
  StorageStats stats() const override;
  Status check_health() override;

 private:
  friend class SqlitePushTransaction;
  using Batch = GroupCommit::Batch;
  using Touches = GroupCommit::Touches;

  // ---- storage.cpp ----

  // Stores a one-time code for a live person with `insert` (given the
  // person's school), in one transaction; returns the school. kNotFound: no
  // such live person.
  Result<std::string> add_person_code(std::string_view person,
                                      const std::function<Status(const std::string&)>& insert);

  // ---- device_access.cpp ----

  // Runs a write of a device's tokens in its own transaction; when it
  // changed something (true), the read caches of every process are dropped.
  Result<bool> token_write(const std::function<Result<bool>()>& change);
  // What a code is for, judged exactly as enroll() judges it (the same
  // errors), without consuming it. REQUIRES: mu_ held.
  Result<Enrollment> code_holder_locked(std::string_view code_hash, std::int64_t now_ms);
  // A wiped device's contact: the order is repeated at every contact (a
  // tablet that failed to erase itself is told again); the first one is
  // recorded as its delivery, committed before the answer goes out, so the
  // device list shows it. Never cached: the device is not live.
  Error wipe_order(const DeviceRecord& d, std::int64_t now_ms);

  // ---- reads.cpp ----

  // The device's view and the scope versions it depends on, in one snapshot.
  Result<PullState> read_pull_state(std::string_view device, std::string_view school,
                                    std::string_view person);

  // ---- writer.cpp: on the writer connection, REQUIRES mu_ held ----

  // Every write transaction on the writer connection: `fn` in one Store
  // transaction, then the caches are told how it ended (the rule in
  // caches.hpp). REQUIRES: not inside a transaction.
  Status write(const std::function<Status()>& fn);
  // A sequencing write: runs `fn` in a write transaction that starts from a
  // valid WriterCache and stores the sequence counters it advanced. Once it
  // is durable, the tails get the rows it appended (write(): invalidate),
  // before the caller answers anyone, so a pull that follows an answer sees
  // them. A failed transaction leaves the WriterCache empty (it may hold
  // what was rolled back) and its rows out of the tails.
  Status write_transaction(const std::function<Status()>& fn);
  // Tells the caches the writer connection's PRAGMA data_version (another
  // connection's commit moves it).
  Status check_writer_cache();
  // Runs `batch` and the last-seen `touches` in one transaction, and returns
  // how many of its mutations it answered (the first ones): it starts no
  // further one once the group has run kCommitGroupTime; those are left as
  // they were, for the next group. REQUIRES: on the commit thread (it takes
  // mu_ itself).
  std::size_t commit_batch(Batch& batch, const Touches& touches);
  // One mutation (or a submit_write job), inside the batch transaction (its
  // own savepoint).
  Status run_one(CommitJob& job);
  // The device's last push: from the cache, else from its row (nullopt:
  // unknown or revoked device).
  Result<std::optional<LastMutation>> last_mutation(const std::string& device);
  // The school's next seq, counted in memory (undone by undo_sequence()).
  Result<std::int64_t> next_seq(const std::string& school);
  void undo_sequence();
  // Writes the counters advanced in this transaction: one row per school,
  // not one write per change.
  Status flush_sequence();
  // Appends a change to its school's sequence; returns its seq. `body` is
  // its canonical JSON text; `origin` the pushing device ("" for the
  // server's own).
  Result<std::int64_t> append_to_sequence(const Change& change, std::string_view body,
                                          std::string_view origin);
  // Local writes (admin) land in the Store's outbox; the server has no
  // upstream, so they go into the school's sequence and leave the outbox.
  // REQUIRES: inside a Store transaction.
  Status sequence_local_writes();

  // Used by SqlitePushTransaction, inside a transaction:
  // The writer's statements for the table helpers (audit.hpp, devices.hpp).
  sqlite_audit::StmtSource writer_stmts();
  // Reads the Store's `records` row directly: the school is kept queryable
  // without decoding content (ROADMAP step 3), and Store::get would load a
  // record's whole text state just to learn it.
  Result<std::optional<std::string>> record_school_locked(std::string_view id);
  // Merges `change` into the Store and, when applied, appends it to the
  // school's sequence (a purge also erases the record's earlier rows).
  Result<AppliedChange> apply_locked(const Change& change, std::string_view body,
                                     std::string_view origin);

  std::shared_ptr<KeyStore> keys_;  // the database's key (--db-key), or none
  ReaderPool readers_;
  std::optional<SqliteSchoolReader> school_reader_;
  std::mutex mu_;  // the writer connection, the Store and stmts_
  std::unique_ptr<Store> store_;
  sqlite3* db_;
  sqlite::StatementCache stmts_;  // the server's statements on the writer connection
  bool purged_ = false;           // a purge was applied in the current batch (under mu_)
  Caches caches_;                 // every cache (caches.hpp: the rule that keeps them true)
  // (school, last seq before) per seq given out to the current mutation.
  std::vector<std::pair<std::string, std::int64_t>> seq_undo_;
  GroupCommit group_;  // the queue and the commit thread (stopped first: ~SqliteStorage)
};

}  // namespace tandem::server::sqlite_backend
