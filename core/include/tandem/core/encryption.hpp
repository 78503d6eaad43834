// Encryption at rest: the files of a Store (the database, its WAL, journal
// and temporary files) are encrypted page by page with a key of their own
// kept in the Host's key store (see the README, "Encryption at rest", for
// the design, the threat model and what is not protected).
//
// Keys: one per database file, stored under "tandem-db-<file id>" (the file
// id is random and written in the file's readable header, so the key follows
// the file when it is moved or renamed, and several databases can share one
// key store). StoreOptions::encryption says when a Store encrypts; the
// functions here are for hosts, admin tools and audits.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tandem/core/error.hpp"
#include "tandem/core/host.hpp"

namespace tandem {

enum class Encryption {
  // Encrypted whenever the Host has a key store: new files are created
  // encrypted and a plain file is encrypted when it is opened (its data kept).
  // Without a key store, files stay plain (and an encrypted one cannot open:
  // key_missing).
  kAuto,
  // Like kAuto, but without a key store nothing opens (key_missing).
  kRequired,
  // New files stay plain and plain files are not migrated (benchmarks,
  // servers on encrypted disks); an encrypted file still opens with its key.
  kOff,
};

enum class DatabaseFormat { kMissing, kEmpty, kPlain, kEncrypted, kUnknown };

struct DatabaseInfo {
  DatabaseFormat format = DatabaseFormat::kMissing;
  std::string key_name;      // kEncrypted: the key store entry that opens it
  std::uint32_t page_size = 0;  // kPlain / kEncrypted
};

// What is at `path`, from its first bytes (nothing is opened through SQLite).
Result<DatabaseInfo> inspect_database(const std::string& path);

// Encrypts the plain database at `path` in place with a new key put in
// host.keys, keeping every row (what a Store opened with Encryption::kAuto
// does by itself). REQUIRES: host.keys; no Store has it open (another
// connection makes it fail with busy, nothing changed).
Status encrypt_database(const std::string& path, const Host& host);

// Re-encrypts the encrypted database at `path` under a fresh key (and file
// id): the new key is stored first, the file replaced atomically, then the
// old key erased. A crash leaves either file whole with its key. Same
// REQUIRES as encrypt_database.
Status rotate_database_key(const std::string& path, const Host& host);

// Copies the database at `from` into a new file `to`: an online backup. The
// copy is one read transaction, so other connections (other processes too)
// go on writing meanwhile (WAL): it holds every transaction committed before
// it began and none after. It is made with VACUUM INTO, so free pages are not
// copied: content erased before the copy is not in it (the online backup API
// would copy free pages as they are). `from` opens with from_host's keys when
// encrypted; `to` is encrypted under a new key put in to_host.keys, plain
// when to_host.keys is null. Written beside `to`, synced, then renamed into
// place (a crash leaves no half copy under the name `to`).
// Errors: kAlreadyExists when `to` exists; kNotFound when `from` does not;
// key_missing / wrong_key for `from`; kIo.
Status copy_database(const std::string& from, const Host& from_host, const std::string& to,
                     const Host& to_host);

// How often `text` occurs in what the database's files hold: the bytes on
// disk and, for an encrypted database, every page decrypted (the database's
// pages in use and free, every WAL frame, journal page images; not the -shm,
// which holds only the WAL index). Safe while Stores have the file open: it
// reads the database through SQLite's VFS, so no lock is dropped. What tests
// and auditors use to see that erased data is gone once files are ciphertext.
// tampered_pages counts pages whose MAC failed (not scanned).
struct ScanResult {
  std::uint64_t hits = 0;
  std::uint64_t tampered_pages = 0;
};
Result<ScanResult> scan_database(const std::string& path, const Host& host, std::string_view text);

// Destroys the database at `path` for good: first its key in host.keys (so
// whatever the flash keeps of the files is ciphertext nobody can read), then
// the file, its -wal, -shm and -journal. REQUIRES: no Store has it open.
// A missing database is not an error.
Status destroy_database(const std::string& path, const Host& host);

}  // namespace tandem
