// Core's names for the SQLite helpers of tandem/core/sqlite.hpp (one
// implementation, shared with the server).
#pragma once

#include "tandem/core/sqlite.hpp"

namespace tandem::detail {

using sqlite::exec;
using sqlite::StatementCache;
using sqlite::Stmt;
using sqlite::StmtLease;

inline Error sqlite_error(sqlite3* db, int rc, std::string_view what) {
  return sqlite::error_from(db, rc, what);
}

}  // namespace tandem::detail
