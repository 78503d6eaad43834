// The server's own tables in the embedded SQLite database, and their
// numbered migrations (schema.cpp). The tables sit beside the Store's in the
// same file; their names start with server_. The audit trail's and the web
// sessions' tables are versioned apart (audit.hpp, web_sessions.hpp) and are
// migrated from here too.
//
// Invariants: server_meta 'schema_version' names the last migration applied;
// migration N runs exactly when the file is below version N, all of them in
// one transaction; a file from a newer server is refused, never touched.
//
// Thread-safety: migrate() uses the writer connection; REQUIRES the writer's
// mutex, and runs before any reader or cache is opened.
#pragma once

#include "tandem/core/error.hpp"
#include "tandem/core/sqlite.hpp"
#include "tandem/core/store.hpp"

namespace tandem::server::sqlite_backend::schema {

// The version migrate() brings the server's tables to.
inline constexpr int kVersion = 5;

// Creates or upgrades the server's tables in `store`'s file, with `stmts`
// (the writer connection's statements). An up-to-date file is only read:
// admin commands open it while the server runs, without taking the write
// lock. kUnsupportedVersion: the tables are from a newer tandem-server.
Status migrate(Store& store, sqlite::StatementCache& stmts);

}  // namespace tandem::server::sqlite_backend::schema
