// The SQLite backend's caches, and the one rule that keeps them true.
//
// What is cached, so that the common request reads no database:
//  * read caches, consulted by request threads (under Caches' own mutex):
//      tokens: each live device by the hash of its token (authentication);
//      tails:  each school's newest rows of its sequence (SchoolTail), so a
//              device that is up to date (nearly every sync) pulls from memory;
//      views:  each device's PullState (its view, the scope versions);
//      settings: server_meta values read by key (a school's offline lease
//              is read by every sync);
//      scopes: records' scope rows (server_scope), which every filtered pull
//              reads for its rows; the writer puts the rows it writes in
//              when its transaction commits (write-through);
//  * the writer's cache (WriterCache), under the writer's mutex: each
//    school's last seq and each device's last push.
// Other processes (the admin CLI, the sqlite3 shell) write the same file.
// WriteEpoch is a counter that every process maps from a small file beside
// the database; a read cache is valid for one value of it.
//
// THE RULE. Every write transaction on the writer connection, committed or
// rolled back, ends with Caches::invalidate(); the writer's discovery that
// another connection committed (writer_saw(): PRAGMA data_version moved)
// calls it too. invalidate() is the only code that drops or updates a cache
// after a write. While the transaction runs, its writer notes in changes()
// what it did that a cache may hold, and invalidate() acts on it:
//   rows appended to a school's sequence, purges  → the loaded tails take
//       them (a tail that would have a gap is dropped, loaded again later);
//   a device view or a scope version written      → every cached view goes;
//   a scope row written                          → the cached scope takes it
//       (a failed job's rows or a rolled-back transaction's: dropped);
//   a device revoked                              → the writer forgets its push;
//   `shared`: wrote what any process may cache (a device or token, an
//       admin's records)                          → the epoch moves: every
//       process, this one included, drops its read caches before its next
//       lookup (a revoked token is refused at the device's next request);
//   rolled back → the rows go; a sequencing write's WriterCache is forgotten
//       (it may hold what was rolled back);
//   a foreign write → the WriterCache is forgotten and the epoch moves (a
//       writer that did not move it — an admin command killed between its
//       commit and its bump, the sqlite3 shell — is seen by the next group).
// The one exception is the migration at open (schema.hpp), before anything
// is cached. Inside a transaction the writer keeps its own WriterCache up to
// date as it goes (the counters it advances, the push it just committed;
// a failed savepoint undoes both), which is what makes it worth having.
//
// A lookup that misses reads a reader's snapshot, and keeps what it read
// only if nothing moved meanwhile (Ticket: the epoch and the generation of
// the tails or views it started from): a tail or view read from a snapshot
// older than a commit is never kept after that commit.
//
// Thread-safety: lookups and keep_*() from any thread. writer(), changes(),
// writer_saw() and invalidate(): REQUIRES the writer's mutex. Lock order:
// the writer's mutex, then Caches' own.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tandem/core/error.hpp"
#include "tandem/server/storage.hpp"

namespace tandem::server::sqlite_backend {

// A counter shared by every process that opens the database, in a small
// file beside it (DIR/tandem-server.db-epoch), mapped into memory. A process
// bumps it after it commits a write that a running server may hold in its
// read caches; the server compares it on every lookup, a memory read. So a
// revocation from the CLI is refused on the device's next request without a
// database read per request.
// Thread-safety: load() and bump() from any thread (atomic on the mapping).
class WriteEpoch {
 public:
  WriteEpoch() = default;
  ~WriteEpoch();
  WriteEpoch(const WriteEpoch&) = delete;
  WriteEpoch& operator=(const WriteEpoch&) = delete;

  // The file for the database at `database`: its path with "-epoch", made
  // with the database's permissions and, when created by root (an admin
  // command run with sudo), its owner, as SQLite does for "-wal" and "-shm":
  // the server, running as the owner, can still open it.
  Status open(const std::string& database);

  std::uint64_t load() const;
  // REQUIRES: after the write it announces has committed.
  void bump();

 private:
  std::uint64_t* counter_ = nullptr;
};

// The newest rows of a school's sequence, kept by the server so that a device
// that is up to date pulls without a database read. Holds every row with
// seq > base that the sequence holds (purged rows are gone from both), up to
// kMaxRows of them.
struct SchoolTail {
  static constexpr std::size_t kMaxRows = 256;
  struct Row {
    std::int64_t seq = 0;
    std::string origin;
    std::string record;
    std::string body;
  };
  std::int64_t base = 0;
  std::int64_t last_seq = 0;  // the school's last seq
  std::deque<Row> rows;       // seq ascending
};

// A row a write transaction appended (or a purge it applied), for the tails
// once the transaction is durable.
struct TailUpdate {
  std::string school;
  SchoolTail::Row row;
  bool purge = false;
};

// A device's last push as the writer knows it (server_devices holds it).
struct LastMutation {
  std::int64_t id = 0;
  std::string digest;
};

// What the writer connection knows without reading the file again: each
// school's last seq and each device's last push. The commit thread is the
// only writer of both while the server runs; other processes write too, so
// every sequencing write starts with writer_saw(PRAGMA data_version).
struct WriterCache {
  std::int64_t data_version = -1;                          // -1: no write seen yet
  std::unordered_map<std::string, std::int64_t> last_seq;  // by school
  std::unordered_map<std::string, LastMutation> devices;   // by device, not revoked
  std::vector<std::string> dirty_schools;                  // last_seq to write
};

class Caches {
 public:
  static constexpr std::size_t kMaxTokens = 65536;
  static constexpr std::size_t kMaxViews = 65536;
  static constexpr std::size_t kMaxSettings = 16384;
  // The scope cache's bound, in bytes of its ids and texts (about 300 bytes
  // a record: ~100,000 records); full, it starts again empty.
  static constexpr std::size_t kMaxScopeBytes = std::size_t{32} << 20;

  // Opens the shared epoch beside `database`. REQUIRES: before any lookup.
  Status open(const std::string& database) { return epoch_.open(database); }

  // What the caches were valid for when a lookup missed; keep_*() keeps what
  // was read then only if nothing has moved since.
  struct Ticket {
    std::uint64_t epoch = 0;
    std::uint64_t generation = 0;
  };

  // ---- read side: any thread ----

  // The live device with this token hash, if cached.
  std::optional<DeviceRecord> token(const std::string& hash, Ticket& ticket);
  // `fresh`: read from the store (a full cache is emptied to make room);
  // else a cached entry updated (its last_seen).
  void keep_token(const std::string& hash, const DeviceRecord& device, const Ticket& ticket,
                  bool fresh);

  // The page read_page() would give, when the school's tail is cached and
  // covers `after_seq`. Otherwise nullopt, with `load` set when the school
  // has no tail: the caller reads one in its snapshot and hands it to
  // keep_tail().
  std::optional<ChangePage> tail_page(const std::string& school, std::int64_t after_seq,
                                      std::size_t limit, std::size_t max_bytes,
                                      std::string_view skip_origin, Ticket& ticket, bool& load);
  void keep_tail(const std::string& school, SchoolTail tail, const Ticket& ticket);

  std::optional<PullState> view(const std::string& device, Ticket& ticket);
  void keep_view(const std::string& device, const PullState& state, const Ticket& ticket);

  // A server_meta value, if cached (the inner nullopt: cached as absent).
  // A write of server_meta is `shared` (it moves the epoch), so a value is
  // never kept past the write that changed it.
  std::optional<std::optional<std::string>> setting(const std::string& key, Ticket& ticket);
  void keep_setting(const std::string& key, const std::optional<std::string>& value,
                    const Ticket& ticket);

  // The cached scope rows of `records`; those not cached are added to
  // `missing`, for the caller to read and hand to keep_scopes().
  std::vector<ScopeRef> scopes(const std::vector<std::string>& records,
                               std::vector<std::string>& missing, Ticket& ticket);
  void keep_scopes(const std::vector<ScopeRef>& read, const Ticket& ticket);

  StorageStats stats() const;

  // ---- write side: REQUIRES the writer's mutex ----

  // What the running write transaction did that a cache may hold.
  struct Changes {
    std::vector<TailUpdate> rows;      // sequence rows appended, purges, in order
    bool views = false;                // a device view or a scope version written
    std::vector<RecordScope> scopes;   // scope rows written, in order
    std::vector<std::string> unscoped;  // records whose scope row a failed job wrote
    // The scope rows written since `mark` were rolled back: their records'
    // cached rows go instead of taking them.
    void unscope_from(std::size_t mark) {
      for (std::size_t i = mark; i < scopes.size(); ++i) unscoped.push_back(std::move(scopes[i].record));
      scopes.resize(std::min(mark, scopes.size()));
    }
    std::vector<std::string> revoked;  // devices revoked
    bool shared = false;               // wrote what any process may cache
    bool sequenced = false;            // used the WriterCache (a sequencing write)
  };
  Changes& changes() { return changes_; }
  WriterCache& writer() { return writer_; }

  enum class Event {
    kCommitted,     // the write transaction committed
    kRolledBack,    // it failed: nothing it did is in the file
    kForeignWrite,  // another connection has committed since the writer's last look
  };
  // THE invalidation entry point (see the rule above).
  void invalidate(Event event);

  // At the start of a sequencing write: the writer connection's PRAGMA
  // data_version. When it moved since the last one, another connection
  // committed: invalidate(kForeignWrite).
  void writer_saw(std::int64_t data_version);

 private:
  // Drops the read caches if the epoch moved; returns the epoch they are
  // now valid for. REQUIRES: mu_ held.
  std::uint64_t refresh_locked();
  void update_tails(std::vector<TailUpdate>& rows);
  void drop_views();
  void update_scopes(std::vector<RecordScope>& written, const std::vector<std::string>& dropped);
  void put_scope_locked(ScopeRef scope);
  void drop_scope_locked(const std::string& record);
  void forget_writer();

  WriteEpoch epoch_;
  std::mutex mu_;  // the read caches below
  std::uint64_t cache_epoch_ = 0;
  std::unordered_map<std::string, DeviceRecord> tokens_;  // by token hash; live devices
  std::unordered_map<std::string, SchoolTail> tails_;     // by school
  std::uint64_t tail_generation_ = 0;                     // moves with every change to the tails
  std::unordered_map<std::string, PullState> views_;      // by device
  std::uint64_t view_generation_ = 0;
  std::unordered_map<std::string, std::optional<std::string>> settings_;  // by key
  std::unordered_map<std::string, ScopeRef> scopes_;                     // by record
  std::size_t scope_bytes_ = 0;
  std::uint64_t scope_generation_ = 0;  // moves with every write to the scopes
  std::atomic<std::uint64_t> tokens_from_memory_{0};
  std::atomic<std::uint64_t> tokens_from_store_{0};
  std::atomic<std::uint64_t> pulls_from_memory_{0};
  std::atomic<std::uint64_t> pulls_from_store_{0};

  WriterCache writer_;  // under the writer's mutex
  Changes changes_;     // under the writer's mutex
};

}  // namespace tandem::server::sqlite_backend
