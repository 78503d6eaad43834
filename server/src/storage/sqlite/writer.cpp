// The SQLite ServerStorage's writer: write transactions (every one ends in
// Caches::invalidate, caches.hpp), the schools' sequences, and the run of a
// commit group (one transaction, a savepoint per job). Everything here runs
// on the writer connection under mu_. A school's seq is counted in the
// WriterCache and written once per transaction (flush_sequence); it stays
// dense because a failed job's savepoint gives its numbers back
// (undo_sequence).
#include <algorithm>
#include <chrono>
#include <exception>

#include "storage/sqlite/push_transaction.hpp"
#include "storage/sqlite/rows.hpp"
#include "storage/sqlite/storage.hpp"
#include "tandem/server/limits.hpp"

namespace tandem::server::sqlite_backend {

using sqlite::exec;
using sqlite::Stmt;

sqlite_audit::StmtSource SqliteStorage::writer_stmts() {
  return [this](const char* sql) { return stmts_.get(sql); };
}

Result<std::optional<std::string>> SqliteStorage::record_school_locked(std::string_view id) {
  auto st = stmts_.get("SELECT school FROM records WHERE id=?");
  if (!st) return std::move(st).error();
  (*st)->bind(1, id);
  auto row = (*st)->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>((*st)->text(0));
}

Result<AppliedChange> SqliteStorage::apply_locked(const Change& change, std::string_view body,
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
    caches_.changes().rows.push_back(
        TailUpdate{change.school, {*seq, {}, change.record, {}}, true});
  }
  return applied;
}

std::size_t SqliteStorage::commit_batch(Batch& batch, const Touches& touches) {
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
      const std::size_t scopes_before = caches_.changes().scopes.size();
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
        caches_.changes().unscope_from(scopes_before);
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

Status SqliteStorage::write_transaction(const std::function<Status()>& fn) {
  caches_.changes().sequenced = true;
  return write([&]() -> Status {
    TANDEM_TRY(check_writer_cache());
    TANDEM_TRY(fn());
    return flush_sequence();
  });
}

Status SqliteStorage::write(const std::function<Status()>& fn) {
  Status s = store_->transaction(fn);
  caches_.invalidate(s ? Caches::Event::kCommitted : Caches::Event::kRolledBack);
  return s;
}

Status SqliteStorage::check_writer_cache() {
  auto st = stmts_.get("PRAGMA data_version");
  if (!st) return std::move(st).error();
  auto row = (*st)->step();
  if (!row) return std::move(row).error();
  caches_.writer_saw(*row ? (*st)->int64(0) : -1);
  return {};
}

Result<std::int64_t> SqliteStorage::next_seq(const std::string& school) {
  WriterCache& w = caches_.writer();
  auto it = w.last_seq.find(school);
  if (it == w.last_seq.end()) {
    auto last = last_seq_of(stmts_.get(kLastSeqSql), school);
    if (!last) return std::move(last).error();
    it = w.last_seq.emplace(school, *last).first;
  }
  seq_undo_.emplace_back(school, it->second);
  if (std::find(w.dirty_schools.begin(), w.dirty_schools.end(), school) == w.dirty_schools.end()) {
    w.dirty_schools.push_back(school);
  }
  return ++it->second;
}

void SqliteStorage::undo_sequence() {
  WriterCache& w = caches_.writer();
  for (auto it = seq_undo_.rbegin(); it != seq_undo_.rend(); ++it) {
    w.last_seq[it->first] = it->second;
  }
  seq_undo_.clear();
}

Status SqliteStorage::flush_sequence() {
  WriterCache& w = caches_.writer();
  for (const auto& school : w.dirty_schools) {
    auto st = stmts_.get(
        "INSERT INTO server_school_seq(school, last_seq) VALUES(?, ?) "
        "ON CONFLICT(school) DO UPDATE SET last_seq=excluded.last_seq");
    if (!st) return std::move(st).error();
    TANDEM_TRY((*st)->bind(1, school).bind(2, w.last_seq.at(school)).run());
  }
  w.dirty_schools.clear();
  return {};
}

Result<std::optional<LastMutation>> SqliteStorage::last_mutation(const std::string& device) {
  WriterCache& w = caches_.writer();
  if (auto it = w.devices.find(device); it != w.devices.end()) {
    return std::optional<LastMutation>(it->second);
  }
  auto st =
      stmts_.get("SELECT last_mutation_id, last_digest, revoked_ms FROM server_devices WHERE id=?");
  if (!st) return std::move(st).error();
  Stmt& s = **st;
  s.bind(1, device);
  auto row = s.step();
  if (!row) return std::move(row).error();
  if (!*row || !s.is_null(2)) return std::optional<LastMutation>();
  LastMutation last{s.int64(0), s.text(1)};
  w.devices.emplace(device, last);
  return std::optional<LastMutation>(std::move(last));
}

Status SqliteStorage::run_one(CommitJob& job) {
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
  if (auto settled = settled_mutation((*last)->id, (*last)->digest, job.mutation_id, job.digest)) {
    out.state = *settled;
    if (*settled != MutationState::kReplayed) return {};
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

Result<std::int64_t> SqliteStorage::append_to_sequence(const Change& change, std::string_view body,
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

Status SqliteStorage::sequence_local_writes() {
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

}  // namespace tandem::server::sqlite_backend
