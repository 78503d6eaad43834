// The storage backends and how to open them (storage.hpp is the interface
// they implement, and says what each must guarantee).
//
//   SQLite (the default): one file in --data DIR; one process serves it.
//   PostgreSQL (--store postgresql://...): several processes may share it;
//   each keeps a local cache of merged records rebuilt from the log.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "tandem/server/storage.hpp"

namespace tandem::server {

struct SqliteStorageOptions {
  std::string path;        // the database file; created if missing
  Clock* clock = nullptr;  // the Store's wall clock; nullptr: system clock
  std::int64_t max_skew_ms = sync::kDefaultMaxSkewMs;
  // The SQLite VFS of every connection (the writer and the readers); empty:
  // SQLite's default. See StoreOptions::vfs. (Braced: `{path, clock, skew}`
  // initialisations leave it out without -Wmissing-field-initializers.)
  std::string vfs{};
  // Encryption at rest (tandem-server --db-key): the key store that holds
  // the database's key (database_keys in sealed_key_store.hpp); none: a plain file (an
  // encrypted one then fails with key_missing).
  std::shared_ptr<KeyStore> keys{};
};

// The embedded backend: one SQLite file holding a tandem::Store (records,
// merge state) and the server's own tables (devices, enrollment codes, the
// per-school sequence, mutations). Opens or creates and migrates the file.
Result<std::unique_ptr<ServerStorage>> open_sqlite_storage(const SqliteStorageOptions& options);

struct PostgresStorageOptions {
  std::string url;         // postgresql://USER@HOST:PORT/DB (libpq's connection URI)
  Clock* clock = nullptr;  // the cache Store's wall clock; nullptr: system clock
  std::int64_t max_skew_ms = sync::kDefaultMaxSkewMs;
  // Where the instance's cache of merged records lives (a private file,
  // rebuilt from the log at every start and removed at close; files left by
  // killed instances are removed at the next start). "": $TMPDIR.
  std::string cache_dir{};
  int pool_size = 8;  // connections for request threads (the commit thread has its own)
  // Told what an operator should fix (e.g. a role that bypasses row-level
  // security); none: not told.
  std::function<void(const std::string&)> warn{};
};

// The PostgreSQL backend (route (b) of issue 17, README "PostgreSQL"):
// PostgreSQL holds every table, including each school's sequenced change
// log; each instance merges into a local cache it rebuilds from that log.
// Several instances may share one database. Creates or migrates the tables.
Result<std::unique_ptr<ServerStorage>> open_postgres_storage(const PostgresStorageOptions& options);

// Process-wide settings of the SQLite library for a server (one thread per
// connection at a time, no global memory accounting). Call once, before any
// other SQLite use; the SQLite backend's business, so main() stays neutral.
void configure_sqlite_for_server();

}  // namespace tandem::server
