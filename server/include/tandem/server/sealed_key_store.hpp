// The server's database keys (tandem-server --db-key FILE): encryption at
// rest for a server, off by default (servers usually sit on encrypted disks).
//
// The Store gives each database file a random key of its own and keeps it in
// the Host's KeyStore (core/include/tandem/core/encryption.hpp). On a tablet
// that is the platform's key store; a server has none, so its keys are kept
// sealed in the data folder (keys/<name>.sealed, XChaCha20-Poly1305 under the
// master key, the entry's name as associated data: a sealed key copied to
// another name does not open) and the master key is the file named by
// --db-key, kept apart from the data (another disk, a secrets mount). Without
// the master key file the sealed keys are noise; with it and without them
// the database cannot be opened either: a backup takes both the data folder
// and, separately, the key file.
#pragma once

#include <memory>
#include <string>

#include "tandem/core/host.hpp"

namespace tandem::server {

// The master key file: a regular file, readable by its owner only (no group
// or other bits), holding 32 random bytes as 64 hex digits (whitespace
// around them allowed) or raw. Make one with
//   (umask 077; openssl rand -hex 32 > /etc/tandem/db.key)
inline constexpr std::size_t kMasterKeyBytes = 32;
inline constexpr std::size_t kMaxKeyFileBytes = 256;

// What the server and its admin commands open the database with: none (a
// plain database) when `key_file` is empty, else the sealed key store of
// `data_dir` (its keys/ folder, made 0700) under the master key in
// `key_file`. Errors: invalid_argument for a key file that is missing, not a
// regular file, open to others or not a key; io_error for the folder. A
// sealed key the master key does not open reads as wrong_key.
Result<std::shared_ptr<KeyStore>> database_keys(const std::string& key_file, const std::string& data_dir);

}  // namespace tandem::server
