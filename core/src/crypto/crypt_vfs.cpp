#include "crypto/crypt_vfs.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <new>
#include <vector>

namespace tandem::crypto {
namespace {

enum class Kind { kDatabase, kWal, kJournal, kTemp, kPlain };

constexpr std::int64_t kWalHeader = 32;
constexpr std::int64_t kFrameHeader = 24;
constexpr char kSqliteMagic[16] = {'S', 'Q', 'L', 'i', 't', 'e', ' ', 'f', 'o', 'r', 'm', 'a', 't', ' ', '3', '\0'};

std::uint32_t be32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

bool valid_page_size(std::uint32_t p) { return p >= 512 && p <= 65536 && (p & (p - 1)) == 0; }

// SQLite's page size field (bytes 16..17 of page 1; 1 means 65536).
std::uint32_t header_page_size(const unsigned char* h) {
  const std::uint32_t v = (std::uint32_t{h[16]} << 8) | std::uint32_t{h[17]};
  return v == 1 ? 65536 : v;
}

std::string_view bytes(const unsigned char* p, std::size_t n) { return {reinterpret_cast<const char*>(p), n}; }

}  // namespace

struct CryptVfs::File {
  sqlite3_file base;  // first: SQLite sees this
  CryptVfs* owner = nullptr;
  sqlite3_file* real = nullptr;
  Kind kind = Kind::kPlain;
  std::uint32_t page_size = 0;
  int reserve = -1;           // database: reserved bytes per page, -1 unknown
  bool bad_header = false;    // database: not this key's file
  File* main = nullptr;       // WAL / journal: the database's file
  std::int64_t hdr_off = -1;  // WAL: where the last frame header was written
  unsigned char hdr[kFrameHeader] = {};
  unsigned char* temp_key = nullptr;  // temporary files: their own key
  unsigned char temp_nonce[crypto_stream_xchacha20_NONCEBYTES] = {};
  std::vector<unsigned char> disk, plain;  // scratch, one page (+ frame header)

  int raw_read(void* out, int n, sqlite3_int64 off) { return real->pMethods->xRead(real, out, n, off); }
  int raw_write(const void* in, int n, sqlite3_int64 off) { return real->pMethods->xWrite(real, in, n, off); }
  const FileKey& key() const { return owner->key(); }
  unsigned char* scratch(std::size_t n) {
    if (disk.size() < n) disk.resize(n);
    return disk.data();
  }
  unsigned char* plain_page(std::size_t n) {
    if (plain.size() < n) plain.resize(n);
    return plain.data();
  }
};

namespace {

using File = CryptVfs::File;
constexpr int kFileOffset = static_cast<int>((sizeof(File) + 15) & ~std::size_t{15});

// SQLite hands us szOsFile bytes it allocated (8-aligned at least); File
// starts them. Through void*: the alignment is SQLite's promise, not the type's.
File* as_file(sqlite3_file* f) { return static_cast<File*>(static_cast<void*>(f)); }

void seal_database_page(const FileKey& key, std::uint32_t pgno, const unsigned char* plain, std::size_t page_size,
                        unsigned char* disk) {
  const std::size_t body = page_size - kReserve;
  if (pgno == 1) {
    std::memcpy(disk, kMagic, 4);
    const auto check = key.check();
    std::memcpy(disk + 4, check.data(), 4);
    std::memcpy(disk + 8, key.id().data(), kFileIdBytes);
    std::memcpy(disk + 16, plain + 16, 8);
    seal(key, PageDomain::kDatabase, 1, bytes(disk, kHeaderBytes), plain + kHeaderBytes, body - kHeaderBytes,
         disk + kHeaderBytes, disk + body);
  } else {
    seal(key, PageDomain::kDatabase, pgno, {}, plain, body, disk, disk + body);
  }
}

// ---- database file ----------------------------------------------------------

int db_read(File* f, unsigned char* out, int n, sqlite3_int64 off) {
  if (f->bad_header) return SQLITE_IOERR_DATA;
  const std::uint32_t p = f->page_size;
  if (p == 0) return f->raw_read(out, n, off);  // nothing written yet: an empty file
  int rc = SQLITE_OK;
  sqlite3_int64 pos = off;
  const sqlite3_int64 end = off + n;
  unsigned char* disk = f->scratch(p);
  while (pos < end) {
    const sqlite3_int64 page_off = pos / p * p;
    const auto in = static_cast<std::size_t>(pos - page_off);
    const auto take = static_cast<std::size_t>(std::min<sqlite3_int64>(p - in, end - pos));
    unsigned char* dst = out + (pos - off);
    const int r = f->raw_read(disk, static_cast<int>(p), page_off);
    if (r == SQLITE_IOERR_SHORT_READ) {
      // Past the end of the file (a page not written yet): zeros, as SQLite
      // expects of any VFS.
      std::memset(dst, 0, take);
      rc = SQLITE_IOERR_SHORT_READ;
    } else if (r != SQLITE_OK) {
      return r;
    } else {
      const bool whole = in == 0 && take == p;
      unsigned char* plain = whole ? dst : f->plain_page(p);
      if (!open_database_page(f->key(), static_cast<std::uint32_t>(page_off / p + 1), disk, p, plain)) {
        return SQLITE_IOERR_DATA;
      }
      if (!whole) std::memcpy(dst, plain + in, take);
    }
    pos += static_cast<sqlite3_int64>(take);
  }
  return rc;
}

int db_write(File* f, const unsigned char* in, int n, sqlite3_int64 off) {
  if (f->bad_header) return SQLITE_IOERR_WRITE;
  if (f->page_size == 0) {
    // The first write of a new database is its page 1, whole.
    if (off != 0 || n < static_cast<int>(kHeaderBytes)) return SQLITE_IOERR_WRITE;
    const std::uint32_t p = header_page_size(in);
    if (!valid_page_size(p) || static_cast<std::uint32_t>(n) % p != 0) return SQLITE_IOERR_WRITE;
    f->page_size = p;
  }
  const std::uint32_t p = f->page_size;
  if (off % p != 0 || static_cast<std::uint32_t>(n) % p != 0) return SQLITE_IOERR_WRITE;
  unsigned char* disk = f->scratch(p);
  for (int done = 0; done < n; done += static_cast<int>(p)) {
    const auto pgno = static_cast<std::uint32_t>((off + done) / p + 1);
    const unsigned char* plain = in + done;
    if (pgno == 1) {
      // Never seal over bytes SQLite uses: every page must leave kReserve.
      if (plain[20] < kReserve || header_page_size(plain) != p) return SQLITE_IOERR_WRITE;
      f->reserve = plain[20];
    } else if (f->reserve < static_cast<int>(kReserve)) {
      return SQLITE_IOERR_WRITE;
    }
    seal_database_page(f->key(), pgno, plain, p, disk);
    const int r = f->raw_write(disk, static_cast<int>(p), off + done);
    if (r != SQLITE_OK) return r;
  }
  return SQLITE_OK;
}

// ---- WAL --------------------------------------------------------------------

std::uint32_t wal_page_size(File* f) {
  if (f->page_size != 0) return f->page_size;
  unsigned char h[kWalHeader];
  if (f->raw_read(h, sizeof(h), 0) == SQLITE_OK && valid_page_size(be32(h + 8))) {
    f->page_size = be32(h + 8);
  } else if (f->main != nullptr) {
    return f->main->page_size;
  }
  return f->page_size;
}

int wal_write(File* f, const unsigned char* in, int n, sqlite3_int64 off) {
  if (off == 0 && n >= kWalHeader && valid_page_size(be32(in + 8))) f->page_size = be32(in + 8);
  const std::uint32_t p = wal_page_size(f);
  sqlite3_int64 pos = off;
  const sqlite3_int64 end = off + n;
  while (pos < end) {
    const unsigned char* src = in + (pos - off);
    if (pos < kWalHeader) {
      const auto take = static_cast<int>(std::min<sqlite3_int64>(kWalHeader, end) - pos);
      const int r = f->raw_write(src, take, pos);
      if (r != SQLITE_OK) return r;
      pos += take;
      continue;
    }
    if (p == 0) return SQLITE_IOERR_WRITE;
    const sqlite3_int64 frame = kFrameHeader + p;
    const sqlite3_int64 k = (pos - kWalHeader) / frame;
    const sqlite3_int64 frame_off = kWalHeader + k * frame;
    const sqlite3_int64 within = pos - frame_off;
    if (within < kFrameHeader) {
      const auto take = static_cast<int>(std::min<sqlite3_int64>(kFrameHeader - within, end - pos));
      if (within == 0 && take == kFrameHeader) {
        std::memcpy(f->hdr, src, kFrameHeader);
        f->hdr_off = pos;
      } else {
        f->hdr_off = -1;
      }
      const int r = f->raw_write(src, take, pos);
      if (r != SQLITE_OK) return r;
      pos += take;
      continue;
    }
    // A page: whole, or refused (SQLite writes WAL pages whole).
    if (within != kFrameHeader || end - pos < p) return SQLITE_IOERR_WRITE;
    unsigned char hdr[kFrameHeader];
    if (frame_off >= off) {
      std::memcpy(hdr, in + (frame_off - off), kFrameHeader);
    } else if (f->hdr_off == frame_off) {
      std::memcpy(hdr, f->hdr, kFrameHeader);
    } else if (f->raw_read(hdr, kFrameHeader, frame_off) != SQLITE_OK) {
      return SQLITE_IOERR_WRITE;
    }
    if (be32(hdr) == 1 && (src[20] < kReserve || header_page_size(src) != p)) return SQLITE_IOERR_WRITE;
    unsigned char* disk = f->scratch(p);
    const std::size_t body = p - kReserve;
    seal(f->key(), PageDomain::kWal, static_cast<std::uint64_t>(k), bytes(hdr, kFrameHeader), src, body, disk,
         disk + body);
    const int r = f->raw_write(disk, static_cast<int>(p), pos);
    if (r != SQLITE_OK) return r;
    pos += p;
  }
  return SQLITE_OK;
}

// Whether a frame of the same WAL generation as frame `k` (header `hdr`)
// follows it and is a valid commit frame. A commit is synced before the next
// transaction writes, so every frame before a committed one was whole on
// disk: a frame that fails its MAC there was changed afterwards (tampering),
// not torn by a crash (which only tears the tail).
bool committed_after(File* f, sqlite3_int64 k, const unsigned char* hdr) {
  const std::uint32_t p = f->page_size;
  const sqlite3_int64 frame = kFrameHeader + p;
  std::vector<unsigned char> buf(static_cast<std::size_t>(frame));
  std::vector<unsigned char> plain(p);
  for (sqlite3_int64 j = k + 1;; ++j) {
    if (f->raw_read(buf.data(), static_cast<int>(frame), kWalHeader + j * frame) != SQLITE_OK) return false;
    if (std::memcmp(buf.data() + 8, hdr + 8, 8) != 0) return false;  // another generation: the log ended
    if (be32(buf.data() + 4) != 0 &&
        open_wal_page(f->key(), static_cast<std::uint64_t>(j), buf.data(), buf.data() + kFrameHeader, p,
                      plain.data())) {
      return true;
    }
  }
}

int wal_read(File* f, unsigned char* out, int n, sqlite3_int64 off) {
  if (off == 0 && n <= kWalHeader) {
    const int r = f->raw_read(out, n, off);
    if (r == SQLITE_OK && n == kWalHeader && valid_page_size(be32(out + 8))) f->page_size = be32(out + 8);
    return r;
  }
  const std::uint32_t p = wal_page_size(f);
  if (p == 0) return f->raw_read(out, n, off);
  int rc = SQLITE_OK;
  sqlite3_int64 pos = off;
  const sqlite3_int64 end = off + n;
  const sqlite3_int64 frame = kFrameHeader + p;
  while (pos < end) {
    unsigned char* dst = out + (pos - off);
    if (pos < kWalHeader) {
      const auto take = static_cast<int>(std::min<sqlite3_int64>(kWalHeader, end) - pos);
      const int r = f->raw_read(dst, take, pos);
      if (r != SQLITE_OK) return r;
      pos += take;
      continue;
    }
    const sqlite3_int64 k = (pos - kWalHeader) / frame;
    const sqlite3_int64 frame_off = kWalHeader + k * frame;
    const sqlite3_int64 within = pos - frame_off;
    if (within < kFrameHeader) {
      const auto take = static_cast<int>(std::min<sqlite3_int64>(kFrameHeader - within, end - pos));
      const int r = f->raw_read(dst, take, pos);
      if (r == SQLITE_IOERR_SHORT_READ) {
        rc = r;
      } else if (r != SQLITE_OK) {
        return r;
      }
      pos += take;
      continue;
    }
    const auto in = static_cast<std::size_t>(within - kFrameHeader);
    const auto take = static_cast<std::size_t>(std::min<sqlite3_int64>(p - in, end - pos));
    unsigned char* disk = f->scratch(static_cast<std::size_t>(frame));
    const int r = f->raw_read(disk, static_cast<int>(frame), frame_off);
    if (r == SQLITE_IOERR_SHORT_READ) {
      std::memset(dst, 0, take);
      rc = r;
    } else if (r != SQLITE_OK) {
      return r;
    } else {
      unsigned char* plain = f->plain_page(p);
      if (!open_wal_page(f->key(), static_cast<std::uint64_t>(k), disk, disk + kFrameHeader, p, plain)) {
        // A read that takes the frame header with it recovers the log after
        // a crash: a torn last frame reads as zeros and SQLite's checksum
        // ends the log there. A committed frame read on its own must verify.
        if (off > frame_off || committed_after(f, k, disk)) return SQLITE_IOERR_DATA;
        std::memset(plain, 0, p);
      }
      std::memcpy(dst, plain + in, take);
    }
    pos += static_cast<sqlite3_int64>(take);
  }
  return rc;
}

// ---- rollback journal -------------------------------------------------------

bool journal_page(File* f, int n, sqlite3_int64 off) {
  return f->main != nullptr && f->main->page_size != 0 && static_cast<std::uint32_t>(n) == f->main->page_size &&
         off % 8 == 4;
}

int journal_write(File* f, const unsigned char* in, int n, sqlite3_int64 off) {
  if (!journal_page(f, n, off)) return f->raw_write(in, n, off);
  unsigned char* disk = f->scratch(static_cast<std::size_t>(n));
  const std::size_t body = static_cast<std::size_t>(n) - kReserve;
  seal(f->key(), PageDomain::kJournal, static_cast<std::uint64_t>(off), {}, in, body, disk, disk + body);
  return f->raw_write(disk, n, off);
}

int journal_read(File* f, unsigned char* out, int n, sqlite3_int64 off) {
  if (!journal_page(f, n, off)) return f->raw_read(out, n, off);
  unsigned char* disk = f->scratch(static_cast<std::size_t>(n));
  const int r = f->raw_read(disk, n, off);
  if (r != SQLITE_OK) {
    if (r == SQLITE_IOERR_SHORT_READ) std::memset(out, 0, static_cast<std::size_t>(n));
    return r;
  }
  // Journals are read only to roll back after a crash: a torn page reads as
  // zeros and fails the journal's own checksum (the record is not applied).
  if (!open_journal_page(f->key(), static_cast<std::uint64_t>(off), disk, static_cast<std::size_t>(n), out)) {
    std::memset(out, 0, static_cast<std::size_t>(n));
  }
  return SQLITE_OK;
}

// ---- temporary files --------------------------------------------------------

void temp_xor(File* f, unsigned char* data, std::size_t n, sqlite3_int64 off) {
  const auto block = static_cast<std::uint64_t>(off) / 64;
  const auto skip = static_cast<std::size_t>(static_cast<std::uint64_t>(off) % 64);
  unsigned char* tmp = f->scratch(skip + n);
  std::memset(tmp, 0, skip);
  std::memcpy(tmp + skip, data, n);
  crypto_stream_xchacha20_xor_ic(tmp, tmp, skip + n, f->temp_nonce, block, f->temp_key);
  std::memcpy(data, tmp + skip, n);
}

int temp_write(File* f, const unsigned char* in, int n, sqlite3_int64 off) {
  std::vector<unsigned char> copy(in, in + n);
  temp_xor(f, copy.data(), copy.size(), off);
  return f->raw_write(copy.data(), n, off);
}

int temp_read(File* f, unsigned char* out, int n, sqlite3_int64 off) {
  const int r = f->raw_read(out, n, off);
  if (r == SQLITE_OK) {
    temp_xor(f, out, static_cast<std::size_t>(n), off);
  } else if (r == SQLITE_IOERR_SHORT_READ) {
    sqlite3_int64 size = 0;
    if (f->real->pMethods->xFileSize(f->real, &size) != SQLITE_OK) return SQLITE_IOERR_READ;
    const auto valid = static_cast<std::size_t>(std::clamp<sqlite3_int64>(size - off, 0, n));
    temp_xor(f, out, valid, off);
    std::memset(out + valid, 0, static_cast<std::size_t>(n) - valid);
  }
  return r;
}

// ---- io methods -------------------------------------------------------------

int x_close(sqlite3_file* file) {
  File* f = as_file(file);
  int rc = SQLITE_OK;
  if (f->real->pMethods != nullptr) rc = f->real->pMethods->xClose(f->real);
  if (f->temp_key != nullptr) sodium_free(f->temp_key);
  f->~File();
  return rc;
}

int x_read(sqlite3_file* file, void* out, int n, sqlite3_int64 off) {
  File* f = as_file(file);
  auto* o = static_cast<unsigned char*>(out);
  switch (f->kind) {
    case Kind::kDatabase: return db_read(f, o, n, off);
    case Kind::kWal: return wal_read(f, o, n, off);
    case Kind::kJournal: return journal_read(f, o, n, off);
    case Kind::kTemp: return temp_read(f, o, n, off);
    case Kind::kPlain: break;
  }
  return f->raw_read(out, n, off);
}

int x_write(sqlite3_file* file, const void* in, int n, sqlite3_int64 off) {
  File* f = as_file(file);
  const auto* i = static_cast<const unsigned char*>(in);
  switch (f->kind) {
    case Kind::kDatabase: return db_write(f, i, n, off);
    case Kind::kWal: return wal_write(f, i, n, off);
    case Kind::kJournal: return journal_write(f, i, n, off);
    case Kind::kTemp: return temp_write(f, i, n, off);
    case Kind::kPlain: break;
  }
  return f->raw_write(in, n, off);
}

int x_truncate(sqlite3_file* file, sqlite3_int64 size) {
  File* f = as_file(file);
  if (f->kind == Kind::kWal) f->hdr_off = -1;
  return f->real->pMethods->xTruncate(f->real, size);
}
int x_sync(sqlite3_file* file, int flags) { return as_file(file)->real->pMethods->xSync(as_file(file)->real, flags); }
int x_file_size(sqlite3_file* file, sqlite3_int64* size) {
  return as_file(file)->real->pMethods->xFileSize(as_file(file)->real, size);
}
int x_lock(sqlite3_file* file, int level) { return as_file(file)->real->pMethods->xLock(as_file(file)->real, level); }
int x_unlock(sqlite3_file* file, int level) {
  return as_file(file)->real->pMethods->xUnlock(as_file(file)->real, level);
}
int x_check_reserved(sqlite3_file* file, int* out) {
  return as_file(file)->real->pMethods->xCheckReservedLock(as_file(file)->real, out);
}
int x_file_control(sqlite3_file* file, int op, void* arg) {
  return as_file(file)->real->pMethods->xFileControl(as_file(file)->real, op, arg);
}
int x_sector_size(sqlite3_file* file) { return as_file(file)->real->pMethods->xSectorSize(as_file(file)->real); }
int x_device_characteristics(sqlite3_file* file) {
  // Pages are written whole, one write each: no atomic-batch tricks that
  // would change how SQLite cuts its writes, and no sector padding of the
  // WAL that would split a page write in two.
  const int base = as_file(file)->real->pMethods->xDeviceCharacteristics(as_file(file)->real);
  const int atomic = SQLITE_IOCAP_ATOMIC | SQLITE_IOCAP_ATOMIC512 | SQLITE_IOCAP_ATOMIC1K | SQLITE_IOCAP_ATOMIC2K |
                     SQLITE_IOCAP_ATOMIC4K | SQLITE_IOCAP_ATOMIC8K | SQLITE_IOCAP_ATOMIC16K |
                     SQLITE_IOCAP_ATOMIC32K | SQLITE_IOCAP_ATOMIC64K | SQLITE_IOCAP_BATCH_ATOMIC;
  return (base & ~atomic) | SQLITE_IOCAP_POWERSAFE_OVERWRITE;
}
int x_shm_map(sqlite3_file* file, int page, int size, int extend, void volatile** out) {
  sqlite3_file* r = as_file(file)->real;
  return r->pMethods->xShmMap(r, page, size, extend, out);
}
int x_shm_lock(sqlite3_file* file, int offset, int n, int flags) {
  sqlite3_file* r = as_file(file)->real;
  return r->pMethods->xShmLock(r, offset, n, flags);
}
void x_shm_barrier(sqlite3_file* file) {
  sqlite3_file* r = as_file(file)->real;
  r->pMethods->xShmBarrier(r);
}
int x_shm_unmap(sqlite3_file* file, int del) {
  sqlite3_file* r = as_file(file)->real;
  return r->pMethods->xShmUnmap(r, del);
}

// Version 2: shared memory for the WAL, no xFetch (no memory-mapped reads
// that would bypass decryption).
const sqlite3_io_methods kMethods = {
    2,           x_close,     x_read,        x_write,         x_truncate,   x_sync,
    x_file_size, x_lock,      x_unlock,      x_check_reserved, x_file_control, x_sector_size,
    x_device_characteristics, x_shm_map,     x_shm_lock,      x_shm_barrier, x_shm_unmap,
    nullptr,     nullptr,
};

Kind kind_of(int flags) {
  if (flags & SQLITE_OPEN_MAIN_DB) return Kind::kDatabase;
  if (flags & SQLITE_OPEN_WAL) return Kind::kWal;
  if (flags & SQLITE_OPEN_MAIN_JOURNAL) return Kind::kJournal;
  if (flags & (SQLITE_OPEN_TEMP_DB | SQLITE_OPEN_TEMP_JOURNAL | SQLITE_OPEN_SUBJOURNAL | SQLITE_OPEN_TRANSIENT_DB)) {
    return Kind::kTemp;
  }
  return Kind::kPlain;  // a super-journal: file names only
}

// Reads an existing database's header: this key's file, and its page size.
void read_database_header(File* f) {
  sqlite3_int64 size = 0;
  if (f->real->pMethods->xFileSize(f->real, &size) != SQLITE_OK || size == 0) return;
  unsigned char h[kHeaderBytes];
  if (size < static_cast<sqlite3_int64>(kHeaderBytes) || f->raw_read(h, sizeof(h), 0) != SQLITE_OK) {
    f->bad_header = true;
    return;
  }
  const auto check = f->key().check();
  if (std::memcmp(h, kMagic, 4) != 0 || std::memcmp(h + 4, check.data(), 4) != 0 ||
      std::memcmp(h + 8, f->key().id().data(), kFileIdBytes) != 0 || !valid_page_size(header_page_size(h))) {
    f->bad_header = true;
    return;
  }
  f->page_size = header_page_size(h);
  f->reserve = h[20];
}

CryptVfs* owner_of(sqlite3_vfs* vfs) { return static_cast<CryptVfs*>(vfs->pAppData); }

int x_open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  CryptVfs* self = owner_of(vfs);
  File* f = new (file) File();
  f->base.pMethods = nullptr;
  f->owner = self;
  f->real = static_cast<sqlite3_file*>(static_cast<void*>(reinterpret_cast<char*>(file) + kFileOffset));
  f->real->pMethods = nullptr;
  f->kind = kind_of(flags);
  sqlite3_vfs* base = self->base();
  const int rc = base->xOpen(base, name, f->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    if (f->real->pMethods != nullptr) f->real->pMethods->xClose(f->real);
    f->~File();
    file->pMethods = nullptr;
    return rc;
  }
  if ((f->kind == Kind::kWal || f->kind == Kind::kJournal) && name != nullptr) {
    sqlite3_file* db = sqlite3_database_file_object(name);
    if (db != nullptr && db->pMethods == &kMethods) f->main = as_file(db);
  }
  if (f->kind == Kind::kDatabase) read_database_header(f);
  if (f->kind == Kind::kTemp) {
    f->temp_key = static_cast<unsigned char*>(sodium_malloc(crypto_stream_xchacha20_KEYBYTES));
    if (f->temp_key == nullptr) {
      f->real->pMethods->xClose(f->real);
      f->~File();
      file->pMethods = nullptr;
      return SQLITE_NOMEM;
    }
    crypto_stream_xchacha20_keygen(f->temp_key);
    randombytes_buf(f->temp_nonce, sizeof(f->temp_nonce));
  }
  file->pMethods = &kMethods;
  return SQLITE_OK;
}

int x_delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  sqlite3_vfs* b = owner_of(vfs)->base();
  return b->xDelete(b, name, sync_dir);
}
int x_access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  sqlite3_vfs* b = owner_of(vfs)->base();
  return b->xAccess(b, name, flags, out);
}
int x_full_pathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
  sqlite3_vfs* b = owner_of(vfs)->base();
  return b->xFullPathname(b, name, n, out);
}
void* x_dl_open(sqlite3_vfs* vfs, const char* name) {
  sqlite3_vfs* b = owner_of(vfs)->base();
  return b->xDlOpen(b, name);
}
void x_dl_error(sqlite3_vfs* vfs, int n, char* out) {
  sqlite3_vfs* b = owner_of(vfs)->base();
  b->xDlError(b, n, out);
}
void (*x_dl_sym(sqlite3_vfs* vfs, void* h, const char* sym))(void) {
  sqlite3_vfs* b = owner_of(vfs)->base();
  return b->xDlSym(b, h, sym);
}
void x_dl_close(sqlite3_vfs* vfs, void* h) {
  sqlite3_vfs* b = owner_of(vfs)->base();
  b->xDlClose(b, h);
}
int x_randomness(sqlite3_vfs* vfs, int n, char* out) {
  sqlite3_vfs* b = owner_of(vfs)->base();
  return b->xRandomness(b, n, out);
}
int x_sleep(sqlite3_vfs* vfs, int us) {
  sqlite3_vfs* b = owner_of(vfs)->base();
  return b->xSleep(b, us);
}
int x_current_time(sqlite3_vfs* vfs, double* out) {
  sqlite3_vfs* b = owner_of(vfs)->base();
  return b->xCurrentTime(b, out);
}
int x_get_last_error(sqlite3_vfs* vfs, int n, char* out) {
  sqlite3_vfs* b = owner_of(vfs)->base();
  return b->xGetLastError != nullptr ? b->xGetLastError(b, n, out) : 0;
}
int x_current_time_int64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  sqlite3_vfs* b = owner_of(vfs)->base();
  if (b->iVersion >= 2 && b->xCurrentTimeInt64 != nullptr) return b->xCurrentTimeInt64(b, out);
  double d = 0;
  const int rc = b->xCurrentTime(b, &d);
  *out = static_cast<sqlite3_int64>(d * 86400000.0);
  return rc;
}

}  // namespace

bool open_database_page(const FileKey& key, std::uint32_t pgno, const unsigned char* disk, std::size_t page_size,
                        unsigned char* plain) {
  const std::size_t body = page_size - kReserve;
  if (pgno == 1) {
    if (std::memcmp(disk, kMagic, 4) != 0) return false;
    if (!open(key, PageDomain::kDatabase, 1, bytes(disk, kHeaderBytes), disk + kHeaderBytes, body - kHeaderBytes,
              disk + body, plain + kHeaderBytes)) {
      return false;
    }
    std::memcpy(plain, kSqliteMagic, sizeof(kSqliteMagic));
    std::memcpy(plain + 16, disk + 16, 8);
  } else if (!open(key, PageDomain::kDatabase, pgno, {}, disk, body, disk + body, plain)) {
    return false;
  }
  std::memset(plain + body, 0, kReserve);
  return true;
}

bool open_wal_page(const FileKey& key, std::uint64_t index, const unsigned char* hdr, const unsigned char* disk,
                   std::size_t page_size, unsigned char* plain) {
  const std::size_t body = page_size - kReserve;
  if (!open(key, PageDomain::kWal, index, bytes(hdr, kFrameHeader), disk, body, disk + body, plain)) return false;
  std::memset(plain + body, 0, kReserve);
  return true;
}

bool open_journal_page(const FileKey& key, std::uint64_t offset, const unsigned char* disk, std::size_t page_size,
                       unsigned char* plain) {
  const std::size_t body = page_size - kReserve;
  if (!open(key, PageDomain::kJournal, offset, {}, disk, body, disk + body, plain)) return false;
  std::memset(plain + body, 0, kReserve);
  return true;
}

CryptVfs::CryptVfs(std::unique_ptr<FileKey> key, sqlite3_vfs* base)
    : base_(base != nullptr ? base : sqlite3_vfs_find(nullptr)), key_(std::move(key)) {
  char name[48];
  std::snprintf(name, sizeof(name), "tandem-crypt-%p", static_cast<void*>(this));
  name_ = name;
  vfs_.iVersion = 2;
  vfs_.szOsFile = kFileOffset + base_->szOsFile;
  vfs_.mxPathname = base_->mxPathname;
  vfs_.zName = name_.c_str();
  vfs_.pAppData = this;
  vfs_.xOpen = x_open;
  vfs_.xDelete = x_delete;
  vfs_.xAccess = x_access;
  vfs_.xFullPathname = x_full_pathname;
  vfs_.xDlOpen = x_dl_open;
  vfs_.xDlError = x_dl_error;
  vfs_.xDlSym = x_dl_sym;
  vfs_.xDlClose = x_dl_close;
  vfs_.xRandomness = x_randomness;
  vfs_.xSleep = x_sleep;
  vfs_.xCurrentTime = x_current_time;
  vfs_.xGetLastError = x_get_last_error;
  vfs_.xCurrentTimeInt64 = x_current_time_int64;
  sqlite3_vfs_register(&vfs_, 0);
}

CryptVfs::~CryptVfs() { sqlite3_vfs_unregister(&vfs_); }

}  // namespace tandem::crypto
