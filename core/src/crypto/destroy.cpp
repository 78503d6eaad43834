#include "tandem/core/encryption.hpp"

namespace tandem {

Status destroy_database(const std::string& path, const Host& host) {
  const Host h = resolved(host);
  // The key goes first (crypto-shredding); encrypted files name it in their
  // header (added with the encrypting file layer).
  for (const char* suffix : {"-wal", "-shm", "-journal", ""}) {
    TANDEM_TRY(h.files->remove_file(path + suffix));
  }
  return {};
}

}  // namespace tandem
