// FileKeyStore: the desktop's key store (Host::keys), one 0600 file per
// secret in a 0700 folder of the user's configuration: $TANDEM_KEY_DIR when
// set, else $XDG_CONFIG_HOME/tandem/keys, else ~/.config/tandem/keys. Never
// beside a database: a copied database folder must not carry its keys.
//
// Like ssh with its private keys, a secret whose file is readable by others
// (group/other mode bits, or another owner) is refused, not read. Writes go
// to a temporary file that is synced and renamed, so a crash leaves the old
// secret or the new one, never half of one. Names are [A-Za-z0-9._-], 1..128
// characters, not starting with '.'; a secret is at most kMaxSecretBytes.
//
// iOS and Android keep secrets in the Keychain / Keystore instead (see the
// README, "Encryption at rest"): an app passes its own KeyStore in the Host.
//
// Thread-safety: calls on one instance may come from several threads; the
// file system orders concurrent writers of one name (last rename wins).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "tandem/core/host.hpp"

namespace tandem::platform {

class FileKeyStore final : public KeyStore {
 public:
  static constexpr std::size_t kMaxSecretBytes = 4096;
  static constexpr std::size_t kMaxNameLength = 128;

  // The folder the desktop uses (see above); "" when neither TANDEM_KEY_DIR,
  // XDG_CONFIG_HOME nor HOME is set.
  static std::string default_dir();

  // A key store over `dir`, created (mode 0700, parents as needed) when
  // missing. Fails (io_error) when it cannot be created, is not a folder, or
  // is open to other users (group/other bits set); an empty dir means
  // default_dir().
  static Result<FileKeyStore> open(std::string dir = {});

  const std::string& dir() const { return dir_; }

  Result<std::optional<std::string>> get(std::string_view name) override;
  Status put(std::string_view name, std::string_view secret) override;
  Status erase(std::string_view name) override;

 private:
  explicit FileKeyStore(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

}  // namespace tandem::platform
