#include "tandem/core/consent.hpp"

#include <algorithm>
#include <set>

namespace tandem {
namespace {

std::string text_field(const Json& fields, const char* name) {
  const auto it = fields.find(name);
  return it != fields.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The record `id` when this replica holds it live; nullopt when it does not
// (unknown here, deleted, purged). Other errors pass.
Result<std::optional<Record>> live_record(const Store& store, const std::string& id) {
  if (id.empty()) return std::optional<Record>();
  auto record = store.get(id);
  if (!record) {
    if (record.error().code == ErrorCode::kNotFound) return std::optional<Record>();
    return std::move(record).error();
  }
  if (!record->live()) return std::optional<Record>();
  return std::optional<Record>(std::move(record).value());
}

// Whether one of the course's people is an external (people are reference
// data: every device holds them).
Result<bool> course_has_external(const Store& store, const Record& course) {
  std::vector<std::string> people;
  if (const auto it = course.fields.find("participants");
      it != course.fields.end() && it->is_array()) {
    for (const Json& p : *it)
      if (p.is_string()) people.push_back(p.get<std::string>());
  }
  people.push_back(text_field(course.fields, "tovholder"));
  for (const std::string& id : people) {
    auto person = live_record(store, id);
    if (!person) return std::move(person).error();
    if (*person && (*person)->kind == "person" &&
        text_field((*person)->fields, "role") == "external")
      return true;
  }
  return false;
}

}  // namespace

std::string_view consent_status_name(ConsentStatus status) noexcept {
  switch (status) {
    case ConsentStatus::kInForce:
      return "in_force";
    case ConsentStatus::kNotYet:
      return "not_yet";
    case ConsentStatus::kWithdrawn:
      return "withdrawn";
  }
  return "withdrawn";
}

ConsentStatus consent_status(std::string_view given_on, std::string_view withdrawn_on,
                             std::string_view day) noexcept {
  // Withdrawal wins: a consent withdrawn before it was to start never starts.
  if (!withdrawn_on.empty() && withdrawn_on <= day) return ConsentStatus::kWithdrawn;
  if (given_on.empty() || day < given_on) return ConsentStatus::kNotYet;
  return ConsentStatus::kInForce;
}

Json ConsentState::to_json() const {
  Json out = {{"id", id},
              {"child", child},
              {"scope", scope},
              {"given_on", given_on},
              {"state", consent_status_name(status)}};
  if (!withdrawn_on.empty()) out["withdrawn_on"] = withdrawn_on;
  return out;
}

ConsentState consent_state(const Record& consent, std::string_view day) {
  ConsentState s;
  s.id = consent.id;
  s.child = text_field(consent.fields, "child");
  s.scope = text_field(consent.fields, "scope");
  s.given_on = text_field(consent.fields, "given_on");
  s.withdrawn_on = text_field(consent.fields, "withdrawn_on");
  s.status =
      consent.live() ? consent_status(s.given_on, s.withdrawn_on, day) : ConsentStatus::kWithdrawn;
  return s;
}

Result<std::vector<ConsentState>> consents_of_child(const Store& store, std::string_view child,
                                                    std::string_view day) {
  auto records = store.list("consent");
  if (!records) return std::move(records).error();
  std::vector<ConsentState> out;
  for (const Record& r : *records) {
    if (text_field(r.fields, "child") == child) out.push_back(consent_state(r, day));
  }
  return out;  // list() is sorted by id
}

Result<std::vector<std::string>> scopes_in_force(const Store& store, std::string_view child,
                                                 std::string_view day) {
  auto consents = consents_of_child(store, child, day);
  if (!consents) return std::move(consents).error();
  std::set<std::string> scopes;
  for (const ConsentState& c : *consents)
    if (c.in_force()) scopes.insert(c.scope);
  return std::vector<std::string>(scopes.begin(), scopes.end());
}

std::string_view consent_scope_for(std::string_view anchor_kind, std::string_view role) noexcept {
  if (anchor_kind == "meeting") return kScopeResourceTeam;
  return role == "external" ? kScopeExternalProfessionals : kScopeObservationNotes;
}

Result<std::optional<ConsentNeed>> consent_needed(const Store& store, std::string_view kind,
                                                  const Json& fields, std::string_view day) {
  if (kind != "entry" && kind != "agenda_item") return std::optional<ConsentNeed>();
  ConsentNeed need;
  need.child = text_field(fields, "child");
  if (need.child.empty()) return std::optional<ConsentNeed>();
  std::set<std::string> needed;
  if (kind == "agenda_item") {
    need.forum = text_field(fields, "meeting");
    need.forum_kind = "meeting";
    needed.insert(std::string(consent_scope_for("meeting", "")));
  } else {
    need.forum_kind = "course";
    needed.insert(std::string(consent_scope_for("course", "teacher")));
    auto session = live_record(store, text_field(fields, "session"));
    if (!session) return std::move(session).error();
    auto course = live_record(store, *session ? text_field((*session)->fields, "course") : "");
    if (!course) return std::move(course).error();
    if (*course) {
      need.forum = (*course)->id;
      auto external = course_has_external(store, **course);
      if (!external) return std::move(external).error();
      if (*external) needed.insert(std::string(consent_scope_for("course", "external")));
    }
  }
  auto in_force = scopes_in_force(store, need.child, day);
  if (!in_force) return std::move(in_force).error();
  need.needed.assign(needed.begin(), needed.end());
  for (const std::string& scope : need.needed) {
    if (std::find(in_force->begin(), in_force->end(), scope) == in_force->end())
      need.missing.push_back(scope);
  }
  return std::optional<ConsentNeed>(std::move(need));
}

}  // namespace tandem
