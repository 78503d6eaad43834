#include "crypto/page_cipher.hpp"

#include <sodium.h>

#include <cstring>
#include <new>

namespace tandem::crypto {
namespace {

static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == kKeyBytes);
static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == kNonceBytes);
static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == kMacBytes);

// domain (1) + file id (8) + place (8) + extra (at most a page-1 header or a
// WAL frame header: 24).
constexpr std::size_t kMaxAad = 1 + kFileIdBytes + 8 + 24;

std::size_t make_aad(unsigned char* aad, const FileKey& key, PageDomain domain, std::uint64_t place,
                     std::string_view extra) {
  std::size_t n = 0;
  aad[n++] = static_cast<unsigned char>(domain);
  std::memcpy(aad + n, key.id().data(), kFileIdBytes);
  n += kFileIdBytes;
  for (int i = 0; i < 8; ++i) aad[n++] = static_cast<unsigned char>(place >> (8 * i));
  const std::size_t e = extra.size() < 24 ? extra.size() : 24;
  if (e > 0) std::memcpy(aad + n, extra.data(), e);  // an empty view may hold a null pointer
  return n + e;
}

}  // namespace

bool init_sodium() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

FileKey::FileKey(const unsigned char* key, const FileId& id) : id_(id) {
  key_ = static_cast<unsigned char*>(sodium_malloc(kKeyBytes));
  if (key_ == nullptr) throw std::bad_alloc();
  std::memcpy(key_, key, kKeyBytes);
}

FileKey::~FileKey() { sodium_free(key_); }

std::array<unsigned char, 4> FileKey::check() const {
  static constexpr char kLabel[] = "tandem database key check";
  unsigned char msg[sizeof(kLabel) + kFileIdBytes];
  std::memcpy(msg, kLabel, sizeof(kLabel));
  std::memcpy(msg + sizeof(kLabel), id_.data(), kFileIdBytes);
  unsigned char out[16];
  crypto_generichash(out, sizeof(out), msg, sizeof(msg), key_, kKeyBytes);
  return {out[0], out[1], out[2], out[3]};
}

void seal(const FileKey& key, PageDomain domain, std::uint64_t place, std::string_view extra,
          const unsigned char* plain, std::size_t n, unsigned char* out, unsigned char* tag) {
  unsigned char aad[kMaxAad];
  const std::size_t aad_n = make_aad(aad, key, domain, place, extra);
  randombytes_buf(tag, kNonceBytes);
  unsigned long long mac_n = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt_detached(out, tag + kNonceBytes, &mac_n, plain, n, aad, aad_n,
                                                      nullptr, tag, key.key());
}

bool open(const FileKey& key, PageDomain domain, std::uint64_t place, std::string_view extra,
          const unsigned char* cipher, std::size_t n, const unsigned char* tag, unsigned char* out) {
  unsigned char aad[kMaxAad];
  const std::size_t aad_n = make_aad(aad, key, domain, place, extra);
  return crypto_aead_xchacha20poly1305_ietf_decrypt_detached(out, nullptr, cipher, n, tag + kNonceBytes, aad,
                                                             aad_n, tag, key.key()) == 0;
}

void random_bytes(unsigned char* out, std::size_t n) { randombytes_buf(out, n); }

std::string to_hex(const unsigned char* bytes, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    s += kDigits[bytes[i] >> 4];
    s += kDigits[bytes[i] & 15];
  }
  return s;
}

}  // namespace tandem::crypto
