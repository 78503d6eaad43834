// The erasure log (backup.hpp says why): every purge the server applies,
// appended and synced before its commit group commits, so that restoring an
// older backup re-applies it. One JSON line per purge:
// {"at_ms","school","record","change"}: ids and clocks only (a purge change
// carries no content).
//
// Thread-safety: ErasureLog::append may be called from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "tandem/core/change.hpp"
#include "tandem/core/error.hpp"
#include "tandem/server/storage.hpp"

namespace tandem::server {

// A line of the log longer than this is refused when read (a purge's line
// is a few hundred bytes).
inline constexpr std::size_t kMaxErasureLogLine = 16 * 1024;

// The default log of a data folder.
std::string erasure_log_path(const std::string& data_dir);

class ErasureLog {
 public:
  // `path` "" = no log (appends do nothing).
  explicit ErasureLog(std::string path) : path_(std::move(path)) {}

  // Appends the purge `change` and syncs the file before returning (the
  // purge commits after it: a log may name a purge whose commit then failed;
  // re-applying it later only does what the device asked for). kIo on
  // failure: the purge is then refused, never applied unlogged.
  Status append(const Change& change, std::int64_t now_ms);

  // The purges in the log at `path`, in order; a missing file has none.
  // kInvalidValue names the first line that is too long or not a purge.
  static Result<std::vector<Change>> read(const std::string& path);

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::mutex mu_;
};

// Applies purges in one write through `storage` (what restore does): each
// merged as a device's push would, appended to its school's sequence.
// Returns how many changed the store (the others were applied already).
Result<std::int64_t> reapply_erasures(ServerStorage& storage, const std::vector<Change>& purges,
                                      std::int64_t now_ms);

}  // namespace tandem::server
