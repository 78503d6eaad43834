// The PostgreSQL ServerStorage (route (b) of issue 17; README, PostgreSQL):
// PostgreSQL holds the truth — each school's sequenced change log, devices,
// mutations, codes, sessions, the visibility bookkeeping and the audit
// trail. The merged records live in a local cache per instance: a
// tandem::Store (the same merge code as on every device) in a private file,
// filled from the log and rebuildable from it at any time, because the merge
// is a function of the set of changes.
//
// One school's writes are serialised across instances by its row in
// server_school_seq (SELECT ... FOR UPDATE): a commit group locks the rows of
// its schools (sorted, so two instances never wait on each other in a
// cycle), brings the cache up to each school's last seq from the log, merges
// the pushes, appends what they changed with the next numbers, and commits
// PostgreSQL before the cache. Sequence numbers are therefore dense, and a
// snapshot that sees seq n sees every seq below it. A write committed through
// another instance reaches this one at its next request that concerns it:
// nothing that decides an answer is cached in memory (tokens, views and pages
// are read from PostgreSQL; merged records are caught up first).
//
// Durability: synchronous_commit=on (pg.cpp) and the answer goes out after
// COMMIT returned. The cache is written without fsync: after a crash it is
// rebuilt, never trusted.
//
// Thread-safety: the commit thread and the administrative calls share the
// writer connection and the cache under mu_; reads use a connection pool.
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>

#include "storage/group_commit.hpp"
#include "storage/postgres/pg.hpp"
#include "storage/postgres/pg_schema.hpp"
#include "storage/postgres/pg_tables.hpp"
#include "tandem/core/json.hpp"
#include "tandem/core/sqlite.hpp"
#include "tandem/core/store.hpp"
#include "tandem/server/commit_queue.hpp"
#include "tandem/server/limits.hpp"
#include "tandem/server/storage.hpp"
#include "tandem/server/stores.hpp"

namespace tandem::server {
namespace {

namespace fs = std::filesystem;
using pg::Conn;
using pg::Params;
using pg::Rows;

constexpr const char* kScopeColumns =
    "record, school, kind, parent, anchor, anchor_kind, child, author, assignee, first_seq, "
    "anchor_author";
constexpr int kCatchUpPage = 1000;  // log rows read per statement while catching up

RecordScope read_scope(const Rows& r, int i) {
  RecordScope s;
  s.record = r.text(i, 0);
  s.school = r.text(i, 1);
  s.kind = r.text(i, 2);
  s.parent = r.text(i, 3);
  s.anchor = r.text(i, 4);
  s.anchor_kind = r.text(i, 5);
  s.child = r.text(i, 6);
  s.author = r.text(i, 7);
  s.assignee = r.text(i, 8);
  s.first_seq = r.int64(i, 9);
  s.anchor_author = r.text(i, 10);
  return s;
}

std::vector<RecordScope> read_scopes(const Rows& r) {
  std::vector<RecordScope> out;
  out.reserve(static_cast<std::size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) out.push_back(read_scope(r, i));
  return out;
}

std::vector<std::string> texts(const Rows& r) {
  std::vector<std::string> out;
  for (int i = 0; i < r.size(); ++i) out.push_back(r.text(i, 0));
  return out;
}

std::string json_list(const std::vector<std::string>& items) { return Json(items).dump(); }

std::vector<std::string> parse_list(const std::string& text) {
  std::vector<std::string> out;
  auto j = Json::parse(text, nullptr, false);
  if (j.is_array())
    for (const auto& e : j)
      if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

std::string string_field(const Record& r, const char* name) {
  auto it = r.fields.find(name);
  return it != r.fields.end() && it->is_string() ? it->get<std::string>() : std::string();
}

constexpr const char* kDeviceViewColumns =
    "number, view, acked_view, scope_version, day, gone, backfill, backfill_upto, rewind";

// A device view from columns [at, at+9) of row i (nullopt: NULL number).
std::optional<DeviceView> read_view(const Rows& r, int i, int at) {
  if (r.null(i, at)) return std::nullopt;
  DeviceView v;
  v.number = r.int64(i, at);
  v.view = r.text(i, at + 1);
  v.acked_view = r.text(i, at + 2);
  v.scope_version = r.int64(i, at + 3);
  v.day = r.text(i, at + 4);
  v.gone = parse_list(r.text(i, at + 5));
  v.backfill = parse_list(r.text(i, at + 6));
  v.backfill_upto = r.int64(i, at + 7);
  v.rewind = r.boolean(i, at + 8);
  return v;
}

// The local cache's folder: removes cache files left by instances that are
// gone (killed): they hold merged records, children's data among them.
fs::path cache_folder(const std::string& dir) {
  fs::path root = dir.empty() ? fs::temp_directory_path() / "tandem-server-cache" : fs::path(dir);
  std::error_code ec;
  fs::create_directories(root, ec);
  fs::permissions(root, fs::perms::owner_all, fs::perm_options::replace, ec);
  for (const auto& e : fs::directory_iterator(root, ec)) {
    const std::string name = e.path().filename().string();
    if (!name.starts_with("cache-")) continue;
    const long pid = std::strtol(name.c_str() + 6, nullptr, 10);
    if (pid > 0 && pid != ::getpid() && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
      fs::remove(e.path(), ec);
  }
  return root;
}

class PgStorage;

class PgPushTransaction final : public PushTransaction {
 public:
  PgPushTransaction(PgStorage& s, std::string_view origin) : s_(s), origin_(origin) {}
  Result<std::optional<std::string>> record_school(std::string_view record_id) override;
  Result<AppliedChange> apply(const Change& change, std::string_view body) override;
  Status append_audit(const AuditEntry& entry) override;
  Result<std::optional<Record>> record(std::string_view id) override;
  Result<std::optional<RecordScope>> scope(std::string_view record) override;
  Status put_scope(const RecordScope& scope) override;
  Result<std::vector<RecordScope>> scopes_under(std::string_view parent) override;
  Result<std::vector<RecordScope>> school_scopes(std::string_view school) override;
  Status set_members(std::string_view school, std::string_view anchor,
                     const std::vector<std::string>& persons) override;
  Status set_links(std::string_view school, std::string_view anchor,
                   const std::vector<std::string>& children) override;
  Result<std::vector<std::string>> anchors_of(std::string_view school,
                                              std::string_view person) override;
  Result<std::vector<std::pair<std::string, std::string>>> links_of(
      const std::vector<std::string>& anchors) override;
  Status put_consent(const ConsentRow& consent) override;
  Result<std::vector<ConsentRow>> consents(std::string_view school) override;
  Result<std::vector<std::string>> members(std::string_view anchor) override;
  Result<std::int64_t> scope_version(std::string_view key) override;
  Status bump_scope_version(std::string_view key) override;
  Result<std::optional<DeviceView>> device_view(std::string_view device) override;
  Status put_device_view(std::string_view device, const DeviceView& view) override;
  Result<std::vector<std::pair<std::string, DeviceView>>> school_device_views(
      std::string_view school) override;
  Result<std::optional<DeviceRecord>> device(std::string_view device_id) override;
  Result<std::vector<std::string>> record_ids(std::string_view kind) override;
  Result<std::int64_t> first_seq(std::string_view school, std::string_view record) override;
  Result<std::optional<std::string>> meta(std::string_view key) override;
  Status set_meta(std::string_view key, std::string_view value) override;

 private:
  Conn& c();
  PgStorage& s_;
  std::string_view origin_;
};

class PgStorage final : public ServerStorage {
  friend class PgPushTransaction;

 public:
  PgStorage(std::unique_ptr<Conn> writer, std::unique_ptr<Store> cache, fs::path cache_file)
      : writer_(std::move(writer)), cache_(std::move(cache)), cache_file_(std::move(cache_file)) {}

  ~PgStorage() override {
    drain();
    cache_.reset();
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"})
      fs::remove(cache_file_.string() + suffix, ec);
  }

  Status open_readers(const std::string& url, int size) { return readers_.open(url, size); }
  void start_committer() {
    group_.start([this](GroupCommit::Batch& batch, const GroupCommit::Touches& touches) {
      return commit_batch(batch, touches);
    });
  }

  void drain() override { group_.drain(); }

  // ---- administration ----

  Result<sync::SchoolInfo> create_school(std::string_view name) override {
    sync::SchoolInfo info;
    TANDEM_TRY(admin_write({}, [&]() -> Status {
      auto id = cache_->create("school", Json{{"name", name}});
      if (!id) return std::move(id).error();
      info = {*id, std::string(name)};
      return sequence_local_writes();
    }));
    return info;
  }

  Result<sync::PersonInfo> add_person(std::string_view school, std::string_view name,
                                      std::string_view role, std::string_view profession) override {
    sync::PersonInfo info;
    TANDEM_TRY(admin_write({std::string(school)}, [&]() -> Status {
      auto s = cache_->get(school);
      if (!s && s.error().code != ErrorCode::kNotFound) return s.error();
      if (!s || s->kind != "school" || !s->live())
        return make_error(ErrorCode::kNotFound, "no school '" + std::string(school.substr(0, 64)) + "'");
      Json fields{{"school", school}, {"name", name}, {"role", role}};
      if (!profession.empty()) fields["profession"] = profession;
      auto id = cache_->create("person", fields);
      if (!id) return std::move(id).error();
      info = {*id, std::string(name), std::string(role)};
      return sequence_local_writes();
    }));
    return info;
  }

  Status update_person(std::string_view person, std::string_view role,
                       const std::optional<std::string>& profession) override {
    auto school = school_of(person);
    if (!school) return std::move(school).error();
    if (!*school)
      return make_error(ErrorCode::kNotFound, "no person '" + std::string(person.substr(0, 64)) + "'");
    return admin_write({**school}, [&]() -> Status {
      auto p = cache_->get(person);
      if (!p && p.error().code != ErrorCode::kNotFound) return p.error();
      if (!p || p->kind != "person" || !p->live())
        return make_error(ErrorCode::kNotFound, "no person '" + std::string(person.substr(0, 64)) + "'");
      TANDEM_TRY(cache_->set(person, "role", Json(role)));
      if (profession) TANDEM_TRY(cache_->set(person, "profession", Json(*profession)));
      TANDEM_TRY(sequence_local_writes());
      PgPushTransaction txn(*this, "");
      return txn.bump_scope_version(p->school);
    });
  }

  Result<std::string> add_enrollment_code(std::string_view code_hash, std::string_view person,
                                          std::int64_t now_ms, std::int64_t expires_ms) override {
    return add_person_code(person, [&](Conn& c, const std::string& school) {
      return c.run(
          "INSERT INTO server_enrollment_codes(code_hash, person, school, created_ms, expires_ms) "
          "VALUES($1,$2,$3,$4,$5)",
          {code_hash, person, school, now_ms, expires_ms});
    });
  }

  Result<std::vector<DeviceRecord>> list_devices(std::string_view school) override {
    auto c = readers_.acquire();
    if (!c) return std::move(c).error();
    auto rows = (*c)->query(std::string("SELECT ") + pg::kDeviceColumns +
                                " FROM server_devices WHERE school=$1 ORDER BY created_ms, id",
                            {school});
    if (!rows) return std::move(rows).error();
    std::vector<DeviceRecord> out;
    for (int i = 0; i < rows->size(); ++i) out.push_back(pg::read_device(*rows, i));
    return out;
  }

  Status revoke_device(std::string_view device_id, std::int64_t now_ms, bool wipe) override {
    auto c = readers_.acquire();
    if (!c) return std::move(c).error();
    auto up = (*c)->query(
        "UPDATE server_devices SET revoked_ms=coalesce(revoked_ms, $1), "
        "wipe_ordered_ms=CASE WHEN $3 THEN coalesce(wipe_ordered_ms, $1) ELSE wipe_ordered_ms END "
        "WHERE id=$2",
        {now_ms, device_id, wipe});
    if (!up) return std::move(up).error();
    if (up->affected() == 0)
      return make_error(ErrorCode::kNotFound, "no device '" + std::string(device_id.substr(0, 64)) + "'");
    return {};
  }

  Status request_token_rotation(std::string_view device_id) override {
    return pooled_transaction([&](Conn& c) { return pg::request_rotation(c, device_id); });
  }

  Result<std::optional<Record>> read_record(std::string_view id) override {
    auto school = school_of(id);
    if (!school) return std::move(school).error();
    if (!*school) return std::optional<Record>();
    std::lock_guard lock(mu_);
    TANDEM_TRY(catch_up_unlocked(**school));
    auto r = cache_->get(id);
    if (!r && r.error().code == ErrorCode::kNotFound) return std::optional<Record>();
    if (!r) return std::move(r).error();
    return std::optional<Record>(std::move(*r));
  }

  Result<std::string> add_login_code(std::string_view code_hash, std::string_view person,
                                     std::int64_t now_ms, std::int64_t expires_ms) override {
    return add_person_code(person, [&](Conn& c, const std::string& school) {
      return pg::add_login_code(c, code_hash, person, school, now_ms, expires_ms);
    });
  }

  Result<std::string> use_login_code(std::string_view code_hash, std::int64_t now_ms) override {
    std::string person;
    TANDEM_TRY(pooled_transaction([&](Conn& c) -> Status {
      auto used = pg::use_login_code(c, code_hash, now_ms);
      if (!used) return std::move(used).error();
      person = std::move(*used);
      return {};
    }));
    return person;
  }

  Status add_web_session(const WebSessionRow& session, std::int64_t now_ms) override {
    return pooled_transaction([&](Conn& c) { return pg::add_web_session(c, session, now_ms); });
  }

  Result<WebSessionRow> web_session(std::string_view token_hash, std::int64_t now_ms) override {
    auto c = readers_.acquire();
    if (!c) return std::move(c).error();
    auto found = pg::web_session(**c, token_hash);
    if (!found) return std::move(found).error();
    if (!*found || (*found)->expires_ms <= now_ms)
      return make_error(ErrorCode::kUnauthorized, "unknown or expired session");
    return std::move(**found);
  }

  Status delete_web_session(std::string_view token_hash) override {
    auto c = readers_.acquire();
    if (!c) return std::move(c).error();
    return pg::delete_web_session(**c, token_hash);
  }

  // ---- protocol ----

  Result<Enrollment> enrollment_code(std::string_view code_hash, std::int64_t now_ms) override {
    auto c = readers_.acquire();
    if (!c) return std::move(c).error();
    return code_holder(**c, code_hash, now_ms, false);
  }

  Result<Enrollment> enroll(std::string_view code_hash, const NewDevice& device,
                            std::int64_t now_ms) override {
    Enrollment e;
    TANDEM_TRY(pooled_transaction([&](Conn& c) -> Status {
      auto holder = code_holder(c, code_hash, now_ms, true);
      if (!holder) return std::move(holder).error();
      e = std::move(*holder);
      TANDEM_TRY(c.run("UPDATE server_enrollment_codes SET used_ms=$1, device=$2 WHERE code_hash=$3",
                       {now_ms, device.id, code_hash}));
      TANDEM_TRY(c.run(
          "INSERT INTO server_devices(id, school, person, name, token_hash, created_ms, "
          "last_seen_ms, token_ms) VALUES($1,$2,$3,$4,$5,$6,$6,$6)",
          {device.id, e.school.id, e.person.id, device.name, device.token_hash, now_ms}));
      return {};
    }));
    e.device.id = device.id;
    e.device.school = e.school.id;
    e.device.person = e.person.id;
    e.device.name = device.name;
    e.device.created_ms = e.device.last_seen_ms = e.device.token_ms = now_ms;
    return e;
  }

  Result<DeviceRecord> device_by_token(std::string_view token_hash, std::int64_t now_ms) override {
    tokens_from_store_.fetch_add(1, std::memory_order_relaxed);
    std::optional<std::pair<DeviceRecord, bool>> match;
    {
      auto c = readers_.acquire();
      if (!c) return std::move(c).error();
      auto found = pg::device_by_token_hash(**c, token_hash);
      if (!found) return std::move(found).error();
      match = std::move(*found);
      if (!match) return make_error(ErrorCode::kUnauthorized, "unknown or revoked device token");
      DeviceRecord& d = match->first;
      if (d.wipe_ordered_ms) {
        Error wiped = make_error(ErrorCode::kDeviceWiped,
                                 "this device was reported lost: erase its local data now");
        // The first contact after the order is its delivery (best effort:
        // the next contact records it otherwise).
        if (!d.wipe_delivered_ms)
          (void)(*c)->run(
              "UPDATE server_devices SET wipe_delivered_ms=coalesce(wipe_delivered_ms, $1) WHERE id=$2",
              {now_ms, d.id});
        return wiped;
      }
      if (d.revoked_ms) return make_error(ErrorCode::kUnauthorized, "unknown or revoked device token");
    }
    DeviceRecord d = std::move(match->first);
    d.by_pending_token = match->second;
    if (now_ms - d.last_seen_ms >= kLastSeenGranularityMs) {
      d.last_seen_ms = now_ms;
      group_.touch(d.id, now_ms);  // written with the next group
    }
    return d;
  }

  Result<bool> promote_token(std::string_view device_id, std::string_view token_hash,
                             std::int64_t now_ms) override {
    auto c = readers_.acquire();
    if (!c) return std::move(c).error();
    return pg::promote_token(**c, device_id, token_hash, now_ms);
  }

  Result<bool> set_next_token(std::string_view device_id, std::string_view current_hash,
                              std::string_view next_hash) override {
    auto c = readers_.acquire();
    if (!c) return std::move(c).error();
    return pg::set_next_token(**c, device_id, current_hash, next_hash);
  }

  void submit_mutation(DeviceRecord device, std::int64_t mutation_id, std::string batch_digest,
                       std::uint64_t cost, MutationFn fn, MutationDone done) override {
    group_.submit_mutation(std::move(device), mutation_id, std::move(batch_digest), cost,
                           std::move(fn), std::move(done));
  }

  void submit_write(std::string school, std::uint64_t cost, WriteFn fn, WriteDone done) override {
    group_.submit_write(std::move(school), cost, std::move(fn), std::move(done));
  }

  Result<ChangePage> read_changes(std::string_view school, std::int64_t after_seq,
                                  std::size_t limit, std::size_t max_bytes,
                                  std::string_view skip_origin) override {
    limit = std::max<std::size_t>(limit, 1);
    pulls_from_store_.fetch_add(1, std::memory_order_relaxed);
    auto c = readers_.acquire();
    if (!c) return std::move(c).error();
    // One statement, one snapshot: the page and the school's last seq.
    auto rows = (*c)->query(
        "(SELECT seq, body, record FROM server_changes WHERE school=$1 AND seq>$2 AND origin<>$3 "
        "ORDER BY seq LIMIT $4) UNION ALL (SELECT -1, '', coalesce((SELECT last_seq FROM "
        "server_school_seq WHERE school=$1), 0)::text)",
        {school, after_seq, skip_origin, static_cast<std::int64_t>(limit) + 1});
    if (!rows) return std::move(rows).error();
    ChangePage page;
    std::int64_t last = 0;
    for (int i = 0; i < rows->size(); ++i) {
      const std::int64_t seq = rows->int64(i, 0);
      if (seq < 0) {
        last = rows->int64(i, 2);
        continue;
      }
      if (page.more) continue;
      std::string body = rows->text(i, 1);
      if (!page.fits(body.size(), limit, max_bytes)) {
        page.more = true;
        continue;
      }
      page.add(seq, std::move(body), rows->text(i, 2));
    }
    if (page.more) {
      page.cursor = page.rows.back().seq;
    } else {
      page.cursor = std::max(after_seq, last);
      if (!page.rows.empty()) page.cursor = std::max(page.cursor, page.rows.back().seq);
    }
    return page;
  }

  Result<PullState> pull_state(std::string_view device, std::string_view school,
                               std::string_view person) override {
    auto c = readers_.acquire();
    if (!c) return std::move(c).error();
    auto rows = (*c)->query(
        std::string("SELECT (SELECT coalesce(sum(version), 0) FROM server_scope_versions WHERE key "
                    "IN ($2, $3)), ") +
            "v.number, v.view, v.acked_view, v.scope_version, v.day, v.gone, v.backfill, "
            "v.backfill_upto, v.rewind FROM (SELECT 1) one LEFT JOIN server_device_views v ON "
            "v.device=$1",
        {device, school, person});
    if (!rows) return std::move(rows).error();
    PullState state;
    state.scope_version = rows->int64(0, 0);
    state.view = read_view(*rows, 0, 1);
    return state;
  }

  Result<std::vector<ScopeRef>> scopes_of(const std::vector<std::string>& records) override {
    auto c = readers_.acquire();
    if (!c) return std::move(c).error();
    auto rows = (*c)->query(std::string("SELECT ") + kScopeColumns +
                                " FROM server_scope WHERE record = ANY($1::text[])",
                            {pg::text_array(records)});
    if (!rows) return std::move(rows).error();
    std::vector<ScopeRef> out;
    for (auto& s : read_scopes(*rows))
      out.push_back(std::make_shared<const RecordScope>(std::move(s)));
    return out;
  }

  Result<ChangePage> read_record_changes(std::string_view school,
                                         const std::vector<std::string>& records,
                                         std::int64_t after_seq, std::int64_t upto_seq,
                                         std::size_t limit, std::size_t max_bytes) override {
    limit = std::max<std::size_t>(limit, 1);
    auto c = readers_.acquire();
    if (!c) return std::move(c).error();
    auto rows = (*c)->query(
        "SELECT seq, body, record FROM server_changes WHERE school=$1 AND seq>$2 AND seq<=$3 AND "
        "record = ANY($4::text[]) ORDER BY seq LIMIT $5",
        {school, after_seq, upto_seq, pg::text_array(records), static_cast<std::int64_t>(limit) + 1});
    if (!rows) return std::move(rows).error();
    ChangePage page;
    for (int i = 0; i < rows->size(); ++i) {
      std::string body = rows->text(i, 1);
      if (!page.fits(body.size(), limit, max_bytes)) {
        page.more = true;
        break;
      }
      page.add(rows->int64(i, 0), std::move(body), rows->text(i, 2));
    }
    page.cursor = page.more ? page.rows.back().seq : std::max(after_seq, upto_seq);
    return page;
  }

  // ---- the school's view ----

  Result<SchoolSnapshot> school_records(std::string_view school, std::int64_t after_seq) override {
    std::vector<std::string> ids;
    {
      auto c = readers_.acquire();
      if (!c) return std::move(c).error();
      auto rows = after_seq <= 0
                      ? (*c)->query("SELECT record FROM server_scope WHERE school=$1", {school})
                      : (*c)->query(
                            "SELECT DISTINCT record FROM server_changes WHERE school=$1 AND seq>$2",
                            {school, after_seq});
      if (!rows) return std::move(rows).error();
      ids = texts(*rows);
    }
    if (ids.size() > kMaxReportRecords)
      return make_error(ErrorCode::kTooLong, "the school holds more records than a report reads (" +
                                                 std::to_string(kMaxReportRecords) + ")");
    SchoolSnapshot out;
    std::lock_guard lock(mu_);
    TANDEM_TRY(catch_up_unlocked(school));
    out.seq = positions_[std::string(school)];
    out.records.reserve(ids.size());
    for (const auto& id : ids) {
      auto r = cache_->get(id);
      if (!r) {
        if (r.error().code == ErrorCode::kNotFound) continue;
        return std::move(r).error();
      }
      if (r->school != school) continue;
      out.records.push_back(std::move(*r));
    }
    return out;
  }

  Result<std::optional<std::string>> setting(std::string_view key) override {
    auto c = readers_.acquire();
    if (!c) return std::move(c).error();
    auto rows = (*c)->query("SELECT value FROM server_meta WHERE key=$1", {key});
    if (!rows) return std::move(rows).error();
    if (rows->empty()) return std::optional<std::string>();
    return std::optional<std::string>(rows->text(0, 0));
  }

  Status set_setting(std::string_view key, std::string_view value) override {
    auto c = readers_.acquire();
    if (!c) return std::move(c).error();
    return (*c)->run(
        "INSERT INTO server_meta(key, value) VALUES($1,$2) ON CONFLICT(key) DO UPDATE SET "
        "value=excluded.value",
        {key, value});
  }

  // ---- audit trail ----

  Result<AuditVerification> verify_audit() override {
    Result<AuditVerification> out = AuditVerification{};
    TANDEM_TRY(snapshot([&](Conn& c) -> Status {
      out = pg::verify_audit(c);
      return out ? Status{} : Status(out.error());
    }));
    return out;
  }

  Result<std::vector<AuditEntryRow>> audit_entries_for_child(std::string_view child) override {
    auto c = readers_.acquire();
    if (!c) return std::move(c).error();
    return pg::audit_entries_for_child(**c, child);
  }

  Result<std::int64_t> prune_audit(std::int64_t before_ms) override {
    std::int64_t total = 0;
    for (;;) {
      std::int64_t deleted = 0;
      TANDEM_TRY(pooled_transaction([&](Conn& c) -> Status {
        auto step = pg::prune_audit_step(c, before_ms, kAuditPruneBatch);
        if (!step) return std::move(step).error();
        deleted = *step;
        return {};
      }));
      total += deleted;
      if (deleted < kAuditPruneBatch) return total;
    }
  }

  Result<std::int64_t> count_active_devices(std::int64_t since_ms) override {
    auto c = readers_.acquire();
    if (!c) return std::move(c).error();
    auto rows = (*c)->query(
        "SELECT count(*) FROM server_devices WHERE revoked_ms IS NULL AND last_seen_ms>=$1",
        {since_ms});
    if (!rows) return std::move(rows).error();
    return rows->int64(0, 0);
  }

  Status check_health() override {
    auto c = readers_.acquire();
    if (!c) return std::move(c).error();
    return (*c)->run("SELECT 1");
  }

  StorageStats stats() const override {
    StorageStats s;
    s.tokens_from_store = tokens_from_store_.load(std::memory_order_relaxed);
    s.pulls_from_store = pulls_from_store_.load(std::memory_order_relaxed);
    return s;
  }

  // ---- used by PgPushTransaction: under mu_, inside the group's transaction ----

  Result<AppliedChange> apply_locked(const Change& change, std::string_view body,
                                     std::string_view origin) {
    // The merge decides on the school's whole log: locked and caught up
    // first (a write queued without a school, e.g. re-applied erasures).
    if (!seq_.count(change.school)) TANDEM_TRY(lock_schools({change.school}));
    auto outcome = cache_->apply(change);
    if (!outcome) return std::move(outcome).error();
    AppliedChange applied{*outcome, std::nullopt};
    if (*outcome != ApplyOutcome::kApplied) return applied;
    auto seq = append_to_sequence(change, body, origin);
    if (!seq) return std::move(seq).error();
    applied.seq = *seq;
    if (change.op == Op::kPurge) {
      // Erasure: the record's content leaves the log; the purge stays so
      // that every device (and every instance's cache) erases it.
      TANDEM_TRY(flush_rows());
      TANDEM_TRY(writer_->run("DELETE FROM server_changes WHERE school=$1 AND record=$2 AND seq<>$3",
                              {change.school, change.record, *seq}));
    }
    return applied;
  }

  // Which school holds `record`: every sequenced record has a row in
  // server_records (the truth, whatever this instance's cache has seen).
  // A record never changes school, so what was found is kept (bounded).
  Result<std::optional<std::string>> school_of_in(Conn& c, std::string_view record) {
    const std::string key(record);
    {
      std::lock_guard lock(schools_mu_);
      if (auto it = schools_.find(key); it != schools_.end())
        return std::optional<std::string>(it->second);
    }
    if (&c == writer_.get()) {
      // Found, or appended, by the running group (not committed yet).
      for (auto it = pending_schools_.rbegin(); it != pending_schools_.rend(); ++it)
        if (it->first == key) return std::optional<std::string>(it->second);
      for (const auto& r : pending_records_)
        if (r[0] == key) return std::optional<std::string>(r[1]);
    }
    auto rows = c.query("SELECT school FROM server_records WHERE record=$1", {record});
    if (!rows) return std::move(rows).error();
    if (rows->empty()) return std::optional<std::string>();
    std::string school = rows->text(0, 0);
    if (&c == writer_.get()) {
      // Maybe this transaction's own row: known once it commits.
      pending_schools_.emplace_back(key, school);
      return std::optional<std::string>(std::move(school));
    }
    remember_schools({{key, school}});
    return std::optional<std::string>(std::move(school));
  }

 private:
  void remember_schools(const std::vector<std::pair<std::string, std::string>>& found) {
    std::lock_guard lock(schools_mu_);
    for (const auto& [record, school] : found) {
      if (schools_.size() >= kMaxKnownSchools) schools_.clear();
      schools_.emplace(record, school);
    }
  }

  Result<std::optional<std::string>> school_of(std::string_view record) {
    auto c = readers_.acquire();
    if (!c) return std::move(c).error();
    return school_of_in(**c, record);
  }

  // `fn` in a transaction on a pooled connection.
  Status pooled_transaction(const std::function<Status(Conn&)>& fn) {
    auto c = readers_.acquire();
    if (!c) return std::move(c).error();
    Conn& conn = **c;
    return conn.transaction([&] { return fn(conn); });
  }

  // `fn` in one REPEATABLE READ snapshot on a pooled connection.
  Status snapshot(const std::function<Status(Conn&)>& fn) {
    auto c = readers_.acquire();
    if (!c) return std::move(c).error();
    Conn& conn = **c;
    TANDEM_TRY(conn.run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    Status s = fn(conn);
    (void)conn.script(s ? "COMMIT" : "ROLLBACK");
    return s;
  }

  // What an enrollment code is for (`lock`: FOR UPDATE, inside enroll's
  // transaction), judged from PostgreSQL and the person and school as merged.
  Result<Enrollment> code_holder(Conn& c, std::string_view code_hash, std::int64_t now_ms, bool lock) {
    auto code = c.query(std::string("SELECT person, school, expires_ms, used_ms FROM "
                                    "server_enrollment_codes WHERE code_hash=$1") +
                            (lock ? " FOR UPDATE" : ""),
                        {code_hash});
    if (!code) return std::move(code).error();
    if (code->empty() || !code->null(0, 3))
      return make_error(ErrorCode::kUnauthorized, "unknown or already used enrollment code");
    if (code->int64(0, 2) <= now_ms) return make_error(ErrorCode::kExpired, "enrollment code has expired");
    const std::string person_id = code->text(0, 0), school_id = code->text(0, 1);
    std::lock_guard guard(mu_);
    TANDEM_TRY(catch_up_unlocked(school_id));
    auto person = cache_->get(person_id);
    auto school = cache_->get(school_id);
    if (!person || !person->live() || !school || !school->live())
      return make_error(ErrorCode::kUnauthorized, "enrollment code no longer valid");
    Enrollment e;
    e.school = {school_id, string_field(*school, "name")};
    e.person = {person_id, string_field(*person, "name"), string_field(*person, "role")};
    return e;
  }

  // Stores a one-time code for a live person (`insert` given its school).
  Result<std::string> add_person_code(std::string_view person,
                                      const std::function<Status(Conn&, const std::string&)>& insert) {
    auto school = school_of(person);
    if (!school) return std::move(school).error();
    auto missing = [&] {
      return make_error(ErrorCode::kNotFound, "no person '" + std::string(person.substr(0, 64)) + "'");
    };
    if (!*school) return missing();
    {
      std::lock_guard lock(mu_);
      TANDEM_TRY(catch_up_unlocked(**school));
      auto p = cache_->get(person);
      if (!p && p.error().code != ErrorCode::kNotFound) return p.error();
      if (!p || p->kind != "person" || !p->live()) return missing();
    }
    TANDEM_TRY(pooled_transaction([&](Conn& c) { return insert(c, **school); }));
    return **school;
  }

  // ---- the local cache ----

  // Applies the log rows of `school` after this instance's position, in
  // order. REQUIRES: mu_; on the writer inside a transaction that holds the
  // school's row lock, or `c` any connection (rows committed are a dense
  // prefix: a row is visible only once every lower seq of its school is).
  Status catch_up_on(Conn& c, const std::string& school) {
    if (&c == writer_.get()) TANDEM_TRY(flush_rows());
    std::int64_t pos = positions_.count(school) ? positions_.at(school) : 0;
    for (;;) {
      auto rows = c.query(
          "SELECT seq, body FROM server_changes WHERE school=$1 AND seq>$2 ORDER BY seq LIMIT $3",
          {school, pos, kCatchUpPage});
      if (!rows) return std::move(rows).error();
      for (int i = 0; i < rows->size(); ++i) {
        auto json = parse_json_text(rows->text(i, 1));
        if (!json) return make_error(ErrorCode::kCorrupt, "a change in the log does not parse");
        auto change = Change::from_json(*json);
        if (!change) return make_error(ErrorCode::kCorrupt, "a change in the log does not decode");
        auto applied = cache_->apply(*change, Store::StampCheck::kByServer);
        if (!applied) return std::move(applied).error();
        pos = rows->int64(i, 0);
      }
      set_position(school, pos);
      if (rows->size() < kCatchUpPage) return {};
    }
  }

  // Brings the cache up to `school`'s last committed seq, outside any group.
  // REQUIRES: mu_.
  Status catch_up_unlocked(std::string_view school_view) {
    const std::string school(school_view);
    Status s = cache_->transaction([&] { return catch_up_on(*writer_, school); }, Durability::kDeferred);
    if (!s) undo_positions(0);
    position_undo_.clear();
    return s;
  }

  // Moves the cache's position for `school`, remembering the old one so a
  // rolled-back transaction or job puts it back (undo_positions): no copy
  // of every school's position per job.
  void set_position(const std::string& school, std::int64_t seq) {
    auto [it, fresh] = positions_.try_emplace(school, 0);
    position_undo_.emplace_back(school, fresh ? -1 : it->second);
    it->second = seq;
  }
  void undo_positions(std::size_t mark) {
    while (position_undo_.size() > mark) {
      const auto& [school, old] = position_undo_.back();
      if (old < 0) {
        positions_.erase(school);
      } else {
        positions_[school] = old;
      }
      position_undo_.pop_back();
    }
  }

  // Locks the schools' sequence rows (sorted: never a cycle between
  // instances) and catches the cache up on each. REQUIRES: mu_, on the
  // writer inside its transaction.
  Status lock_schools(std::vector<std::string> schools) {
    std::sort(schools.begin(), schools.end());
    schools.erase(std::unique(schools.begin(), schools.end()), schools.end());
    std::erase_if(schools, [&](const std::string& s) { return s.empty() || seq_.count(s) > 0; });
    if (schools.empty()) return {};
    const std::string list = pg::text_array(schools);
    // A school's row is made once (a row never goes away).
    if (std::any_of(schools.begin(), schools.end(),
                    [&](const std::string& school) { return !positions_.count(school); })) {
      TANDEM_TRY(writer_->run(
          "INSERT INTO server_school_seq(school, last_seq) SELECT s, 0 FROM unnest($1::text[]) s "
          "ORDER BY s ON CONFLICT(school) DO NOTHING",
          {list}));
    }
    auto rows = writer_->query(
        "SELECT school, last_seq FROM server_school_seq WHERE school = ANY($1::text[]) ORDER BY "
        "school FOR UPDATE",
        {list});
    if (!rows) return std::move(rows).error();
    for (int i = 0; i < rows->size(); ++i) {
      const std::string school = rows->text(i, 0);
      const std::int64_t last = rows->int64(i, 1);
      seq_[school] = last;
      // Only what another instance (or the administration) appended since
      // this cache last saw the school is read.
      auto at = positions_.find(school);
      if (at == positions_.end() || at->second < last) TANDEM_TRY(catch_up_on(*writer_, school));
    }
    return {};
  }

  Result<std::int64_t> append_to_sequence(const Change& change, std::string_view body,
                                          std::string_view origin) {
    if (!seq_.count(change.school)) TANDEM_TRY(lock_schools({change.school}));
    bool known = false;
    {
      std::lock_guard lock(schools_mu_);
      known = schools_.count(change.record) > 0;
    }
    if (!known && pending_record_ids_.insert(change.record).second)
      pending_records_.push_back({change.record, change.school, change.kind});
    const std::int64_t seq = ++seq_[change.school];
    pending_rows_.push_back(
        PendingRow{change.school, seq, change.hlc.str(), change.record, change.kind,
                   std::string(body), std::string(origin)});
    set_position(change.school, seq);  // the cache holds it (merged just before)
    return seq;
  }

  // Writes the rows appended since the last flush, in one statement each
  // for the log and the record table (not one round trip per change).
  // Called before anything on the writer reads server_changes, and at the end
  // of each job, inside its savepoint.
  Status flush_rows() {
    if (!pending_records_.empty()) {
      std::vector<std::string> ids, schools, kinds;
      for (auto& r : pending_records_) {
        ids.push_back(std::move(r[0]));
        schools.push_back(std::move(r[1]));
        kinds.push_back(std::move(r[2]));
      }
      pending_records_.clear();
      pending_record_ids_.clear();
      TANDEM_TRY(writer_->run(
          "INSERT INTO server_records(record, school, kind) SELECT * FROM unnest($1::text[], "
          "$2::text[], $3::text[]) ON CONFLICT DO NOTHING",
          {pg::text_array(ids), pg::text_array(schools), pg::text_array(kinds)}));
    }
    if (pending_rows_.empty()) return {};
    std::vector<std::string> schools, hlcs, records, kinds, bodies, origins;
    std::string seqs = "{";
    for (auto& r : pending_rows_) {
      if (seqs.size() > 1) seqs += ',';
      seqs += std::to_string(r.seq);
      schools.push_back(std::move(r.school));
      hlcs.push_back(std::move(r.hlc));
      records.push_back(std::move(r.record));
      kinds.push_back(std::move(r.kind));
      bodies.push_back(std::move(r.body));
      origins.push_back(std::move(r.origin));
    }
    seqs += '}';
    pending_rows_.clear();
    return writer_->run(
        "INSERT INTO server_changes(school, seq, hlc, record, kind, body, origin) SELECT * FROM "
        "unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])",
        {pg::text_array(schools), seqs, pg::text_array(hlcs), pg::text_array(records),
         pg::text_array(kinds), pg::text_array(bodies), pg::text_array(origins)});
  }

  void drop_pending_rows() {
    scope_cache_.clear();  // may hold what the job that failed wrote
    pending_rows_.clear();
    pending_records_.clear();
    pending_record_ids_.clear();
  }

  Status flush_sequence() {
    for (const auto& [school, last] : seq_)
      TANDEM_TRY(writer_->run("UPDATE server_school_seq SET last_seq=$2 WHERE school=$1 AND last_seq<>$2",
                              {school, last}));
    return {};
  }

  // Local writes (administration) land in the cache's outbox; they go into
  // their school's sequence and leave the outbox.
  Status sequence_local_writes() {
    auto pending = cache_->outbox(kMaxChangesPerPush);
    if (!pending) return std::move(pending).error();
    std::vector<std::string> hlcs;
    for (const auto& logged : *pending) {
      auto seq = append_to_sequence(logged.change, logged.change.to_json().dump(), "");
      if (!seq) return std::move(seq).error();
      hlcs.push_back(logged.change.id());
      TANDEM_TRY(writer_->run(
          "INSERT INTO server_scope(record, school, kind, first_seq) VALUES($1,$2,$3,$4) "
          "ON CONFLICT(record) DO NOTHING",
          {logged.change.record, logged.change.school, logged.change.kind, *seq}));
    }
    return cache_->ack(hlcs);
  }

  // One write transaction on the writer and the cache: PostgreSQL commits
  // first; the cache commits after it (or rolls back with it).
  Status group_transaction(const std::vector<std::string>& schools, const std::function<Status()>& fn,
                           Durability durability) {
    seq_.clear();
    position_undo_.clear();
    Status s = cache_->transaction(
        [&]() -> Status {
          TANDEM_TRY(writer_->run("BEGIN"));
          Status inner = [&]() -> Status {
            TANDEM_TRY(lock_schools(schools));
            TANDEM_TRY(fn());
            TANDEM_TRY(flush_rows());
            TANDEM_TRY(flush_sequence());
            return writer_->run("COMMIT");
          }();
          if (!inner && writer_->in_transaction()) (void)writer_->script("ROLLBACK");
          return inner;
        },
        durability);
    seq_.clear();
    drop_pending_rows();
    if (!s) undo_positions(0);
    position_undo_.clear();
    if (s) remember_schools(pending_schools_);
    pending_schools_.clear();
    return s;
  }

  Status admin_write(const std::vector<std::string>& schools, const std::function<Status()>& fn) {
    std::lock_guard lock(mu_);
    return group_transaction(schools, fn, Durability::kDurable);
  }

  // ---- group commit ----

  std::size_t commit_batch(GroupCommit::Batch& batch, const GroupCommit::Touches& touches) {
    std::lock_guard lock(mu_);
    const auto started = std::chrono::steady_clock::now();
    std::size_t ran = 0;
    std::vector<std::string> schools;
    for (const auto& entry : batch) schools.push_back(entry.school);
    Status committed = group_transaction(
        schools,
        [&]() -> Status {
          for (auto& entry : batch) {
            if (ran > 0 && std::chrono::steady_clock::now() - started >= kCommitGroupTime) break;
            ++ran;
            entry.job->status = run_in_savepoint(*entry.job, entry.school);
          }
          for (const auto& [id, ms] : touches)
            TANDEM_TRY(writer_->run(
                "UPDATE server_devices SET last_seen_ms=greatest(last_seen_ms, $1) WHERE id=$2",
                {ms, id}));
          return {};
        },
        Durability::kDeferred);
    if (!committed) {
      ran = batch.size();
      for (auto& entry : batch) entry.job->status = committed;
    }
    return ran;
  }

  // One job in its own savepoint (PostgreSQL) and nested transaction (the
  // cache): a failing job rolls back alone. While it runs, row-level
  // security confines the transaction to the job's school.
  Status run_in_savepoint(CommitJob& job, const std::string& school) {
    const auto seq_before = seq_;  // the group's locked schools: a few
    const std::size_t positions_mark = position_undo_.size();
    const std::size_t found_before = pending_schools_.size();
    // One round trip: the savepoint and the job's school for row-level security.
    auto quoted = writer_->literal(school);
    if (!quoted) return std::move(quoted).error();
    Status s = writer_->script("SAVEPOINT job; SELECT set_config('tandem.school', " + *quoted +
                               ", true)");
    if (!s) return s;
    s = cache_->transaction(
        [&]() -> Status {
          try {
            return run_one(job);
          } catch (const std::exception&) {
            return make_error(ErrorCode::kInternal, "internal error while applying a push");
          }
        },
        Durability::kDeferred);
    if (s) s = flush_rows();
    if (s) s = writer_->script("SELECT set_config('tandem.school', '', true); RELEASE SAVEPOINT job");
    if (!s) {
      seq_ = seq_before;
      undo_positions(positions_mark);
      pending_schools_.resize(found_before);
      drop_pending_rows();
      TANDEM_TRY(writer_->script("ROLLBACK TO SAVEPOINT job; RELEASE SAVEPOINT job"));
    }
    return s;
  }

  Status run_one(CommitJob& job) {
    if (job.write_fn) {
      PgPushTransaction txn(*this, "");
      return job.write_fn(txn);
    }
    MutationOutcome& out = job.outcome;
    // The device's row, locked: the same device pushing through two
    // instances at once takes turns.
    auto last = writer_->query(
        "SELECT last_mutation_id, last_digest, revoked_ms IS NOT NULL, last_response FROM "
        "server_devices WHERE id=$1 FOR UPDATE",
        {job.device.id});
    if (!last) return std::move(last).error();
    if (last->empty() || last->boolean(0, 2))
      return make_error(ErrorCode::kUnauthorized, "unknown or revoked device token");
    out.last_mutation_id = last->int64(0, 0);
    if (auto settled = settled_mutation(out.last_mutation_id, last->text(0, 1), job.mutation_id,
                                        job.digest)) {
      out.state = *settled;
      if (*settled == MutationState::kReplayed) out.response = last->text(0, 3);
      return {};
    }
    PgPushTransaction txn(*this, job.device.id);
    auto answer = job.fn(txn);
    if (!answer) return std::move(answer).error();
    TANDEM_TRY(writer_->run(
        "UPDATE server_devices SET last_mutation_id=$1, last_digest=$2, last_response=$3 WHERE id=$4",
        {job.mutation_id, job.digest, *answer, job.device.id}));
    out.state = MutationState::kCommitted;
    out.response = std::move(*answer);
    out.last_mutation_id = job.mutation_id;
    return {};
  }

  std::mutex mu_;  // writer_, cache_, positions_, seq_
  std::unique_ptr<Conn> writer_;
  std::unique_ptr<Store> cache_;
  fs::path cache_file_;
  std::map<std::string, std::int64_t> positions_;  // per school: the last seq the cache holds
  // (school, position before; -1: none) per move in the running transaction.
  std::vector<std::pair<std::string, std::int64_t>> position_undo_;
  std::map<std::string, std::int64_t> seq_;        // per school locked by the running group: last seq
  // Rows appended by the running job, written by flush_rows().
  struct PendingRow {
    std::string school;
    std::int64_t seq = 0;
    std::string hlc, record, kind, body, origin;
  };
  std::vector<PendingRow> pending_rows_;
  // Scope rows of the running group's locked schools, as read or written
  // in it (cleared at its end and when a job rolls back).
  std::unordered_map<std::string, std::optional<RecordScope>> scope_cache_;
  std::vector<std::array<std::string, 3>> pending_records_;  // record, school, kind
  std::set<std::string> pending_record_ids_;
  // Records' schools the running group found, kept once it commits.
  std::vector<std::pair<std::string, std::string>> pending_schools_;
  pg::Pool readers_;

  static constexpr std::size_t kMaxKnownSchools = 1'000'000;
  std::mutex schools_mu_;
  std::unordered_map<std::string, std::string> schools_;  // record -> its school (immutable)

  std::atomic<std::uint64_t> tokens_from_store_{0};
  std::atomic<std::uint64_t> pulls_from_store_{0};

  GroupCommit group_;  // the queue and the commit thread (drained first: ~PgStorage)
};

Conn& PgPushTransaction::c() { return *s_.writer_; }

Result<std::optional<std::string>> PgPushTransaction::record_school(std::string_view record_id) {
  auto school = s_.school_of_in(c(), record_id);
  if (!school || *school) return school;
  // No scope row yet: a record created earlier in this transaction.
  auto r = s_.cache_->get(record_id);
  if (!r && r.error().code == ErrorCode::kNotFound) return std::optional<std::string>();
  if (!r) return std::move(r).error();
  return std::optional<std::string>(r->school);
}

Result<AppliedChange> PgPushTransaction::apply(const Change& change, std::string_view body) {
  return s_.apply_locked(change, body, origin_);
}

Status PgPushTransaction::append_audit(const AuditEntry& entry) { return pg::append_audit(c(), entry); }

Result<std::optional<Record>> PgPushTransaction::record(std::string_view id) {
  // The push's own school is locked and caught up; a record of another
  // school (read, never written) is caught up first.
  auto school = record_school(id);
  if (!school) return std::move(school).error();
  if (!*school) return std::optional<Record>();
  if (!s_.seq_.count(**school)) TANDEM_TRY(s_.catch_up_on(c(), **school));
  auto r = s_.cache_->get(id);
  if (!r && r.error().code == ErrorCode::kNotFound) return std::optional<Record>();
  if (!r) return std::move(r).error();
  return std::optional<Record>(std::move(*r));
}

Result<std::optional<RecordScope>> PgPushTransaction::scope(std::string_view record) {
  // Within a group, the scope rows of the schools it locked change only
  // through it: read once, then kept (put_scope keeps them current).
  const std::string key(record);
  if (auto it = s_.scope_cache_.find(key); it != s_.scope_cache_.end()) return it->second;
  auto rows = c().query(std::string("SELECT ") + kScopeColumns + " FROM server_scope WHERE record=$1",
                        {record});
  if (!rows) return std::move(rows).error();
  std::optional<RecordScope> found;
  if (!rows->empty()) found = read_scope(*rows, 0);
  auto school = found ? std::optional<std::string>(found->school) : record_school(record);
  if (!school) return std::move(school).error();
  if (*school && s_.seq_.count(**school)) s_.scope_cache_[key] = found;
  return found;
}

Status PgPushTransaction::put_scope(const RecordScope& r) {
  if (s_.seq_.count(r.school)) {
    s_.scope_cache_[r.record] = r;
  } else {
    s_.scope_cache_.erase(r.record);
  }
  return c().run(
      std::string("INSERT INTO server_scope(") + kScopeColumns +
          ") VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) ON CONFLICT(record) DO UPDATE SET "
          "school=excluded.school, kind=excluded.kind, parent=excluded.parent, "
          "anchor=excluded.anchor, anchor_kind=excluded.anchor_kind, child=excluded.child, "
          "author=excluded.author, assignee=excluded.assignee, first_seq=excluded.first_seq, "
          "anchor_author=excluded.anchor_author",
      {r.record, r.school, r.kind, r.parent, r.anchor, r.anchor_kind, r.child, r.author, r.assignee,
       r.first_seq, r.anchor_author});
}

Result<std::vector<RecordScope>> PgPushTransaction::scopes_under(std::string_view parent) {
  auto rows = c().query(std::string("SELECT ") + kScopeColumns +
                            " FROM server_scope WHERE parent=$1 AND parent<>''",
                        {parent});
  if (!rows) return std::move(rows).error();
  return read_scopes(*rows);
}

Result<std::vector<RecordScope>> PgPushTransaction::school_scopes(std::string_view school) {
  auto rows = c().query(std::string("SELECT ") + kScopeColumns + " FROM server_scope WHERE school=$1",
                        {school});
  if (!rows) return std::move(rows).error();
  return read_scopes(*rows);
}

Status PgPushTransaction::set_members(std::string_view school, std::string_view anchor,
                                      const std::vector<std::string>& persons) {
  TANDEM_TRY(c().run("DELETE FROM server_members WHERE anchor=$1", {anchor}));
  if (persons.empty()) return {};
  return c().run(
      "INSERT INTO server_members(anchor, person, school) SELECT $1, p, $3 FROM "
      "unnest($2::text[]) p ON CONFLICT DO NOTHING",
      {anchor, pg::text_array(persons), school});
}

Status PgPushTransaction::set_links(std::string_view school, std::string_view anchor,
                                    const std::vector<std::string>& children) {
  TANDEM_TRY(c().run("DELETE FROM server_links WHERE anchor=$1", {anchor}));
  if (children.empty()) return {};
  return c().run(
      "INSERT INTO server_links(anchor, child, school) SELECT $1, x, $3 FROM "
      "unnest($2::text[]) x ON CONFLICT DO NOTHING",
      {anchor, pg::text_array(children), school});
}

Result<std::vector<std::string>> PgPushTransaction::anchors_of(std::string_view school,
                                                               std::string_view person) {
  auto rows = c().query("SELECT anchor FROM server_members WHERE person=$1 AND school=$2",
                        {person, school});
  if (!rows) return std::move(rows).error();
  return texts(*rows);
}

Result<std::vector<std::pair<std::string, std::string>>> PgPushTransaction::links_of(
    const std::vector<std::string>& anchors) {
  auto rows = c().query("SELECT anchor, child FROM server_links WHERE anchor = ANY($1::text[])",
                        {pg::text_array(anchors)});
  if (!rows) return std::move(rows).error();
  std::vector<std::pair<std::string, std::string>> out;
  for (int i = 0; i < rows->size(); ++i) out.emplace_back(rows->text(i, 0), rows->text(i, 1));
  return out;
}

Status PgPushTransaction::put_consent(const ConsentRow& x) {
  return c().run(
      "INSERT INTO server_consents(id, school, child, scope, given_on, withdrawn_on, live) "
      "VALUES($1,$2,$3,$4,$5,$6,$7) ON CONFLICT(id) DO UPDATE SET school=excluded.school, "
      "child=excluded.child, scope=excluded.scope, given_on=excluded.given_on, "
      "withdrawn_on=excluded.withdrawn_on, live=excluded.live",
      {x.id, x.school, x.child, x.scope, x.given_on, x.withdrawn_on, x.live});
}

Result<std::vector<ConsentRow>> PgPushTransaction::consents(std::string_view school) {
  auto rows = c().query(
      "SELECT id, school, child, scope, given_on, withdrawn_on, live FROM server_consents WHERE "
      "school=$1",
      {school});
  if (!rows) return std::move(rows).error();
  std::vector<ConsentRow> out;
  for (int i = 0; i < rows->size(); ++i)
    out.push_back(ConsentRow{rows->text(i, 0), rows->text(i, 1), rows->text(i, 2), rows->text(i, 3),
                             rows->text(i, 4), rows->text(i, 5), rows->boolean(i, 6)});
  return out;
}

Result<std::vector<std::string>> PgPushTransaction::members(std::string_view anchor) {
  auto rows = c().query("SELECT person FROM server_members WHERE anchor=$1 ORDER BY person", {anchor});
  if (!rows) return std::move(rows).error();
  return texts(*rows);
}

Result<std::int64_t> PgPushTransaction::scope_version(std::string_view key) {
  auto rows = c().query("SELECT version FROM server_scope_versions WHERE key=$1", {key});
  if (!rows) return std::move(rows).error();
  return rows->empty() ? 0 : rows->int64(0, 0);
}

Status PgPushTransaction::bump_scope_version(std::string_view key) {
  return c().run(
      "INSERT INTO server_scope_versions(key, version) VALUES($1, 1) ON CONFLICT(key) DO UPDATE "
      "SET version=server_scope_versions.version+1",
      {key});
}

Result<std::optional<DeviceView>> PgPushTransaction::device_view(std::string_view device) {
  auto rows = c().query(std::string("SELECT ") + kDeviceViewColumns +
                            " FROM server_device_views WHERE device=$1",
                        {device});
  if (!rows) return std::move(rows).error();
  if (rows->empty()) return std::optional<DeviceView>();
  return read_view(*rows, 0, 0);
}

Result<std::vector<std::pair<std::string, DeviceView>>> PgPushTransaction::school_device_views(
    std::string_view school) {
  auto rows = c().query(std::string("SELECT ") + kDeviceViewColumns +
                            ", device FROM server_device_views WHERE device IN "
                            "(SELECT id FROM server_devices WHERE school=$1) ORDER BY device",
                        {school});
  if (!rows) return std::move(rows).error();
  std::vector<std::pair<std::string, DeviceView>> out;
  for (int i = 0; i < rows->size(); ++i) {
    if (auto v = read_view(*rows, i, 0)) out.emplace_back(rows->text(i, 9), std::move(*v));
  }
  return out;
}

Status PgPushTransaction::put_device_view(std::string_view device, const DeviceView& v) {
  return c().run(
      std::string("INSERT INTO server_device_views(device, ") + kDeviceViewColumns +
          ") VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT(device) DO UPDATE SET "
          "number=excluded.number, view=excluded.view, acked_view=excluded.acked_view, "
          "scope_version=excluded.scope_version, day=excluded.day, gone=excluded.gone, "
          "backfill=excluded.backfill, backfill_upto=excluded.backfill_upto, rewind=excluded.rewind",
      {device, v.number, v.view, v.acked_view, v.scope_version, v.day, json_list(v.gone),
       json_list(v.backfill), v.backfill_upto, v.rewind});
}

Result<std::optional<DeviceRecord>> PgPushTransaction::device(std::string_view device_id) {
  auto rows = c().query(std::string("SELECT ") + pg::kDeviceColumns + " FROM server_devices WHERE id=$1",
                        {device_id});
  if (!rows) return std::move(rows).error();
  if (rows->empty()) return std::optional<DeviceRecord>();
  return std::optional<DeviceRecord>(pg::read_device(*rows, 0));
}

Result<std::vector<std::string>> PgPushTransaction::record_ids(std::string_view kind) {
  // Every record of a kind, in every school (the cache may not hold every
  // school): from the table of sequenced records.
  auto rows = c().query("SELECT record FROM server_records WHERE kind=$1 ORDER BY record", {kind});
  if (!rows) return std::move(rows).error();
  return texts(*rows);
}

Result<std::int64_t> PgPushTransaction::first_seq(std::string_view school, std::string_view record) {
  TANDEM_TRY(s_.flush_rows());
  auto rows = c().query("SELECT min(seq) FROM server_changes WHERE school=$1 AND record=$2",
                        {school, record});
  if (!rows) return std::move(rows).error();
  return rows->empty() || rows->null(0, 0) ? 0 : rows->int64(0, 0);
}

Result<std::optional<std::string>> PgPushTransaction::meta(std::string_view key) {
  auto rows = c().query("SELECT value FROM server_meta WHERE key=$1", {key});
  if (!rows) return std::move(rows).error();
  if (rows->empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows->text(0, 0));
}

Status PgPushTransaction::set_meta(std::string_view key, std::string_view value) {
  return c().run(
      "INSERT INTO server_meta(key, value) VALUES($1,$2) ON CONFLICT(key) DO UPDATE SET "
      "value=excluded.value",
      {key, value});
}

}  // namespace

Result<std::unique_ptr<ServerStorage>> open_postgres_storage(const PostgresStorageOptions& options) {
  auto writer = Conn::open(options.url);
  if (!writer) return std::move(writer).error();
  TANDEM_TRY(pg::migrate(**writer));
  if (options.warn) {
    auto bypass = (*writer)->query(
        "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user");
    if (bypass && !bypass->empty() && bypass->boolean(0, 0))
      options.warn("the PostgreSQL role bypasses row-level security (a superuser): the per-school "
                   "policies are not enforced; serve as an ordinary role that owns the database");
  }
  const fs::path root = cache_folder(options.cache_dir);
  std::random_device rd;
  const fs::path file =
      root / ("cache-" + std::to_string(::getpid()) + "-" + std::to_string(rd()) + ".db");
  StoreOptions so;
  so.path = file.string();
  so.clock = options.clock;
  so.max_ahead_ms = options.max_skew_ms;
  so.page_size = 4096;
  auto cache = Store::open(so);
  if (!cache) return std::move(cache).error();
  auto storage = std::make_unique<PgStorage>(std::move(*writer), std::move(*cache), file);
  TANDEM_TRY(storage->open_readers(options.url, options.pool_size));
  storage->start_committer();
  return std::unique_ptr<ServerStorage>(std::move(storage));
}

}  // namespace tandem::server
