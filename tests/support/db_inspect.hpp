// Reading a SQLite file as it is, for tests that check what survived a fault:
// its integrity and a digest of its whole content. Both only read; the file
// must exist (it is never created).
//
// Thread-safety: each call opens its own connection.
#pragma once

#include <string>

namespace tandem::test {

// PRAGMA integrity_check and foreign_key_check on `path` (through the VFS
// named `vfs`, "" for the default): "ok", else what they reported.
std::string integrity_check(const std::string& path, const std::string& vfs = {});

// Every row of every table except SQLite's own and the Store's local `meta`
// (site id, clock, cursors), in a stable order, as a digest: two files with
// the same content have the same digest. Rows per table are spelled out
// ("changes=12 outbox=12 ...#<hash>") so that a mismatch says where.
std::string content_digest(const std::string& path, const std::string& vfs = {});

}  // namespace tandem::test
