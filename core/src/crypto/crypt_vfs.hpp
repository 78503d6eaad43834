// CryptVfs: a SQLite VFS that encrypts every file of one database on its way
// to a base VFS (SQLite's default, or a test's fault-injecting layer) and
// decrypts and authenticates it on the way back. One instance per open
// database key, registered under a unique name for as long as it lives;
// every connection to that database (the Store's, the server's readers)
// opens it with vfs_name().
//
// Files and their layout (SQLite's formats, https://sqlite.org/fileformat.html):
//   database   every page sealed in place (page_cipher.hpp): ciphertext of the
//              first P-40 bytes, then nonce and MAC in the 40 reserved bytes;
//              page 1 keeps 24 readable header bytes (magic, key check, file
//              id, page size; page_cipher.hpp) bound into its MAC.
//   WAL        the 32-byte WAL header and the 24-byte frame headers (page
//              numbers, salts, checksums: no content) stay readable; each
//              frame's page is sealed, bound to its frame index and header.
//   journal    rollback-journal page images (P bytes at an offset = 4 mod 8;
//              headers are sector-aligned) sealed like pages; other bytes
//              (record numbers, checksums, headers) readable.
//   temporary  (temp tables, sorter, statement journals when not in memory)
//              XChaCha20 with a random key of their own, forgotten at close
//              (they are deleted at close; confidentiality only).
//   -shm       the WAL index (page numbers and frame indexes only), shared
//              memory of the base VFS.
// A page whose MAC fails is never returned: reads of the database and of
// committed WAL frames fail with SQLITE_IOERR_DATA (Tandem's "tampered").
// Reads that recover a WAL after a crash (whole frames) see a frame that
// fails its MAC as zeros, which SQLite's own checksum takes for the torn end
// of the log, as it would without encryption -- unless a valid commit frame
// of the same generation follows it: commits are synced, so that frame was
// whole once and has been changed since (tampered). Hot-journal pages that
// fail are read as zeros (the journal's checksum skips them). Not detected:
// a page replaced by an older version of itself, a damaged 32-byte WAL header
// (SQLite then ignores the log, as without encryption). No memory-mapped I/O
// (xFetch), so every read is checked.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>

#include "crypto/page_cipher.hpp"

namespace tandem::crypto {

class CryptVfs {
 public:
  // `base`: the VFS underneath (nullptr: SQLite's default). Registers.
  CryptVfs(std::unique_ptr<FileKey> key, sqlite3_vfs* base);
  ~CryptVfs();  // unregisters; REQUIRES: no connection uses it any more
  CryptVfs(const CryptVfs&) = delete;
  CryptVfs& operator=(const CryptVfs&) = delete;

  const std::string& name() const { return name_; }
  const FileKey& key() const { return *key_; }
  sqlite3_vfs* base() const { return base_; }

  struct File;  // crypt_vfs.cpp

 private:
  sqlite3_vfs vfs_{};
  sqlite3_vfs* base_;
  std::unique_ptr<FileKey> key_;
  std::string name_;
};

// Layout helpers shared with the scanner (encryption.cpp).
// Decrypts one on-disk database page `disk` (P bytes) of page number `pgno`
// into `plain` (P bytes; reserved bytes zeroed, page 1's header restored);
// false when its MAC fails.
bool open_database_page(const FileKey& key, std::uint32_t pgno, const unsigned char* disk, std::size_t page_size,
                        unsigned char* plain);
// Decrypts the page of WAL frame `index` (frame header `hdr`, 24 bytes;
// `disk` P bytes) into `plain`.
bool open_wal_page(const FileKey& key, std::uint64_t index, const unsigned char* hdr, const unsigned char* disk,
                   std::size_t page_size, unsigned char* plain);
// Decrypts a journal page image at `offset`.
bool open_journal_page(const FileKey& key, std::uint64_t offset, const unsigned char* disk, std::size_t page_size,
                       unsigned char* plain);

}  // namespace tandem::crypto
