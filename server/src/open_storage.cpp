// open_server_storage (options.hpp): which backend serves, in one place.
#include <filesystem>
#include <ostream>

#include "storage/postgres/pg.hpp"
#include "tandem/server/stores.hpp"
#include "tandem/server/options.hpp"
#include "tandem/server/sealed_key_store.hpp"

namespace tandem::server {

Result<std::unique_ptr<ServerStorage>> open_server_storage(const ServerOptions& options, Clock& clock,
                                                           std::ostream* warnings) {
  if (!options.store.empty()) {
    if (!pg::is_postgres_url(options.store)) {
      return make_error(ErrorCode::kInvalidArgument,
                        "--store takes a postgresql:// URL (the SQLite store is --data DIR)");
    }
    if (!options.db_key_file.empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "--db-key encrypts the SQLite file; with PostgreSQL, encrypt its storage "
                        "(README, PostgreSQL)");
    }
    PostgresStorageOptions po;
    po.url = options.store;
    po.clock = &clock;
    po.max_skew_ms = options.max_skew_ms;
    if (!options.data_dir.empty())
      po.cache_dir = (std::filesystem::path(options.data_dir) / "cache").string();
    if (warnings) po.warn = [warnings](const std::string& w) { *warnings << "tandem-server: warning: " << w << "\n"; };
    return open_postgres_storage(po);
  }
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  auto keys = database_keys(options.db_key_file, options.data_dir);
  if (!keys) return std::move(keys).error();
  return open_sqlite_storage(
      {database_path(options.data_dir), &clock, options.max_skew_ms, {}, std::move(*keys)});
}

}  // namespace tandem::server
