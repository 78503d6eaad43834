// The SQLite backend's caches and their one invalidation entry point: see
// caches.hpp.
#include "storage/sqlite/caches.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tandem::server::sqlite_backend {
namespace {

Status epoch_error(const char* what, const std::string& path) {
  return make_error(ErrorCode::kIo, std::string(what) + " '" + path + "': " + std::strerror(errno));
}

// The same page read_page() gives, from a tail that covers `after_seq`.
ChangePage page_from_tail(const SchoolTail& tail, std::int64_t after_seq, std::size_t limit,
                          std::size_t max_bytes, std::string_view skip_origin) {
  ChangePage page;
  auto it =
      std::upper_bound(tail.rows.begin(), tail.rows.end(), after_seq,
                       [](std::int64_t seq, const SchoolTail::Row& row) { return seq < row.seq; });
  for (; it != tail.rows.end(); ++it) {
    if (it->origin == skip_origin) continue;
    if (!page.fits(it->body.size(), limit, max_bytes)) {
      page.more = true;
      break;
    }
    page.add(it->seq, it->body, it->record);
  }
  page.cursor = page.more ? page.rows.back().seq : std::max(after_seq, tail.last_seq);
  return page;
}

}  // namespace

// ---- WriteEpoch ----

WriteEpoch::~WriteEpoch() {
  if (counter_ != nullptr) munmap(counter_, sizeof(std::uint64_t));
}

Status WriteEpoch::open(const std::string& database) {
  const std::string path = database + "-epoch";
  struct stat db {};
  if (::stat(database.c_str(), &db) != 0) return epoch_error("cannot stat", database);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, db.st_mode & 0666);
  if (fd < 0) return epoch_error("cannot open", path);
  if (geteuid() == 0 && fchown(fd, db.st_uid, db.st_gid) != 0) {
    Status failed = epoch_error("cannot give the database's owner", path);
    ::close(fd);
    return failed;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || (st.st_size < static_cast<off_t>(sizeof(std::uint64_t)) &&
                              ftruncate(fd, sizeof(std::uint64_t)) != 0)) {
    Status failed = epoch_error("cannot size", path);
    ::close(fd);
    return failed;
  }
  void* mem = mmap(nullptr, sizeof(std::uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (mem == MAP_FAILED) return epoch_error("cannot map", path);
  counter_ = static_cast<std::uint64_t*>(mem);
  return {};
}

std::uint64_t WriteEpoch::load() const {
  return std::atomic_ref<std::uint64_t>(*counter_).load(std::memory_order_acquire);
}

void WriteEpoch::bump() {
  std::atomic_ref<std::uint64_t>(*counter_).fetch_add(1, std::memory_order_acq_rel);
}

// ---- read side ----

std::optional<DeviceRecord> Caches::token(const std::string& hash, Ticket& ticket) {
  std::optional<DeviceRecord> found;
  {
    std::lock_guard lock(mu_);
    ticket.epoch = refresh_locked();
    if (auto it = tokens_.find(hash); it != tokens_.end()) found = it->second;
  }
  (found ? tokens_from_memory_ : tokens_from_store_).fetch_add(1, std::memory_order_relaxed);
  return found;
}

void Caches::keep_token(const std::string& hash, const DeviceRecord& device, const Ticket& ticket,
                        bool fresh) {
  // Only what was read under the epoch still current is kept: a revocation
  // committed meanwhile has moved it.
  std::lock_guard lock(mu_);
  if (refresh_locked() != ticket.epoch) return;
  if (fresh && tokens_.size() >= kMaxTokens) tokens_.clear();
  tokens_.insert_or_assign(hash, device);
}

std::optional<ChangePage> Caches::tail_page(const std::string& school, std::int64_t after_seq,
                                            std::size_t limit, std::size_t max_bytes,
                                            std::string_view skip_origin, Ticket& ticket,
                                            bool& load) {
  load = false;
  {
    std::lock_guard lock(mu_);
    ticket.epoch = refresh_locked();
    if (auto it = tails_.find(school); it != tails_.end()) {
      if (after_seq >= it->second.base) {
        pulls_from_memory_.fetch_add(1, std::memory_order_relaxed);
        return page_from_tail(it->second, after_seq, limit, max_bytes, skip_origin);
      }
    } else {
      load = true;
      ticket.generation = tail_generation_;
    }
  }
  pulls_from_store_.fetch_add(1, std::memory_order_relaxed);
  return std::nullopt;
}

void Caches::keep_tail(const std::string& school, SchoolTail tail, const Ticket& ticket) {
  // Kept only if no commit group and no admin write came in between: else
  // it may lack rows that no update will bring.
  std::lock_guard lock(mu_);
  if (refresh_locked() == ticket.epoch && tail_generation_ == ticket.generation) {
    tails_.try_emplace(school, std::move(tail));
  }
}

std::optional<PullState> Caches::view(const std::string& device, Ticket& ticket) {
  std::lock_guard lock(mu_);
  ticket.epoch = refresh_locked();
  if (auto it = views_.find(device); it != views_.end()) return it->second;
  ticket.generation = view_generation_;
  return std::nullopt;
}

void Caches::keep_view(const std::string& device, const PullState& state, const Ticket& ticket) {
  std::lock_guard lock(mu_);
  if (refresh_locked() == ticket.epoch && view_generation_ == ticket.generation) {
    if (views_.size() >= kMaxViews) views_.clear();
    views_.insert_or_assign(device, state);
  }
}

std::optional<std::optional<std::string>> Caches::setting(const std::string& key,
                                                          Ticket& ticket) {
  std::lock_guard lock(mu_);
  ticket.epoch = refresh_locked();
  if (auto it = settings_.find(key); it != settings_.end()) return it->second;
  return std::nullopt;
}

void Caches::keep_setting(const std::string& key, const std::optional<std::string>& value,
                          const Ticket& ticket) {
  std::lock_guard lock(mu_);
  if (refresh_locked() != ticket.epoch) return;
  if (settings_.size() >= kMaxSettings) settings_.clear();
  settings_.insert_or_assign(key, value);
}

namespace {

// What a cached row costs: its texts, the key's copy of its id, and about
// 96 bytes of node, pointer and counts.
std::size_t scope_bytes(const RecordScope& s) {
  return 96 + s.record.size() + s.school.size() + s.kind.size() + s.parent.size() +
         s.anchor.size() + s.anchor_kind.size() + s.child.size() + s.author.size() +
         s.anchor_author.size() + s.assignee.size() + s.record.size();
}

}  // namespace

std::vector<ScopeRef> Caches::scopes(const std::vector<std::string>& records,
                                     std::vector<std::string>& missing, Ticket& ticket) {
  std::vector<ScopeRef> found;
  found.reserve(records.size());
  std::lock_guard lock(mu_);
  ticket.epoch = refresh_locked();
  ticket.generation = scope_generation_;
  for (const auto& id : records) {
    if (auto it = scopes_.find(id); it != scopes_.end()) {
      found.push_back(it->second);
    } else {
      missing.push_back(id);
    }
  }
  return found;
}

void Caches::keep_scopes(const std::vector<ScopeRef>& read, const Ticket& ticket) {
  std::lock_guard lock(mu_);
  if (refresh_locked() != ticket.epoch || scope_generation_ != ticket.generation) return;
  for (const auto& scope : read) put_scope_locked(scope);
}

void Caches::drop_scope_locked(const std::string& record) {
  if (auto it = scopes_.find(record); it != scopes_.end()) {
    scope_bytes_ -= scope_bytes(*it->second);
    scopes_.erase(it);
  }
}

void Caches::put_scope_locked(ScopeRef scope) {
  const std::size_t bytes = scope_bytes(*scope);
  drop_scope_locked(scope->record);
  if (scope_bytes_ + bytes > kMaxScopeBytes) {
    scopes_.clear();
    scope_bytes_ = 0;
  }
  scope_bytes_ += bytes;
  std::string key = scope->record;
  scopes_.emplace(std::move(key), std::move(scope));
}

// The scope rows a transaction wrote, once it committed (`written`), and
// the records whose rows it may have written and did not keep (`dropped`).
void Caches::update_scopes(std::vector<RecordScope>& written,
                           const std::vector<std::string>& dropped) {
  if (written.empty() && dropped.empty()) return;
  std::lock_guard lock(mu_);
  ++scope_generation_;
  for (const auto& id : dropped) drop_scope_locked(id);
  for (auto& scope : written) put_scope_locked(std::make_shared<const RecordScope>(std::move(scope)));
}

StorageStats Caches::stats() const {
  StorageStats s;
  s.tokens_from_memory = tokens_from_memory_.load(std::memory_order_relaxed);
  s.tokens_from_store = tokens_from_store_.load(std::memory_order_relaxed);
  s.pulls_from_memory = pulls_from_memory_.load(std::memory_order_relaxed);
  s.pulls_from_store = pulls_from_store_.load(std::memory_order_relaxed);
  return s;
}

std::uint64_t Caches::refresh_locked() {
  const std::uint64_t now = epoch_.load();
  if (now != cache_epoch_) {
    tokens_.clear();
    tails_.clear();
    views_.clear();
    settings_.clear();
    scopes_.clear();
    scope_bytes_ = 0;
    ++scope_generation_;
    ++tail_generation_;
    cache_epoch_ = now;
  }
  return now;
}

// ---- write side: the one entry point ----

void Caches::invalidate(Event event) {
  if (event == Event::kForeignWrite) {
    // The transaction that noticed goes on: its changes_ stay its own.
    forget_writer();
    epoch_.bump();
    return;
  }
  Changes done = std::exchange(changes_, Changes{});
  if (event == Event::kRolledBack) {
    // The cache may hold what was rolled back. (A dropped view cache is
    // harmless either way, so a view written before the failure still
    // drops them.)
    if (done.sequenced) forget_writer();
    done.rows.clear();
    done.revoked.clear();
    done.shared = false;
    done.unscope_from(0);
  }
  for (const auto& device : done.revoked) writer_.devices.erase(device);
  update_tails(done.rows);
  update_scopes(done.scopes, done.unscoped);
  if (done.views) drop_views();
  if (done.shared) epoch_.bump();
}

void Caches::writer_saw(std::int64_t data_version) {
  if (data_version == writer_.data_version) return;
  // The first look after opening learns the version; nothing was cached by
  // the writer before it.
  if (writer_.data_version != -1) invalidate(Event::kForeignWrite);
  writer_ = WriterCache{};
  writer_.data_version = data_version;
}

void Caches::forget_writer() {
  const std::int64_t seen = writer_.data_version;  // still what others wrote
  writer_ = WriterCache{};
  writer_.data_version = seen;
}

// Gives the loaded tails the rows of the transaction just committed. A row
// that does not follow its tail's last seq means the tail missed rows:
// dropped, loaded again by the next pull.
void Caches::update_tails(std::vector<TailUpdate>& rows) {
  if (rows.empty()) return;
  std::lock_guard lock(mu_);
  ++tail_generation_;
  for (auto& update : rows) {
    auto it = tails_.find(update.school);
    if (it == tails_.end()) continue;
    SchoolTail& tail = it->second;
    if (update.purge) {
      std::erase_if(tail.rows, [&](const SchoolTail::Row& row) {
        return row.record == update.row.record && row.seq != update.row.seq;
      });
      continue;
    }
    if (update.row.seq <= tail.last_seq) continue;  // loaded with the tail already
    if (update.row.seq != tail.last_seq + 1) {
      tails_.erase(it);
      continue;
    }
    tail.last_seq = update.row.seq;
    tail.rows.push_back(std::move(update.row));
    while (tail.rows.size() > SchoolTail::kMaxRows) {
      tail.base = tail.rows.front().seq;
      tail.rows.pop_front();
    }
  }
}

// Drops the cached views once a transaction wrote one (or a version).
void Caches::drop_views() {
  std::lock_guard lock(mu_);
  ++view_generation_;
  views_.clear();
}

}  // namespace tandem::server::sqlite_backend
