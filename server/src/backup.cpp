#include "tandem/server/stores.hpp"
#include "tandem/server/backup.hpp"

#include <unistd.h>

#include <filesystem>

#include "tandem/core/encryption.hpp"
#include "tandem/server/options.hpp"
#include "tandem/server/sealed_key_store.hpp"

namespace tandem::server {
namespace {

std::string parent_of(const std::string& file) {
  const std::filesystem::path p = std::filesystem::absolute(file).parent_path();
  return p.string();
}

}  // namespace

Result<BackupResult> backup_database(const std::string& data_dir, const std::string& db_key_file,
                                     const std::string& to) {
  auto keys = database_keys(db_key_file, data_dir);
  if (!keys) return std::move(keys).error();
  std::shared_ptr<KeyStore> to_keys;
  if (!db_key_file.empty()) {
    auto k = database_keys(db_key_file, parent_of(to));
    if (!k) return std::move(k).error();
    to_keys = std::move(*k);
  }
  Host from_host;
  from_host.keys = keys->get();
  Host to_host;
  to_host.keys = to_keys.get();
  TANDEM_TRY(copy_database(database_path(data_dir), from_host, to, to_host));
  std::error_code ec;
  const auto size = std::filesystem::file_size(to, ec);
  return BackupResult{to, ec ? 0 : static_cast<std::int64_t>(size)};
}

Result<RestoreResult> restore_database(const std::string& data_dir, const std::string& db_key_file,
                                       const std::string& from, const std::string& erasure_log,
                                       Clock& clock) {
  // The log first: a log that cannot be read stops the restore before
  // anything is written.
  std::vector<Change> purges;
  if (!erasure_log.empty()) {
    if (::access(erasure_log.c_str(), R_OK) != 0) {
      return make_error(ErrorCode::kNotFound, "no erasure log at '" + erasure_log + "'");
    }
    auto read = ErasureLog::read(erasure_log);
    if (!read) return std::move(read).error();
    purges = std::move(*read);
  }
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  const std::string db = database_path(data_dir);
  if (::access(db.c_str(), F_OK) == 0) {
    return make_error(ErrorCode::kAlreadyExists,
                      "'" + data_dir + "' holds a database already; restore into a new folder");
  }
  std::shared_ptr<KeyStore> from_keys;
  std::shared_ptr<KeyStore> to_keys;
  if (!db_key_file.empty()) {
    auto k = database_keys(db_key_file, parent_of(from));
    if (!k) return std::move(k).error();
    from_keys = std::move(*k);
    auto t = database_keys(db_key_file, data_dir);
    if (!t) return std::move(t).error();
    to_keys = std::move(*t);
  }
  Host from_host;
  from_host.keys = from_keys.get();
  Host to_host;
  to_host.keys = to_keys.get();
  TANDEM_TRY(copy_database(from, from_host, db, to_host));

  RestoreResult result;
  result.erasures_in_log = static_cast<std::int64_t>(purges.size());
  if (purges.empty()) return result;
  {
    auto storage = open_sqlite_storage({db, &clock, sync::kDefaultMaxSkewMs, {}, to_keys});
    if (!storage) return std::move(storage).error();
    auto applied = reapply_erasures(**storage, purges, clock.now_ms());
    if (!applied) return std::move(applied).error();
    result.erasures_reapplied = *applied;
  }
  // The new folder's log holds them too: a backup of it restored later
  // re-applies them again.
  ErasureLog log(erasure_log_path(data_dir));
  if (std::filesystem::absolute(erasure_log) != std::filesystem::absolute(log.path())) {
    for (const Change& purge : purges) TANDEM_TRY(log.append(purge, clock.now_ms()));
  }
  return result;
}

}  // namespace tandem::server
