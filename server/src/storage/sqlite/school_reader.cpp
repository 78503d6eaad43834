// The school readers (their own read-only Stores): see school_reader.hpp for
// why there are two and how they are shared between threads.
#include "storage/sqlite/school_reader.hpp"

#include <set>

#include "tandem/core/sqlite.hpp"
#include "tandem/server/limits.hpp"

namespace tandem::server {

Status SqliteSchoolReader::open_locked(Reader& reader) {
  if (reader.store) return {};
  StoreOptions so;
  so.path = path_;
  so.vfs = vfs_;
  // The file exists and is migrated (the server opened it first): opening
  // reads only. query_only makes sure nothing here ever writes.
  auto store = Store::open(so, host_);
  if (!store) return std::move(store).error();
  TANDEM_TRY(sqlite::exec(sqlite::handle(**store), "PRAGMA query_only=ON;"));
  reader.store = std::move(*store);
  return {};
}

Result<std::optional<Record>> SqliteSchoolReader::record(std::string_view id) {
  std::lock_guard lock(point_.mu);
  TANDEM_TRY(open_locked(point_));
  auto r = point_.store->get(id);
  if (!r && r.error().code == ErrorCode::kNotFound) return std::optional<Record>();
  if (!r) return std::move(r).error();
  return std::optional<Record>(std::move(*r));
}

Result<std::optional<std::string>> SqliteSchoolReader::meta(std::string_view key) {
  std::lock_guard lock(point_.mu);
  TANDEM_TRY(open_locked(point_));
  sqlite3* db = sqlite::handle(*point_.store);
  sqlite3_stmt* raw = nullptr;
  if (int rc = sqlite3_prepare_v2(db, "SELECT value FROM server_meta WHERE key=?", -1, &raw, nullptr);
      rc != SQLITE_OK)
    return sqlite::error_from(db, rc, "cannot read server_meta");
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> guard(raw, sqlite3_finalize);
  sqlite::Stmt st(db, raw);
  st.bind(1, key);
  auto row = st.step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(st.text(0));
}

Result<SchoolSnapshot> SqliteSchoolReader::read(std::string_view school, std::int64_t after_seq) {
  std::lock_guard lock(bulk_.mu);
  TANDEM_TRY(open_locked(bulk_));
  Store& store = *bulk_.store;
  sqlite3* db = sqlite::handle(store);
  TANDEM_TRY(sqlite::exec(db, "BEGIN"));
  struct End {
    sqlite3* db;
    ~End() { (void)sqlite::exec(db, "COMMIT"); }
  } end{db};
  SchoolSnapshot out;
  auto query = [&](const char* sql, auto&& bind, auto&& row) -> Status {
    sqlite3_stmt* raw = nullptr;
    if (int rc = sqlite3_prepare_v2(db, sql, -1, &raw, nullptr); rc != SQLITE_OK)
      return sqlite::error_from(db, rc, "cannot read the school's records");
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> guard(raw, sqlite3_finalize);
    sqlite::Stmt st(db, raw);
    bind(st);
    for (;;) {
      auto step = st.step();
      if (!step) return std::move(step).error();
      if (!*step) return {};
      TANDEM_TRY(row(st));
    }
  };
  TANDEM_TRY(query(
      "SELECT last_seq FROM server_school_seq WHERE school=?", [&](sqlite::Stmt& st) { st.bind(1, school); },
      [&](sqlite::Stmt& st) -> Status {
        out.seq = st.int64(0);
        return {};
      }));
  std::vector<std::string> ids;
  if (after_seq <= 0) {
    // Every record of the school has a scope row (access.cpp keeps them).
    TANDEM_TRY(query(
        "SELECT record FROM server_scope WHERE school=?", [&](sqlite::Stmt& st) { st.bind(1, school); },
        [&](sqlite::Stmt& st) -> Status {
          ids.push_back(st.text(0));
          return {};
        }));
  } else if (after_seq < out.seq) {
    std::set<std::string> changed;
    TANDEM_TRY(query(
        "SELECT record FROM server_changes WHERE school=? AND seq>?",
        [&](sqlite::Stmt& st) { st.bind(1, school).bind(2, after_seq); },
        [&](sqlite::Stmt& st) -> Status {
          changed.insert(st.text(0));
          return {};
        }));
    ids.assign(changed.begin(), changed.end());
  }
  if (ids.size() > kMaxReportRecords)
    return make_error(ErrorCode::kTooLong, "the school holds more records than a report reads (" +
                                               std::to_string(kMaxReportRecords) + ")");
  out.records.reserve(ids.size());
  for (const auto& id : ids) {
    auto r = store.get(id);
    if (!r) {
      if (r.error().code == ErrorCode::kNotFound) continue;
      return std::move(r).error();
    }
    if (r->school != school) continue;
    out.records.push_back(std::move(*r));
  }
  return out;
}

}  // namespace tandem::server
