// Agreement of two recorded sessions (agreement.hpp): reading a session's
// entries and template codes from the Store into a Coding, and the JSON form
// of the result (stable member names: the CLI's --json contract).
#include <utility>

#include "tandem/core/agreement.hpp"
#include "tandem/core/entries.hpp"
#include "tandem/core/schema.hpp"
#include "tandem/core/templates.hpp"

namespace tandem::agreement {
namespace {

// A measure, or null and its reason under `<name>_undefined`.
void put(Json& j, const char* name, const std::optional<double>& v, std::string_view reason) {
  if (v) {
    j[name] = *v;
  } else {
    j[name] = nullptr;
    j[std::string(name) + "_undefined"] = reason;
  }
}

Json with_measures(Json j, const Counts& k, const Measures& m) {
  j["a"] = k.a;
  j["b"] = k.b;
  j["c"] = k.c;
  j["d"] = k.d;
  put(j, "jaccard", m.jaccard, m.jaccard_undefined);
  put(j, "kappa", m.kappa, m.kappa_undefined);
  put(j, "percent_agreement", m.percent_agreement, m.percent_undefined);
  return j;
}

Json optional_json(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }

Json side_json(const Side& s) {
  return {{"units", s.units},
          {"ignored_entries", s.ignored_entries},
          {"first_event",
           s.first_event_ms ? Json(format_datetime_ms(*s.first_event_ms)) : Json(nullptr)}};
}

// One session as a Coding. Interval-coded sessions take their interval count
// from the session summary, so that agreement and `summary` count alike.
Result<Coding> read_coding(const Store& store, std::string_view id) {
  auto session = get_of_kind(store, id, "session");
  if (!session) return std::move(session).error();
  auto records = store.list_under("entry", session->id);
  if (!records) return std::move(records).error();
  const TemplateInfo tmpl = session_template(store, *session);
  auto scheme = parse_coding_scheme(tmpl.definition);
  if (!scheme) return std::move(scheme).error();

  Coding c;
  for (const summary::CodeDef& d : scheme->codes) c.template_codes.push_back(d.code);
  c.interval_seconds = int_field(session->fields, "interval_seconds", tmpl.interval_seconds);
  bool ticks = false;
  std::vector<const Record*> refs;
  for (const Record& e : *records) {
    if (string_field(e.fields, "session") != session->id) continue;
    refs.push_back(&e);
    const std::string type = string_field(e.fields, "type");
    const std::string code = string_field(e.fields, "code");
    if (type == "tick") {
      ticks = true;
      c.entries.push_back(summary::Entry::tick(int_field(e.fields, "interval", -1), code));
    } else if (type == "code") {
      const std::optional<std::int64_t> at = time_field(e.fields, "at");
      if (!at) continue;  // cannot be placed in time
      const std::optional<std::int64_t> end = time_field(e.fields, "end");
      c.entries.push_back(end ? summary::Entry::span(code, *at, *end)
                              : summary::Entry::event(code, *at));
    }
  }
  if (ticks && c.interval_seconds > 0) {
    auto s = summarize_session(*session, refs, tmpl);
    if (!s) return std::move(s).error();
    if (s->intervals) c.interval_count = s->intervals->interval_count;
  }
  return c;
}

}  // namespace

Json Agreement::to_json() const {
  Json list = Json::array();
  for (const CodeAgreement& c : codes) {
    list.push_back(with_measures({{"code", c.code},
                                  {"in_first_template", c.in_first_template},
                                  {"in_second_template", c.in_second_template},
                                  {"used", c.used}},
                                 c.counts, c.measures));
  }
  Json all = with_measures({{"codes", overall.codes}}, overall.pooled, overall.measures);
  all["mean_jaccard"] = optional_json(overall.mean_jaccard);
  all["mean_kappa"] = optional_json(overall.mean_kappa);
  all["mean_percent_agreement"] = optional_json(overall.mean_percent_agreement);
  all["jaccard_codes"] = overall.jaccard_codes;
  all["kappa_codes"] = overall.kappa_codes;
  return {{"unit", unit == Unit::kSecond ? "second" : "interval"},
          {"unit_seconds", unit_seconds},
          {"units", units},
          {"first", side_json(first)},
          {"second", side_json(second)},
          {"codes", std::move(list)},
          {"overall", std::move(all)}};
}

Json SessionAgreement::to_json() const {
  Json j = agreement.to_json();
  j["first"]["session"] = first_session;
  j["second"]["session"] = second_session;
  return j;
}

Result<SessionAgreement> session_agreement(const Store& store, std::string_view first_id,
                                           std::string_view second_id) {
  auto first = read_coding(store, first_id);
  if (!first) return std::move(first).error();
  auto second = read_coding(store, second_id);
  if (!second) return std::move(second).error();
  auto a = compare(*first, *second);
  if (!a) return std::move(a).error();
  return SessionAgreement{std::string(first_id), std::string(second_id), std::move(a).value()};
}

}  // namespace tandem::agreement
