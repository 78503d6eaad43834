// GORP CSV reading and writing (gorp.hpp has the format and its rules).
#include "tandem/core/gorp.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>

#include "tandem/core/excerpt.hpp"
#include "tandem/core/schema.hpp"
#include "tandem/core/templates.hpp"

namespace tandem::gorp {
namespace {

constexpr std::int64_t kDay = 86400;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
           return lower(x) == lower(y);
         });
}

// The fields of one CSV line (RFC 4180 quoting, no line breaks inside);
// an error text when a quote is not closed or stray text follows one.
struct Fields {
  std::vector<std::string> values;
  std::string error;
};

Fields split_csv(std::string_view line) {
  Fields out;
  std::size_t i = 0;
  while (true) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::string value;
    if (i < line.size() && line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            value += '"';
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        value += line[i++];
      }
      if (!closed) {
        out.error = "a quoted field is not closed";
        return out;
      }
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i < line.size() && line[i] != ',') {
        out.error = "text after a quoted field";
        return out;
      }
      value = std::string(trim(value));
    } else {
      const std::size_t comma = std::min(line.find(',', i), line.size());
      value = std::string(trim(line.substr(i, comma - i)));
      i = comma;
    }
    out.values.push_back(std::move(value));
    if (i >= line.size()) return out;
    ++i;  // the comma
  }
}

// Splits `bytes` into lines at LF, CRLF or a bare CR; calls fn(number, line).
template <typename Fn>
void for_each_line(std::string_view bytes, Fn&& fn) {
  std::size_t number = 0;
  std::size_t i = 0;
  while (i < bytes.size()) {
    std::size_t j = i;
    while (j < bytes.size() && bytes[j] != '\n' && bytes[j] != '\r') ++j;
    if (!fn(++number, bytes.substr(i, j - i))) return;
    if (j < bytes.size() && bytes[j] == '\r' && j + 1 < bytes.size() && bytes[j + 1] == '\n') ++j;
    i = j + 1;
  }
}

bool digit_at(std::string_view s, std::size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; }

}  // namespace

EventParts split_event(std::string_view event) {
  EventParts p;
  const std::size_t first = event.find('-');
  p.category = std::string(trim(event.substr(0, first)));
  if (first == std::string_view::npos) return p;
  const std::size_t second = event.find('-', first + 1);
  p.group = std::string(trim(event.substr(first + 1, second == std::string_view::npos
                                                          ? std::string_view::npos
                                                          : second - first - 1)));
  if (second != std::string_view::npos) p.code = std::string(trim(event.substr(second + 1)));
  return p;
}

bool is_comment(const EventParts& parts) { return iequals(parts.group, kCommentsGroup); }

Result<std::int64_t> parse_clock(std::string_view text) {
  const std::string_view s = trim(text);
  auto bad = [&] {
    return make_error(ErrorCode::kInvalidDate,
                      excerpt(s) + " is not a 12-hour time like 10:46:29 AM");
  };
  std::size_t i = 0;
  int h = 0;
  while (digit_at(s, i) && i < 2) h = h * 10 + (s[i++] - '0');
  if (i == 0 || i >= s.size() || s[i] != ':') return bad();
  if (!digit_at(s, i + 1) || !digit_at(s, i + 2) || i + 3 >= s.size() || s[i + 3] != ':' ||
      !digit_at(s, i + 4) || !digit_at(s, i + 5)) {
    return bad();
  }
  const int m = (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
  const int sec = (s[i + 4] - '0') * 10 + (s[i + 5] - '0');
  const std::string_view suffix = trim(s.substr(i + 6));
  const bool am = iequals(suffix, "AM");
  if ((!am && !iequals(suffix, "PM")) || h < 1 || h > 12 || m > 59 || sec > 59) return bad();
  const int h24 = (h % 12) + (am ? 0 : 12);
  return static_cast<std::int64_t>(h24) * 3600 + m * 60 + sec;
}

std::string format_clock(std::int64_t seconds) {
  const std::int64_t s = ((seconds % kDay) + kDay) % kDay;
  const auto h = static_cast<int>(s / 3600);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%d:%02d:%02d %s", h % 12 == 0 ? 12 : h % 12,
                static_cast<int>(s / 60 % 60), static_cast<int>(s % 60), h < 12 ? "AM" : "PM");
  return buf;
}

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

Result<std::vector<Row>> parse_file(std::string_view bytes) {
  if (bytes.size() > kMaxFileBytes) {
    return make_error(ErrorCode::kTooLong, "GORP file larger than " +
                                               std::to_string(kMaxFileBytes / (1024 * 1024)) + " MiB");
  }
  if (!is_valid_utf8(bytes)) return make_error(ErrorCode::kInvalidUtf8, "GORP file is not valid UTF-8");
  if (bytes.substr(0, 3) == "\xEF\xBB\xBF") bytes.remove_prefix(3);

  std::vector<Row> rows;
  std::vector<std::string> errors;
  std::size_t bad_rows = 0;
  auto bad = [&](std::size_t line, const std::string& why) {
    if (++bad_rows <= kMaxReportedErrors) errors.push_back("line " + std::to_string(line) + ": " + why);
    return true;  // go on: every bad row is reported
  };
  bool header_seen = false;
  bool too_many = false;
  std::optional<Error> header_error;
  std::optional<std::int64_t> prev_start;
  std::int64_t day = 0;
  for_each_line(bytes, [&](std::size_t number, std::string_view line) {
    if (trim(line).empty()) return true;
    if (line.size() > kMaxLineBytes && !header_seen) {
      header_error = make_error(ErrorCode::kTooLong, "line " + std::to_string(number) + ": too long for a header");
      return false;
    }
    if (line.size() > kMaxLineBytes) {
      return bad(number, "longer than " + std::to_string(kMaxLineBytes) + " bytes");
    }
    const Fields f = split_csv(line);
    if (!header_seen) {
      header_seen = true;
      const bool ok = f.error.empty() && f.values.size() == 3 && iequals(f.values[0], "Event") &&
                      iequals(f.values[1], "Time Start") && iequals(f.values[2], "Time End");
      if (!ok) {
        header_error = make_error(ErrorCode::kInvalidValue, "line " + std::to_string(number) +
                                                                ": expected the header " +
                                                                std::string(kHeader));
        return false;
      }
      return true;
    }
    if (rows.size() + bad_rows >= kMaxRows) {
      too_many = true;
      return false;
    }
    if (!f.error.empty()) return bad(number, f.error);
    std::vector<std::string> values = f.values;
    if (values.size() > 3 && trim(line).front() != '"') {
      // An unquoted event holding commas: the last two fields are the times.
      const std::size_t end_comma = line.rfind(',');
      const std::size_t start_comma = line.rfind(',', end_comma - 1);
      values = {std::string(trim(line.substr(0, start_comma))), values[values.size() - 2], values.back()};
    }
    if (values.size() != 3) {
      return bad(number, "expected 3 fields (" + std::string(kHeader) + "), found " +
                             std::to_string(values.size()));
    }
    Row row;
    row.line = number;
    row.event = values[0];
    if (row.event.empty()) return bad(number, "empty event");
    if (!is_comment(split_event(row.event)) && utf8_length(row.event) > kMaxCodeLength) {
      return bad(number, "event longer than " + std::to_string(kMaxCodeLength) + " characters");
    }
    auto start = parse_clock(values[1]);
    if (!start) return bad(number, "Time Start: " + start.error().message);
    auto end = parse_clock(values[2]);
    if (!end) return bad(number, "Time End: " + end.error().message);
    row.start_s = day * kDay + *start;
    if (prev_start && row.start_s < *prev_start - kMaxEventSeconds) {
      ++day;  // back by more than 12 hours: past midnight
      row.start_s += kDay;
    }
    prev_start = row.start_s;
    row.end_s = (row.start_s / kDay) * kDay + *end;
    if (row.end_s < row.start_s - kMaxEventSeconds) {
      row.end_s += kDay;  // an event across midnight
    } else if (row.end_s < row.start_s) {
      return bad(number, "Time End is before Time Start");
    }
    rows.push_back(std::move(row));
    return true;
  });
  if (header_error) return *header_error;
  if (too_many) {
    return make_error(ErrorCode::kTooLong, "GORP file has more than " + std::to_string(kMaxRows) + " rows");
  }
  if (!header_seen) {
    return make_error(ErrorCode::kInvalidValue, "empty file: expected the header " + std::string(kHeader));
  }
  if (bad_rows > 0) {
    std::string msg = std::to_string(bad_rows) + " bad row" + (bad_rows == 1 ? "" : "s") +
                      ", nothing imported: ";
    for (std::size_t i = 0; i < errors.size(); ++i) msg += (i ? "; " : "") + errors[i];
    if (bad_rows > errors.size()) msg += "; and " + std::to_string(bad_rows - errors.size()) + " more";
    return make_error(ErrorCode::kInvalidValue, msg);
  }
  if (rows.empty()) return make_error(ErrorCode::kInvalidValue, "no events after the header");
  std::int64_t first = rows.front().start_s, last = rows.front().end_s;
  for (const Row& r : rows) {
    first = std::min(first, r.start_s);
    last = std::max(last, r.end_s);
  }
  if (last - first > kMaxSpanSeconds) {
    return make_error(ErrorCode::kInvalidValue, "the rows span more than 24 hours (GORP times have no dates)");
  }
  return rows;
}

}  // namespace tandem::gorp
