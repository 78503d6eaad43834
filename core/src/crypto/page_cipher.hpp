// The page cipher under the encrypting file layer (crypt_vfs.hpp): libsodium's
// XChaCha20-Poly1305 (IETF), one fresh random 24-byte nonce per page write,
// the nonce and the 16-byte MAC in the last kReserve bytes of the page (SQLite
// leaves them alone: every encrypted database is created with kReserve
// reserved bytes per page). The associated data binds a page to its file
// (file id), its kind of file and its place (page number or WAL frame), so a
// page moved to another place or file fails its MAC like a flipped byte does.
//
// Nonces come from libsodium's own CSPRNG, never from Host::random (a test's
// deterministic random source must not be able to repeat a nonce).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tandem::crypto {

inline constexpr std::size_t kKeyBytes = 32;
inline constexpr std::size_t kNonceBytes = 24;
inline constexpr std::size_t kMacBytes = 16;
inline constexpr std::size_t kReserve = kNonceBytes + kMacBytes;  // 40 per page
inline constexpr std::size_t kFileIdBytes = 8;

// Page 1 of an encrypted database starts (on disk) with this header instead
// of "SQLite format 3\0": magic, a key check, the file id. Bytes 16..23 are
// SQLite's own (page size, versions, reserved bytes), kept readable so the
// file layer knows the page size before it can decrypt anything.
inline constexpr std::size_t kHeaderBytes = 24;
inline constexpr char kMagic[4] = {'T', 'D', 'M', '1'};

using FileId = std::array<unsigned char, kFileIdBytes>;

// A database key with the file it belongs to. The key bytes live in
// sodium_malloc'd memory (guarded, locked, wiped on destruction).
class FileKey {
 public:
  FileKey(const unsigned char* key, const FileId& id);
  ~FileKey();
  FileKey(const FileKey&) = delete;
  FileKey& operator=(const FileKey&) = delete;

  const unsigned char* key() const { return key_; }
  const FileId& id() const { return id_; }
  // 4 bytes derived from the key and the file id, stored in the header: a
  // wrong key is told apart from a damaged page.
  std::array<unsigned char, 4> check() const;

 private:
  unsigned char* key_;
  FileId id_;
};

// What a page's associated data names.
enum class PageDomain : unsigned char { kDatabase = 'D', kWal = 'W', kJournal = 'J' };

// Encrypts plain[0..n) into out[0..n) (in place allowed), writes nonce+MAC to
// tag[0..kReserve). `place` is the page number, frame index or offset;
// `extra` (may be empty) is further bytes bound to the page (page 1's
// on-disk header, a WAL frame's header).
void seal(const FileKey& key, PageDomain domain, std::uint64_t place, std::string_view extra,
          const unsigned char* plain, std::size_t n, unsigned char* out, unsigned char* tag);
// The inverse; false (out unspecified) when the MAC does not verify.
bool open(const FileKey& key, PageDomain domain, std::uint64_t place, std::string_view extra,
          const unsigned char* cipher, std::size_t n, const unsigned char* tag, unsigned char* out);

// Fresh random bytes from libsodium (keys, file ids, temp-file keys).
void random_bytes(unsigned char* out, std::size_t n);
// Initialises libsodium once (thread-safe); false when it cannot be.
bool init_sodium();

std::string to_hex(const unsigned char* bytes, std::size_t n);

}  // namespace tandem::crypto
