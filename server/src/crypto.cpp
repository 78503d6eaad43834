#include "tandem/server/crypto.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <array>
#include <fstream>

#include "tandem/server/limits.hpp"

namespace tandem::server {
namespace {
constexpr std::string_view kCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr std::size_t kCodeChars = 12;
}  // namespace

Result<std::string> random_bytes(std::size_t n) {
  std::ifstream in("/dev/urandom", std::ios::binary);
  std::string out(n, '\0');
  if (!in || !in.read(out.data(), static_cast<std::streamsize>(n))) {
    return make_error(ErrorCode::kIo, "cannot read /dev/urandom");
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  unsigned int len = 0;
  // Fetched once: EVP_sha256() makes OpenSSL 3 look the implementation up
  // on every call (every request hashes its token).
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_Digest(data.data(), data.size(), digest.data(), &len, kSha256 ? kSha256 : EVP_sha256(),
             nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

std::string base64url(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  const auto b = [&](std::size_t k) {
    return static_cast<unsigned>(static_cast<unsigned char>(bytes[k]));
  };
  for (; i + 3 <= bytes.size(); i += 3) {
    const unsigned v = (b(i) << 16) | (b(i + 1) << 8) | b(i + 2);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  if (bytes.size() - i == 1) {
    const unsigned v = b(i) << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
  } else if (bytes.size() - i == 2) {
    const unsigned v = (b(i) << 16) | (b(i + 1) << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

Result<std::string> new_device_token() {
  auto bytes = random_bytes(kTokenBytes);
  if (!bytes) return std::move(bytes).error();
  return base64url(*bytes);
}

Result<std::string> new_device_id() {
  auto bytes = random_bytes(8);
  if (!bytes) return std::move(bytes).error();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "dev_";
  for (unsigned char c : *bytes) {
    id.push_back(kHex[c >> 4]);
    id.push_back(kHex[c & 0xf]);
  }
  return id;
}

Result<std::string> new_enrollment_code() {
  auto bytes = random_bytes(kCodeChars);
  if (!bytes) return std::move(bytes).error();
  std::string code;
  for (std::size_t i = 0; i < kCodeChars; ++i) {
    if (i > 0 && i % 4 == 0) code.push_back('-');
    // 256 is a multiple of 32: taking the low five bits is uniform.
    code.push_back(kCrockford[static_cast<unsigned char>((*bytes)[i]) & 31]);
  }
  return code;
}

std::string normalize_enrollment_code(std::string_view typed) {
  std::string out;
  for (char c : typed) {
    if (c == '-' || c == ' ') continue;
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c == 'O') c = '0';
    if (c == 'I' || c == 'L') c = '1';
    if (kCrockford.find(c) == std::string_view::npos) return {};
    out.push_back(c);
  }
  if (out.size() != kCodeChars) return {};
  return out;
}

}  // namespace tandem::server
