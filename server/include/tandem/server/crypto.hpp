// Secrets of tandem-server: device tokens, enrollment codes, ids, and the
// hashes under which they are stored.
//
// Randomness comes from /dev/urandom; hashing is SHA-256 (OpenSSL libcrypto).
// A token or code is shown once and only its hash is kept, so a copy of the
// database does not let anyone act as a device.
// Thread-safety: all functions are safe to call from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "tandem/core/error.hpp"

namespace tandem::server {

// `n` bytes from /dev/urandom. kIo if it cannot be read.
Result<std::string> random_bytes(std::size_t n);

// Lowercase hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

// RFC 4648 base64url without padding.
std::string base64url(std::string_view bytes);

// A device bearer token: kTokenBytes random bytes, base64url (43 chars).
Result<std::string> new_device_token();

// A device id: "dev_" + 16 random hex digits.
Result<std::string> new_device_id();

// A one-time enrollment code, short and human-typable: 12 characters of
// Crockford's base32 (no I, L, O, U) in groups of four, "K7QM-2HXD-9RTA"
// (60 bits; single use and expiring, so guessing is hopeless).
Result<std::string> new_enrollment_code();

// The canonical form of a typed code: dashes and spaces dropped, upper case,
// O->0 and I/L->1 (Crockford). Empty if it cannot be a code.
std::string normalize_enrollment_code(std::string_view typed);

}  // namespace tandem::server
