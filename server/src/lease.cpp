#include "tandem/server/lease.hpp"

#include <charconv>

#include "tandem/core/excerpt.hpp"
#include "tandem/core/lease.hpp"

namespace tandem::server {

std::string lease_setting_key(std::string_view school) {
  return "lease_days:" + std::string(school);
}

Result<std::int64_t> school_lease_days(ServerStorage& storage, std::string_view school) {
  auto stored = storage.setting(lease_setting_key(school));
  if (!stored) return std::move(stored).error();
  if (!*stored) return kDefaultLeaseDays;
  std::int64_t days = 0;
  const std::string& text = **stored;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), days);
  if (ec != std::errc() || end != text.data() + text.size() || days < kMinLeaseDays ||
      days > kMaxLeaseDays)
    return kDefaultLeaseDays;
  return days;
}

Status set_school_lease_days(ServerStorage& storage, std::string_view school, std::int64_t days) {
  if (days < kMinLeaseDays || days > kMaxLeaseDays) {
    return make_error(ErrorCode::kInvalidValue, "the offline lease must be " +
                                                    std::to_string(kMinLeaseDays) + ".." +
                                                    std::to_string(kMaxLeaseDays) + " days");
  }
  auto record = storage.read_record(school);
  if (!record) return std::move(record).error();
  if (!*record || (*record)->kind != "school" || !(*record)->live())
    return make_error(ErrorCode::kNotFound, "no school '" + excerpt(school) + "'");
  return storage.set_setting(lease_setting_key(school), std::to_string(days));
}

}  // namespace tandem::server
