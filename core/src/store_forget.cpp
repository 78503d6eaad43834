// Local erasure (Store::forget) and the WAL checkpoint that takes erased
// bytes out of the -wal file (Store::checkpoint_truncate). A record that
// left a device's scope is not purged (a purge is a change: it is logged,
// pushed and keeps a tombstone); the device simply stops holding it, so a
// later re-delivery of its changes restores it as if it were new here.
#include <unordered_set>

#include "store_impl.hpp"

namespace tandem {

namespace {

// Every row that holds something of a record, by the ids in temp.forget_ids.
// The outbox first: it names its changes by their place in the log. `changes`
// and `sync_rejected` have no index on record (see migrations.cpp): each is
// scanned once for the whole list, not once per id.
constexpr const char* kForgetDeletes[] = {
    ("DELETE FROM outbox WHERE seq IN (SELECT seq FROM changes WHERE record IN "
     "(SELECT id FROM temp.forget_ids))"),
    "DELETE FROM changes WHERE record IN (SELECT id FROM temp.forget_ids)",
    "DELETE FROM field_writes WHERE record IN (SELECT id FROM temp.forget_ids)",
    "DELETE FROM set_elements WHERE record IN (SELECT id FROM temp.forget_ids)",
    "DELETE FROM texts WHERE record IN (SELECT id FROM temp.forget_ids)",
    "DELETE FROM sync_rejected WHERE record IN (SELECT id FROM temp.forget_ids)",
    "DELETE FROM records WHERE id IN (SELECT id FROM temp.forget_ids)",
};

}  // namespace

Status Store::forget(const std::vector<std::string>& ids) {
  if (ids.empty()) return {};
  Impl& m = *impl_;
  Status done = m.in_transaction([&]() -> Status {
    // A temp table (temp_store=MEMORY: never on disk) holds the list, so each
    // table is visited once. Created inside the transaction: a rollback
    // takes it away with everything else.
    TANDEM_TRY(detail::exec(m.db,
                            "CREATE TEMP TABLE IF NOT EXISTS forget_ids(id TEXT PRIMARY KEY) "
                            "WITHOUT ROWID; DELETE FROM temp.forget_ids;"));
    for (const auto& id : ids) {
      auto st = m.stmt("INSERT OR IGNORE INTO temp.forget_ids(id) VALUES(?)");
      if (!st) return std::move(st).error();
      TANDEM_TRY((*st)->bind(1, id).run());
    }
    // Shipped records (no school) are identical everywhere and read-only.
    TANDEM_TRY(detail::exec(m.db,
                            "DELETE FROM temp.forget_ids WHERE id IN "
                            "(SELECT id FROM records WHERE school='')"));
    for (const char* sql : kForgetDeletes) {
      auto st = m.stmt(sql);
      if (!st) return std::move(st).error();
      TANDEM_TRY((*st)->run());
    }
    return detail::exec(m.db, "DELETE FROM temp.forget_ids");
  });
  // The decoded text of an erased record must not stay in memory either (and
  // after a rollback the cache may not match the file: dropping it is safe).
  for (const auto& id : ids) {
    if (m.text_cache.record == id) m.text_cache = Impl::TextCache{};
  }
  return done;
}

Result<bool> Store::outbox_holds_any(const std::vector<std::string>& records) const {
  if (records.empty()) return false;
  // The outbox is short next to the list (it drains at every sync): its
  // records are read once rather than the log scanned per id.
  auto st = impl_->stmt("SELECT DISTINCT c.record FROM outbox o JOIN changes c ON c.seq = o.seq");
  if (!st) return std::move(st).error();
  std::unordered_set<std::string> waiting;
  for (;;) {
    auto row = (*st)->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    waiting.insert((*st)->text(0));
  }
  for (const auto& id : records) {
    if (waiting.count(id) > 0) return true;
  }
  return false;
}

Status Store::checkpoint_truncate() {
  Impl& m = *impl_;
  if (m.tx_depth > 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "a WAL checkpoint cannot run inside a transaction");
  }
  int log_frames = 0;
  int copied = 0;
  const int rc =
      sqlite3_wal_checkpoint_v2(m.db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log_frames, &copied);
  if (rc == SQLITE_BUSY) {
    // Another connection (a second process on this file) is reading: the
    // -wal file keeps its frames until a later checkpoint.
    return make_error(ErrorCode::kBusy,
                      "the WAL could not be emptied: another connection is using the file");
  }
  if (rc != SQLITE_OK) return detail::sqlite_error(m.db, rc, "WAL checkpoint failed");
  return {};
}

}  // namespace tandem
