// Store: the local replica — one SQLite file holding records, their per-field
// merge state, the change log and the outbox.
//
// Every local write is ONE transaction that (a) applies the change through the
// same merge code remote changes use and (b) appends it to the change log and
// the outbox; it is durable (synchronous=FULL, WAL) when the call returns ok.
// Remote changes (bundles, sync) go through apply(); applying is idempotent
// and order-independent.
//
// Thread-safety: a Store is used from one thread at a time. Several processes
// may open the same file; SQLite serialises writers (kBusy after a timeout).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/core/change.hpp"
#include "tandem/core/encryption.hpp"
#include "tandem/core/error.hpp"
#include "tandem/core/hlc.hpp"
#include "tandem/core/host.hpp"
#include "tandem/core/skew_clock.hpp"

struct sqlite3;

namespace tandem {

class Store;
namespace sqlite {
sqlite3* handle(Store& store);
}

struct StoreOptions {
  std::string path;                           // SQLite file; created if missing
  // Shorthand for Host::clock (tests); the Host's clock wins when both are set.
  Clock* clock = nullptr;
  std::int64_t max_ahead_ms = 5 * 60 * 1000;  // refuse remote stamps further ahead
  // Page size of a new file (512..65536, a power of two); an existing file
  // keeps its own. 8 KiB suits a device (bulk recording, a few tables per
  // change); the server, which commits many small groups, uses 4 KiB.
  int page_size = 8192;
  // Shorthand for a Host file layer naming a VFS (sqlite3_open_v2's last
  // argument; empty: SQLite's default); the Host's file layer wins. A
  // registered name is required; tests use it to put a fault-injecting layer
  // under the store (tests/support/power_loss_vfs.hpp).
  std::string vfs{};
  // When the file is encrypted at rest (encryption.hpp): by default whenever
  // the Host has a key store.
  Encryption encryption = Encryption::kAuto;
};

// A losing concurrent value kept visible on a record until resolved.
struct Conflict {
  std::string field;
  Json value;
  std::string hlc;
};

struct Record {
  std::string id;
  std::string kind;
  std::string school;
  Json fields = Json::object();  // field name -> current value (sets as sorted arrays)
  std::vector<Conflict> conflicts;
  // Text field -> the authors (site ids, sorted) of overlapping concurrent
  // edits merged into it and not confirmed yet (text/sequence.hpp, MERGE
  // MARKS). Only fields with such a merge appear. In to_json() as "merged".
  std::map<std::string, std::vector<std::string>> merged;
  std::string created;  // hlc of the create ("" if only later changes arrived)
  std::string deleted;  // hlc of the delete tombstone, "" if live
  std::string purged;   // hlc of the purge, "" if not purged (then fields is empty)
  // Scalar field -> hlc of the write its value comes from (the create's for
  // values it still has from the create). Not part of to_json().
  std::map<std::string, std::string> stamps;
  bool live() const { return deleted.empty() && purged.empty(); }
  Json to_json() const;
};

// When a committed transaction has reached the disk (Store::transaction).
enum class Durability { kDurable, kDeferred };

enum class ApplyOutcome {
  kApplied,    // new change, merged
  kDuplicate,  // already had it; nothing changed
  kIgnored,    // record deleted or purged: stored as a no-op, not resurrecting it
};

struct LoggedChange {
  std::int64_t seq = 0;  // local log position (a cursor for bundles)
  Change change;
};

// A local change the server refused for good (not for its clock: those are
// re-stamped and resent). Kept in the device's file so that the user can see
// what did not reach anyone; never resent. A purge of the record removes it.
struct RejectedChange {
  std::string hlc;
  std::string record;
  std::string kind;
  std::string op;
  std::string field;
  Error error;
  std::int64_t mutation_id = 0;
  std::int64_t at_ms = 0;  // device time it was recorded
  Json to_json() const;
};

// One withdrawn stamp and the one that replaced it.
struct Restamped {
  std::string old_hlc;
  std::string new_hlc;
};

class Store {
 public:
  // Opens (creates) the file through `host` (host.hpp; null members: the
  // core's defaults). Local stamps come from the Store's own skew-corrected
  // clock over the host's clock, with the offset to server time learned by
  // sync (kept in the file) applied from here on.
  static Result<std::unique_ptr<Store>> open(const StoreOptions& options, const Host& host = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::string& site_id() const;
  int schema_version() const;
  HybridClock& clock();
  // The wall clock local stamps use: the host's, corrected by the offset to
  // server time (skew_clock.hpp). The sync engine measures and updates it.
  SkewCorrectedClock& skew_clock();
  // The host this Store was opened with (null members resolved to defaults,
  // keys/log may stay null).
  const Host& host() const;
  // Whether the file is encrypted at rest, and the registered SQLite VFS it
  // is open with ("" = SQLite's default): other connections to the same file
  // (the server's readers) open it with this name while the Store lives.
  bool encrypted() const;
  std::string vfs_name() const;

  // The school new records belong to when none is given ("" if none yet).
  std::string default_school() const;
  Status set_default_school(std::string_view school_id);

  // ---- local writes: each one durable transaction (apply + log + outbox) ----
  // Creates a record of `kind` with initial fields (validated); returns its id.
  // `id` may be given for deterministic ids (e.g. one reflection per author).
  Result<std::string> create(std::string_view kind, const Json& fields,
                             std::string_view id = {});
  Status set(std::string_view id, std::string_view field, const Json& value);
  Status add(std::string_view id, std::string_view field, const Json& element);
  Status remove(std::string_view id, std::string_view field, const Json& element);
  Status delete_record(std::string_view id);
  Status purge(std::string_view id);
  // Resolve a field's conflict: sets `value` as the field's value, superseding
  // every value this replica has seen (the winner and all conflicts).
  Status resolve(std::string_view id, std::string_view field, const Json& value);
  // Apply a text edit (text fields): code-point positions.
  Status text_insert(std::string_view id, std::string_view field, std::size_t pos,
                     std::string_view text);
  Status text_delete(std::string_view id, std::string_view field, std::size_t pos,
                     std::size_t len);
  // Confirms a text field's merge of overlapping concurrent edits (see
  // Record::merged): a change that settles it on every replica that gets it.
  // Every text edit above (and set() of a text field) confirms too.
  // kNoConflict when the field has no merge to confirm.
  Status text_confirm(std::string_view id, std::string_view field);

  // Runs fn inside one transaction; local writes and apply() calls inside it
  // join it. Commits when fn returns ok, rolls back otherwise. kDurable (the
  // default): on disk when the call returns. kDeferred: atomic, and durable
  // with the next durable commit; a power loss before that may undo it
  // whole. Only for work that is redone safely after such a loss (sync
  // bookkeeping: a pulled page goes back with its cursor and is pulled
  // again; an acknowledged batch goes back with its in-flight record and the
  // server answers it again). Local writes refuse to join a deferred
  // transaction. The outermost transaction decides. Before the outermost
  // commit the record rules (record_rules.hpp) check every record this
  // device wrote in it, as the transaction leaves it: a refusal (e.g.
  // kInvalidValue for an end before its start) rolls the whole of it back.
  Status transaction(const std::function<Status()>& fn, Durability durability = Durability::kDurable);

  // ---- remote changes ----
  // Whose clock a remote change's stamp has been checked against.
  enum class StampCheck {
    kHere,         // this replica's: refused (kClockSkew) when further ahead
                   // than max_ahead_ms (bundles, peers)
    kByServer,     // the server's, which accepted it: taken as it is (a
                   // device whose clock is behind must not stall its pull)
  };
  Result<ApplyOutcome> apply(const Change& change, StampCheck check = StampCheck::kHere);

  // ---- reads ----
  // Every read of a record fails with kLeaseExpired while the offline lease
  // has run out and the record names a child (lease.hpp).
  Result<Record> get(std::string_view id) const;
  // Live records of a kind (all kinds when kind is empty), sorted by id.
  Result<std::vector<Record>> list(std::string_view kind, bool include_deleted = false) const;
  // Live records of `kind` whose parent reference (the kind's parent_field in
  // schema.hpp: an entry's or a reflection's session, a session's course, an
  // agenda item's meeting, a consent's child) is `parent`, sorted by id.
  // Reads only those records (indexed, migration 5), not the whole kind.
  Result<std::vector<Record>> list_under(std::string_view kind, std::string_view parent) const;
  // Ids of live records with at least one open conflict, sorted.
  Result<std::vector<std::string>> conflicted() const;
  // Canonical dump of every record (sorted, stable formatting, no local-only
  // metadata): two converged replicas produce byte-identical dumps.
  Result<std::string> canonical_dump() const;

  // ---- change log and outbox ----
  Result<std::vector<LoggedChange>> changes_since(std::int64_t seq, std::size_t limit) const;
  // The outbox in log order: its first `limit` changes, or the first `limit`
  // after log position `after_seq` (what follows a batch already formed).
  Result<std::vector<LoggedChange>> outbox(std::size_t limit, std::int64_t after_seq = 0) const;
  // The stamps of the outbox's first `limit` changes, in order: whether a
  // batch formed earlier is still its head (a stamp names one change's
  // content for good; a withdrawal gives new stamps).
  Result<std::vector<std::string>> outbox_stamps(std::size_t limit) const;
  Result<std::int64_t> outbox_size() const;
  // Drops acknowledged changes (by hlc string) from the outbox.
  Status ack(const std::vector<std::string>& hlcs);
  // Whether the record's create is a local change still in the outbox (the
  // server has not taken it yet, so changes to the record must wait for it).
  Result<bool> create_pending(std::string_view record) const;

  // Withdraws stamps the server refused for their clock (SYNC.md, Clock):
  // every outbox change from the first one stamped above `floor` on, in log
  // order, gets a new stamp from the clock after it is moved down to
  // `floor`; the changes keep their order, content and place in the outbox,
  // and every row that names an old stamp (records, field writes, set
  // elements, later changes' `seen`) names the new one. The clock then goes
  // on from the last new stamp, not from the withdrawn ones, even when
  // nothing needed a new stamp. Merge results are unchanged: the new stamps
  // keep the withdrawn changes' order among themselves and above every stamp
  // not above `floor`.
  // REQUIRES: the server has none of these changes (no batch in flight), and
  // `floor` is at least every stamp the server accepted from or sent to this
  // replica. One transaction; on error nothing changed.
  Result<std::vector<Restamped>> restamp_outbox_after(const Hlc& floor);

  // ---- refused changes (see RejectedChange) ----
  // Records (or replaces: a change refused again keeps its latest reason).
  Status record_rejected(const RejectedChange& rejected, const Change& change);
  // Oldest first.
  Result<std::vector<RejectedChange>> rejected() const;

  // ---- local erasure (records that left this device's scope) ----
  // Removes every trace of the records `ids` from this file: the record row,
  // field values and conflicts, set elements, text state, every change-log
  // row, outbox row and refused-change row of them, and the decoded text
  // kept in memory. Unlike purge() this is not a change: no tombstone is
  // kept and nothing is logged or pushed, so a later re-delivery of the
  // records' changes (apply) restores them as if they were new here. Ids
  // this file does not hold, and shipped (read-only) records, are skipped.
  // Joins an open transaction, deferred ones included (the sync engine
  // erases in the transaction of a pulled page); otherwise one durable
  // transaction. Erased bytes are overwritten in the database file
  // (secure_delete); the -wal file keeps them until checkpoint_truncate().
  // On error nothing changed.
  Status forget(const std::vector<std::string>& ids);
  // Whether the outbox holds a change to any of `records` (local edits that
  // must reach the server before those records are forgotten).
  Result<bool> outbox_holds_any(const std::vector<std::string>& records) const;
  // Copies the WAL into the database file and truncates the -wal file to
  // zero bytes (PRAGMA wal_checkpoint(TRUNCATE)), so that no byte of erased
  // content stays in it. Errors: kBusy when another connection reading the
  // file keeps the WAL in use (retry later; nothing is lost),
  // kInvalidArgument inside a transaction, SQLite's I/O errors.
  Status checkpoint_truncate();

  // ---- joining a school later (store_join.cpp; docs/protocol.md) ----
  // A school this file holds records of other than the one it joins: made
  // here before the device's first enrollment (init --school-name, or a
  // school record created by hand).
  struct OtherSchool {
    std::string id;
    std::string name;          // the school record's name ("" without one)
    std::int64_t records = 0;  // its records, tombstones included, the school's own not counted
    std::int64_t people = 0;   // of them people: the administration's, never moved
  };
  // Every school other than `school` (and the shipped records) that holds
  // records here, the local-only ones included, sorted by id.
  Result<std::vector<OtherSchool>> other_schools(std::string_view school) const;

  // What becomes of the records of other schools when this file joins a
  // school it was not made for (enrollment of a tablet used offline).
  enum class LocalRecords {
    kMove,  // they become the school's: rewritten, and pushed at the next sync
    kKeep,  // they stay a separate local-only school: never pushed
  };
  struct JoinOutcome {
    std::int64_t moved = 0;                  // records rewritten to the joined school
    std::int64_t kept = 0;                   // records left in local-only schools
    std::vector<std::string> local_schools;  // the local-only schools now
    std::vector<std::string> dropped;        // local school records dropped (moved empty)
  };
  // Makes `school` this file's default school and settles every other
  // school's records (other_schools). kMove: every record but people gets
  // `school` as its school, and all its logged changes go to the outbox (in
  // log order), so the server and other tablets get them at the next sync;
  // a local school record left without records is dropped (forget(): the
  // joined school's own record arrives by pull); one still holding people
  // (only the administration may create them on the server) stays a
  // local-only school holding them. kKeep: the schools become local-only:
  // their changes leave the outbox and later local changes of their records
  // never enter it. Nothing is lost either way.
  // REQUIRES: no change of those schools ever reached a server (no device
  // enrollment before: they could not have left). Joins an open
  // transaction (the enrollment's, rolled back when redeeming fails); on
  // error nothing changed.
  Result<JoinOutcome> join_school(std::string_view school, LocalRecords choice);
  // Schools whose records stay on this device (kKeep), sorted; their
  // changes are never put in the outbox.
  std::vector<std::string> local_only_schools() const;
  bool is_local_only(std::string_view school) const;

  // ---- offline lease (lease.hpp) ----
  struct OfflineLease {
    std::int64_t anchor_ms = 0;  // server-confirmed time of the last sync (0: none)
    std::int64_t lease_ms = 0;   // 0: no lease (never locks)
    std::int64_t now_ms = 0;     // the HLC's time, as lease.hpp defines it
    bool expired = false;
  };
  // Records a successful contact: the server's time in its answer and the
  // school's lease (nullopt: the answer named none; the last one is kept).
  // Unlocks at once. Joins an open transaction.
  Status confirm_offline_lease(std::int64_t server_time_ms, std::optional<std::int64_t> lease_ms);
  // The lease as it stands now (may record the seen time, see lease.hpp).
  Result<OfflineLease> offline_lease() const;

  // ---- local metadata (cursors, tokens); not part of the dump ----
  Result<std::optional<std::string>> meta(std::string_view key) const;
  Status set_meta(std::string_view key, std::string_view value);
  // Deletes the row (a missing key is not an error); with secure_delete its
  // bytes are overwritten in the database file (the -wal keeps them until
  // checkpoint_truncate()).
  Status erase_meta(std::string_view key);

  struct Impl;  // private implementation (core/src/store_impl.hpp)

 private:
  // The SQLite connection, for the server's backend that keeps its own
  // tables in the same file (internal header tandem/core/sqlite.hpp only).
  friend sqlite3* sqlite::handle(Store& store);
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tandem
