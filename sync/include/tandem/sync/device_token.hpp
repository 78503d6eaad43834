// The device token: the bearer secret a device syncs with (enrollment gives
// it, the server may rotate it in a sync answer, docs/protocol.md).
//
// Where it lives: in the host's key store (Host::keys: Keychain, Keystore,
// the desktop's 0600 key folder) under "tandem-token-<site id>", never in
// the database, so a copied database file carries no credential. A host
// without a key store keeps it in the Store's metadata (kMetaToken) as
// before: the documented fallback (tests, embedded hosts). A token found in
// the metadata of a host that has a key store (a database from before issue
// 15) is moved into the key store at its first load: the row is deleted
// (secure_delete overwrites it) and the WAL checkpointed so that no copy of
// it stays in the files.
//
// Thread-safety: the Store's (one thread at a time).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tandem/core/error.hpp"
#include "tandem/core/store.hpp"

namespace tandem::sync {

// "tandem-token-<site id>": one entry per database (several tablets may run
// as one user, each its own file).
std::string device_token_name(const Store& store);

// The token (nullopt: none: not enrolled, or wiped). Moves a metadata token
// into the key store when the host has one (see above); errors: the key
// store's and the Store's.
Result<std::optional<std::string>> load_device_token(Store& store);

// Stores a new token (enrollment, rotation): in the key store when there is
// one (the metadata row, if any, is deleted), else in the metadata. May run
// inside a Store transaction (the key store is written at once: a rollback
// leaves the new token there, harmless: the next save replaces it).
Status save_device_token(Store& store, std::string_view token);

// Forgets the token everywhere (a wiped device never presents it again).
Status erase_device_token(Store& store);

}  // namespace tandem::sync
