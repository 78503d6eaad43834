// Private state of a Store and the merge primitives shared by local writes
// and remote changes (one implementation of the rules of SYNC.md).
#pragma once

#include <sqlite3.h>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "crypto/crypt_vfs.hpp"
#include "secure_random.hpp"
#include "sqlite_util.hpp"
#include "tandem/core/schema.hpp"
#include "tandem/core/store.hpp"
#include "tandem/core/text/sequence.hpp"

namespace tandem {

struct RecordRow {
  std::string kind, school, created, deleted, purged;
  bool lazy = false;  // values still only in the create change (migration 3)
};

// A text field's state after applying operations, computed before any write.
struct PreparedText {
  std::string field;
  std::string state;  // Document::encode()
  std::string text;   // materialised
  std::string merged;  // merge marks: JSON array of authors, "" for none
};

// Reads that load many records run in one read transaction: one shared
// lock (a few fcntl calls) for the whole read, not one per statement, and
// one consistent snapshot. Nothing when a transaction is already open.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(sqlite3* db) : db_(db) {
    if (sqlite3_get_autocommit(db_) != 0) began_ = detail::exec(db_, "BEGIN").ok();
  }
  ~ReadSnapshot() {
    if (began_) (void)detail::exec(db_, "COMMIT");
  }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;

 private:
  sqlite3* db_;
  bool began_ = false;
};

struct Store::Impl {
  // The encrypting file layer the file is open with (null: plain). Declared
  // before db: ~Impl closes db first, then this unregisters.
  std::unique_ptr<crypto::CryptVfs> crypt;
  bool fresh_encrypted = false;  // new encrypted file: reserved bytes to set
  std::string vfs_name;          // the VFS the file is open with ("" default)
  sqlite3* db = nullptr;
  std::unique_ptr<detail::StatementCache> stmts;
  Host host;  // resolved (host.hpp)
  std::unique_ptr<SkewCorrectedClock> wall;  // the host's clock + the learned offset
  std::unique_ptr<HybridClock> hybrid;
  std::string site;
  std::string default_school;
  // Schools kept local when the file joined another (Store::join_school):
  // their changes never enter the outbox. Mirrors meta 'local_schools'.
  std::set<std::string> local_only;
  int schema_version = 0;
  int tx_depth = 0;
  bool clock_dirty = false;  // clock advanced in the open transaction
  bool deferred = false;     // the open transaction is Durability::kDeferred
  detail::SecureRandom random;  // site ids, record ids
  // The Document prepare_text merged last, with the state it encoded to.
  // Decoding a text is O(n) in its length: a push or pull page of many
  // changes to one long text would decode it once per change. The next
  // change to the same field starts from this Document instead, but only
  // when the stored state is still exactly those bytes (a rolled-back
  // savepoint, a duplicate that saved nothing, another process or a purge
  // leave other bytes, and then it is decoded as before).
  struct TextCache {
    std::string record;
    std::string field;
    std::string state;
    std::optional<text::Document> doc;
  };
  TextCache text_cache;
  // Local changes of the open transaction, in order: what the record rules
  // (record_rules.hpp) check before the outermost commit. `created`: a
  // create's values (the whole record while nothing else in the
  // transaction wrote it: it need not be read back). written_marks: its
  // size at each open (save)point, so a rolled-back savepoint drops its own.
  struct Written {
    std::string record;
    std::string kind;
    std::set<std::string> fields;
    std::optional<Json> created;
  };
  std::vector<Written> written;
  std::vector<std::size_t> written_marks;

  ~Impl();

  Result<detail::StmtLease> stmt(const char* sql) { return stmts->get(sql); }
  Status begin();
  Status commit();
  void rollback();
  Status in_transaction(const std::function<Status()>& fn, Durability durability = Durability::kDurable);
  // Runs a transaction-control statement: the cached one if given, else `sql`.
  Status run_control(const char* cached_sql, const std::string& sql);

  std::string random_hex(std::size_t n);
  Result<std::optional<RecordRow>> record_row(std::string_view id);
  // The value object of a lazy record's create change.
  Result<Json> create_values(const RecordRow& row);
  // Gives a lazy record's create values rows of their own (before the first
  // write to any of its fields).
  Status materialise(const std::string& record, RecordRow& row);

  // The merge: applies one validated change. local=true also appends it to
  // the outbox. Must run inside a transaction.
  Result<ApplyOutcome> apply_change(const Change& c, bool local);
  // value_json: the value as JSON text.
  Status write_field(const std::string& record, const std::string& field, const std::string& hlc,
                     std::string_view value_json, const std::vector<std::string>& seen);
  Status write_element(const std::string& record, const std::string& field, const std::string& hlc,
                       const std::string& element, bool present);
  Result<text::Document> load_text(std::string_view record, std::string_view field);
  Result<PreparedText> prepare_text(const std::string& record, const std::string& field, const Json& ops);
  Status save_text(const std::string& record, const PreparedText& t);
  // Operations turning the field's text into `next` (changed middle only).
  Result<Json> text_ops_for_replace(std::string_view record, std::string_view field, std::string_view next);
  Status purge_record(const Change& c);
  Result<std::vector<std::string>> heads(std::string_view record, std::string_view field);
  Status save_clock();
  Status install_builtins();
  // Reads the default school and the local-only schools from meta
  // (Store::open, and after an outermost rollback).
  Status load_settings();

  // Local write helper: stamps, applies, logs and outboxes in one transaction.
  Status write_local(Change c);
  // Notes a local change for the record rules; checks them over `written`
  // (and forgets it) before the outermost commit.
  void note_written(const Change& c);
  Status check_written();
  // Writes a local text edit (a `text` change whose value is the edit's ops)
  // as one or more changes within the per-change cost limits
  // (text/limits.hpp: a delete across many runs is split), in one
  // transaction.
  Status write_text_edit(Change c);

  Result<Record> load(std::string_view id) const;

  // The offline lease (lease.cpp): its state now, whether it has run out,
  // and the refusal of a record read while it has (`locked`: lease_locked()).
  Result<Store::OfflineLease> lease();
  Result<bool> lease_locked();
  static Status check_lease(const Record& record, bool locked);
};

}  // namespace tandem
