// The PostgreSQL backend's tables and their numbered migrations.
//
// server_migrations holds one row per migration applied, so a database tells
// which version of tandem-server last changed it; a newer database than this
// binary knows is refused (unsupported_version). Migrations run under a
// transaction-scoped advisory lock, so several instances starting at once
// apply each one exactly once.
//
// The tables mirror the embedded backend's server_* tables (storage.hpp says
// what each holds); the merged records are not here: each instance keeps
// them in a local cache rebuilt from server_changes (pg_storage.hpp).
#pragma once

#include "storage/postgres/pg.hpp"

namespace tandem::server::pg {

inline constexpr int kPgSchemaVersion = 1;

// Creates or upgrades the tables. Safe to run from several processes at once.
Status migrate(Conn& conn);

}  // namespace tandem::server::pg
