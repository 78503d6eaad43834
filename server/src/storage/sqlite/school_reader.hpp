// The SQLite backend's readers for the school's view (ServerStorage::
// school_records, read_record, setting): read-only connections of their own,
// each with a tandem::Store over it, so that reports read merged records
// from a snapshot without holding up the commit thread or the pull readers.
// Two of them: one loads whole schools (long), the other answers point reads
// (a person, a setting: who may see a report), so that authorising a
// request never waits behind a school being loaded.
//
// Thread-safety: every method may be called from any thread; each reader
// serves one call at a time.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "tandem/core/store.hpp"
#include "tandem/server/storage.hpp"

namespace tandem::server {

class SqliteSchoolReader {
 public:
  // `host`: its key store opens an encrypted database (it must outlive this).
  SqliteSchoolReader(std::string path, std::string vfs, Host host)
      : path_(std::move(path)), vfs_(std::move(vfs)), host_(host) {}
  Result<SchoolSnapshot> read(std::string_view school, std::int64_t after_seq);
  Result<std::optional<std::string>> meta(std::string_view key);
  Result<std::optional<Record>> record(std::string_view id);

 private:
  struct Reader {
    std::mutex mu;
    std::unique_ptr<Store> store;
  };
  Status open_locked(Reader& reader);
  std::string path_, vfs_;
  Host host_;
  Reader bulk_, point_;
};

}  // namespace tandem::server
