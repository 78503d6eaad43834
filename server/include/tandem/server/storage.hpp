// ServerStorage: everything tandem-server keeps, behind one abstract class so
// that another backend (PostgreSQL, ROADMAP step 6) can replace the embedded
// SQLite one without touching the HTTP layer or the sync rules.
//
// What a backend must guarantee:
//  - Durability: an operation that returned ok survives a crash or power loss
//    (the server answers 2xx only after that).
//  - Atomicity: a mutation (submit_mutation) merges the changes, numbers them in the
//    school's sequence and records the device's mutation id and answer in ONE
//    transaction: after a crash either all of it happened or none.
//  - The merge is tandem::Store::apply (the same code as on the devices); a
//    backend that cannot host a Store must reproduce it bit for bit.
//  - No state only in memory: several server processes may share a backend.
//    A backend may cache what it stored (the SQLite one keeps tokens and each
//    school's newest rows), but a write committed by another process must
//    reach the next request it concerns: a revoked token is refused at once.
//
// The backends and how to open them: stores.hpp.
//
// The sync *rules* (who may write what, clock bounds, which changes a device
// may receive) are not here: they are in sync_service.hpp and access.hpp and
// use the primitives below, so every backend enforces the same rules.
//
// Thread-safety: every method may be called from any thread, concurrently.
// Implementations serialise internally as they need. Only submit_mutation()
// and submit_write() are asynchronous; the others block (reads are short; the administrative
// writes and enrollment wait for their own commit).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/core/change.hpp"
#include "tandem/core/error.hpp"
#include "tandem/core/hlc.hpp"
#include "tandem/core/host.hpp"
#include "tandem/core/store.hpp"
#include "tandem/server/audit.hpp"
#include "tandem/sync/protocol.hpp"

namespace tandem::server {

struct DeviceRecord {
  std::string id;      // "dev_<hex>"
  std::string school;  // the school the device belongs to (from its person)
  std::string person;
  std::string name;  // label given at enrollment
  std::int64_t created_ms = 0;
  std::int64_t last_seen_ms = 0;
  std::optional<std::int64_t> revoked_ms;
  // Lost tablet (revoke --wipe): when the wipe was ordered, and when the
  // device was first told so (its first contact after the order).
  std::optional<std::int64_t> wipe_ordered_ms{};
  std::optional<std::int64_t> wipe_delivered_ms{};
  // Token rotation (token_rotation.hpp): when the current token became the
  // device's (enrollment, or its first use of a rotated one), whether the
  // administration asked for a new one (device rotate-token), and whether a
  // new token was sent and not yet used (then both authenticate the device).
  std::int64_t token_ms{};
  bool rotate_due{};
  bool token_pending{};
  // device_by_token only: the hash of the token the device was found by, and
  // whether that is its pending token (then promote_token makes it current);
  // "" and false elsewhere.
  std::string token_hash{};
  bool by_pending_token{};
};

// A new device, minted by the caller (ids and token hashes come from the
// service so every backend uses the same formats).
struct NewDevice {
  std::string id;
  std::string name;
  std::string token_hash;  // hex SHA-256 of the token; the token is never stored
};

struct Enrollment {
  DeviceRecord device;
  sync::SchoolInfo school;
  sync::PersonInfo person;
};

// One row of a school's change sequence.
struct StoredChange {
  std::int64_t seq = 0;
  std::string body;    // the change's JSON text: Change::to_json().dump()
  std::string record;  // the record it changes (what visibility is decided on)
};

// A page of a school's sequence as read for one device.
struct ChangePage {
  std::vector<StoredChange> rows;  // seq ascending
  std::int64_t cursor = 0;         // the last seq this page accounts for
  bool more = false;               // rows remain after `cursor`
  std::size_t bytes = 0;           // of the rows' bodies

  // Whether a row of `body_bytes` still fits a page of at most `limit` rows
  // and `max_bytes` bytes of bodies. The first row always fits: a page
  // makes progress however large one change is.
  bool fits(std::size_t body_bytes, std::size_t limit, std::size_t max_bytes) const {
    return rows.empty() || (rows.size() < limit && bytes + body_bytes <= max_bytes);
  }
  void add(std::int64_t seq, std::string body, std::string record) {
    bytes += body.size();
    rows.push_back(StoredChange{seq, std::move(body), std::move(record)});
  }
};

// Where a backend answered authentications and pulls from, counted since it
// opened (for /metrics). A backend that keeps nothing in memory (several
// processes share it) counts every answer as read from the store.
struct StorageStats {
  std::uint64_t tokens_from_memory = 0;
  std::uint64_t tokens_from_store = 0;
  std::uint64_t pulls_from_memory = 0;
  std::uint64_t pulls_from_store = 0;
};

// Where a record stands for visibility (access.hpp decides; the backend only
// keeps these rows, queryable without decoding any change body). One row per
// record of every school, written when a change to the record is merged.
struct RecordScope {
  std::string record;
  std::string school;
  std::string kind;
  std::string parent;       // the record it hangs under ("" none or not known)
  std::string anchor;       // the course, meeting or action that decides who sees it ("" none)
  std::string anchor_kind;  // "course", "meeting", "action" ("" with no anchor)
  std::string child;        // the child it names ("" none)
  std::string author;       // the person whose device created it ("" the administration)
  std::string anchor_author;  // the author of its anchor (who sees all that hangs under it)
  std::string assignee;     // an action's tovholder ("" none)
  std::int64_t first_seq = 0;  // its first row in the school's sequence
  bool operator==(const RecordScope&) const = default;
};
using ScopeRef = std::shared_ptr<const RecordScope>;

// A consent record as visibility needs it.
struct ConsentRow {
  std::string id;
  std::string school;
  std::string child;
  std::string scope;
  std::string given_on;      // YYYY-MM-DD
  std::string withdrawn_on;  // "" when not withdrawn
  bool live = true;          // false: deleted or erased
};

// What the server told a device about its view (access.cpp writes it; the
// backend only keeps it). Views are JSON text made by access.cpp.
struct DeviceView {
  std::int64_t number = 0;         // the view number last issued to the device
  std::string view;                // the view issued with `number`
  std::string acked_view;          // the view the device acknowledged (writes are checked on it)
  std::int64_t scope_version = 0;  // the school's + the person's scope versions `view` was computed at
  std::string day;                 // the Copenhagen date `view` was computed on
  std::vector<std::string> gone;   // records to erase, issued with `number`, not acknowledged
  std::vector<std::string> backfill;  // records whose rows up to backfill_upto go again
  // kBackfillFromNextPull: records moved in (access.cpp) and the device's
  // cursor is not known yet; its next pull sets it (update_view).
  std::int64_t backfill_upto = 0;
  bool rewind = false;  // the answer carrying `number` rewinds the cursor to 0

  static constexpr std::int64_t kBackfillFromNextPull = -1;
  bool backfill_pending() const { return !backfill.empty() && backfill_upto < 0; }
};

// A leader's browser session (web.hpp). The cookie's token is never stored,
// only its hash; `id` names the session in logs and audit entries.
struct WebSessionRow {
  std::string id;  // "ws_<hex>"
  std::string token_hash;
  std::string person;
  std::string school;
  std::int64_t created_ms = 0;
  std::int64_t expires_ms = 0;
};

// A school's records as merged at one instant (the school's view, reports.hpp).
struct SchoolSnapshot {
  std::int64_t seq = 0;         // the school's last sequence number at that instant
  std::vector<Record> records;  // (deleted and purged ones too, when they changed after after_seq)
};

// The result of merging one pushed change inside a mutation.
struct AppliedChange {
  ApplyOutcome outcome = ApplyOutcome::kApplied;
  std::optional<std::int64_t> seq;  // set when appended to the school's sequence
};

// What a push transaction may do. Valid only inside the callback of
// submit_mutation(), on the thread that runs it.
class PushTransaction {
 public:
  virtual ~PushTransaction() = default;
  // The school of an existing record, nullopt when no record has that id.
  virtual Result<std::optional<std::string>> record_school(std::string_view record_id) = 0;
  // Merges a change (already validated by the caller) with Store::apply; a
  // change that altered the store is appended to its school's sequence, with
  // the pushing device as its origin, as `body`: its canonical JSON text
  // (Change::to_json().dump(), made by the caller outside the transaction).
  // A purge also deletes the record's earlier rows from the sequence.
  virtual Result<AppliedChange> apply(const Change& change, std::string_view body) = 0;
  // Appends an entry to its school's audit chain (audit.hpp) in the running
  // transaction: it commits, or rolls back, with what it records.
  // kInvalidArgument / kTooLong: the entry breaks validate_audit_entry.
  virtual Status append_audit(const AuditEntry& entry) = 0;

  // ---- visibility bookkeeping (rules: access.hpp) ----
  // The merged record (nullopt: unknown id).
  virtual Result<std::optional<Record>> record(std::string_view id) = 0;
  virtual Result<std::optional<RecordScope>> scope(std::string_view record) = 0;
  virtual Status put_scope(const RecordScope& scope) = 0;
  // Rows whose parent is `parent` (to move what hangs under a record).
  virtual Result<std::vector<RecordScope>> scopes_under(std::string_view parent) = 0;
  // Every scope row of a school (a view that changed is compared on them).
  virtual Result<std::vector<RecordScope>> school_scopes(std::string_view school) = 0;
  // The people of an anchor (tovholder, participants, author) and the children
  // it lists; replaced as a whole.
  virtual Status set_members(std::string_view school, std::string_view anchor,
                             const std::vector<std::string>& persons) = 0;
  virtual Status set_links(std::string_view school, std::string_view anchor,
                           const std::vector<std::string>& children) = 0;
  // The anchors a person is a member of.
  virtual Result<std::vector<std::string>> anchors_of(std::string_view school,
                                                      std::string_view person) = 0;
  // (anchor, child) for the given anchors.
  virtual Result<std::vector<std::pair<std::string, std::string>>> links_of(
      const std::vector<std::string>& anchors) = 0;
  virtual Status put_consent(const ConsentRow& consent) = 0;
  virtual Result<std::vector<ConsentRow>> consents(std::string_view school) = 0;
  // The people of an anchor (as set_members left them).
  virtual Result<std::vector<std::string>> members(std::string_view anchor) = 0;
  // Counters that move whenever anything a view depends on changed: one per
  // school (consents, roles, records moving) and one per person (their
  // memberships, what they may now see). `key`: a school or a person id.
  virtual Result<std::int64_t> scope_version(std::string_view key) = 0;
  virtual Status bump_scope_version(std::string_view key) = 0;
  virtual Result<std::optional<DeviceView>> device_view(std::string_view device) = 0;
  virtual Status put_device_view(std::string_view device, const DeviceView& view) = 0;
  // The views of the school's devices, by device id (a record that moves
  // may leave or enter each of them).
  virtual Result<std::vector<std::pair<std::string, DeviceView>>> school_device_views(
      std::string_view school) = 0;
  // The device (person, school) as stored now.
  virtual Result<std::optional<DeviceRecord>> device(std::string_view device_id) = 0;
  // Ids of every record of a kind, in every school (a rebuild of the scope rows).
  virtual Result<std::vector<std::string>> record_ids(std::string_view kind) = 0;
  // The first seq of a record in its school's sequence (0: none).
  virtual Result<std::int64_t> first_seq(std::string_view school, std::string_view record) = 0;
  virtual Result<std::optional<std::string>> meta(std::string_view key) = 0;
  virtual Status set_meta(std::string_view key, std::string_view value) = 0;
};

enum class MutationState {
  kCommitted,  // the callback ran and its answer was stored with the id
  kReplayed,   // same id and same batch as the last one: stored answer returned
  kStale,      // id below the device's last one: nothing done
  kReused,     // same id as the last one but a different batch: nothing done
};

struct MutationOutcome {
  MutationState state = MutationState::kCommitted;
  std::string response;               // kCommitted/kReplayed: the stored answer
  std::int64_t last_mutation_id = 0;  // the device's id after this call
};

// A device's answer to a mutation, computed inside the transaction.
using MutationFn = std::function<Result<std::string>(PushTransaction&)>;
// Told the outcome of a mutation once its transaction has committed (or
// failed). Called on a thread of the backend that commits: it must hand real
// work elsewhere and return at once (it holds up the next commits).
using MutationDone = std::function<void(Result<MutationOutcome>)>;
// A write that is not a device's push (a pull's view bookkeeping, its audit
// entry): runs inside a transaction of the backend.
using WriteFn = std::function<Status(PushTransaction&)>;
using WriteDone = std::function<void(Status)>;

// What a pull needs to know before it reads, from one snapshot.
struct PullState {
  std::optional<DeviceView> view;
  std::int64_t scope_version = 0;
};

class ServerStorage {
 public:
  virtual ~ServerStorage() = default;

  // ---- administration (local CLI) ----
  // Creates a school record through the merge, so it syncs to devices.
  virtual Result<sync::SchoolInfo> create_school(std::string_view name) = 0;
  // Adds a person record to a school (kNotFound: no such school). `role` is
  // validated by the schema; `profession` may be empty.
  virtual Result<sync::PersonInfo> add_person(std::string_view school, std::string_view name,
                                              std::string_view role,
                                              std::string_view profession) = 0;
  // Sets a person's role, and profession unless nullopt (the administration
  // only: no device may). kNotFound: no such person.
  virtual Status update_person(std::string_view person, std::string_view role,
                               const std::optional<std::string>& profession) = 0;
  // Stores a one-time enrollment code (only its hash) for a person; returns
  // the person's school. kNotFound: no such person.
  virtual Result<std::string> add_enrollment_code(std::string_view code_hash,
                                                  std::string_view person, std::int64_t now_ms,
                                                  std::int64_t expires_ms) = 0;
  virtual Result<std::vector<DeviceRecord>> list_devices(std::string_view school) = 0;
  // kNotFound: no such device. Revoking twice keeps the first time.
  // `wipe`: also orders the device to erase its local data at its next
  // contact (device_by_token answers kDeviceWiped from then on); a wipe may
  // be ordered for a device already revoked (its first order time is kept).
  virtual Status revoke_device(std::string_view device_id, std::int64_t now_ms,
                               bool wipe = false) = 0;
  // device rotate-token: the device gets a new token with its next sync
  // answer (rotate_due; cleared when the device first uses a new token).
  // kNotFound: no such device; kForbidden: the device is revoked (its
  // tokens are refused anyway: enroll the tablet again).
  virtual Status request_token_rotation(std::string_view device_id) = 0;

  // The merged record `id` as stored now (nullopt: no such record). Who a
  // browser session's person is (role, school) is read here at each request.
  virtual Result<std::optional<Record>> read_record(std::string_view id) = 0;

  // ---- leaders' browser sessions (web.hpp decides who may have one) ----
  // Stores a one-time login code (only its hash) for a person; returns the
  // person's school. kNotFound: no such (live) person.
  virtual Result<std::string> add_login_code(std::string_view code_hash, std::string_view person,
                                             std::int64_t now_ms, std::int64_t expires_ms) = 0;
  // Consumes a login code (single use, even when its person is then
  // refused) and returns its person. kUnauthorized: unknown or used;
  // kExpired: too late.
  virtual Result<std::string> use_login_code(std::string_view code_hash, std::int64_t now_ms) = 0;
  // Stores a session (and forgets the sessions and codes expired at now_ms).
  virtual Status add_web_session(const WebSessionRow& session, std::int64_t now_ms) = 0;
  // The session whose cookie hashes to `token_hash`. kUnauthorized: none,
  // or expired at now_ms.
  virtual Result<WebSessionRow> web_session(std::string_view token_hash, std::int64_t now_ms) = 0;
  // Logout: the session is gone (no error when it was already).
  virtual Status delete_web_session(std::string_view token_hash) = 0;

  // ---- protocol ----
  // Consumes an enrollment code (single use) and registers the device, in one
  // transaction. kUnauthorized: unknown or used code; kExpired: too late.
  virtual Result<Enrollment> enroll(std::string_view code_hash, const NewDevice& device,
                                    std::int64_t now_ms) = 0;
  // Whom an enrollment code is for (school and person; `device` left empty),
  // judged as enroll() judges it, with the same errors, without consuming
  // it (POST /v1/enroll with "check": a device prepares before redeeming).
  virtual Result<Enrollment> enrollment_code(std::string_view code_hash, std::int64_t now_ms) = 0;
  // The live device holding the token. kUnauthorized: unknown or revoked.
  // kDeviceWiped: revoked with a wipe order; the first such answer is
  // recorded as the order's delivery (wipe_delivered_ms, committed before
  // this returns). Records last_seen (at most every kLastSeenGranularityMs), without
  // waiting for that write: it is committed with the next commit group.
  // Token rotation: a device has one current token and at most one pending
  // one (sent in a sync answer, see set_next_token); both authenticate it
  // (by_pending_token tells which one was used).
  virtual Result<DeviceRecord> device_by_token(std::string_view token_hash,
                                               std::int64_t now_ms) = 0;
  // Makes `token_hash`, the pending token of `device_id`, its current one
  // (token_ms = now_ms, rotate_due and the pending token cleared). Committed
  // before it returns: from then on the old token is unknown
  // (device_by_token: kUnauthorized), in this process and in every other one
  // at once. true: `token_hash` is now the device's current token (also when
  // a concurrent call made it so); false: it is neither current nor pending
  // (a newer token replaced it, or the device was revoked).
  virtual Result<bool> promote_token(std::string_view device_id, std::string_view token_hash,
                                     std::int64_t now_ms) = 0;
  // A new token for a live device, by hash, as its pending token (replacing
  // a pending one never used: the answer that carried it was lost). Stored
  // only while `current_hash` is still the device's current token and the
  // device is not revoked: false, and nothing stored, otherwise (a
  // concurrent request of the device made a pending token current, or it
  // was revoked meanwhile). Committed before it returns: the answer that
  // carries the token may go out then.
  virtual Result<bool> set_next_token(std::string_view device_id, std::string_view current_hash,
                                      std::string_view next_hash) = 0;
  // Queues one push as a mutation of `device`, run exactly once per mutation
  // id (see MutationState). `batch_digest` identifies the batch's content so
  // a reused id with other changes is told apart from a retry. `cost` is the
  // caller's estimate of the push's work (SyncService: push_cost in
  // limits.hpp); a backend uses it to keep one school's heavy pushes from
  // holding up other schools'. `fn` runs on a thread of the backend inside
  // the transaction; its answer is stored with the id in that transaction;
  // an error from `fn` rolls the mutation back and is what `done` gets.
  // `done` is called exactly once: after the transaction holding the
  // mutation is durable (or has failed), on the backend's thread; or at
  // once, on the caller's thread, with kServer when the backend is draining.
  // Nothing waits: callers do not hold a thread per push, and a backend may
  // let many devices' pushes share one commit.
  virtual void submit_mutation(DeviceRecord device, std::int64_t mutation_id,
                               std::string batch_digest, std::uint64_t cost, MutationFn fn,
                               MutationDone done) = 0;
  // A write that is not a device mutation (a pull's audit entry, view
  // bookkeeping): queued with the mutations (fair per school; `cost` as for
  // submit_mutation), run in a transaction of its own or in a savepoint of a
  // shared one (an error from `fn` rolls back only what `fn` did, and is
  // what `done` gets). Changes it applies have no device as their origin.
  // `done` is called exactly once, as for submit_mutation: once the write is
  // durable (or failed), on the backend's thread; or at once, on the
  // caller's thread, with kServer when draining.
  virtual void submit_write(std::string school, std::uint64_t cost, WriteFn fn, WriteDone done) = 0;
  // Rows of `school`'s sequence with seq > after_seq, ascending, at most
  // `limit` (taken as 1 when 0) and at most `max_bytes` of bodies (but at
  // least one row), leaving out those pushed by the device `skip_origin`
  // (callers pass a device id; rows written on the server have origin ""). The
  // page's cursor is the last row's seq when more remain, else the school's
  // last seq as of the same snapshot: rows left out still advance it.
  // Callers decide visibility (access.hpp); this only reads.
  virtual Result<ChangePage> read_changes(std::string_view school, std::int64_t after_seq,
                                          std::size_t limit, std::size_t max_bytes,
                                          std::string_view skip_origin) = 0;
  // The device's view bookkeeping and its school's scope version.
  // scope_version: the school's plus the person's.
  virtual Result<PullState> pull_state(std::string_view device, std::string_view school,
                                       std::string_view person) = 0;
  // The scope rows of these records (those that have one), shared: a
  // backend may hand out the rows it keeps in memory.
  virtual Result<std::vector<ScopeRef>> scopes_of(const std::vector<std::string>& records) = 0;
  // Rows of `school`'s sequence with after_seq < seq <= upto_seq whose record
  // is one of `records`, ascending, bounded as read_changes (no origin skip:
  // a backfill sends a record whole). cursor: the last row's seq when more
  // remain, else upto_seq.
  virtual Result<ChangePage> read_record_changes(std::string_view school,
                                                 const std::vector<std::string>& records,
                                                 std::int64_t after_seq, std::int64_t upto_seq,
                                                 std::size_t limit, std::size_t max_bytes) = 0;
  // ---- the school's view (reports.hpp) ----
  // From one snapshot, without holding up commits: after_seq 0, every record
  // of `school` as merged now; else those changed after that sequence number
  // (to refresh a copy taken at it). kTooLong: more than kMaxReportRecords.
  virtual Result<SchoolSnapshot> school_records(std::string_view school, std::int64_t after_seq) = 0;
  // A server setting (meta) as committed now; nullopt when unset.
  virtual Result<std::optional<std::string>> setting(std::string_view key) = 0;
  // Sets a setting (administration), in its own transaction.
  virtual Status set_setting(std::string_view key, std::string_view value) = 0;

  // ---- audit trail (audit.hpp) ----
  // Checks every school's chain from one snapshot; a break is a result
  // (AuditVerification::broken), an error only when the backend fails.
  virtual Result<AuditVerification> verify_audit() = 0;
  // The entries naming `child` (all schools), by time, each holding only
  // the records that name it. kCorrupt: an entry does not decode.
  virtual Result<std::vector<AuditEntryRow>> audit_entries_for_child(std::string_view child) = 0;
  // Retention: deletes each school's oldest entries stamped before
  // `before_ms` (up to its first entry at or after it) and keeps the chain
  // verifiable (checkpoint). In steps of kAuditPruneBatch entries, each its
  // own transaction. Returns the number of entries deleted.
  virtual Result<std::int64_t> prune_audit(std::int64_t before_ms) = 0;

  // Devices not revoked and seen at or after since_ms.
  virtual Result<std::int64_t> count_active_devices(std::int64_t since_ms) = 0;
  // Cheap check that the backend answers (for /healthz).
  virtual Status check_health() = 0;
  virtual StorageStats stats() const = 0;
  // Commits what is queued, tells every waiting `done`, and stops taking
  // mutations (later ones fail with kServer). Called once the server has
  // stopped answering requests; also run by the destructor.
  virtual void drain() = 0;
};

}  // namespace tandem::server
