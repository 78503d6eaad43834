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
#include "tandem/core/session_summary.hpp"
#include "tandem/core/summary.hpp"
#include "tandem/core/templates.hpp"

namespace tandem::cli {
namespace {

struct SummaryOptions {
  std::string session;
  std::string course;
};

// The session's template: a template record here, else a shipped one.
TemplateInfo find_template(Store& store, const std::string& id) {
  if (id.empty()) return {};
  auto record = store.get(id);
  return template_info(record.ok() ? &*record : nullptr, id);
}

Result<SessionSummary> summarize(Store& store, const Record& session,
                                 const std::vector<Record>& all_entries) {
  std::vector<const Record*> entries;
  for (const Record& e : all_entries) {
    if (string_field(e.fields, "session") == session.id) entries.push_back(&e);
  }
  return summarize_session(session, entries,
                           find_template(store, string_field(session.fields, "template")));
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
    auto s = summarize(st, *session, *entries);
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
    auto s = summarize(st, session, *entries);
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
