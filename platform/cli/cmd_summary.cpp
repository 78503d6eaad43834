// `tandem summary SESSION` and `tandem summary --course COURSE`: observation
// summaries (tandem/core/summary.hpp) over the entries recorded in sessions.
//
// Per session: the coding scheme and interval length come from the session's
// template (a template record, or a template Tandem ships) — the session's
// own interval_seconds wins. Ticks and code events give the interval summary
// (per code, per category with both normalisations, labelled); tallies and
// ratings their totals and means; notes are only counted. Without a
// started_at the session is taken to start at its first entry (reported as
// "started_at_assumed"). A course summary gives every session's summary and
// the mean of the per-session percentages (not pooled counts).
#include <algorithm>
#include <cstdio>
#include <optional>

#include "commands.hpp"
#include "record_ops.hpp"
#include "tandem/core/schema.hpp"
#include "tandem/core/summary.hpp"
#include "tandem/core/templates.hpp"

namespace tandem::cli {
namespace {

struct SummaryOptions {
  std::string session;
  std::string course;
};

struct SessionSummary {
  std::string session;
  std::int64_t entries = 0;
  std::int64_t notes = 0;
  bool started_at_assumed = false;
  std::optional<summary::IntervalSummary> intervals;  // when the session is interval-coded
  std::string intervals_missing;                      // why not, for display
  summary::TallyRatingSummary tallies;

  Json to_json() const {
    Json j = {{"session", session},
              {"entries", entries},
              {"notes", notes},
              {"started_at_assumed", started_at_assumed},
              {"intervals", intervals ? intervals->to_json() : Json(nullptr)},
              {"tallies_ratings", tallies.to_json()}};
    if (!intervals) j["intervals_missing"] = intervals_missing;
    return j;
  }
};

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

// The template a session names: a template record here, else a shipped one.
struct TemplateInfo {
  Json definition = Json::object();
  std::string kind;  // "interval" | "event" | "focus" | "reflection" | ""
  std::int64_t interval_seconds = 0;
};

TemplateInfo find_template(Store& store, const std::string& id) {
  TemplateInfo info;
  if (id.empty()) return info;
  if (auto record = store.get(id); record.ok() && record->kind == "template" && record->live()) {
    const auto def = record->fields.find("definition");
    if (def != record->fields.end() && def->is_object()) info.definition = *def;
    info.interval_seconds = int_field(record->fields, "interval_seconds", 0);
    info.kind = string_field(record->fields, "kind");
  } else if (const TemplateDef* builtin = find_builtin_template(id)) {
    info.definition = builtin->definition;
    info.kind = builtin->kind;
    info.interval_seconds = builtin->interval_seconds;
  }
  return info;
}

Result<SessionSummary> summarize_session(Store& store, const Record& session,
                                         const std::vector<Record>& all_entries) {
  SessionSummary out;
  out.session = session.id;
  const TemplateInfo tmpl = find_template(store, string_field(session.fields, "template"));
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
  for (const Record& e : all_entries) {
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
      obs.entries.push_back(end ? summary::Entry::span(code, *at, *end)
                                : summary::Entry::event(code, *at));
    } else if (type == "tally") {
      tallies.push_back({code, int_field(e.fields, "count", 1)});
    } else if (type == "rating") {
      const auto v = e.fields.find("value");
      if (v != e.fields.end() && v->is_number()) ratings.push_back({code, v->get<double>()});
    }
  }

  // An interval template's codes are ticked, not counted: only other
  // templates list their codes (with zeros) among the tallies.
  std::vector<std::string> code_order;
  if (tmpl.kind != "interval") {
    for (const auto& c : scheme->codes) code_order.push_back(c.code);
  }
  std::vector<std::string> item_order;
  for (const auto& r : *rating_items) item_order.push_back(r.item);
  out.tallies = summary::summarize_tallies_and_ratings(tallies, ratings, code_order, item_order);

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

std::string pct(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%5.1f %%", v);
  return buf;
}

// `label` padded with spaces to `width` code points (for aligned columns).
std::string pad(const std::string& label, std::size_t width) {
  const std::size_t n = utf8_length(label);
  return n >= width ? label : label + std::string(width - n, ' ');
}

std::string human(const SessionSummary& s) {
  std::string out = "Session " + s.session + ": " + std::to_string(s.entries) +
                    " registreringer, " + std::to_string(s.notes) + " noter\n";
  if (s.intervals) {
    const auto& iv = *s.intervals;
    out += "  " + std::to_string(iv.interval_count) + " intervaller à " +
           std::to_string(iv.interval_seconds) + " s";
    if (s.started_at_assumed) out += " (start = første registrering)";
    if (iv.ignored_entries > 0) out += ", " + std::to_string(iv.ignored_entries) + " uden for";
    if (iv.clipped_entries > 0) out += ", " + std::to_string(iv.clipped_entries) + " beskåret";
    out += "\n  kode: andel af intervaller (antal)\n";
    std::size_t width = 8;
    for (const auto& c : iv.codes) width = std::max(width, utf8_length(c.code));
    for (const auto& c : iv.categories)
      width = std::max(width, utf8_length(c.group + "/" + c.name));
    for (const auto& c : iv.codes) {
      out += "    " + pad(c.code, width) + "  " + pct(c.percent_of_intervals) + "  (" +
             std::to_string(c.intervals) + ")\n";
    }
    if (!iv.categories.empty()) {
      out += "  kategori: (a) andel af intervaller, (b) andel af gruppens markeringer\n";
      for (const auto& c : iv.categories) {
        out += "    " + pad(c.group + "/" + c.name, width) + "  (a) " +
               pct(c.percent_of_intervals) + "  (b) " + pct(c.percent_of_group_ticks) + "\n";
      }
    }
  } else {
    out += "  ingen intervalopsummering: " + s.intervals_missing + "\n";
  }
  for (const auto& t : s.tallies.tallies) {
    out += "  optælling " + t.code + ": " + std::to_string(t.total) + "\n";
  }
  for (const auto& r : s.tallies.ratings) {
    char buf[96];
    std::snprintf(buf, sizeof buf, ": n=%lld gennemsnit %.2f (%.2f-%.2f)\n",
                  static_cast<long long>(r.count), r.mean, r.min, r.max);
    out += "  vurdering " + r.item + buf;
  }
  return out;
}

int run_summary(CliContext& ctx, const SummaryOptions& o) {
  if (o.session.empty() == o.course.empty()) {
    return ctx.usage("give either a SESSION id or --course COURSE");
  }
  auto store = ctx.store();
  if (!store.ok()) return ctx.fail(store.error());
  Store& st = **store;
  auto entries = st.list("entry");
  if (!entries.ok()) return ctx.fail(entries.error());

  if (!o.session.empty()) {
    auto session = fetch_record(st, o.session, "session");
    if (!session.ok()) return ctx.fail(session.error());
    auto s = summarize_session(st, *session, *entries);
    if (!s.ok()) return ctx.fail(s.error());
    return ctx.ok(s->to_json(), human(*s));
  }

  auto course = fetch_record(st, o.course, "course");
  if (!course.ok()) return ctx.fail(course.error());
  auto sessions = st.list("session");
  if (!sessions.ok()) return ctx.fail(sessions.error());
  Json per_session = Json::array();
  std::vector<summary::IntervalSummary> interval_summaries;
  std::string text = "Forløb " + course->id + "\n";
  for (const Record& session : *sessions) {
    if (string_field(session.fields, "course") != course->id) continue;
    auto s = summarize_session(st, session, *entries);
    if (!s.ok()) return ctx.fail(s.error());
    per_session.push_back(s->to_json());
    if (s->intervals) interval_summaries.push_back(*s->intervals);
    text += human(*s);
  }
  const summary::MeanSummary mean = summary::mean_summary(interval_summaries);
  text += "Gennemsnit over " + std::to_string(mean.observations_with_intervals) +
          " observationer (gennemsnit af procenter, ikke samlede tal)\n";
  for (const auto& c : mean.codes) {
    text += "    " + c.code + "  " + pct(c.mean_percent_of_intervals) + "\n";
  }
  for (const auto& c : mean.categories) {
    text += "    " + c.group + "/" + c.name + "  (a) " + pct(c.mean_percent_of_intervals) +
            "  (b) " + pct(c.mean_percent_of_group_ticks) + "\n";
  }
  Json doc = {{"course", course->id}, {"sessions", per_session}, {"mean", mean.to_json()}};
  return ctx.ok(doc, text);
}

}  // namespace

void register_summary_commands(CLI::App& app, CliContext& ctx) {
  const auto o = std::make_shared<SummaryOptions>();
  CLI::App* cmd = app.add_subcommand("summary", "Observation summary of a session or a course");
  cmd->add_option("session", o->session, "Session id");
  cmd->add_option("--course", o->course, "Summarise every session of this course");
  cmd->callback([&ctx, o] { run_summary(ctx, *o); });
}

}  // namespace tandem::cli
