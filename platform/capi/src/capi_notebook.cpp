// tandem.h: the notebook (core/notebook.hpp, core/entries.hpp,
// core/local_time.hpp) — entries, summaries, names, actions, trees, times.
// Thin: every rule is core's; this file turns C into C++ and results into
// JSON text.
#include <cmath>

#include "capi_internal.hpp"
#include "tandem/core/entries.hpp"
#include "tandem/core/local_time.hpp"
#include "tandem/core/notebook.hpp"

namespace tandem::capi {
namespace {

std::string text_or_empty(const char* s) { return s != nullptr ? std::string(s) : std::string(); }

Json tree_json(const RecordTree& t) {
  Json j = t.record.to_json();
  if (t.record.kind == "session") j["entries"] = t.entries;
  Json children = Json::array();
  for (const RecordTree& c : t.children) children.push_back(tree_json(c));
  j["children"] = std::move(children);
  Json actions = Json::array();
  for (const Record& a : t.actions) actions.push_back(a.to_json());
  j["actions"] = std::move(actions);
  return j;
}

}  // namespace
}  // namespace tandem::capi

using namespace tandem;
using capi::guard;
using capi::need;

extern "C" {

char* tandem_entry_record(tandem_store* store, const tandem_entry* entry, tandem_error* err) {
  return guard<char*>(err, nullptr, [&]() -> Result<char*> {
    TANDEM_TRY(need(store, "store"));
    TANDEM_TRY(need(entry, "entry"));
    TANDEM_TRY(need(entry->session, "entry->session"));
    TANDEM_TRY(need(entry->type, "entry->type"));
    EntryInput in;
    in.session = entry->session;
    in.type = entry->type;
    in.text = capi::text_or_empty(entry->text);
    in.code = capi::text_or_empty(entry->code);
    if (entry->at_ms != 0) in.at_ms = entry->at_ms;
    if (entry->end_ms != 0) in.end_ms = entry->end_ms;
    if (in.type == "tick") in.interval = entry->interval;
    if (in.type == "tally") in.count = entry->count != 0 ? entry->count : 1;
    if (in.type == "rating") {
      if (!std::isfinite(entry->value)) return make_error(ErrorCode::kInvalidValue, "value must be a finite number");
      in.value = entry->value;
    }
    in.child = capi::text_or_empty(entry->child);
    in.group = capi::text_or_empty(entry->group);
    in.author = capi::text_or_empty(entry->author);
    Store& s = *store->store;
    auto id = record_entry(s, in, s.skew_clock().now_ms());
    if (!id) return std::move(id).error();
    return capi::dup(*id);
  });
}

char* tandem_summary_session(tandem_store* store, const char* session_id, tandem_error* err) {
  return guard<char*>(err, nullptr, [&]() -> Result<char*> {
    TANDEM_TRY(need(store, "store"));
    TANDEM_TRY(need(session_id, "session_id"));
    auto summary = summarize_session(*store->store, session_id);
    if (!summary) return std::move(summary).error();
    return capi::json_out(summary->to_json());
  });
}

char* tandem_summary_course(tandem_store* store, const char* course_id, tandem_error* err) {
  return guard<char*>(err, nullptr, [&]() -> Result<char*> {
    TANDEM_TRY(need(store, "store"));
    TANDEM_TRY(need(course_id, "course_id"));
    auto summary = summarize_course(*store->store, course_id);
    if (!summary) return std::move(summary).error();
    return capi::json_out(summary->to_json());
  });
}

char* tandem_reference_resolve(tandem_store* store, const char* kind, const char* text, tandem_error* err) {
  return guard<char*>(err, nullptr, [&]() -> Result<char*> {
    TANDEM_TRY(need(store, "store"));
    TANDEM_TRY(need(kind, "kind"));
    TANDEM_TRY(need(text, "text"));
    auto id = resolve_reference(*store->store, kind, text);
    if (!id) return std::move(id).error();
    return capi::dup(*id);
  });
}

char* tandem_reference_find(tandem_store* store, const char* kind, const char* text, tandem_error* err) {
  return guard<char*>(err, nullptr, [&]() -> Result<char*> {
    TANDEM_TRY(need(store, "store"));
    TANDEM_TRY(need(kind, "kind"));
    TANDEM_TRY(need(text, "text"));
    auto matches = find_references(*store->store, kind, text);
    if (!matches) return std::move(matches).error();
    Json out = Json::array();
    for (const ReferenceMatch& m : *matches) out.push_back(Json{{"id", m.id}, {"label", m.label}});
    return capi::json_out(out);
  });
}

char* tandem_actions_list(tandem_store* store, const char* person, bool overdue_only, tandem_error* err) {
  return guard<char*>(err, nullptr, [&]() -> Result<char*> {
    TANDEM_TRY(need(store, "store"));
    Store& s = *store->store;
    ActionQuery q;
    q.person = capi::text_or_empty(person);
    q.overdue_only = overdue_only;
    q.today = local_date(s.skew_clock().now_ms(), *s.host().zone);
    auto actions = open_actions(s, q);
    if (!actions) return std::move(actions).error();
    Json out = Json::array();
    for (const OpenAction& a : *actions) {
      const Json& f = a.record.fields;
      const std::string tovholder = f.value("tovholder", std::string());
      std::string holder_name;
      if (!tovholder.empty()) {
        if (auto p = s.get(tovholder); p && p->live()) holder_name = record_label(*p);
      }
      out.push_back(Json{{"id", a.record.id},
                         {"text", f.value("text", std::string())},
                         {"due", a.due.empty() ? Json(nullptr) : Json(a.due)},
                         {"overdue", a.overdue},
                         {"tovholder", tovholder.empty() ? Json(nullptr) : Json(tovholder)},
                         {"tovholder_name", holder_name.empty() ? Json(nullptr) : Json(holder_name)}});
    }
    return capi::json_out(out);
  });
}

char* tandem_record_tree(tandem_store* store, const char* id, tandem_error* err) {
  return guard<char*>(err, nullptr, [&]() -> Result<char*> {
    TANDEM_TRY(need(store, "store"));
    TANDEM_TRY(need(id, "id"));
    auto tree = record_tree(*store->store, id);
    if (!tree) return std::move(tree).error();
    return capi::json_out(capi::tree_json(*tree));
  });
}

char* tandem_time_format(tandem_store* store, int64_t utc_ms, tandem_error* err) {
  return guard<char*>(err, nullptr, [&]() -> Result<char*> {
    TANDEM_TRY(need(store, "store"));
    return capi::dup(format_local(utc_ms, *store->store->host().zone));
  });
}

bool tandem_time_parse(tandem_store* store, const char* text, int64_t* utc_ms, tandem_error* err) {
  return guard<bool>(err, false, [&]() -> Result<bool> {
    TANDEM_TRY(need(store, "store"));
    TANDEM_TRY(need(text, "text"));
    TANDEM_TRY(need(utc_ms, "utc_ms"));
    auto ms = parse_local(text, *store->store->host().zone);
    if (!ms) return std::move(ms).error();
    *utc_ms = *ms;
    return true;
  });
}

}  // extern "C"
