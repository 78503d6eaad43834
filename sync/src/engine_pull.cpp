// SyncEngine's pull side: applying a page, and replication that follows
// visibility (docs/protocol.md, "Visibility"): records that left the
// device's scope are erased locally (pull.gone), and the cursor moves back
// when records entered it (pull.rewind).
#include <limits>

#include "tandem/sync/engine.hpp"

namespace tandem::sync {
namespace {

// Pulls whose erasure waited for the outbox, per sync(), that pushed
// nothing in between: a server that keeps naming a record this device
// cannot push its edits of is not argued with.
constexpr int kMaxErasureWaits = 3;
// Answers per sync() that ask for more without moving the cursor forward
// (rewinds, erasures): a few are what a widening or a narrowing needs; a
// server that keeps sending them would keep the device pulling forever.
constexpr int kMaxStalledPages = 8;

}  // namespace

Status SyncEngine::checkpoint_if_due() {
  auto due = store_.meta(kMetaCheckpointDue);
  if (!due) return std::move(due).error();
  if (!*due || (*due)->empty()) return {};
  Status done = store_.checkpoint_truncate();
  if (!done) {
    // Another connection holds the WAL: the erased bytes leave it at the
    // next checkpoint (the flag stays; every sync tries again).
    if (done.error().code == ErrorCode::kBusy) {
      summary_.checkpoint_pending = true;
      return {};
    }
    return done;
  }
  summary_.checkpoint_pending = false;
  return store_.set_meta(kMetaCheckpointDue, "");
}

Status SyncEngine::handle_pull(const PullResponse& page, bool pushed_now) {
  if (!page.gone.empty()) {
    // Local edits of a record that leaves the scope reach the server first:
    // nothing of this answer is applied, the outbox goes, the pull is asked
    // again (the server names the records again until a pull carries the
    // view that came with them).
    auto waiting = store_.outbox_holds_any(page.gone);
    if (!waiting) return std::move(waiting).error();
    if (*waiting) {
      ++summary_.erasure_waits;
      if (!pushed_now) ++erasure_waits_;
      if (!options_.push || erasure_waits_ > kMaxErasureWaits) {
        return make_error(
            ErrorCode::kErasurePending,
            "records left this device's scope while it holds unsent edits of them that could "
            "not be pushed; nothing was erased and the edits are kept: sync again with push "
            "enabled");
      }
      more_ = true;
      return {};
    }
  }
  if (page.more && page.cursor <= cursor_ && ++stalled_pages_ > kMaxStalledPages) {
    return make_error(ErrorCode::kServer,
                      "the server asked " + std::to_string(stalled_pages_) +
                          " times in one sync to pull again without moving forward; what was "
                          "done is kept and the next sync goes on from there");
  }
  std::int64_t applied = 0;
  std::int64_t refused = 0;
  // One transaction: the erasure, the page's changes, its cursor and view
  // (a crash takes them back together and the page is pulled again).
  Status done = store_.transaction(
      [&]() -> Status {
        refused = 0;
        applied = 0;
        if (!page.gone.empty()) {
          TANDEM_TRY(store_.forget(page.gone));
          TANDEM_TRY(store_.set_meta(kMetaCheckpointDue, "1"));
        }
        for (const PulledChange& pc : page.changes) {
          TANDEM_TRY(note_server_stamp(pc.change.id()));
          // The server checked every stamp against its own clock when it
          // accepted the change; refusing here (device clock behind) would
          // stall the pull forever.
          auto r = store_.apply(pc.change, Store::StampCheck::kByServer);
          if (!r && r.error().code == ErrorCode::kTextTooLarge) {
            // Over the text cost limits (text/limits.hpp): no server of ours
            // serves one, so it is forged or from a server without the limits.
            // Merging it could stall this device; refusing the whole page would
            // stall its sync for good. Left out, and counted.
            ++refused;
            continue;
          }
          if (!r) {
            return make_error(r.error().code, "cannot apply change " + std::to_string(pc.seq) +
                                                  " from the server: " + r.error().message);
          }
          if (*r == ApplyOutcome::kApplied) ++applied;
        }
        if (!server_stamp_.empty()) TANDEM_TRY(store_.set_meta(kMetaServerStamp, server_stamp_));
        if (page.view) TANDEM_TRY(store_.set_meta(kMetaView, std::to_string(*page.view)));
        return store_.set_meta(kMetaCursor, std::to_string(page.cursor));
      },
      Durability::kDeferred);  // lost with its cursor: the page is pulled again
  TANDEM_TRY(done);
  cursor_ = page.cursor;
  if (page.view) view_ = *page.view;
  more_ = page.more;
  summary_.pulled += static_cast<std::int64_t>(page.changes.size());
  summary_.applied += applied;
  summary_.pulled_refused += refused;
  summary_.erased += static_cast<std::int64_t>(page.gone.size());
  if (page.rewind) ++summary_.rewinds;
  summary_.cursor = cursor_;
  summary_.view = view_;
  // No byte of what was erased stays in the -wal file.
  if (!page.gone.empty()) TANDEM_TRY(checkpoint_if_due());
  return {};
}

}  // namespace tandem::sync
