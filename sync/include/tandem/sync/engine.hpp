// SyncEngine: the client side of /v1 sync for one local Store.
//
// One call to sync() pushes the outbox in batches and pulls the school's
// changes page by page (one request may carry both) until the outbox is
// empty and the server says there is no more, or until an error that a retry
// cannot fix. Everything it needs is injected: the Store, the Transport, the
// (skew-corrected) clock, a sleep function and a random source. It starts no
// threads and keeps no global state; a host calls sync() from whatever thread
// or background window it has.
//
// Durability and exactly-once (SYNC.md properties 2-4), all state in the
// Store's metadata so a crash at any instant is survivable:
//  - Before a batch is sent, its mutation id (per device, strictly
//    increasing) and the hlc list of its changes are committed
//    (kMetaMutationId, kMetaInflight). Until the server's answer is processed
//    every retry — after a timeout, a cut connection, a 5xx or a crash of the
//    process — sends exactly that batch under exactly that id, so the server
//    applies it once and replays its stored answer otherwise.
//  - Changes leave the outbox (Store::ack) only after the server's answer, in
//    one transaction with clearing the in-flight record.
//  - Each pulled page is applied (Store::apply) in ONE transaction together
//    with the new cursor (kMetaCursor): a crash re-pulls at most that page,
//    and applying is idempotent anyway.
//  - Only the in-flight record is committed durably (fsync) before a send.
//    The answer's bookkeeping (acknowledgement, pulled page) commits with
//    Durability::kDeferred: a power loss can only take it back whole, with
//    its in-flight record or cursor, and the next sync redoes it (the server
//    answers the same mutation id again; the page is pulled again). The next
//    durable commit makes it durable. Half the fsyncs of a sync, none of
//    the guarantees.
//  - A change the server rejects for good (schema, access) is recorded in
//    the Store's refused-change log (Store::record_rejected), reported, and
//    dropped from the outbox, so it never blocks the queue.
//  - A change refused for its CLOCK is never dropped (SYNC.md, Clock): it
//    stays in the outbox; once the offset to server time is settled (two
//    agreeing answers, see skew_clock.hpp) the engine withdraws the refused
//    stamps (Store::restamp_outbox_after: every outbox change from the first
//    refused one on gets a new stamp, in its original order, from the
//    corrected clock, never below the last stamp the server accepted or
//    sent, kMetaServerStamp) and sends them again. A change refused because
//    the server does not have its record (`not_found`) while the record's
//    create is still in this outbox waits for its create the same way.
//
// Retries: network failures, timeouts, 5xx and 503 are retried with
// exponential backoff and jitter (RetryPolicy), same request bytes each time,
// all within EngineOptions::overall_timeout. An answer that breaks the
// protocol (kBadResponse: a number out of range, a cursor going backwards,
// more results than changes pushed; check_sync_response) or is too large
// (kResponseTooLarge) ends the sync before anything of it is applied.
// A stale or reused mutation id (409, e.g. a database restored from a
// backup) re-batches under an id above the server's last one; the server
// answers already-known changes as duplicates. 413 halves the batch size.
//
// Visibility (docs/protocol.md): every pull carries the view number the
// device last stored (kMetaView). Records the server names in pull.gone
// left this device's scope: they are erased (Store::forget: every field,
// text, log, outbox and refused-change row, no tombstone, nothing pushed) in
// the page's transaction, with its cursor and view, and the WAL is then
// checkpointed (TRUNCATE) so that no byte of them stays in -wal. If the
// outbox still holds an edit to one of them, nothing of that pull answer
// is applied: the outbox is pushed and the pull asked again (bounded:
// kErasurePending when it cannot be pushed, everything kept). pull.rewind
// (records entered the scope) moves the cursor back; the pull goes on from
// there.
//
// Clock: every answer carries server_time_ms. The engine measures the offset
// (server - device, at the middle of the round trip) and feeds it to
// update_clock_offset (skew_clock.hpp): a new correction needs two agreeing
// answers, and applies to every later local stamp. When a clock refusal
// leaves the offset unconfirmed, the next request is a pull only, which
// confirms it. The summary says how far the device's clock is off.
//
// Thread-safety: one thread at a time, like the Store. Two processes syncing
// one file at once is safe (the server deduplicates) but wasteful.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/core/error.hpp"
#include "tandem/core/store.hpp"
#include "tandem/sync/protocol.hpp"
#include "tandem/sync/skew_clock.hpp"
#include "tandem/sync/transport.hpp"

namespace tandem::sync {

// Store metadata keys (local only: never in dumps or on the wire).
inline constexpr std::string_view kMetaServerUrl = "sync.server_url";
// The device token when the host has no key store (device_token.hpp).
inline constexpr std::string_view kMetaToken = "sync.token";
inline constexpr std::string_view kMetaDeviceId = "sync.device_id";
inline constexpr std::string_view kMetaSchoolId = "sync.school_id";
inline constexpr std::string_view kMetaSchoolName = "sync.school_name";
inline constexpr std::string_view kMetaPersonId = "sync.person_id";
inline constexpr std::string_view kMetaPersonName = "sync.person_name";
inline constexpr std::string_view kMetaPersonRole = "sync.person_role";
inline constexpr std::string_view kMetaCursor = "sync.cursor";
inline constexpr std::string_view kMetaMutationId = "sync.mutation_id";  // last id used
inline constexpr std::string_view kMetaInflight = "sync.inflight";       // {"mutation_id":N,"hlcs":[...]} or ""
inline constexpr std::string_view kMetaLastSync = "sync.last_sync_ms";
inline constexpr std::string_view kMetaView = "sync.view";  // last pull.view the server sent
// "1" from the commit of an erasure until the WAL has been checkpointed.
inline constexpr std::string_view kMetaCheckpointDue = "sync.checkpoint_due";

struct RetryPolicy {
  int max_attempts = 8;  // per request, first try included
  std::chrono::milliseconds initial_backoff{250};
  std::chrono::milliseconds max_backoff{30'000};
};

struct EngineOptions {
  std::size_t push_batch = 500;  // changes per push (<= kMaxChangesPerPush)
  std::size_t pull_limit = 500;  // changes per pull page (<= kMaxPullLimit)
  bool push = true;
  bool pull = true;
  RetryPolicy retry;
  // Offsets to server time up to this size are not corrected.
  std::int64_t clock_tolerance_ms = 2'000;
  // Stop after this many successful requests (0: no limit). For hosts with a
  // short background window; the next sync() continues where this one stopped.
  std::int64_t max_requests = 0;
  // The longest one sync() may take, requests, retries and backoff waits
  // included (0: no bound). Each request gets what is left as its timeout and
  // a wait that would end past it is not begun: sync() fails with kTimeout,
  // keeping what was done (the next sync() goes on from there).
  std::chrono::milliseconds overall_timeout{0};
  // A background window (iOS BGTask, Android WorkManager): the sync stops
  // cleanly before this much time has passed (0: no window) and reports it
  // (SyncSummary::stopped_at_deadline), successfully: nothing is lost and the
  // next sync() goes on from there. Within a window the most important work
  // comes first: the outbox is pushed (push-only requests) before anything
  // is pulled. No request is begun when less time is left than the slowest
  // round trip of this sync() took (kMinRequestMs before the first), and a
  // request gets what is left as its timeout; one cut at the deadline leaves
  // its batch in flight (resent under the same id next time).
  std::chrono::milliseconds deadline{0};
  // Asked before every request and backoff wait: true stops the sync with
  // kCancelled (what was done is kept; last_summary() says what). The host's
  // own transport may also abandon a request in flight.
  std::function<bool()> cancelled;
  // Monotonic time for overall_timeout and deadline (tests inject one; empty:
  // steady_clock).
  std::function<std::chrono::steady_clock::time_point()> monotonic_now;
};

struct SyncProgress {
  enum class Phase { kSending, kRetrying, kApplied, kDone };
  Phase phase = Phase::kSending;
  std::int64_t pushed = 0;       // changes acknowledged so far in this sync()
  std::int64_t pulled = 0;       // changes received so far
  std::int64_t outbox_left = 0;  // local changes still to push
  std::int64_t cursor = 0;       // position in the school's sequence
  bool more = false;             // the server has more to pull
  int attempt = 0;               // kRetrying: the attempt that failed (1-based)
  std::chrono::milliseconds retry_in{0};
  std::optional<Error> error;    // kRetrying: why
};

// A change the server refused for good (Store::rejected()).
using tandem::RejectedChange;

struct SyncSummary {
  std::int64_t pushed = 0;      // changes the server answered (accepted + duplicate + rejected)
  std::int64_t accepted = 0;
  std::int64_t duplicates = 0;  // the server had them already (e.g. an answer lost earlier)
  std::int64_t rejected = 0;
  std::int64_t pulled = 0;      // changes received
  std::int64_t applied = 0;     // of which new here (the rest were already known)
  std::int64_t pulled_refused = 0;  // of which left out: over the text cost limits (forged)
  std::int64_t requests = 0;    // successful round trips
  std::int64_t retries = 0;     // failed attempts that were retried
  std::int64_t cursor = 0;
  std::int64_t outbox_left = 0;
  bool complete = false;        // outbox empty and nothing more to pull
  std::int64_t server_time_ms = 0;
  std::int64_t clock_offset_ms = 0;  // last measured server - device
  std::int64_t clock_correction_ms = 0;  // offset now applied to local stamps (0: none)
  bool clock_corrected_now = false;  // this sync() changed the correction
  // A measured offset waiting for a second answer to agree (not applied yet).
  std::optional<std::int64_t> clock_offset_pending_ms;
  std::int64_t clock_refused = 0;  // changes the server refused for their clock (kept, re-stamped)
  std::int64_t restamped = 0;      // local changes given new stamps (withdrawn refused stamps)
  // Visibility (see the file comment): records the server said left this
  // device's scope, erased here (those this device did not hold included);
  // pulls whose erasure waited for local edits to be pushed first; rewinds
  // (records entered the scope, pulled again from an earlier cursor).
  std::int64_t erased = 0;
  std::int64_t erasure_waits = 0;
  std::int64_t rewinds = 0;
  std::int64_t view = 0;            // the view number the device now holds
  bool checkpoint_pending = false;  // erased bytes still in -wal (file busy): next sync
  // Whether the device's clock is off by more than the tolerance (then
  // clock_offset_ms says by how much): the user should fix it.
  bool clock_wrong = false;
  // The sync stopped at EngineOptions::deadline with work left (complete is
  // false; the next sync goes on).
  bool stopped_at_deadline = false;
  // New device tokens the server sent (rotation) and this device now uses.
  std::int64_t token_rotations = 0;
  std::vector<RejectedChange> newly_rejected;
  Json to_json() const;
};

using SleepFn = std::function<void(std::chrono::milliseconds)>;
using RandomFn = std::function<std::uint64_t()>;
using ProgressFn = std::function<void(const SyncProgress&)>;

class SyncEngine {
 public:
  // REQUIRES: every argument outlives the engine. `sleep` waits (backoff);
  // `random` feeds the jitter. The clock is the Store's own (skew_clock()).
  SyncEngine(Store& store, Transport& transport, SleepFn sleep, RandomFn random, EngineOptions options = {});
  // Same; `clock` must be store.skew_clock() (kept for existing callers).
  SyncEngine(Store& store, Transport& transport, SkewCorrectedClock& clock, SleepFn sleep, RandomFn random,
             EngineOptions options = {});

  // Runs until complete or failed. Errors: kUnauthorized ("device revoked or
  // not enrolled"; local data untouched), kDeviceWiped (the device was
  // reported lost, revoke --wipe: nothing was pushed, the device token is
  // erased; the host must close the Store and call destroy_database()), kNetwork/kTimeout/kServer/kBusy
  // once the retries are used up (progress so far is kept and the next call
  // resumes), the Store's errors, and any error the server gives the whole
  // request. On error, the summary of what was done is in last_summary().
  Result<SyncSummary> sync(const ProgressFn& progress = {});
  const SyncSummary& last_summary() const { return summary_; }

  // Every change the server has rejected on this device, oldest first.
  static Result<std::vector<RejectedChange>> rejected(Store& store);

 private:
  struct Batch {
    std::int64_t mutation_id = 0;
    std::vector<Change> changes;
    std::vector<std::string> texts;  // each change's JSON, encoded once (size, body)
    std::int64_t last_seq = 0;       // the log position of its last change
  };
  Result<std::optional<Batch>> current_batch();
  // The first changes of `pending` whose texts add up to at most `max_bytes`
  // (always the first), each encoded once.
  static Batch form_batch(std::vector<LoggedChange>&& pending, std::size_t max_bytes);
  // While the server works on `sent`: the batch after it, read and encoded
  // (used by current_batch() only if the outbox still starts with it).
  void prefetch_after(const Batch& sent);
  Status drop_inflight();
  Result<SyncResponse> send_with_retry(const std::string& token, const std::string& body,
                                       ErrorResponse* details, const ProgressFn& progress,
                                       const std::function<void()>& meanwhile = {});
  // Time left before overall_timeout (nullopt: no bound).
  std::optional<std::chrono::milliseconds> time_left() const;
  Status learn_clock(std::int64_t server_time_ms, std::int64_t sent_ms, std::int64_t received_ms);
  // Whether an agreeing answer of this sync may adopt an offset that moves
  // the clock forward (see skew_clock.hpp).
  bool may_confirm_offset();
  // Whether a pending offset would be adopted by the next agreeing answer.
  bool offset_confirmable();
  // Withdraws the refused stamps (see the file comment).
  Status withdraw_stamps();
  Status handle_push(const Batch& batch, const PushResponse& answer);
  // Applies a pull page (engine_pull.cpp); pushed_now: the same request's
  // push had changes acknowledged.
  Status handle_pull(const PullResponse& page, bool pushed_now);
  // Empties the -wal file when an erasure left bytes in it.
  Status checkpoint_if_due();
  Status note_server_stamp(const std::string& hlc);
  Status record_rejected(const Change& change, const Error& error, std::int64_t mutation_id);
  void report(const ProgressFn& progress, SyncProgress::Phase phase);

  Store& store_;
  Transport& transport_;
  SkewCorrectedClock& clock_;
  SleepFn sleep_;
  RandomFn random_;
  EngineOptions options_;
  std::size_t batch_size_ = 0;
  std::optional<Batch> prefetched_;  // prefetch_after()'s, not yet checked
  std::int64_t cursor_ = 0;
  std::int64_t view_ = 0;  // kMetaView
  bool more_ = false;
  int erasure_waits_ = 0;  // erasures deferred with no push in between, this sync()
  int stalled_pages_ = 0;  // answers asking for more without moving forward, this sync()
  // Clock state of the running sync().
  bool clock_refused_ = false;         // the last push answer refused stamps
  bool candidate_this_sync_ = false;   // the pending offset came from this sync()
  std::string server_stamp_;           // kMetaServerStamp, greatest seen this sync
  int withdrawals_ = 0;
  int no_progress_ = 0;                // push answers in a row that took nothing
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  // EngineOptions::deadline of the running sync(), and the slowest round
  // trip seen in it.
  std::optional<std::chrono::steady_clock::time_point> window_end_;
  std::chrono::milliseconds slowest_{0};
  // Whether the window leaves time to begin another request.
  bool window_allows_request() const;
  SyncSummary summary_;
};

}  // namespace tandem::sync
