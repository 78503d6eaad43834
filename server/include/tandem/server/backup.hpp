// Backups of the embedded (SQLite) store, and the erasure log that keeps a
// restore from undoing an erasure.
//
//   tandem-server --data DIR backup --to FILE
//   tandem-server --data NEW restore --from FILE [--erasure-log LOG]
//
// A backup is a consistent online copy of the database (core's
// copy_database: one read transaction, the server goes on serving; every
// change acknowledged before the backup started is in it, since the server
// acknowledges only after its commit is durable). With --db-key the copy is
// encrypted under a key of its own, sealed under the same master key in
// keys/ beside FILE (so a backup is FILE plus that folder, and the master
// key file kept apart).
//
// Erasure is never undone. Every purge the server applies is first appended
// to the erasure log (DIR/erasure-log.jsonl, or --erasure-log), synced, one
// JSON line per purge: {"at_ms","school","record","change"} — ids and clocks
// only (a purge change carries no content). Restoring re-applies every purge
// of the log given (re-applying one is harmless), through the same merge as
// a device's push, so devices erase the records again at their next pull,
// and copies the log into the new data folder. Keep the log with the
// backups (--erasure-log can put it on another disk): a data folder lost
// with its log loses the erasures done since the last backup.
//
// For PostgreSQL the route is PostgreSQL's own (pg_dump, streaming
// replication, point-in-time recovery: README, "Backups").
//
// Thread-safety: one-shot admin functions.
#pragma once

#include <cstdint>
#include <string>

#include "tandem/core/error.hpp"
#include "tandem/core/hlc.hpp"
#include "tandem/server/erasure_log.hpp"

namespace tandem::server {

struct BackupResult {
  std::string file;
  std::int64_t bytes = 0;
};

// Copies the database of `data_dir` to `to` (see above). `db_key_file`: the
// server's --db-key ("" = plain).
Result<BackupResult> backup_database(const std::string& data_dir, const std::string& db_key_file,
                                     const std::string& to);

struct RestoreResult {
  std::int64_t erasures_in_log = 0;
  std::int64_t erasures_reapplied = 0;
};

// Restores the backup `from` into `data_dir`, which must hold no database
// (kAlreadyExists), then re-applies the purges of the erasure log
// `erasure_log` ("" = none) and appends them to data_dir's own log.
Result<RestoreResult> restore_database(const std::string& data_dir, const std::string& db_key_file,
                                       const std::string& from, const std::string& erasure_log,
                                       Clock& clock);

}  // namespace tandem::server
