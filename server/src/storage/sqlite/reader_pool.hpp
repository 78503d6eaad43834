// Read-only connections to the SQLite database, for the server's reads
// (authentication, pulls, listings). In WAL mode they read the last
// committed state while the writer commits, so those reads never wait
// behind a group commit's flush. Each reader keeps its prepared statements.
//
// Invariants: a lease is one reader for one thread; a read transaction left
// open by its user ends with the lease, so the next user starts clean and no
// old snapshot holds back checkpoints.
//
// Thread-safety: acquire() from any thread; a Lease is used by one thread.
// open() and close() are not thread-safe (opening and closing the storage).
#pragma once

#include <sqlite3.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>

#include "tandem/core/error.hpp"
#include "tandem/core/sqlite.hpp"

namespace tandem::server::sqlite_backend {

class ReaderPool {
 public:
  static constexpr std::size_t kReaders = 4;

  ReaderPool() = default;
  ~ReaderPool() { close(); }
  ReaderPool(const ReaderPool&) = delete;
  ReaderPool& operator=(const ReaderPool&) = delete;

  // Opens every reader on `path`; `vfs`: a registered SQLite VFS name (the
  // writer's, which for an encrypted database holds its key), empty for the
  // default.
  Status open(const std::string& path, const std::string& vfs);

  // Closes every reader (before the writer's Store goes: an encrypted
  // database's readers read through the writer's VFS).
  void close();

  struct Reader {
    std::mutex mu;
    sqlite3* db = nullptr;
    std::unique_ptr<sqlite::StatementCache> stmts;
  };

  // One reader for one thread; ends a read transaction left open.
  class Lease {
   public:
    Lease(std::unique_lock<std::mutex>&& lock, Reader& reader)
        : lock_(std::move(lock)), reader_(reader) {}
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    // The reader's prepared statement for `sql` (with static storage).
    Result<sqlite::StmtLease> stmt(const char* sql) { return reader_.stmts->get(sql); }

   private:
    std::unique_lock<std::mutex> lock_;
    Reader& reader_;
  };

  // A free reader if there is one, else waits for one (by rotation).
  Lease acquire();

 private:
  std::array<Reader, kReaders> readers_;
  std::atomic<std::size_t> next_{0};
};

}  // namespace tandem::server::sqlite_backend
