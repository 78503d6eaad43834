// How Store::open meets a database file under its Encryption mode: the
// encrypting file layer to open it with (none: plain), after migrating a
// plain file when the mode says so. Internal to core.
#pragma once

#include <memory>
#include <string>

#include "crypto/crypt_vfs.hpp"
#include "tandem/core/encryption.hpp"

namespace tandem::crypto {

struct OpenPlan {
  std::unique_ptr<CryptVfs> vfs;  // null: open plain
  bool fresh = false;             // a new encrypted file: set its reserved bytes
};

// `base_vfs`: the registered VFS under the encryption ("" = default).
Result<OpenPlan> plan_open(const std::string& path, Encryption mode, const Host& host, const std::string& base_vfs);

}  // namespace tandem::crypto
