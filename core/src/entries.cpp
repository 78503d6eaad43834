// Recording entries (the per-type rules) and summaries by session and course
// over indexed loading.
#include "tandem/core/entries.hpp"

#include <algorithm>

#include "tandem/core/excerpt.hpp"
#include "tandem/core/schema.hpp"

namespace tandem {
namespace {

Error belongs_to(const char* option, const char* type) {
  return make_error(ErrorCode::kInvalidArgument, std::string(option) + " goes with " + type);
}

// The session's template: a template record here, else a shipped one.
TemplateInfo find_template(const Store& store, const std::string& id) {
  if (id.empty()) return {};
  auto record = store.get(id);
  return template_info(record.ok() ? &*record : nullptr, id);
}

Result<SessionSummary> summarize_record(const Store& store, const Record& session) {
  auto entries = store.list_under("entry", session.id);
  if (!entries) return std::move(entries).error();
  std::vector<const Record*> refs;
  refs.reserve(entries->size());
  for (const Record& e : *entries) refs.push_back(&e);
  return summarize_session(session, refs,
                           find_template(store, string_field(session.fields, "template")));
}

}  // namespace

Result<std::string> record_entry(Store& store, const EntryInput& in, std::int64_t now_ms) {
  const std::string& t = in.type;
  if (std::find(std::begin(kEntryTypes), std::end(kEntryTypes), t) == std::end(kEntryTypes)) {
    return make_error(ErrorCode::kInvalidValue,
                      excerpt(t) + " is not an entry type (note, code, tick, tally, rating)");
  }
  if (in.interval && t != "tick") return belongs_to("interval", "tick");
  if (in.count && t != "tally") return belongs_to("count", "tally");
  if (in.value && t != "rating") return belongs_to("value", "rating");
  if (in.end_ms && t != "code") return belongs_to("end", "code");
  if (t == "tick" && !in.interval)
    return make_error(ErrorCode::kInvalidArgument, "a tick needs an interval");
  if (t == "rating" && !in.value)
    return make_error(ErrorCode::kInvalidArgument, "a rating needs a value");
  if (t == "note" && !in.code.empty()) return belongs_to("code", "code, tick, tally and rating");
  if (t != "note" && !in.text.empty()) return belongs_to("text", "note");

  Json fields = {
      {"session", in.session}, {"type", t}, {"at", format_datetime_ms(in.at_ms.value_or(now_ms))}};
  if (t == "note") {
    fields["text"] = in.text;
  } else {
    fields["code"] = in.code;
  }
  if (in.interval) fields["interval"] = *in.interval;
  if (t == "tally") fields["count"] = in.count.value_or(1);
  if (in.value) fields["value"] = *in.value;
  if (in.end_ms) fields["end"] = format_datetime_ms(*in.end_ms);
  if (!in.child.empty()) fields["child"] = in.child;
  if (!in.group.empty()) fields["group"] = in.group;
  if (!in.author.empty()) fields["author"] = in.author;
  return store.create("entry", fields);
}

Result<std::vector<std::string>> record_entries(Store& store, std::span<const EntryInput> inputs,
                                                std::int64_t now_ms) {
  if (inputs.empty()) return make_error(ErrorCode::kInvalidArgument, "no entry to record");
  if (inputs.size() > kMaxEntriesAtOnce) {
    return make_error(ErrorCode::kTooLong, "more than " + std::to_string(kMaxEntriesAtOnce) +
                                               " entries at once");
  }
  std::vector<std::string> ids;
  TANDEM_TRY(store.transaction([&]() -> Status {
    for (const EntryInput& in : inputs) {
      auto id = record_entry(store, in, now_ms);
      if (!id) return std::move(id).error();
      ids.push_back(std::move(*id));
    }
    return {};
  }));
  return ids;
}

Result<Record> get_of_kind(const Store& store, std::string_view id, std::string_view kind) {
  auto record = store.get(id);
  if (!record.ok()) return record;
  if (!kind.empty() && record->kind != kind) {
    return make_error(ErrorCode::kNotFound, "no " + std::string(kind) + " with id " + excerpt(id));
  }
  return record;
}

Result<SessionSummary> summarize_session(const Store& store, std::string_view session_id) {
  auto session = get_of_kind(store, session_id, "session");
  if (!session) return std::move(session).error();
  return summarize_record(store, *session);
}

Json CourseSummary::to_json() const {
  Json per_session = Json::array();
  for (const auto& s : sessions) per_session.push_back(s.to_json());
  return {{"course", course}, {"sessions", std::move(per_session)}, {"mean", mean.to_json()}};
}

Result<CourseSummary> summarize_course(const Store& store, std::string_view course_id) {
  auto course = get_of_kind(store, course_id, "course");
  if (!course) return std::move(course).error();
  auto sessions = store.list_under("session", course->id);
  if (!sessions) return std::move(sessions).error();
  CourseSummary out;
  out.course = course->id;
  std::vector<summary::IntervalSummary> intervals;
  for (const Record& session : *sessions) {
    auto s = summarize_record(store, session);
    if (!s) return std::move(s).error();
    if (s->intervals) intervals.push_back(*s->intervals);
    out.sessions.push_back(std::move(*s));
  }
  out.mean = summary::mean_summary(intervals);
  return out;
}

TemplateInfo session_template(const Store& store, const Record& session) {
  return find_template(store, string_field(session.fields, "template"));
}

}  // namespace tandem
