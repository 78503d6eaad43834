// `tandem record SESSION ...`: recording during a session. Each code becomes
// one `entry` record (entries are append-only: concurrent recording on several
// tablets never conflicts), stamped with the current time unless --at:
//   record SESSION --note TEXT
//   record SESSION --code CODE [--end ISO]          (event; with --end a duration)
//   record SESSION --tick CODE --interval N         (interval coding, 0-based)
//   record SESSION --tally CODE [--count N]         (default 1; negative undoes)
//   record SESSION --rating ITEM --value X
// common: [--at TIME] [--child NAME|ID] [--group NAME|ID] [--author NAME|ID]
// --code, --tick and --tally take several codes, comma-separated or repeated
// (`--tick I-Lec,S-L --tick S-WG --interval 3`): one entry each, all saved in
// one transaction or none. Times without an offset are local time (--tz). The
// rules are core's (tandem/core/entries.hpp, record_rules.hpp: codes of the
// session's template, intervals within the session, an end not before its
// start); this file turns options into their input.
#include "commands.hpp"
#include "record_ops.hpp"
#include "tandem/core/entries.hpp"
#include "value_parse.hpp"

namespace tandem::cli {
namespace {

struct EntryOptions {
  std::string session;
  std::string note, rating;
  std::vector<std::string> code, tick, tally;  // split at commas
  std::string at, end, interval, count, value;
  std::string child, group, author;
};

// The text of option `name` parsed as the entry field of that name
// (wrong_type and the schema's other codes, like `new entry` would give).
template <typename T>
Status typed(const char* name, const std::string& text, std::optional<T>& out) {
  const FieldSpec* field = find_kind("entry")->field(name);
  auto value = parse_field_text(*field, text);
  if (!value.ok()) return std::move(value).error();
  out = value->template get<T>();
  return {};
}

// The codes of repeated, comma-split options, blanks around each trimmed,
// empty ones dropped ("I-Lec, S-L," is two). None left: one empty code, for
// core to refuse with its own message.
std::vector<std::string> code_list(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const std::string& item : items) {
    const std::size_t first = item.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    out.push_back(item.substr(first, item.find_last_not_of(" \t") - first + 1));
  }
  if (out.empty()) out.emplace_back();
  return out;
}

Status local_time(CliContext& ctx, const std::string& text, std::optional<std::int64_t>& out) {
  auto ms = parse_local(text, ctx.zone());
  if (!ms.ok()) return std::move(ms).error();
  out = *ms;
  return {};
}

int run_record(CliContext& ctx, const CLI::App& cmd, const EntryOptions& o) {
  const auto given = [&cmd](const char* name) { return cmd.count(name) > 0; };
  const char* const kTypes[] = {"--note", "--code", "--tick", "--tally", "--rating"};
  const char* type = nullptr;
  for (const char* t : kTypes) {
    if (!given(t)) continue;
    if (type != nullptr) return ctx.usage(std::string("give only one of ") + type + " and " + t);
    type = t;
  }
  if (type == nullptr) return ctx.usage("give one of --note, --code, --tick, --tally, --rating");
  EntryInput in;
  in.type = type + 2;  // "note", "code", ...
  in.session = o.session;
  std::vector<std::string> codes;
  if (in.type == "note") {
    in.text = o.note;
  } else if (in.type == "rating") {
    in.code = o.rating;
  } else {
    codes = code_list(in.type == "code" ? o.code : in.type == "tick" ? o.tick : o.tally);
  }
  Status parsed;
  if (parsed.ok() && given("--interval")) parsed = typed("interval", o.interval, in.interval);
  if (parsed.ok() && given("--count")) parsed = typed("count", o.count, in.count);
  if (parsed.ok() && given("--value")) parsed = typed("value", o.value, in.value);
  if (parsed.ok() && given("--at")) parsed = local_time(ctx, o.at, in.at_ms);
  if (parsed.ok() && given("--end")) parsed = local_time(ctx, o.end, in.end_ms);
  if (!parsed.ok()) return ctx.fail(parsed.error());
  auto store = ctx.store();
  if (!store.ok()) return ctx.fail(store.error());
  const std::pair<const std::string*, std::string*> refs[] = {
      {&o.child, &in.child}, {&o.group, &in.group}, {&o.author, &in.author}};
  const char* const ref_kinds[] = {"child", "group", "person"};
  for (std::size_t i = 0; i < 3; ++i) {
    if (refs[i].first->empty()) continue;
    auto id = resolve_id(**store, ref_kinds[i], *refs[i].first);
    if (!id.ok()) return ctx.fail(id.error());
    *refs[i].second = *id;
  }
  std::vector<EntryInput> inputs;
  if (codes.empty()) inputs.push_back(in);
  for (std::string& code : codes) {
    inputs.push_back(in);
    inputs.back().code = std::move(code);
  }
  auto created = record_entries(**store, inputs, ctx.now_ms());
  if (!created.ok()) {
    // An option of another type is a command-line mistake.
    if (created.error().code == ErrorCode::kInvalidArgument)
      return ctx.usage(created.error().message);
    return ctx.fail(created.error());
  }
  return report_created(ctx, **store, "entry", *created);
}

}  // namespace

void register_entry_commands(CLI::App& app, CliContext& ctx) {
  const auto o = std::make_shared<EntryOptions>();
  CLI::App* cmd = app.add_subcommand(
      "record", "Record an entry in a session (note, code, tick, tally or rating)");
  cmd->add_option("session", o->session, "Session id")->required();
  cmd->add_option("--note", o->note, "Free-text note");
  cmd->add_option("--code", o->code, "Event code (e.g. I-PQ); several: I-PQ,S-AnQ or repeated")
      ->delimiter(',');
  cmd->add_option("--tick", o->tick,
                  "Interval code ticked (needs --interval); several: I-Lec,S-L or repeated")
      ->delimiter(',');
  cmd->add_option("--tally", o->tally, "Tally counter code; several: comma-separated or repeated")
      ->delimiter(',');
  cmd->add_option("--rating", o->rating, "Rating item (needs --value)");
  cmd->add_option(
      "--at", o->at,
      "Time of the entry, YYYY-MM-DD HH:MM local (--tz) or ISO 8601 with offset (default: now)");
  cmd->add_option("--end", o->end, "End of a duration event (like --at)");
  cmd->add_option("--interval", o->interval, "0-based interval index for --tick");
  cmd->add_option("--count", o->count, "Amount for --tally (default 1)");
  cmd->add_option("--value", o->value, "Value for --rating");
  cmd->add_option("--child", o->child, "Child the entry is about (pseudonym or id)");
  cmd->add_option("--group", o->group, "Group the entry is about (name or id)");
  cmd->add_option("--author", o->author, "Person who recorded it (name, initials or id)");
  cmd->callback([&ctx, cmd, o] { run_record(ctx, *cmd, *o); });
}

}  // namespace tandem::cli
