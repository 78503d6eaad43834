// The SQLite ServerStorage's reads: pulls (from a school's tail in memory
// when it covers them, else one snapshot on a reader), a device's pull
// state, scopes, and the small listings. Nothing here takes the writer's
// mutex: a read never waits behind a commit group's flush.
#include <algorithm>

#include "storage/sqlite/rows.hpp"
#include "storage/sqlite/storage.hpp"

namespace tandem::server::sqlite_backend {
namespace {

using sqlite::Stmt;

// Adds the rows of `s` (SELECT seq, body, record ... LIMIT limit + 1) to
// `page` while they fit; `page.more` when a row was left out.
Status fill_page(Stmt& s, std::size_t limit, std::size_t max_bytes, ChangePage& page) {
  for (;;) {
    auto row = s.step();
    if (!row) return std::move(row).error();
    if (!*row) return {};
    std::string body = s.text(1);
    if (!page.fits(body.size(), limit, max_bytes)) {
      page.more = true;
      return {};
    }
    page.add(s.int64(0), std::move(body), s.text(2));
  }
}

// REQUIRES: a read transaction on `reader`.
Result<ChangePage> read_page(ReaderPool::Lease& reader, std::string_view school,
                             std::int64_t after_seq, std::size_t limit, std::size_t max_bytes,
                             std::string_view skip_origin) {
  ChangePage page;
  {
    auto st = reader.stmt(
        "SELECT seq, body, record FROM server_changes WHERE school=? AND seq>? AND "
        "origin<>? ORDER BY seq LIMIT ?");
    if (!st) return std::move(st).error();
    Stmt& s = **st;
    s.bind(1, school).bind(2, after_seq).bind(3, skip_origin);
    s.bind(4, static_cast<std::int64_t>(limit) + 1);
    page.rows.reserve(std::min<std::size_t>(limit, 64));
    TANDEM_TRY(fill_page(s, limit, max_bytes, page));
  }
  if (page.more) {
    page.cursor = page.rows.back().seq;
    return page;
  }
  // Everything after the cursor was read: the page ends at the school's
  // last seq, past any rows skipped for their origin.
  auto last = last_seq_of(reader.stmt(kLastSeqSql), school);
  if (!last) return std::move(last).error();
  page.cursor = std::max(after_seq, *last);
  if (!page.rows.empty()) page.cursor = std::max(page.cursor, page.rows.back().seq);
  return page;
}

// The school's newest rows. REQUIRES: a read transaction on `reader`.
Result<SchoolTail> read_tail(ReaderPool::Lease& reader, std::string_view school) {
  SchoolTail tail;
  {
    auto st = reader.stmt(
        "SELECT seq, origin, record, body FROM server_changes WHERE school=? ORDER BY seq DESC "
        "LIMIT ?");
    if (!st) return std::move(st).error();
    Stmt& s = **st;
    s.bind(1, school).bind(2, static_cast<std::int64_t>(SchoolTail::kMaxRows));
    for (;;) {
      auto row = s.step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      tail.rows.push_front(SchoolTail::Row{s.int64(0), s.text(1), s.text(2), s.text(3)});
    }
  }
  // Fewer rows than the tail holds: the tail is the whole sequence.
  if (tail.rows.size() == SchoolTail::kMaxRows) tail.base = tail.rows.front().seq - 1;
  auto last = last_seq_of(reader.stmt(kLastSeqSql), school);
  if (!last) return std::move(last).error();
  tail.last_seq = *last;
  if (!tail.rows.empty()) tail.last_seq = std::max(tail.last_seq, tail.rows.back().seq);
  return tail;
}

}  // namespace

// Up-to-date devices are served from the school's tail in memory. Others
// read one snapshot: the visible rows and the school's last seq come from
// the same read transaction, so a page that skips rows never skips past a
// change it has not seen. A school's first pull loads its tail in the same
// snapshot.
Result<ChangePage> SqliteStorage::read_changes(std::string_view school, std::int64_t after_seq,
                                               std::size_t limit, std::size_t max_bytes,
                                               std::string_view skip_origin) {
  limit = std::max<std::size_t>(limit, 1);  // a page ends at a row
  const std::string key(school);
  Caches::Ticket ticket;
  bool load_tail = false;
  if (auto cached =
          caches_.tail_page(key, after_seq, limit, max_bytes, skip_origin, ticket, load_tail)) {
    return std::move(*cached);
  }
  auto reader = readers_.acquire();
  auto begin = reader.stmt("BEGIN");
  if (!begin) return std::move(begin).error();
  TANDEM_TRY((*begin)->run());
  auto page = read_page(reader, school, after_seq, limit, max_bytes, skip_origin);
  if (!page) return page;  // the lease ends the transaction
  std::optional<SchoolTail> tail;
  if (load_tail) {
    auto loaded = read_tail(reader, school);
    if (!loaded) return std::move(loaded).error();
    tail = std::move(*loaded);
  }
  auto end = reader.stmt("COMMIT");
  if (!end) return std::move(end).error();
  TANDEM_TRY((*end)->run());
  if (tail) caches_.keep_tail(key, std::move(*tail), ticket);
  return page;
}

Result<PullState> SqliteStorage::pull_state(std::string_view device, std::string_view school,
                                            std::string_view person) {
  const std::string key(device);
  Caches::Ticket ticket;
  if (auto cached = caches_.view(key, ticket)) return std::move(*cached);
  auto state = read_pull_state(device, school, person);
  if (!state) return state;
  caches_.keep_view(key, *state, ticket);
  return state;
}

Result<PullState> SqliteStorage::read_pull_state(std::string_view device, std::string_view school,
                                                 std::string_view person) {
  auto reader = readers_.acquire();
  auto begin = reader.stmt("BEGIN");
  if (!begin) return std::move(begin).error();
  TANDEM_TRY((*begin)->run());
  PullState state;
  {
    auto st = reader.stmt(kDeviceViewSql.c_str());
    if (!st) return std::move(st).error();
    auto view = read_device_view(**st, device);
    if (!view) return std::move(view).error();
    state.view = std::move(*view);
  }
  {
    auto st = reader.stmt(
        "SELECT coalesce(sum(version), 0) FROM server_scope_versions WHERE key IN (?, ?)");
    if (!st) return std::move(st).error();
    (*st)->bind(1, school).bind(2, person);
    auto row = (*st)->step();
    if (!row) return std::move(row).error();
    state.scope_version = *row ? (*st)->int64(0) : 0;
  }
  auto end = reader.stmt("COMMIT");
  if (!end) return std::move(end).error();
  TANDEM_TRY((*end)->run());
  return state;
}

Result<std::vector<ScopeRef>> SqliteStorage::scopes_of(const std::vector<std::string>& records) {
  static const std::string sql = std::string("SELECT ") + kScopeColumns +
                                 " FROM server_scope WHERE record IN (SELECT value FROM "
                                 "json_each(?))";
  // From memory where cached (every filtered pull asks; a pull of what was
  // just pushed finds the rows the writer put there).
  Caches::Ticket ticket;
  std::vector<std::string> missing;
  auto found = caches_.scopes(records, missing, ticket);
  if (missing.empty()) return found;
  Result<std::vector<RecordScope>> read = std::vector<RecordScope>();
  {
    auto reader = readers_.acquire();
    auto st = reader.stmt(sql.c_str());
    if (!st) return std::move(st).error();
    (*st)->bind(1, json_list(missing));
    read = read_scopes(**st);
  }
  if (!read) return std::move(read).error();
  std::vector<ScopeRef> kept;
  kept.reserve(read->size());
  for (auto& s : *read) kept.push_back(std::make_shared<const RecordScope>(std::move(s)));
  caches_.keep_scopes(kept, ticket);
  found.insert(found.end(), kept.begin(), kept.end());
  return found;
}

Result<ChangePage> SqliteStorage::read_record_changes(std::string_view school,
                                                      const std::vector<std::string>& records,
                                                      std::int64_t after_seq, std::int64_t upto_seq,
                                                      std::size_t limit, std::size_t max_bytes) {
  limit = std::max<std::size_t>(limit, 1);
  auto reader = readers_.acquire();
  auto st = reader.stmt(
      "SELECT seq, body, record FROM server_changes WHERE school=? AND seq>? AND seq<=? AND "
      "record IN (SELECT value FROM json_each(?)) ORDER BY seq LIMIT ?");
  if (!st) return std::move(st).error();
  Stmt& s = **st;
  s.bind(1, school).bind(2, after_seq).bind(3, upto_seq).bind(4, json_list(records));
  s.bind(5, static_cast<std::int64_t>(limit) + 1);
  ChangePage page;
  TANDEM_TRY(fill_page(s, limit, max_bytes, page));
  page.cursor = page.more ? page.rows.back().seq : std::max(after_seq, upto_seq);
  return page;
}

Result<std::int64_t> SqliteStorage::count_active_devices(std::int64_t since_ms) {
  auto reader = readers_.acquire();
  auto st = reader.stmt(
      "SELECT count(*) FROM server_devices WHERE revoked_ms IS NULL AND last_seen_ms>=?");
  if (!st) return std::move(st).error();
  (*st)->bind(1, since_ms);
  auto row = (*st)->step();
  if (!row) return std::move(row).error();
  return (*st)->int64(0);
}

StorageStats SqliteStorage::stats() const { return caches_.stats(); }

Status SqliteStorage::check_health() {
  auto reader = readers_.acquire();
  auto st = reader.stmt("SELECT 1 FROM server_meta LIMIT 1");
  if (!st) return std::move(st).error();
  auto row = (*st)->step();
  if (!row) return std::move(row).error();
  return {};
}

}  // namespace tandem::server::sqlite_backend
