#include "tandem/core/session_summary.hpp"

#include "tandem/core/schema.hpp"
#include "tandem/core/templates.hpp"

namespace tandem {

Json SessionSummary::to_json() const {
  Json j = {{"session", session},
            {"entries", entries},
            {"notes", notes},
            {"started_at_assumed", started_at_assumed},
            {"intervals", intervals ? intervals->to_json() : Json(nullptr)},
            {"tallies_ratings", tallies.to_json()}};
  if (!intervals) j["intervals_missing"] = intervals_missing;
  j["time"] = time ? time->to_json() : Json(nullptr);
  return j;
}

std::optional<std::int64_t> time_field(const Json& fields, const char* name) {
  const auto it = fields.find(name);
  if (it == fields.end() || !it->is_string()) return std::nullopt;
  auto ms = parse_datetime_ms(it->get<std::string>());
  if (!ms.ok()) return std::nullopt;
  return *ms;
}

std::int64_t int_field(const Json& fields, const char* name, std::int64_t fallback) {
  const auto it = fields.find(name);
  return it != fields.end() && it->is_number_integer() ? it->get<std::int64_t>() : fallback;
}

std::string string_field(const Json& fields, const char* name) {
  const auto it = fields.find(name);
  return it != fields.end() && it->is_string() ? it->get<std::string>() : std::string();
}

TemplateInfo template_info(const Record* record, std::string_view id) {
  TemplateInfo info;
  if (record && record->kind == "template" && record->live()) {
    const auto def = record->fields.find("definition");
    if (def != record->fields.end() && def->is_object()) info.definition = *def;
    info.interval_seconds = int_field(record->fields, "interval_seconds", 0);
    info.kind = string_field(record->fields, "kind");
    info.name = string_field(record->fields, "name");
  } else if (const TemplateDef* builtin = id.empty() ? nullptr : find_builtin_template(id)) {
    info.definition = builtin->definition;
    info.kind = builtin->kind;
    info.interval_seconds = builtin->interval_seconds;
    info.name = builtin->name;
  }
  return info;
}

Result<SessionSummary> summarize_session(const Record& session, std::span<const Record* const> entries,
                                         const TemplateInfo& tmpl) {
  SessionSummary out;
  out.session = session.id;
  auto scheme = parse_coding_scheme(tmpl.definition);
  if (!scheme.ok()) return std::move(scheme).error();
  auto rating_items = parse_rating_items(tmpl.definition);
  if (!rating_items.ok()) return std::move(rating_items).error();

  summary::Observation obs;
  obs.interval_seconds = int_field(session.fields, "interval_seconds", tmpl.interval_seconds);
  obs.ended_at = time_field(session.fields, "ended_at");
  std::optional<std::int64_t> start = time_field(session.fields, "started_at");
  std::optional<std::int64_t> first_at;
  std::vector<summary::TallyEntry> tallies;
  std::vector<summary::RatingEntry> ratings;
  bool interval_coded = false;
  bool duration_coded = false;
  for (const Record* ep : entries) {
    const Record& e = *ep;
    if (string_field(e.fields, "session") != session.id) continue;
    ++out.entries;
    const std::string type = string_field(e.fields, "type");
    const std::string code = string_field(e.fields, "code");
    const std::optional<std::int64_t> at = time_field(e.fields, "at");
    if (at && (!first_at || *at < *first_at)) first_at = at;
    if (type == "note") {
      ++out.notes;
    } else if (type == "tick") {
      interval_coded = true;
      obs.entries.push_back(summary::Entry::tick(int_field(e.fields, "interval", -1), code));
    } else if (type == "code") {
      interval_coded = true;
      if (!at) continue;  // an event without a time cannot be placed
      const std::optional<std::int64_t> end = time_field(e.fields, "end");
      duration_coded = duration_coded || end.has_value();
      obs.entries.push_back(end ? summary::Entry::span(code, *at, *end) : summary::Entry::event(code, *at));
    } else if (type == "tally") {
      tallies.push_back({code, int_field(e.fields, "count", 1)});
    } else if (type == "rating") {
      const auto v = e.fields.find("value");
      if (v != e.fields.end() && v->is_number()) ratings.push_back({code, v->get<double>()});
    }
  }

  // An interval template's codes are ticked, not counted, and a
  // duration-coded session's are timed: only other sessions list their
  // template's codes (with zeros) among the tallies.
  std::vector<std::string> code_order;
  if (tmpl.kind != "interval" && !duration_coded) {
    for (const auto& c : scheme->codes) code_order.push_back(c.code);
  }
  std::vector<std::string> item_order;
  for (const auto& r : *rating_items) item_order.push_back(r.item);
  out.tallies = summary::summarize_tallies_and_ratings(tallies, ratings, code_order, item_order);

  if (duration_coded) {
    summary::Observation timed = obs;
    timed.started_at = start ? *start : *first_at;  // a code with an end has a time
    out.started_at_assumed = !start.has_value();
    auto t = summary::summarize_time(timed, *scheme);
    if (!t.ok()) return std::move(t).error();
    out.time = std::move(t).value();
  }
  if (!interval_coded) {
    out.intervals_missing = "no ticks or codes recorded";
  } else if (obs.interval_seconds <= 0) {
    out.intervals_missing = "no interval length (session or template interval_seconds)";
  } else if (!start && !first_at) {
    out.intervals_missing = "no started_at and no timed entries";
  } else {
    out.started_at_assumed = !start.has_value();
    obs.started_at = start ? *start : *first_at;
    auto s = summary::summarize_intervals(obs, *scheme);
    if (!s.ok()) return std::move(s).error();
    out.intervals = std::move(s).value();
  }
  return out;
}

}  // namespace tandem
