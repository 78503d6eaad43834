// GORP files to sessions and back (gorp_import.hpp has the rules).
#include "tandem/core/gorp_import.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "civil.hpp"
#include "tandem/core/entries.hpp"
#include "tandem/core/excerpt.hpp"
#include "tandem/core/schema.hpp"
#include "tandem/core/session_summary.hpp"
#include "tandem/core/templates.hpp"

namespace tandem::gorp {
namespace {

using detail::floor_div;
using detail::kMsPerDay;

constexpr std::string_view kNoGroup = "(no group)";
constexpr std::string_view kNotePrefix = "Notes-Comments-";

// Unix ms of `seconds` after local midnight of the day `base_local_ms` (a
// local date counted like Unix ms) in `zone`.
std::int64_t to_utc(std::int64_t base_local_ms, std::int64_t seconds, const TimeZone& zone) {
  const std::int64_t local = base_local_ms + seconds * 1000;
  return local - zone.offset_ms_at_local(local);
}

Result<std::int64_t> base_day(const ImportOptions& o, const TimeZone& zone) {
  const std::string date = o.date.empty() ? local_date(o.now_ms, zone) : o.date;
  if (!is_valid_date(date)) {
    return make_error(ErrorCode::kInvalidDate, excerpt(date) + " is not a date (YYYY-MM-DD)");
  }
  return parse_datetime_ms(date + "T00:00:00Z");  // the local midnight, counted as if UTC
}

// The codes of a given template: a template record, else a shipped one.
Result<std::set<std::string>> template_codes(const Store& store, const std::string& id) {
  auto record = store.get(id);
  if (!record.ok() && record.error().code != ErrorCode::kNotFound) return std::move(record).error();
  if (record.ok() && record->kind != "template") {
    return make_error(ErrorCode::kNotFound, "no template with id " + excerpt(id));
  }
  const TemplateInfo info = template_info(record.ok() ? &*record : nullptr, id);
  if (!record.ok() && find_builtin_template(id) == nullptr) {
    return make_error(ErrorCode::kNotFound, "no template with id " + excerpt(id));
  }
  auto scheme = parse_coding_scheme(info.definition);
  if (!scheme.ok()) return std::move(scheme).error();
  std::set<std::string> codes;
  for (const auto& c : scheme->codes) codes.insert(c.code);
  return codes;
}

Status check_known(const std::vector<Row>& rows, const std::set<std::string>& codes,
                   const std::string& template_id) {
  std::vector<std::string> unknown;
  std::set<std::string> seen;
  for (const Row& r : rows) {
    if (is_comment(split_event(r.event)) || codes.count(r.event) || !seen.insert(r.event).second) continue;
    unknown.push_back(r.event);
  }
  if (unknown.empty()) return {};
  std::string msg = std::to_string(unknown.size()) + " event" + (unknown.size() == 1 ? "" : "s") +
                    " not in template " + excerpt(template_id) + ", nothing imported: ";
  for (std::size_t i = 0; i < unknown.size() && i < kMaxReportedErrors; ++i) {
    msg += (i ? ", " : "") + excerpt(unknown[i]);
  }
  if (unknown.size() > kMaxReportedErrors) msg += ", ...";
  return make_error(ErrorCode::kInvalidValue, msg);
}

std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\r', ' ');
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

}  // namespace

Json ImportResult::to_json() const {
  return {{"session", session},
          {"entries", entries},
          {"notes", notes},
          {"codes", codes},
          {"course", course},
          {"course_created", course_created},
          {"template", template_id},
          {"template_created", template_created},
          {"started_at", format_datetime_ms(started_at)},
          {"ended_at", format_datetime_ms(ended_at)}};
}

Result<Json> template_definition(const std::vector<Row>& rows, std::string_view name) {
  Json codes = Json::array();
  Json categories = Json::array();
  std::set<std::string> seen;
  std::map<std::pair<std::string, std::string>, std::size_t> category_at;  // (Category, name) -> index
  for (const Row& r : rows) {
    const EventParts p = split_event(r.event);
    if (is_comment(p) || !seen.insert(r.event).second) continue;
    if (codes.size() >= kMaxTemplateCodes) {
      return make_error(ErrorCode::kTooLong, "more than " + std::to_string(kMaxTemplateCodes) +
                                                 " different events (a template's limit)");
    }
    codes.push_back({{"code", r.event},
                     {"group", p.category},
                     {"parts", {{"category", p.category}, {"group", p.group}, {"code", p.code}}}});
    const std::string cat = p.group.empty() ? std::string(kNoGroup) : p.group;
    auto [it, added] = category_at.try_emplace({p.category, cat}, categories.size());
    if (added) {
      if (categories.size() >= kMaxTemplateItems) {
        return make_error(ErrorCode::kTooLong, "more than " + std::to_string(kMaxTemplateItems) +
                                                   " different Category-Group pairs");
      }
      categories.push_back({{"name", cat}, {"group", p.category}, {"codes", Json::array()}});
    }
    categories[it->second]["codes"].push_back(r.event);
  }
  const std::string n(name);
  return Json{{"label", {{"da", "GORP-import: " + n}, {"en", "GORP import: " + n}}},
              {"source", "gorp"},
              {"codes", std::move(codes)},
              {"categories", std::move(categories)}};
}

Result<ImportResult> import_file(Store& store, std::string_view bytes, const ImportOptions& o) {
  const TimeZone& zone = o.zone ? *o.zone : copenhagen_zone();
  auto rows = parse_file(bytes);
  if (!rows.ok()) return std::move(rows).error();
  auto base = base_day(o, zone);
  if (!base.ok()) return std::move(base).error();
  const std::string name = o.name.empty() ? std::string("GORP") : o.name;

  ImportResult out;
  Json definition;
  if (!o.template_id.empty()) {
    auto known = template_codes(store, o.template_id);
    if (!known.ok()) return std::move(known).error();
    TANDEM_TRY(check_known(*rows, *known, o.template_id));
    out.template_id = o.template_id;
  } else {
    auto def = template_definition(*rows, name);
    if (!def.ok()) return std::move(def).error();
    definition = std::move(*def);
    TANDEM_TRY(validate_template({"gorp", "GORP: " + name, "event", 0, definition}));
  }
  if (!o.course.empty()) {
    auto course = get_of_kind(store, o.course, "course");
    if (!course.ok()) return std::move(course).error();
    out.course = course->id;
  }

  // The session's window: the event rows' (the comments' when only those).
  std::optional<std::int64_t> first, last;
  for (bool comments : {false, true}) {
    for (const Row& r : *rows) {
      if (is_comment(split_event(r.event)) != comments) continue;
      first = std::min(first.value_or(r.start_s), r.start_s);
      last = std::max(last.value_or(r.end_s), r.end_s);
    }
    if (first) break;
  }
  out.started_at = to_utc(*base, *first, zone);
  out.ended_at = to_utc(*base, *last, zone);

  Status written = store.transaction([&]() -> Status {
    if (out.course.empty()) {
      auto course = store.create("course", {{"kind", "observation"}, {"title", "GORP: " + name}});
      if (!course.ok()) return std::move(course).error();
      out.course = *course;
      out.course_created = true;
    }
    if (out.template_id.empty()) {
      auto t = store.create("template", {{"name", "GORP: " + name},
                                         {"kind", "event"},
                                         {"interval_seconds", 0},
                                         {"definition", definition}});
      if (!t.ok()) return std::move(t).error();
      out.template_id = *t;
      out.template_created = true;
    }
    auto session = store.create("session", {{"course", out.course},
                                            {"template", out.template_id},
                                            {"started_at", format_datetime_ms(out.started_at)},
                                            {"ended_at", format_datetime_ms(out.ended_at)}});
    if (!session.ok()) return std::move(session).error();
    out.session = *session;
    std::set<std::string> codes;
    for (const Row& r : *rows) {
      EntryInput in;
      in.session = out.session;
      in.at_ms = to_utc(*base, r.start_s, zone);
      if (is_comment(split_event(r.event))) {
        in.type = "note";
        in.text = r.event;
        ++out.notes;
      } else {
        in.type = "code";
        in.code = r.event;
        in.end_ms = to_utc(*base, r.end_s, zone);
        codes.insert(r.event);
      }
      auto entry = record_entry(store, in, o.now_ms);
      if (!entry.ok()) {
        Error e = std::move(entry).error();
        e.message = "line " + std::to_string(r.line) + ": " + e.message;
        return e;
      }
      ++out.entries;
    }
    out.codes = static_cast<std::int64_t>(codes.size());
    return {};
  });
  if (!written.ok()) return written.error();
  return out;
}

Result<ExportResult> export_session(const Store& store, std::string_view session_id,
                                    const TimeZone& zone) {
  auto session = get_of_kind(store, session_id, "session");
  if (!session.ok()) return std::move(session).error();
  auto entries = store.list_under("entry", session->id);
  if (!entries.ok()) return std::move(entries).error();

  struct Out {
    std::int64_t at = 0, end = 0;
    std::string event;
  };
  std::vector<Out> rows;
  ExportResult out;
  bool duration = false;
  for (const Record& e : *entries) {
    const std::string type = string_field(e.fields, "type");
    const std::optional<std::int64_t> at = time_field(e.fields, "at");
    if ((type != "code" && type != "note") || !at) {
      ++out.skipped;
      continue;
    }
    if (type == "code") {
      const std::optional<std::int64_t> end = time_field(e.fields, "end");
      duration = duration || end.has_value();
      rows.push_back({*at, std::max(end.value_or(*at), *at), string_field(e.fields, "code")});
    } else {
      std::string t = one_line(string_field(e.fields, "text"));  // text fields read as strings
      if (!is_comment(split_event(t))) t = std::string(kNotePrefix) + t;
      rows.push_back({*at, *at, std::move(t)});
    }
  }
  if (!duration) {
    return make_error(ErrorCode::kInvalidValue,
                      "session " + excerpt(session->id) + " has no timed codes (not duration-coded)");
  }
  std::sort(rows.begin(), rows.end(), [](const Out& a, const Out& b) {
    return std::tie(a.at, a.end, a.event) < std::tie(b.at, b.end, b.event);
  });

  // Seconds from local midnight of the first row's day.
  const std::int64_t first_local = rows.front().at + zone.offset_ms_at_utc(rows.front().at);
  const std::int64_t midnight = floor_div(first_local, kMsPerDay) * kMsPerDay;
  auto seconds = [&](std::int64_t utc) {
    return floor_div(utc + zone.offset_ms_at_utc(utc) - midnight, 1000);
  };
  out.csv = std::string(kHeader) + "\r\n";
  for (const Out& r : rows) {
    out.csv += csv_field(r.event) + "," + format_clock(seconds(r.at)) + "," +
               format_clock(seconds(r.end)) + "\r\n";
  }
  out.rows = static_cast<std::int64_t>(rows.size());

  // Read it back: the format has no dates, so what it cannot carry shows here.
  auto back = parse_file(out.csv);
  if (!back.ok()) {
    return make_error(ErrorCode::kInvalidValue,
                      "session cannot be written as GORP: " + back.error().message);
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& b = (*back)[i];
    if (b.start_s != seconds(rows[i].at) || b.end_s != seconds(rows[i].end)) {
      return make_error(ErrorCode::kInvalidValue,
                        "session cannot be written as GORP: times on more than one day, or an "
                        "event of more than 12 hours across midnight");
    }
  }
  return out;
}

}  // namespace tandem::gorp
