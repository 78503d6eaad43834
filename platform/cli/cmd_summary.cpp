// `tandem summary SESSION` and `tandem summary --course COURSE`: observation
// summaries (core: tandem/core/entries.hpp, which reads only the session's own
// entries) printed for people.
//
// Per session: the coding scheme and interval length come from the session's
// template (a template record, or a template Tandem ships) — the session's
// own interval_seconds wins. Ticks and code events give the interval summary
// (per code, per category with both normalisations, labelled); tallies and
// ratings their totals and means; notes are only counted. Without a
// started_at the session is taken to start at its first entry (reported as
// "started_at_assumed"). A duration-coded session also gets the share of
// time per code, group, category and GW (COPUS group work); interval
// summaries of COPUS sessions show GW as a share of intervals. A course summary gives every session's summary and
// the mean of the per-session percentages (not pooled counts).
#include <algorithm>
#include <cstdio>
#include <optional>

#include "commands.hpp"
#include "format.hpp"
#include "record_ops.hpp"
#include "tandem/core/entries.hpp"
#include "tandem/core/schema.hpp"

namespace tandem::cli {
namespace {

struct SummaryOptions {
  std::string session;
  std::string course;
};

std::string pct(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%5.1f %%", v);
  return buf;
}

std::string joined(const std::vector<std::string>& codes) {
  std::string out;
  for (const auto& c : codes) out += (out.empty() ? "" : ", ") + c;
  return out;
}

std::string minutes(std::int64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f min", static_cast<double>(ms) / 60000.0);
  return buf;
}

// Share of time of a duration-coded session (summary.hpp, "Time model").
std::string human_time(const summary::TimeSummary& t) {
  std::string out = "  andel af tiden (" + minutes(t.observed_ms) + " observeret";
  if (t.ignored_entries > 0) out += ", " + std::to_string(t.ignored_entries) + " uden for";
  if (t.clipped_entries > 0) out += ", " + std::to_string(t.clipped_entries) + " beskåret";
  out += ")\n";
  std::size_t width = 8;
  for (const auto& c : t.codes) width = std::max(width, utf8_length(c.code));
  for (const auto& c : t.categories) width = std::max(width, utf8_length(c.group + "/" + c.name));
  for (const auto& c : t.codes) {
    out += "    " + pad_right(c.code, width) + "  " + pct(c.percent_of_time) + "  " + minutes(c.ms) +
           " (" + std::to_string(c.entries) + ")\n";
  }
  if (!t.groups.empty()) out += "  gruppe:\n";
  for (const auto& g : t.groups) {
    out += "    " + pad_right(g.group, width) + "  " + pct(g.percent_of_time) + "  " + minutes(g.ms) + "\n";
  }
  if (!t.categories.empty()) out += "  kategori:\n";
  for (const auto& c : t.categories) {
    out += "    " + pad_right(c.group + "/" + c.name, width) + "  " + pct(c.percent_of_time) + "  " +
           minutes(c.ms) + "\n";
  }
  for (const auto& d : t.derived) {
    out += "  " + d.name + " (tid med gruppearbejde): " + pct(d.percent_of_time) + "  " +
           minutes(d.ms) + "\n";
  }
  return out;
}

std::string human(const SessionSummary& s) {
  std::string out = "Session " + s.session + ": " + std::to_string(s.entries) +
                    (s.entries == 1 ? " registrering, " : " registreringer, ") +
                    std::to_string(s.notes) + (s.notes == 1 ? " note\n" : " noter\n");
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
      out += "    " + pad_right(c.code, width) + "  " + pct(c.percent_of_intervals) + "  (" +
             std::to_string(c.intervals) + ")\n";
    }
    if (!iv.categories.empty()) {
      out += "  kategori: (a) andel af intervaller, (b) andel af gruppens markeringer\n";
      for (const auto& c : iv.categories) {
        out += "    " + pad_right(c.group + "/" + c.name, width) + "  (a) " +
               pct(c.percent_of_intervals) + "  (b) " + pct(c.percent_of_group_ticks) + "\n";
      }
    }
    for (const auto& d : iv.derived) {
      out += "  " + d.name + " (intervaller med " + joined(d.codes) + "): " +
             pct(d.percent_of_intervals) + "  (" + std::to_string(d.intervals) + ")\n";
    }
  } else if (!s.time) {
    out += "  ingen intervalopsummering: " + s.intervals_missing + "\n";
  }
  if (s.time) out += human_time(*s.time);
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
  if (!o.session.empty()) {
    auto s = summarize_session(**store, o.session);
    if (!s.ok()) return ctx.fail(s.error());
    return ctx.ok(s->to_json(), human(*s));
  }
  auto course_id = resolve_id(**store, "course", o.course);
  if (!course_id.ok()) return ctx.fail(course_id.error());
  auto course = summarize_course(**store, *course_id);
  if (!course.ok()) return ctx.fail(course.error());
  std::string text = "Forløb " + course->course + "\n";
  for (const SessionSummary& s : course->sessions) text += human(s);
  const summary::MeanSummary& mean = course->mean;
  text += "Gennemsnit over " + std::to_string(mean.observations_with_intervals) +
          " observationer (gennemsnit af procenter, ikke samlede tal)\n";
  for (const auto& c : mean.codes) {
    text += "    " + c.code + "  " + pct(c.mean_percent_of_intervals) + "\n";
  }
  for (const auto& c : mean.categories) {
    text += "    " + c.group + "/" + c.name + "  (a) " + pct(c.mean_percent_of_intervals) +
            "  (b) " + pct(c.mean_percent_of_group_ticks) + "\n";
  }
  return ctx.ok(course->to_json(), text);
}

}  // namespace

void register_summary_commands(CLI::App& app, CliContext& ctx) {
  const auto o = std::make_shared<SummaryOptions>();
  CLI::App* cmd = app.add_subcommand("summary", "Observation summary of a session or a course");
  cmd->add_option("session", o->session, "Session id");
  cmd->add_option("--course", o->course, "Summarise every session of this course (title or id)");
  cmd->callback([&ctx, o] { run_summary(ctx, *o); });
}

}  // namespace tandem::cli
