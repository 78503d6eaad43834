#include <fcntl.h>
#include <sodium.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <cstring>
#include <fstream>
#include <vector>

#include "crypto/open_plan.hpp"
#include "sqlite_util.hpp"

namespace tandem {
namespace {

using crypto::CryptVfs;
using crypto::FileId;
using crypto::FileKey;

constexpr char kKeyPrefix[] = "tandem-db-";

std::string key_name(const FileId& id) { return kKeyPrefix + crypto::to_hex(id.data(), id.size()); }

std::uint32_t page_size_field(const unsigned char* h) {
  const std::uint32_t v = (std::uint32_t{h[16]} << 8) | std::uint32_t{h[17]};
  return v == 1 ? 65536 : v;
}

sqlite3_vfs* find_vfs(const std::string& name) {
  return name.empty() ? sqlite3_vfs_find(nullptr) : sqlite3_vfs_find(name.c_str());
}

Status need_sodium() {
  if (crypto::init_sodium()) return {};
  return make_error(ErrorCode::kInternal, "libsodium could not be initialised");
}

// A new random key and file id, the key stored under its name first.
Result<std::unique_ptr<FileKey>> new_key(KeyStore& keys) {
  TANDEM_TRY(need_sodium());
  unsigned char key[crypto::kKeyBytes];
  FileId id{};
  crypto::random_bytes(key, sizeof(key));
  crypto::random_bytes(id.data(), id.size());
  auto file_key = std::make_unique<FileKey>(key, id);
  const Status put = keys.put(key_name(id), std::string_view(reinterpret_cast<const char*>(key), sizeof(key)));
  sodium_memzero(key, sizeof(key));
  if (!put.ok()) return put.error();
  return file_key;
}

// The key that opens the encrypted file whose header names `id`.
Result<std::unique_ptr<FileKey>> stored_key(KeyStore* keys, const FileId& id, const unsigned char* check) {
  const std::string name = key_name(id);
  if (keys == nullptr) {
    return make_error(ErrorCode::kKeyMissing,
                      "this database is encrypted and this host has no key store to open it with");
  }
  TANDEM_TRY(need_sodium());
  auto secret = keys->get(name);
  if (!secret) return std::move(secret).error();
  if (!*secret) {
    return make_error(ErrorCode::kKeyMissing,
                      "this database is encrypted and its key '" + name + "' is not in this host's key store");
  }
  if ((*secret)->size() != crypto::kKeyBytes) {
    return make_error(ErrorCode::kWrongKey, "the key '" + name + "' in the key store is not a database key");
  }
  auto key = std::make_unique<FileKey>(reinterpret_cast<const unsigned char*>((*secret)->data()), id);
  sodium_memzero((*secret)->data(), (*secret)->size());
  const auto expect = key->check();
  if (std::memcmp(expect.data(), check, 4) != 0) {
    return make_error(ErrorCode::kWrongKey, "the key '" + name + "' does not open this database; nothing was changed");
  }
  return key;
}

struct Header {
  DatabaseInfo info;
  FileId id{};
  unsigned char check[4] = {};
};

// Reads a database file through SQLite's unix VFS, never with a descriptor of
// our own: POSIX locks belong to the process and the inode, so closing ANY
// descriptor of a database this process has open in SQLite (a server's
// writer, a second Store on the same file) drops that connection's locks, and
// another process may then delete the WAL under it. The unix VFS shares one
// inode record per file and defers such a close until the locks are gone.
// Reads at most `limit` bytes from the start; nullopt when there is no file.
Result<std::optional<std::vector<unsigned char>>> read_database_file(const std::string& path,
                                                                      std::size_t limit) {
  using Bytes = std::vector<unsigned char>;
  sqlite3_vfs* vfs = sqlite3_vfs_find(nullptr);
  if (!vfs) return make_error(ErrorCode::kInternal, "no SQLite VFS");
  int exists = 0;
  if (vfs->xAccess(vfs, path.c_str(), SQLITE_ACCESS_EXISTS, &exists) != SQLITE_OK)
    return make_error(ErrorCode::kIo, "cannot check '" + path + "'");
  if (!exists) return std::optional<Bytes>();
  // The VFS's file object, in storage aligned for any type.
  std::vector<std::max_align_t> storage((static_cast<std::size_t>(vfs->szOsFile) + sizeof(std::max_align_t) - 1) /
                                        sizeof(std::max_align_t));
  auto* file = static_cast<sqlite3_file*>(static_cast<void*>(storage.data()));
  file->pMethods = nullptr;
  int out_flags = 0;
  const int rc = vfs->xOpen(vfs, path.c_str(), file, SQLITE_OPEN_READONLY | SQLITE_OPEN_MAIN_DB, &out_flags);
  struct Close {
    sqlite3_file* f;
    ~Close() {
      if (f->pMethods) f->pMethods->xClose(f);
    }
  } close{file};
  if (rc != SQLITE_OK) return make_error(ErrorCode::kIo, "cannot open '" + path + "'");
  sqlite3_int64 size = 0;
  if (file->pMethods->xFileSize(file, &size) != SQLITE_OK || size < 0)
    return make_error(ErrorCode::kIo, "cannot size '" + path + "'");
  Bytes data(std::min<std::size_t>(static_cast<std::size_t>(size), limit));
  constexpr std::size_t kChunk = 1 << 20;
  for (std::size_t off = 0; off < data.size(); off += kChunk) {
    const int n = static_cast<int>(std::min(kChunk, data.size() - off));
    const int r = file->pMethods->xRead(file, data.data() + off, n, static_cast<sqlite3_int64>(off));
    if (r == SQLITE_IOERR_SHORT_READ) {  // shrank while we read: keep what is there
      data.resize(off + static_cast<std::size_t>(n));
      break;
    }
    if (r != SQLITE_OK) return make_error(ErrorCode::kIo, "cannot read '" + path + "'");
  }
  return std::optional<Bytes>(std::move(data));
}

Result<Header> read_header(const std::string& path) {
  Header h;
  auto read = read_database_file(path, crypto::kHeaderBytes);
  if (!read) return std::move(read).error();
  if (!*read) return h;
  const std::vector<unsigned char>& b = **read;
  if (b.empty()) {
    h.info.format = DatabaseFormat::kEmpty;
    return h;
  }
  h.info.format = DatabaseFormat::kUnknown;
  if (b.size() < crypto::kHeaderBytes) return h;
  if (std::memcmp(b.data(), "SQLite format 3", 16) == 0) {
    h.info.format = DatabaseFormat::kPlain;
    h.info.page_size = page_size_field(b.data());
  } else if (std::memcmp(b.data(), crypto::kMagic, 4) == 0) {
    h.info.format = DatabaseFormat::kEncrypted;
    h.info.page_size = page_size_field(b.data());
    std::memcpy(h.check, b.data() + 4, 4);
    std::memcpy(h.id.data(), b.data() + 8, crypto::kFileIdBytes);
    h.info.key_name = key_name(h.id);
  }
  return h;
}

Status sync_path(const std::string& path, bool dir) {
  const int fd = ::open(path.c_str(), (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
  if (fd < 0) return make_error(ErrorCode::kIo, "cannot open '" + path + "' to sync: " + std::strerror(errno));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return make_error(ErrorCode::kIo, "cannot sync '" + path + "': " + std::strerror(errno));
  return {};
}

std::string parent_dir(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string uri_escape(const std::string& path) {
  std::string out = "file:";
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

// VACUUM INTO a new file `tmp` through the VFS `target_vfs` ("" = SQLite's
// default), then syncs it. The copy is one read transaction of `db`.
Status vacuum_into(sqlite3* db, const std::string& tmp, const std::string& target_vfs) {
  for (const char* suffix : {"", "-journal", "-wal", "-shm"}) ::unlink((tmp + suffix).c_str());
  const std::string uri = uri_escape(tmp) + (target_vfs.empty() ? "" : "?vfs=" + target_vfs);
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(db, "VACUUM INTO ?", -1, &st, nullptr);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(st, 1, uri.c_str(), static_cast<int>(uri.size()), SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) rc = SQLITE_OK;
  }
  sqlite3_finalize(st);
  Status done = rc == SQLITE_OK ? Status() : Status(detail::sqlite_error(db, rc, "cannot write the copy"));
  if (done.ok()) done = sync_path(tmp, false);
  if (!done.ok()) {
    for (const char* suffix : {"", "-journal"}) ::unlink((tmp + suffix).c_str());
  }
  return done;
}

// Copies the database at `path` (opened through `source_vfs`) into a new
// file encrypted under `target`, then puts it in place of the old one. The
// source stays whole until the rename; an exclusive lock keeps any other
// connection from writing meanwhile (busy otherwise).
Status reencrypt(const std::string& path, const std::string& source_vfs, CryptVfs& target) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
                           source_vfs.empty() ? nullptr : source_vfs.c_str());
  struct Closer {
    sqlite3*& db;
    ~Closer() { sqlite3_close_v2(db); }
  } closer{db};
  if (rc != SQLITE_OK) return detail::sqlite_error(db, rc, "cannot open '" + path + "' to encrypt it");
  sqlite3_extended_result_codes(db, 1);
  TANDEM_TRY(detail::exec(db,
                          "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL; BEGIN EXCLUSIVE; COMMIT;"
                          " PRAGMA wal_checkpoint(TRUNCATE); PRAGMA temp_store=MEMORY;"));
  int reserve = static_cast<int>(crypto::kReserve);
  sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
  const std::string tmp = path + ".tandem-encrypting";
  Status done = vacuum_into(db, tmp, target.name());
  if (done.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    done = make_error(ErrorCode::kIo, "cannot put the encrypted copy in place: " + std::string(std::strerror(errno)));
  }
  if (!done.ok()) {
    for (const char* suffix : {"", "-journal"}) ::unlink((tmp + suffix).c_str());
    return done;
  }
  ::unlink((tmp + "-journal").c_str());
  // Closing the old file (now unlinked) removes its WAL and -shm by name.
  sqlite3_close_v2(db);
  db = nullptr;
  return sync_path(parent_dir(path), true);
}

// ---- scanning -----------------------------------------------------------------

// Counts occurrences of a text in a stream of chunks, across chunk borders.
class Counter {
 public:
  explicit Counter(std::string_view text) : text_(text) {}
  void feed(const unsigned char* data, std::size_t n) {
    if (text_.empty()) return;
    window_.append(reinterpret_cast<const char*>(data), n);
    std::size_t pos = 0;
    while ((pos = window_.find(text_, pos)) != std::string::npos) {
      ++hits_;
      pos += 1;
    }
    const std::size_t keep = text_.size() - 1;
    if (window_.size() > keep) window_.erase(0, window_.size() - keep);
  }
  void reset() { window_.clear(); }
  std::uint64_t hits() const { return hits_; }

 private:
  std::string_view text_;
  std::string window_;
  std::uint64_t hits_ = 0;
};

// The WAL and a journal carry no locks of their own (SQLite locks the
// database file and the -shm), so a plain read is safe; the database file goes
// through the VFS (see read_database_file). The -shm holds only the WAL index
// (page numbers, salts), never content, and closing a descriptor of it would
// drop this process's WAL locks: it is not read.
Result<std::vector<unsigned char>> read_all(const std::string& path, bool database, bool* exists) {
  if (database) {
    auto read = read_database_file(path, SIZE_MAX);
    if (!read) return std::move(read).error();
    *exists = read->has_value();
    return *exists ? std::move(**read) : std::vector<unsigned char>();
  }
  std::ifstream in(path, std::ios::binary);
  *exists = static_cast<bool>(in);
  if (!in) return std::vector<unsigned char>();
  std::vector<unsigned char> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return make_error(ErrorCode::kIo, "cannot read '" + path + "'");
  return data;
}

std::uint32_t be32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

}  // namespace

Result<DatabaseInfo> inspect_database(const std::string& path) {
  auto h = read_header(path);
  if (!h) return std::move(h).error();
  return h->info;
}

namespace crypto {

Result<OpenPlan> plan_open(const std::string& path, Encryption mode, const Host& host, const std::string& base_vfs) {
  OpenPlan plan;
  auto h = read_header(path);
  if (!h) return std::move(h).error();
  sqlite3_vfs* base = find_vfs(base_vfs);
  if (base == nullptr) return make_error(ErrorCode::kInvalidArgument, "no SQLite VFS named '" + base_vfs + "'");
  const bool keys = host.keys != nullptr;
  switch (h->info.format) {
    case DatabaseFormat::kMissing:
    case DatabaseFormat::kEmpty: {
      if (mode == Encryption::kOff || (mode == Encryption::kAuto && !keys)) return plan;
      if (!keys) return make_error(ErrorCode::kKeyMissing, "encryption is required and this host has no key store");
      auto key = new_key(*host.keys);
      if (!key) return std::move(key).error();
      plan.vfs = std::make_unique<CryptVfs>(std::move(key).value(), base);
      plan.fresh = true;
      return plan;
    }
    case DatabaseFormat::kPlain: {
      if (mode == Encryption::kOff || (mode == Encryption::kAuto && !keys)) return plan;
      if (!keys) return make_error(ErrorCode::kKeyMissing, "encryption is required and this host has no key store");
      TANDEM_TRY(encrypt_database(path, host));
      log_to(host, LogLevel::kInfo, "store", "database encrypted at rest (it was plain)");
      return plan_open(path, mode, host, base_vfs);
    }
    case DatabaseFormat::kEncrypted: {
      auto key = stored_key(host.keys, h->id, h->check);
      if (!key) return std::move(key).error();
      plan.vfs = std::make_unique<CryptVfs>(std::move(key).value(), base);
      return plan;
    }
    case DatabaseFormat::kUnknown: return plan;  // SQLite says what it is not
  }
  return plan;
}

}  // namespace crypto

Status encrypt_database(const std::string& path, const Host& host) {
  if (host.keys == nullptr) return make_error(ErrorCode::kKeyMissing, "no key store to keep the database key in");
  auto h = read_header(path);
  if (!h) return std::move(h).error();
  if (h->info.format != DatabaseFormat::kPlain) {
    return make_error(ErrorCode::kInvalidArgument, "'" + path + "' is not a plain database");
  }
  const Host r = resolved(host);
  const std::string base = r.files->sqlite_vfs();
  sqlite3_vfs* base_vfs = find_vfs(base);
  if (base_vfs == nullptr) return make_error(ErrorCode::kInvalidArgument, "no SQLite VFS named '" + base + "'");
  auto key = new_key(*host.keys);
  if (!key) return std::move(key).error();
  const std::string name = key_name((*key)->id());
  CryptVfs target(std::move(key).value(), base_vfs);
  Status s = reencrypt(path, base, target);
  if (!s.ok()) (void)host.keys->erase(name);
  return s;
}

Status rotate_database_key(const std::string& path, const Host& host) {
  auto h = read_header(path);
  if (!h) return std::move(h).error();
  if (h->info.format != DatabaseFormat::kEncrypted) {
    return make_error(ErrorCode::kInvalidArgument, "'" + path + "' is not an encrypted database");
  }
  auto old_key = stored_key(host.keys, h->id, h->check);
  if (!old_key) return std::move(old_key).error();
  const Host r = resolved(host);
  sqlite3_vfs* base_vfs = find_vfs(r.files->sqlite_vfs());
  if (base_vfs == nullptr) return make_error(ErrorCode::kInvalidArgument, "the host's SQLite VFS is not registered");
  CryptVfs source(std::move(old_key).value(), base_vfs);
  auto key = new_key(*host.keys);
  if (!key) return std::move(key).error();
  const std::string name = key_name((*key)->id());
  CryptVfs target(std::move(key).value(), base_vfs);
  Status s = reencrypt(path, source.name(), target);
  if (!s.ok()) {
    (void)host.keys->erase(name);
    return s;
  }
  return host.keys->erase(h->info.key_name);
}

Status copy_database(const std::string& from, const Host& from_host, const std::string& to,
                     const Host& to_host) {
  auto h = read_header(from);
  if (!h) return std::move(h).error();
  if (h->info.format == DatabaseFormat::kMissing) {
    return make_error(ErrorCode::kNotFound, "there is no database at '" + from + "'");
  }
  if (h->info.format != DatabaseFormat::kPlain && h->info.format != DatabaseFormat::kEncrypted) {
    return make_error(ErrorCode::kInvalidArgument, "'" + from + "' is not a Tandem database");
  }
  if (::access(to.c_str(), F_OK) == 0) {
    return make_error(ErrorCode::kAlreadyExists, "'" + to + "' exists already; a copy never overwrites");
  }
  const Host fr = resolved(from_host);
  sqlite3_vfs* from_base = find_vfs(fr.files->sqlite_vfs());
  const Host tr = resolved(to_host);
  sqlite3_vfs* to_base = find_vfs(tr.files->sqlite_vfs());
  if (from_base == nullptr || to_base == nullptr) {
    return make_error(ErrorCode::kInvalidArgument, "the host's SQLite VFS is not registered");
  }
  // Declared before the connection: the VFSs outlive it.
  std::unique_ptr<CryptVfs> source;
  std::unique_ptr<CryptVfs> target;
  std::string source_vfs = fr.files->sqlite_vfs();
  // Named even when plain: VACUUM INTO would otherwise write through the
  // source's VFS (the source's cipher).
  std::string target_vfs = to_base->zName;
  if (h->info.format == DatabaseFormat::kEncrypted) {
    auto key = stored_key(from_host.keys, h->id, h->check);
    if (!key) return std::move(key).error();
    source = std::make_unique<CryptVfs>(std::move(key).value(), from_base);
    source_vfs = source->name();
  }
  std::string new_key_name;
  if (to_host.keys != nullptr) {
    auto key = new_key(*to_host.keys);
    if (!key) return std::move(key).error();
    new_key_name = key_name((*key)->id());
    target = std::make_unique<CryptVfs>(std::move(key).value(), to_base);
    target_vfs = target->name();
  }
  Status done = [&]() -> Status {
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(from.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
                                   source_vfs.empty() ? nullptr : source_vfs.c_str());
    struct Closer {
      sqlite3*& db;
      ~Closer() { sqlite3_close_v2(db); }
    } closer{db};
    if (rc != SQLITE_OK) return detail::sqlite_error(db, rc, "cannot open '" + from + "' to copy it");
    sqlite3_extended_result_codes(db, 1);
    // A writer holds its locks only for a commit; the copy waits that long.
    sqlite3_busy_timeout(db, 10'000);
    TANDEM_TRY(detail::exec(db, "PRAGMA temp_store=MEMORY;"));
    if (target) {
      int reserve = static_cast<int>(crypto::kReserve);
      sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
    }
    const std::string tmp = to + ".tandem-copy";
    TANDEM_TRY(vacuum_into(db, tmp, target_vfs));
    if (::rename(tmp.c_str(), to.c_str()) != 0) {
      const std::string why = std::strerror(errno);
      ::unlink(tmp.c_str());
      return make_error(ErrorCode::kIo, "cannot put the copy in place at '" + to + "': " + why);
    }
    return sync_path(parent_dir(to), true);
  }();
  if (!done.ok() && !new_key_name.empty()) (void)to_host.keys->erase(new_key_name);
  return done;
}

Result<ScanResult> scan_database(const std::string& path, const Host& host, std::string_view text) {
  ScanResult result;
  if (text.empty()) return make_error(ErrorCode::kInvalidArgument, "nothing to scan for");
  auto h = read_header(path);
  if (!h) return std::move(h).error();
  std::unique_ptr<FileKey> key;
  if (h->info.format == DatabaseFormat::kEncrypted) {
    auto k = stored_key(host.keys, h->id, h->check);
    if (!k) return std::move(k).error();
    key = std::move(k).value();
  }
  const std::uint32_t p = h->info.page_size;
  for (const char* suffix : {"", "-wal", "-journal"}) {
    bool exists = false;
    auto data = read_all(path + suffix, *suffix == '\0', &exists);
    if (!data) return std::move(data).error();
    if (!exists) continue;
    const std::vector<unsigned char>& d = *data;
    Counter raw(text);
    raw.feed(d.data(), d.size());
    result.hits += raw.hits();
    if (!key || p < 512) continue;
    // The same files decrypted: what SQLite would see.
    Counter plain(text);
    std::vector<unsigned char> page(p);
    const std::string s = suffix;
    if (s.empty()) {
      for (std::size_t off = 0; off + p <= d.size(); off += p) {
        if (crypto::open_database_page(*key, static_cast<std::uint32_t>(off / p + 1), d.data() + off, p, page.data())) {
          plain.feed(page.data(), p);
        } else {
          ++result.tampered_pages;
          plain.reset();
        }
      }
    } else if (s == "-wal") {
      const std::size_t frame = 24 + p;
      for (std::size_t off = 32, k = 0; off + frame <= d.size(); off += frame, ++k) {
        if (crypto::open_wal_page(*key, k, d.data() + off, d.data() + off + 24, p, page.data())) {
          plain.feed(page.data(), p);
        } else {
          ++result.tampered_pages;  // or a torn frame after a crash
          plain.reset();
        }
      }
    } else if (s == "-journal" && d.size() >= 28) {
      // Rollback journal: a sector-sized header, then records of a page
      // number, the page image and a checksum.
      const std::uint32_t sector = be32(d.data() + 20);
      if (sector >= 512 && sector <= 65536) {
        for (std::size_t off = sector + 4; off + p <= d.size(); off += p + 8) {
          if (crypto::open_journal_page(*key, off, d.data() + off, p, page.data())) plain.feed(page.data(), p);
        }
      }
    }
    result.hits += plain.hits();
  }
  return result;
}

Status destroy_database(const std::string& path, const Host& host) {
  const Host h = resolved(host);
  auto header = read_header(path);
  // The key goes first (crypto-shredding): what the flash keeps of the files
  // afterwards is ciphertext without a key.
  if (header && header->info.format == DatabaseFormat::kEncrypted && h.keys != nullptr) {
    TANDEM_TRY(h.keys->erase(header->info.key_name));
  }
  for (const char* suffix : {"-wal", "-shm", "-journal", ""}) {
    TANDEM_TRY(h.files->remove_file(path + suffix));
  }
  return {};
}

}  // namespace tandem
