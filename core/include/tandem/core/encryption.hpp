// Encryption at rest: the database files of a Store (the database, its WAL
// and journal) are encrypted page by page (see the README, "Encryption at
// rest"). This header is the part hosts use directly.
#pragma once

#include <string>

#include "tandem/core/error.hpp"
#include "tandem/core/host.hpp"

namespace tandem {

// Destroys the database at `path` for good: first its key in host.keys (so
// whatever the flash keeps of the files is ciphertext nobody can read), then
// the file, its -wal, -shm and -journal. REQUIRES: no Store has it open.
// A missing database is not an error.
Status destroy_database(const std::string& path, const Host& host);

}  // namespace tandem
