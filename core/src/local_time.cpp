// The shipped time zones and local date-time text. Europe/Copenhagen is the
// only rule Tandem needs (Danish schools); copenhagen_date() in schema.cpp is
// written over it.
#include "tandem/core/local_time.hpp"

#include <cstdio>

#include "civil.hpp"
#include "tandem/core/excerpt.hpp"
#include "tandem/core/schema.hpp"

namespace tandem {
namespace {

using detail::kMsPerDay;
using detail::kMsPerHour;

// 00:00 of the last Sunday of `month` in `year`, as ms counted from the epoch
// (1970-01-01 was a Thursday).
std::int64_t last_sunday_ms(int year, int month) {
  const std::int64_t last =
      detail::days_from_civil(year, month, detail::days_in_month(year, month));
  const std::int64_t weekday = ((last + 4) % 7 + 7) % 7;  // 0 = Sunday
  return (last - weekday) * kMsPerDay;
}

class UtcZone final : public TimeZone {
 public:
  std::string_view name() const override { return "UTC"; }
  std::int64_t offset_ms_at_utc(std::int64_t) const override { return 0; }
  std::int64_t offset_ms_at_local(std::int64_t) const override { return 0; }
};

class CopenhagenZone final : public TimeZone {
 public:
  std::string_view name() const override { return "Europe/Copenhagen"; }
  // Summer time from 01:00 UTC on the last Sunday of March to 01:00 UTC on the
  // last Sunday of October.
  std::int64_t offset_ms_at_utc(std::int64_t utc_ms) const override {
    const int y = detail::year_of_day(detail::floor_div(utc_ms, kMsPerDay));
    const bool summer =
        utc_ms >= last_sunday_ms(y, 3) + kMsPerHour && utc_ms < last_sunday_ms(y, 10) + kMsPerHour;
    return summer ? 2 * kMsPerHour : kMsPerHour;
  }
  // In wall-clock terms summer time runs from 03:00 (March) to 03:00
  // (October, the first 02:00-02:59 being summer time); the spring gap
  // 02:00-02:59 is read as winter time (see the header).
  std::int64_t offset_ms_at_local(std::int64_t local_ms) const override {
    const int y = detail::year_of_day(detail::floor_div(local_ms, kMsPerDay));
    const bool summer = local_ms >= last_sunday_ms(y, 3) + 3 * kMsPerHour &&
                        local_ms < last_sunday_ms(y, 10) + 3 * kMsPerHour;
    return summer ? 2 * kMsPerHour : kMsPerHour;
  }
};

// Fields of the local time of `utc_ms`.
struct LocalParts {
  int y = 0, m = 0, d = 0, h = 0, mi = 0;
};

LocalParts local_parts(std::int64_t utc_ms, const TimeZone& zone) {
  const std::int64_t local = utc_ms + zone.offset_ms_at_utc(utc_ms);
  const std::int64_t days = detail::floor_div(local, kMsPerDay);
  const std::int64_t rem = local - days * kMsPerDay;
  LocalParts p;
  detail::civil_from_days(days, p.y, p.m, p.d);
  p.h = static_cast<int>(rem / kMsPerHour);
  p.mi = static_cast<int>(rem / 60000 % 60);
  return p;
}

bool has_offset(std::string_view text) {
  if (text.empty()) return false;
  if (text.back() == 'Z') return true;
  // "+HH:MM" / "-HH:MM" after the time (the date's '-' are before index 10).
  return text.size() >= 6 && text.size() - 6 > 10 &&
         (text[text.size() - 6] == '+' || text[text.size() - 6] == '-');
}

}  // namespace

TimeZone::~TimeZone() = default;

const TimeZone& copenhagen_zone() {
  static const CopenhagenZone kZone;
  return kZone;
}

const TimeZone& utc_zone() {
  static const UtcZone kZone;
  return kZone;
}

const TimeZone* find_zone(std::string_view name) {
  if (name == utc_zone().name()) return &utc_zone();
  if (name == copenhagen_zone().name()) return &copenhagen_zone();
  return nullptr;
}

std::string format_local(std::int64_t utc_ms, const TimeZone& zone) {
  const LocalParts p = local_parts(utc_ms, zone);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d", p.y, p.m, p.d, p.h, p.mi);
  return buf;
}

std::string local_date(std::int64_t utc_ms, const TimeZone& zone) {
  const LocalParts p = local_parts(utc_ms, zone);
  char buf[24];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", p.y, p.m, p.d);
  return buf;
}

Result<std::int64_t> parse_local(std::string_view text, const TimeZone& zone) {
  if (has_offset(text)) return parse_datetime_ms(text);
  // The wall-clock time counted as if it were UTC, then moved by the offset.
  auto local = parse_datetime_ms(std::string(text) + "Z");
  if (!local) {
    return make_error(ErrorCode::kInvalidDate,
                      excerpt(text) + " is not a date and time (YYYY-MM-DD HH:MM)");
  }
  return *local - zone.offset_ms_at_local(*local);
}

}  // namespace tandem
