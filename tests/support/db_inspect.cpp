#include "db_inspect.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <vector>

namespace tandem::test {
namespace {

class ReadConnection {
 public:
  ReadConnection(const std::string& path, const std::string& vfs) {
    // Read-write (never creating): a file left by a crash may need its WAL
    // recovered first, which a read-only connection cannot always do.
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE,
                        vfs.empty() ? nullptr : vfs.c_str()) != SQLITE_OK) {
      error_ = db_ ? sqlite3_errmsg(db_) : "cannot open";
    }
    if (db_) sqlite3_busy_timeout(db_, 5000);
  }
  ~ReadConnection() { sqlite3_close_v2(db_); }
  ReadConnection(const ReadConnection&) = delete;
  ReadConnection& operator=(const ReadConnection&) = delete;

  const std::string& error() const { return error_; }

  // Runs `sql`, calling `row` per result row; an error text, "" on success.
  std::string each(const std::string& sql, const std::function<void(sqlite3_stmt*)>& row) {
    sqlite3_stmt* st = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr);
    if (rc == SQLITE_OK) {
      while ((rc = sqlite3_step(st)) == SQLITE_ROW) row(st);
    }
    std::string err = rc == SQLITE_DONE ? "" : sql + ": " + sqlite3_errmsg(db_);
    sqlite3_finalize(st);
    return err;
  }

 private:
  sqlite3* db_ = nullptr;
  std::string error_;
};

std::string column_text(sqlite3_stmt* st, int i) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, i));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(st, i))) : std::string();
}

}  // namespace

std::string integrity_check(const std::string& path, const std::string& vfs) {
  ReadConnection c(path, vfs);
  if (!c.error().empty()) return c.error();
  std::string integrity;
  std::string err = c.each("PRAGMA integrity_check", [&](sqlite3_stmt* st) {
    if (!integrity.empty()) integrity += "; ";
    integrity += column_text(st, 0);
  });
  if (!err.empty()) return err;
  if (integrity != "ok") return integrity;
  std::string fk;
  err =
      c.each("PRAGMA foreign_key_check", [&](sqlite3_stmt* st) { fk += " " + column_text(st, 0); });
  if (!err.empty()) return err;
  return fk.empty() ? "ok" : "foreign keys broken in" + fk;
}

std::string content_digest(const std::string& path, const std::string& vfs) {
  ReadConnection c(path, vfs);
  if (!c.error().empty()) return "error: " + c.error();
  std::vector<std::string> tables;
  std::string err = c.each(
      "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite\\_%' ESCAPE "
      "'\\' "
      "AND name <> 'meta' ORDER BY name",
      [&](sqlite3_stmt* st) { tables.push_back(column_text(st, 0)); });
  if (!err.empty()) return "error: " + err;
  std::string out;
  std::uint64_t hash = 1469598103934665603ULL;  // FNV-1a over every value
  auto mix = [&hash](const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < n; ++i) hash = (hash ^ p[i]) * 1099511628211ULL;
  };
  for (const auto& table : tables) {
    int columns = 0;
    err = c.each("SELECT count(*) FROM pragma_table_info('" + table + "')",
                 [&](sqlite3_stmt* st) { columns = sqlite3_column_int(st, 0); });
    if (!err.empty()) return "error: " + err;
    std::string order;
    for (int i = 1; i <= columns; ++i) order += (i > 1 ? "," : "") + std::to_string(i);
    std::int64_t rows = 0;
    mix(table.data(), table.size() + 1);
    err = c.each("SELECT * FROM \"" + table + "\" ORDER BY " + order, [&](sqlite3_stmt* st) {
      ++rows;
      for (int i = 0; i < columns; ++i) {
        const unsigned char type = static_cast<unsigned char>(sqlite3_column_type(st, i));
        mix(&type, 1);
        const void* blob = sqlite3_column_blob(st, i);
        const int n = sqlite3_column_bytes(st, i);
        if (blob != nullptr) mix(blob, static_cast<std::size_t>(n));
        mix(&n, sizeof n);
      }
    });
    if (!err.empty()) return "error: " + err;
    out += table + "=" + std::to_string(rows) + " ";
  }
  char tail[24];
  std::snprintf(tail, sizeof tail, "#%016llx", static_cast<unsigned long long>(hash));
  return out + tail;
}

}  // namespace tandem::test
