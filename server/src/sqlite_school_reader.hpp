// The SQLite backend's reader for the school's view (ServerStorage::
// school_records): its own read-only connection with a tandem::Store over
// it, so that reports read merged records from a snapshot without holding
// up the commit thread or the pull readers.
//
// Thread-safety: every method may be called from any thread; one report
// reads at a time (reports are rare and bounded: kMaxReportRecords).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "tandem/core/store.hpp"
#include "tandem/server/storage.hpp"

namespace tandem::server {

class SqliteSchoolReader {
 public:
  SqliteSchoolReader(std::string path, std::string vfs) : path_(std::move(path)), vfs_(std::move(vfs)) {}
  Result<SchoolSnapshot> read(std::string_view school, std::int64_t after_seq);
  Result<std::optional<std::string>> meta(std::string_view key);

 private:
  Status open_locked();
  std::mutex mu_;
  std::string path_, vfs_;
  std::unique_ptr<Store> store_;
};

}  // namespace tandem::server
