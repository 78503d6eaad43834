#include "tandem/core/error.hpp"

#include <array>

namespace tandem {
namespace {
constexpr std::array<std::string_view, 46> kNames = {
    "ok",           "invalid_argument", "not_found",         "unknown_kind",
    "unknown_field", "wrong_type",      "invalid_value",     "invalid_date",
    "invalid_utf8", "too_long",         "deleted",           "purged",
    "clock_skew",   "io_error",         "disk_full",         "corrupt",
    "invalid_json", "missing_field",    "unsupported_version", "no_conflict",
    "wrong_school", "unauthorized",     "forbidden",         "payload_too_large",
    "too_many_changes", "timeout",      "network",           "server_error",
    "busy",         "internal",         "expired",           "already_exists",
    "response_too_large", "bad_response", "rate_limited", "text_too_large",
    "erasure_pending", "ambiguous", "cancelled", "key_missing", "wrong_key",
    "tampered", "device_wiped", "lease_expired", "insecure_transport", "certificate",
};
}  // namespace

std::string_view error_code_name(ErrorCode code) noexcept {
  const auto i = static_cast<std::size_t>(code);
  return i < kNames.size() ? kNames[i] : std::string_view("internal");
}

ErrorCode error_code_from_name(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<ErrorCode>(i);
  }
  return ErrorCode::kInternal;
}

}  // namespace tandem
