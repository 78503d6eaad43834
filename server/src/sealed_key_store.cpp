#include "tandem/server/sealed_key_store.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <vector>

#include "tandem/core/excerpt.hpp"
#include "tandem/platform/file_key_store.hpp"

namespace tandem::server {
namespace {

constexpr char kMagic[4] = {'T', 'D', 'K', '1'};
constexpr std::size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kMac = crypto_aead_xchacha20poly1305_ietf_ABYTES;

// The master key in locked memory, wiped when the store goes.
class MasterKey {
 public:
  MasterKey() : bytes_(static_cast<unsigned char*>(sodium_malloc(kMasterKeyBytes))) {}
  ~MasterKey() { sodium_free(bytes_); }
  MasterKey(const MasterKey&) = delete;
  MasterKey& operator=(const MasterKey&) = delete;
  unsigned char* data() { return bytes_; }
  const unsigned char* data() const { return bytes_; }
  explicit operator bool() const { return bytes_ != nullptr; }

 private:
  unsigned char* bytes_;
};

Error key_file_error(const std::string& file, const std::string& why) {
  return make_error(ErrorCode::kInvalidArgument, "--db-key " + excerpt(file) + ": " + why);
}

// Reads and checks the master key file (see the header for what it holds).
Status read_master(const std::string& file, MasterKey& key) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return key_file_error(file, std::strerror(errno));
  struct Close {
    int fd;
    ~Close() { ::close(fd); }
  } close{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return key_file_error(file, std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return key_file_error(file, "not a regular file");
  if ((st.st_mode & 077) != 0)
    return key_file_error(file, "readable by others: make it the owner's only (chmod 600)");
  if (st.st_uid != ::geteuid()) return key_file_error(file, "belongs to another user");
  if (st.st_size > static_cast<off_t>(kMaxKeyFileBytes)) return key_file_error(file, "too large to be a key");
  std::vector<unsigned char> raw(kMaxKeyFileBytes + 1);
  std::size_t got = 0;
  while (got < raw.size()) {
    const ssize_t n = ::read(fd, raw.data() + got, raw.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return key_file_error(file, std::strerror(errno));
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  raw.resize(got);
  struct Wipe {
    std::vector<unsigned char>& v;
    ~Wipe() { sodium_memzero(v.data(), v.size()); }
  } wipe{raw};
  if (raw.size() == kMasterKeyBytes) {  // raw bytes
    std::memcpy(key.data(), raw.data(), kMasterKeyBytes);
    return {};
  }
  // 64 hex digits, whitespace around them.
  std::size_t b = 0, e = raw.size();
  while (b < e && std::isspace(raw[b])) ++b;
  while (e > b && std::isspace(raw[e - 1])) --e;
  std::size_t decoded = 0;
  if (e - b != 2 * kMasterKeyBytes ||
      sodium_hex2bin(key.data(), kMasterKeyBytes, reinterpret_cast<const char*>(raw.data() + b), e - b,
                     nullptr, &decoded, nullptr) != 0 ||
      decoded != kMasterKeyBytes) {
    return key_file_error(file, "not a key: 32 random bytes as 64 hex digits (openssl rand -hex 32)");
  }
  return {};
}

// Secrets sealed under the master key, kept in a FileKeyStore (0700 folder,
// 0600 files, atomic writes) as "<name>.sealed"; it checks the names.
class SealedKeyStore final : public KeyStore {
 public:
  SealedKeyStore(std::unique_ptr<MasterKey> master, platform::FileKeyStore files)
      : master_(std::move(master)), files_(std::move(files)) {}

  Result<std::optional<std::string>> get(std::string_view name) override {
    auto sealed = files_.get(entry(name));
    if (!sealed) return std::move(sealed).error();
    if (!*sealed) return std::optional<std::string>();
    const std::string& s = **sealed;
    if (s.size() < sizeof(kMagic) + kNonce + kMac || std::memcmp(s.data(), kMagic, sizeof(kMagic)) != 0)
      return make_error(ErrorCode::kWrongKey, "the sealed key '" + std::string(name) + "' is damaged");
    const auto* nonce = reinterpret_cast<const unsigned char*>(s.data() + sizeof(kMagic));
    const auto* box = nonce + kNonce;
    const std::size_t box_len = s.size() - sizeof(kMagic) - kNonce;
    std::string secret(box_len - kMac, '\0');
    unsigned long long len = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            reinterpret_cast<unsigned char*>(secret.data()), &len, nullptr, box, box_len,
            reinterpret_cast<const unsigned char*>(name.data()), name.size(), nonce, master_->data()) != 0) {
      return make_error(ErrorCode::kWrongKey,
                        "the --db-key file does not open the sealed key '" + std::string(name) +
                            "' (another server's key file?); nothing was changed");
    }
    secret.resize(static_cast<std::size_t>(len));
    return std::optional<std::string>(std::move(secret));
  }

  Status put(std::string_view name, std::string_view secret) override {
    std::string sealed(sizeof(kMagic) + kNonce + secret.size() + kMac, '\0');
    std::memcpy(sealed.data(), kMagic, sizeof(kMagic));
    auto* nonce = reinterpret_cast<unsigned char*>(sealed.data() + sizeof(kMagic));
    randombytes_buf(nonce, kNonce);
    unsigned long long len = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        nonce + kNonce, &len, reinterpret_cast<const unsigned char*>(secret.data()), secret.size(),
        reinterpret_cast<const unsigned char*>(name.data()), name.size(), nullptr, nonce, master_->data());
    return files_.put(entry(name), sealed);
  }

  Status erase(std::string_view name) override {
    return files_.erase(entry(name));
  }

 private:
  static std::string entry(std::string_view name) { return std::string(name) + ".sealed"; }

  std::unique_ptr<MasterKey> master_;
  platform::FileKeyStore files_;
};

}  // namespace

Result<std::shared_ptr<KeyStore>> database_keys(const std::string& key_file, const std::string& data_dir) {
  if (key_file.empty()) return std::shared_ptr<KeyStore>();
  if (sodium_init() < 0) return make_error(ErrorCode::kInternal, "libsodium could not be initialised");
  auto master = std::make_unique<MasterKey>();
  if (!*master) return make_error(ErrorCode::kInternal, "no locked memory for the database key");
  TANDEM_TRY(read_master(key_file, *master));
  auto files = platform::FileKeyStore::open(data_dir + "/keys");
  if (!files) return std::move(files).error();
  return std::shared_ptr<KeyStore>(std::make_shared<SealedKeyStore>(std::move(master), std::move(*files)));
}

}  // namespace tandem::server
