// Error codes and the Result type used across Tandem.
//
// One list of stable codes, shared by the C++ API, the C API and the server's
// JSON errors ({"error":{"code":"...","message":"..."}}). Codes are never
// renumbered or reused; new ones are appended.
//
// Expected failures (not found, invalid input, I/O) are returned as values;
// exceptions are reserved for broken invariants and third-party code and are
// converted at module edges.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace tandem {

enum class ErrorCode : std::int32_t {
  kOk = 0,
  kInvalidArgument = 1,   // "invalid_argument": malformed request in general
  kNotFound = 2,          // "not_found": unknown id
  kUnknownKind = 3,       // "unknown_kind"
  kUnknownField = 4,      // "unknown_field"
  kWrongType = 5,         // "wrong_type": value of the wrong JSON type
  kInvalidValue = 6,      // "invalid_value": not one of the allowed values
  kInvalidDate = 7,       // "invalid_date": not a real calendar date / timestamp
  kInvalidUtf8 = 8,       // "invalid_utf8"
  kTooLong = 9,           // "too_long": text or collection over its limit
  kDeleted = 10,          // "deleted": the record has been deleted
  kPurged = 11,           // "purged": the record has been erased
  kClockSkew = 12,        // "clock_skew": a stamp too far ahead of local time
  kIo = 13,               // "io_error"
  kDiskFull = 14,         // "disk_full"
  kCorrupt = 15,          // "corrupt": database or bundle failed an integrity check
  kInvalidJson = 16,      // "invalid_json"
  kMissingField = 17,     // "missing_field": a required field is absent
  kUnsupportedVersion = 18,  // "unsupported_version": file from a newer Tandem
  kNoConflict = 19,       // "no_conflict": nothing to resolve on that field
  kWrongSchool = 20,      // "wrong_school": record belongs to another school
  kUnauthorized = 21,     // "unauthorized"
  kForbidden = 22,        // "forbidden"
  kPayloadTooLarge = 23,  // "payload_too_large"
  kTooManyChanges = 24,   // "too_many_changes"
  kTimeout = 25,          // "timeout"
  kNetwork = 26,          // "network"
  kServer = 27,           // "server_error"
  kBusy = 28,             // "busy": database locked by another writer
  kInternal = 29,         // "internal"
  kExpired = 30,          // "expired": enrollment code or token expired
  kAlreadyExists = 31,    // "already_exists"
  // Client side only: what a device says of a server's answer.
  kResponseTooLarge = 32,  // "response_too_large": answer over the client's cap, transfer aborted
  kBadResponse = 33,       // "bad_response": answer breaks the protocol (a number out of range, ...)
  // Server side: too many failures from one address.
  kRateLimited = 34,       // "rate_limited": too many failed attempts; retry later
  // Either side: text ops over a change's cost limits (text/limits.hpp).
  kTextTooLarge = 35,      // "text_too_large"
  // Client side: records left the device's scope while it holds unsent
  // edits of them that could not be pushed; nothing erased, all kept.
  kErasurePending = 36,    // "erasure_pending"
  // A name (person, group, child, course) that fits several records; the
  // message lists them. Use the id or a longer name.
  kAmbiguous = 37,         // "ambiguous"
  // The host cancelled the operation (sync); what was done is kept.
  kCancelled = 38,         // "cancelled"
  // Encryption at rest (issue 15). The key store has no key for this
  // encrypted database (a database copied to another user or machine).
  kKeyMissing = 39,        // "key_missing"
  // The key found does not open this database; nothing was changed.
  kWrongKey = 40,          // "wrong_key"
  // A page failed its authentication: the file was changed outside Tandem
  // (or damaged); the page is never returned as data.
  kTampered = 41,          // "tampered"
  // The server told this device to erase itself (lost tablet, revoke --wipe).
  kDeviceWiped = 42,       // "device_wiped"
  // The device has not reached its server for longer than its school's
  // offline lease: child-linked data is locked until it syncs.
  kLeaseExpired = 43,      // "lease_expired"
  // Plain HTTP to a host other than loopback without explicit permission.
  kInsecureTransport = 44, // "insecure_transport"
  // TLS: the server's certificate was not accepted (untrusted CA, wrong host,
  // expired or not yet valid on the device's corrected time) or no handshake.
  kCertificate = 45,       // "certificate"
};

// Stable text form of a code ("not_found", ...).
std::string_view error_code_name(ErrorCode code) noexcept;
// Inverse of error_code_name; kInternal for an unknown name.
ErrorCode error_code_from_name(std::string_view name) noexcept;

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;  // English, for logs and developers; never child data.
};

// A value or an Error. [[nodiscard]] so a failure cannot be ignored silently.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}             // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}         // NOLINT(google-explicit-constructor)
  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success carries nothing.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : e_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  bool ok() const noexcept { return !e_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  const Error& error() const& { return *e_; }
  Error&& error() && { return std::move(*e_); }

 private:
  std::optional<Error> e_;
};

using Status = Result<void>;

inline Error make_error(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

}  // namespace tandem

// Propagate an error from an expression returning Result<...>.
#define TANDEM_CONCAT_INNER_(a, b) a##b
#define TANDEM_CONCAT_(a, b) TANDEM_CONCAT_INNER_(a, b)
#define TANDEM_TRY(expr) TANDEM_TRY_IMPL_(expr, TANDEM_CONCAT_(tandem_try_r_, __COUNTER__))
#define TANDEM_TRY_IMPL_(expr, var)       \
  do {                                    \
    auto&& var = (expr);                  \
    if (!var.ok()) return var.error();    \
  } while (0)
