// Store: opening, migrations, transactions, metadata, change log and outbox.
#include "tandem/core/store.hpp"

#include "crypto/open_plan.hpp"

#include "migrations.hpp"
#include "tandem/core/templates.hpp"
#include "store_impl.hpp"

namespace tandem {

using detail::exec;
using detail::sqlite_error;

Store::Impl::~Impl() {
  stmts.reset();
  if (db) sqlite3_close_v2(db);
}

namespace {
// Transaction control by depth. The first depths are prepared once and kept
// in the statement cache (a group commit on the server opens one savepoint
// per push); deeper ones are rare and run as plain SQL.
constexpr int kCachedDepths = 4;
constexpr const char* kSavepoint[kCachedDepths + 1] = {
    nullptr, "BEGIN IMMEDIATE", "SAVEPOINT sp2", "SAVEPOINT sp3", "SAVEPOINT sp4"};
constexpr const char* kRelease[kCachedDepths + 1] = {nullptr, "COMMIT", "RELEASE sp2",
                                                     "RELEASE sp3", "RELEASE sp4"};
}  // namespace

Status Store::Impl::run_control(const char* cached_sql, const std::string& sql) {
  if (cached_sql == nullptr) return exec(db, sql.c_str());
  auto st = stmt(cached_sql);
  if (!st) return std::move(st).error();
  return (*st)->run();
}

Status Store::Impl::begin() {
  const int depth = ++tx_depth;
  written_marks.push_back(written.size());
  Status s = depth <= kCachedDepths ? run_control(kSavepoint[depth], {})
                                    : run_control(nullptr, "SAVEPOINT sp" + std::to_string(depth));
  if (!s.ok()) {  // nothing was opened
    --tx_depth;
    written_marks.pop_back();
  }
  return s;
}

Status Store::Impl::commit() {
  if (tx_depth == 1 && clock_dirty) {
    // The clock is persisted once per transaction, not once per change.
    Status s = save_clock();
    if (!s.ok()) return s;
    clock_dirty = false;
  }
  const int depth = tx_depth--;
  written_marks.pop_back();
  if (depth <= kCachedDepths) return run_control(kRelease[depth], {});
  return run_control(nullptr, "RELEASE sp" + std::to_string(depth));
}

void Store::Impl::rollback() {
  const int depth = tx_depth--;
  if (depth == 1) clock_dirty = false;
  written.resize(written_marks.back());
  written_marks.pop_back();
  if (depth == 1) {
    (void)exec(db, "ROLLBACK");
    // Settings kept in memory follow the file back (a join_school inside
    // an enrollment that failed to redeem its code).
    (void)load_settings();
  } else {
    const std::string sp = "sp" + std::to_string(depth);
    (void)exec(db, ("ROLLBACK TO " + sp + "; RELEASE " + sp).c_str());
  }
}

Status Store::Impl::in_transaction(const std::function<Status()>& fn, Durability durability) {
  auto run = [&]() -> Status {
    TANDEM_TRY(begin());
    Status s = fn();
    // The record rules read the records as the whole transaction leaves them.
    if (s.ok() && tx_depth == 1 && !written.empty()) s = check_written();
    if (!s.ok()) {
      rollback();
      return s;
    }
    Status c = commit();
    if (!c.ok()) {
      // A failed COMMIT (disk full, I/O) leaves the transaction open: undo it.
      if (tx_depth == 0 && !sqlite3_get_autocommit(db)) (void)exec(db, "ROLLBACK");
      return c;
    }
    return {};
  };
  // The outermost transaction decides. In WAL mode synchronous=NORMAL keeps
  // the commit atomic and skips its fsync; the next durable commit (or a
  // checkpoint) makes it durable with everything before it.
  if (durability == Durability::kDurable || tx_depth > 0) return run();
  TANDEM_TRY(run_control("PRAGMA synchronous=NORMAL", {}));
  deferred = true;
  Status out = run();
  deferred = false;
  Status back = run_control("PRAGMA synchronous=FULL", {});
  if (out.ok() && !back.ok()) return back;
  return out;
}

std::string Store::Impl::random_hex(std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(n, '0');
  std::uint64_t bits = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (i % 16 == 0) bits = random.next();
    s[i] = kHex[bits & 0xf];
    bits >>= 4;
  }
  return s;
}

Status Store::Impl::save_clock() {
  const Hlc last = hybrid->last();
  auto st = stmt("INSERT INTO meta(key, value) VALUES('clock', ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value");
  if (!st) return std::move(st).error();
  return (*st)->bind(1, last.str()).run();
}

// Shipped templates are identical records on every replica: fixed ids, the
// zero stamp, no school, never in the change log or outbox, read-only.
Status Store::Impl::install_builtins() {
  const auto& templates = builtin_templates();
  const std::string version = std::to_string(templates.size()) + ":1";
  auto st = stmt("SELECT value FROM meta WHERE key='builtins'");
  if (!st) return std::move(st).error();
  auto row = (*st)->step();
  if (!row) return std::move(row).error();
  if (*row && (*st)->text(0) == version) return {};
  return in_transaction([&]() -> Status {
    std::uint32_t counter = 0;
    for (const auto& t : templates) {
      const std::string stamp = Hlc{0, counter++, "0000000000000000"}.str();
      auto ins = stmt("INSERT INTO records(id, kind, school, created) VALUES(?, 'template', '', ?) ON CONFLICT(id) DO NOTHING");
      if (!ins) return std::move(ins).error();
      TANDEM_TRY((*ins)->bind(1, t.id).bind(2, stamp).run());
      TANDEM_TRY(write_field(t.id, "name", stamp, Json(t.name).dump(), {}));
      TANDEM_TRY(write_field(t.id, "kind", stamp, Json(t.kind).dump(), {}));
      TANDEM_TRY(write_field(t.id, "interval_seconds", stamp, Json(t.interval_seconds).dump(), {}));
      TANDEM_TRY(write_field(t.id, "definition", stamp, Json(t.definition).dump(), {}));
    }
    auto up = stmt("INSERT INTO meta(key, value) VALUES('builtins', ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value");
    if (!up) return std::move(up).error();
    return (*up)->bind(1, version).run();
  });
}

namespace {

Status migrate(sqlite3* db, int& version, const Host& host) {
  {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr);
    version = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
    sqlite3_finalize(s);
  }
  const int latest = detail::latest_schema_version();
  if (version > latest) {
    return make_error(ErrorCode::kUnsupportedVersion,
                      "database schema version " + std::to_string(version) +
                          " is newer than this Tandem (" + std::to_string(latest) + ")");
  }
  for (const auto& m : detail::migrations()) {
    if (m.version <= version) continue;
    TANDEM_TRY(exec(db, "BEGIN IMMEDIATE"));
    Status s = exec(db, m.sql);
    if (s.ok()) s = exec(db, ("PRAGMA user_version=" + std::to_string(m.version)).c_str());
    if (s.ok()) s = exec(db, "COMMIT");
    if (!s.ok()) {
      (void)exec(db, "ROLLBACK");
      return s;
    }
    if (version > 0) {
      log_to(host, LogLevel::kInfo, "store", "schema migrated to version " + std::to_string(m.version));
    }
    version = m.version;
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<Store>> Store::open(const StoreOptions& options, const Host& host) {
  auto impl = std::make_unique<Impl>();
  Host given = host;
  if (given.clock == nullptr) given.clock = options.clock;
  impl->host = resolved(given);
  impl->random.set_source(impl->host.random);
  std::string vfs = host.files != nullptr ? host.files->sqlite_vfs() : options.vfs;
  {
    auto plan = crypto::plan_open(options.path, options.encryption, impl->host, vfs);
    if (!plan) return std::move(plan).error();
    impl->crypt = std::move(plan->vfs);
    if (impl->crypt) vfs = impl->crypt->name();
    impl->fresh_encrypted = plan->fresh;
    impl->vfs_name = vfs;
  }
  const int rc = sqlite3_open_v2(options.path.c_str(), &impl->db,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 vfs.empty() ? nullptr : vfs.c_str());
  if (rc != SQLITE_OK) {
    Error e = sqlite_error(impl->db, rc, "cannot open '" + options.path + "'");
    return e;
  }
  sqlite3_extended_result_codes(impl->db, 1);
  sqlite3_busy_timeout(impl->db, 5000);
  // page_size (new files only): a change touches a few tables at once, and
  // bigger pages split less often (bulk recording ~25 % faster with 8192
  // than 4096; see StoreOptions::page_size).
  // WAL + synchronous=FULL: a commit reported as saved survives power loss.
  // secure_delete: purged text does not linger in free pages.
  const int page_size = options.page_size;
  if (page_size < 512 || page_size > 65536 || (page_size & (page_size - 1)) != 0) {
    return make_error(ErrorCode::kInvalidArgument, "page_size must be a power of two in 512..65536");
  }
  TANDEM_TRY(exec(impl->db, ("PRAGMA page_size=" + std::to_string(page_size) + ";").c_str()));
  if (impl->fresh_encrypted) {
    // Every page of an encrypted file keeps room for its nonce and MAC.
    int reserve = static_cast<int>(crypto::kReserve);
    sqlite3_file_control(impl->db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
  }
  TANDEM_TRY(exec(impl->db,
                  "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                  " PRAGMA secure_delete=ON; PRAGMA cache_size=-16000; PRAGMA temp_store=MEMORY;"));
  {
    // journal_mode returns a row; a file that is not a database fails here.
    sqlite3_stmt* s = nullptr;
    int prc = sqlite3_prepare_v2(impl->db, "SELECT count(*) FROM sqlite_master", -1, &s, nullptr);
    if (prc == SQLITE_OK) prc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (prc != SQLITE_ROW) return sqlite_error(impl->db, prc, "cannot read '" + options.path + "'");
  }
  TANDEM_TRY(migrate(impl->db, impl->schema_version, impl->host));
  impl->stmts = std::make_unique<detail::StatementCache>(impl->db);
  impl->wall = std::make_unique<SkewCorrectedClock>(*impl->host.clock);

  std::unique_ptr<Store> store(new Store(std::move(impl)));
  Impl& m = *store->impl_;
  auto site = store->meta("site_id");
  if (!site) return std::move(site).error();
  if (*site) {
    m.site = **site;
  } else {
    m.site = m.random_hex(16);
    TANDEM_TRY(store->set_meta("site_id", m.site));
  }
  m.hybrid = std::make_unique<HybridClock>(*m.wall, m.site, options.max_ahead_ms);
  auto clock = store->meta("clock");
  if (!clock) return std::move(clock).error();
  if (*clock) {
    if (auto h = Hlc::parse(**clock)) m.hybrid->restore(h->ms, h->counter);
  }
  TANDEM_TRY(m.install_builtins());
  // The offset to server time sync learned, from the first stamp on.
  TANDEM_TRY(load_clock_offset(*store, *m.wall));
  TANDEM_TRY(m.load_settings());
  return store;
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

const std::string& Store::site_id() const { return impl_->site; }
int Store::schema_version() const { return impl_->schema_version; }
HybridClock& Store::clock() { return *impl_->hybrid; }
SkewCorrectedClock& Store::skew_clock() { return *impl_->wall; }
const Host& Store::host() const { return impl_->host; }
bool Store::encrypted() const { return impl_->crypt != nullptr; }
std::string Store::vfs_name() const { return impl_->vfs_name; }
sqlite3* sqlite::handle(Store& store) { return store.impl_->db; }
std::string Store::default_school() const { return impl_->default_school; }

Status Store::set_default_school(std::string_view school_id) {
  auto row = impl_->record_row(school_id);
  if (!row) return std::move(row).error();
  if (!*row || (*row)->kind != "school") {
    return make_error(ErrorCode::kNotFound, "no school '" + std::string(school_id) + "'");
  }
  TANDEM_TRY(set_meta("default_school", school_id));
  impl_->default_school = std::string(school_id);
  return {};
}

Status Store::transaction(const std::function<Status()>& fn, Durability durability) {
  return impl_->in_transaction(fn, durability);
}

Result<std::optional<std::string>> Store::meta(std::string_view key) const {
  auto st = impl_->stmt("SELECT value FROM meta WHERE key=?");
  if (!st) return std::move(st).error();
  (*st)->bind(1, key);
  auto row = (*st)->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>((*st)->text(0));
}

Status Store::set_meta(std::string_view key, std::string_view value) {
  auto st = impl_->stmt("INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value");
  if (!st) return std::move(st).error();
  return (*st)->bind(1, key).bind(2, value).run();
}

Status Store::erase_meta(std::string_view key) {
  auto st = impl_->stmt("DELETE FROM meta WHERE key=?");
  if (!st) return std::move(st).error();
  return (*st)->bind(1, key).run();
}

namespace {
Result<std::vector<LoggedChange>> read_changes(detail::Stmt& st) {
  std::vector<LoggedChange> out;
  for (;;) {
    auto row = st.step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    // Columns: seq, body, hlc, record, kind, school. Bodies since migration 3
    // leave out what the columns hold; older ones repeat it (same values).
    Json j = Json::parse(st.text(1), nullptr, false);
    if (j.is_object()) {
      j["hlc"] = st.text(2);
      j["record"] = st.text(3);
      if (!st.is_null(4)) {
        j["kind"] = st.text(4);
        j["school"] = st.text(5);
      }
    }
    auto c = Change::from_json(j);
    if (!c) return make_error(ErrorCode::kCorrupt, "stored change unreadable: " + c.error().message);
    out.push_back(LoggedChange{st.int64(0), std::move(*c)});
  }
  return out;
}
}  // namespace

Result<std::vector<LoggedChange>> Store::changes_since(std::int64_t seq, std::size_t limit) const {
  auto st = impl_->stmt("SELECT c.seq, c.body, c.hlc, c.record, r.kind, r.school FROM changes c "
      "LEFT JOIN records r ON r.id = c.record WHERE c.seq > ? ORDER BY c.seq LIMIT ?");
  if (!st) return std::move(st).error();
  (*st)->bind(1, seq).bind(2, static_cast<std::int64_t>(limit));
  return read_changes(**st);
}

Result<std::vector<LoggedChange>> Store::outbox(std::size_t limit, std::int64_t after_seq) const {
  auto st = impl_->stmt(
      "SELECT c.seq, c.body, c.hlc, c.record, r.kind, r.school FROM outbox o "
      "JOIN changes c ON c.seq = o.seq LEFT JOIN records r ON r.id = c.record WHERE o.seq > ? "
      "ORDER BY o.seq LIMIT ?");
  if (!st) return std::move(st).error();
  (*st)->bind(1, after_seq).bind(2, static_cast<std::int64_t>(limit));
  return read_changes(**st);
}

Result<std::vector<std::string>> Store::outbox_stamps(std::size_t limit) const {
  auto st = impl_->stmt("SELECT c.hlc FROM outbox o JOIN changes c ON c.seq = o.seq ORDER BY o.seq LIMIT ?");
  if (!st) return std::move(st).error();
  (*st)->bind(1, static_cast<std::int64_t>(limit));
  return (*st)->texts();
}

Result<std::int64_t> Store::outbox_size() const {
  auto st = impl_->stmt("SELECT count(*) FROM outbox");
  if (!st) return std::move(st).error();
  auto row = (*st)->step();
  if (!row) return std::move(row).error();
  return (*st)->int64(0);
}

Status Store::ack(const std::vector<std::string>& hlcs) {
  return impl_->in_transaction([&]() -> Status {
    for (const auto& h : hlcs) {
      auto st = impl_->stmt("DELETE FROM outbox WHERE seq=(SELECT seq FROM changes WHERE hlc=?)");
      if (!st) return std::move(st).error();
      TANDEM_TRY((*st)->bind(1, h).run());
    }
    return {};
  });
}

}  // namespace tandem
