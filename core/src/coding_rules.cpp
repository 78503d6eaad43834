// Entries against their session's template (record_rules.hpp): the coding
// frame, the code and interval checks, and the closest codes an unknown code
// is answered with.
#include <algorithm>
#include <string>
#include <utility>

#include "fold.hpp"
#include "tandem/core/excerpt.hpp"
#include "tandem/core/record_rules.hpp"
#include "tandem/core/summary.hpp"
#include "text/utf8.hpp"

namespace tandem {
namespace {

using text::detail::utf8_code_points;

// Optimal string alignment distance: inserts, deletes, replacements and
// swaps of two neighbours cost one each. Past `limit` it stops and answers
// limit + 1 (only near codes are wanted).
std::size_t edit_distance(const std::u32string& a, const std::u32string& b, std::size_t limit) {
  const std::size_t gap = a.size() > b.size() ? a.size() - b.size() : b.size() - a.size();
  if (gap > limit) return limit + 1;
  std::vector<std::size_t> before(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    std::size_t row_min = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t replace = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, replace});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        cur[j] = std::min(cur[j], before[j - 2] + 1);
      }
      row_min = std::min(row_min, cur[j]);
    }
    if (row_min > limit) return limit + 1;
    before.swap(prev);
    prev.swap(cur);
  }
  return std::min(prev[b.size()], limit + 1);
}

// What follows the last '-' (the code without its namespace).
std::string_view last_part(std::string_view code) {
  const std::size_t dash = code.rfind('-');
  return dash == std::string_view::npos ? code : code.substr(dash + 1);
}

std::string quoted_list(const std::vector<std::string>& codes) {
  std::string out;
  for (std::size_t i = 0; i < codes.size(); ++i) {
    out += (i == 0 ? "" : i + 1 == codes.size() ? " or " : ", ") + escape_controls(codes[i]);
  }
  return out;
}

Error unknown(const char* what, const std::string& given, const CodingFrame& frame,
              const std::vector<std::string>& known) {
  std::string message = "unknown " + std::string(what) + " " + excerpt(given) + " in template " +
                        excerpt(frame.template_name);
  const auto near = closest_codes(given, known);
  if (!near.empty()) {
    message += ": did you mean " + quoted_list(near) + "?";
  } else {
    message += " (it has " + std::to_string(known.size()) + "; none is close)";
  }
  return make_error(ErrorCode::kInvalidValue, std::move(message));
}

}  // namespace

std::vector<std::string> closest_codes(std::string_view given, std::span<const std::string> known,
                                       std::size_t max) {
  const std::string wanted = detail::fold_case(given);
  const std::u32string wanted_cp = utf8_code_points(wanted);
  const std::size_t limit = std::max<std::size_t>(2, wanted_cp.size() / 3);
  std::vector<std::pair<std::size_t, std::size_t>> ranked;  // (rank, index in known)
  for (std::size_t i = 0; i < known.size(); ++i) {
    const std::string code = detail::fold_case(known[i]);
    if (code == wanted) {
      ranked.emplace_back(0, i);
    } else if (!last_part(wanted).empty() && last_part(code) == last_part(wanted)) {
      ranked.emplace_back(1, i);
    } else {
      const std::u32string code_cp = utf8_code_points(code);
      const std::size_t d = edit_distance(wanted_cp, code_cp, limit);
      // A code replaced whole is no suggestion ("xy" for "W").
      if (d <= limit && d < std::max(wanted_cp.size(), code_cp.size())) ranked.emplace_back(1 + d, i);
    }
  }
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (const auto& r : ranked) {
    // Only the case differs: that is the code meant, the rest is noise.
    if (out.size() >= max || (r.first > 0 && ranked.front().first == 0)) break;
    out.push_back(known[r.second]);
  }
  return out;
}

CodingFrame coding_frame(const Json& session_fields, const TemplateInfo& tmpl) {
  CodingFrame frame;
  frame.template_name = tmpl.name;
  auto scheme = parse_coding_scheme(tmpl.definition);
  auto ratings = parse_rating_items(tmpl.definition);
  if (!scheme.ok()) {
    frame.broken = std::move(scheme).error();
  } else if (!ratings.ok()) {
    frame.broken = std::move(ratings).error();
  } else {
    for (auto& c : scheme->codes) frame.codes.push_back(std::move(c.code));
    frame.ratings = std::move(*ratings);
  }
  const std::int64_t length = int_field(session_fields, "interval_seconds", tmpl.interval_seconds);
  const auto started = time_field(session_fields, "started_at");
  const auto ended = time_field(session_fields, "ended_at");
  if (started && ended) frame.interval_count = summary::interval_count(*started, *ended, length);
  return frame;
}

Status check_entry_coding(const Json& fields, const CodingFrame& frame) {
  const std::string type = string_field(fields, "type");
  if (type.empty() || type == "note") return {};
  const bool rating = type == "rating";
  const std::string code = string_field(fields, "code");
  if (is_blank(code)) {
    return make_error(ErrorCode::kMissingField, rating ? "a rating needs an item" : "a " + type + " needs a code");
  }
  if (frame.broken) {
    return make_error(frame.broken->code, "the session's template " + excerpt(frame.template_name) +
                                              " cannot be used: " + frame.broken->message);
  }
  if (rating) {
    const bool known = frame.ratings.empty() ||
                       std::any_of(frame.ratings.begin(), frame.ratings.end(),
                                   [&](const RatingItem& r) { return r.item == code; });
    if (!known) {
      std::vector<std::string> items;
      for (const RatingItem& r : frame.ratings) items.push_back(r.item);
      return unknown("rating item", code, frame, items);
    }
  } else if (!frame.codes.empty() &&
             std::find(frame.codes.begin(), frame.codes.end(), code) == frame.codes.end()) {
    return unknown("code", code, frame, frame.codes);
  }
  if (type != "tick") return {};
  const auto it = fields.find("interval");
  if (it == fields.end() || !it->is_number_integer()) {
    return make_error(ErrorCode::kMissingField, "a tick needs an interval");
  }
  const auto interval = it->get<std::int64_t>();
  if (interval < 0) {
    return make_error(ErrorCode::kInvalidValue, "interval " + std::to_string(interval) +
                                                    " is before the session: intervals count from 0");
  }
  if (frame.interval_count && interval >= *frame.interval_count) {
    const std::int64_t n = *frame.interval_count;
    return make_error(ErrorCode::kInvalidValue,
                      "interval " + std::to_string(interval) + " is past the session's end: it has " +
                          std::to_string(n) + " interval" + (n == 1 ? "" : "s") +
                          (n > 0 ? " (0-" + std::to_string(n - 1) + ")" : ""));
  }
  if (interval >= summary::kMaxIntervals) {
    return make_error(ErrorCode::kInvalidValue, "interval " + std::to_string(interval) +
                                                    " is past the longest observation (" +
                                                    std::to_string(summary::kMaxIntervals) + " intervals)");
  }
  return {};
}

}  // namespace tandem
