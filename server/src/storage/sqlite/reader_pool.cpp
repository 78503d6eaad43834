// The pool of read-only connections: see reader_pool.hpp.
#include "storage/sqlite/reader_pool.hpp"

namespace tandem::server::sqlite_backend {

void ReaderPool::close() {
  for (auto& r : readers_) {
    r.stmts.reset();  // finalized before their connection closes
    sqlite3_close_v2(r.db);
    r.db = nullptr;
  }
}

Status ReaderPool::open(const std::string& path, const std::string& vfs) {
  for (auto& r : readers_) {
    const int rc = sqlite3_open_v2(path.c_str(), &r.db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                                   vfs.empty() ? nullptr : vfs.c_str());
    if (rc != SQLITE_OK)
      return sqlite::error_from(r.db, rc, "cannot open a reader on '" + path + "'");
    sqlite3_busy_timeout(r.db, 5000);
    r.stmts = std::make_unique<sqlite::StatementCache>(r.db);
  }
  return {};
}

ReaderPool::Lease::~Lease() {
  if (!sqlite3_get_autocommit(reader_.db)) (void)sqlite::exec(reader_.db, "ROLLBACK");
}

ReaderPool::Lease ReaderPool::acquire() {
  for (auto& r : readers_) {
    std::unique_lock lock(r.mu, std::try_to_lock);
    if (lock.owns_lock()) return Lease(std::move(lock), r);
  }
  auto& r = readers_[next_.fetch_add(1, std::memory_order_relaxed) % kReaders];
  return Lease(std::unique_lock(r.mu), r);
}

}  // namespace tandem::server::sqlite_backend
