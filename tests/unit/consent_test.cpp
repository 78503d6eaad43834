// Parental consent as a domain rule (core/include/tandem/core/consent.hpp):
// in force from given_on through the day before withdrawn_on, the scopes in
// force for a child, and the scopes a note or agenda item about a child needs.
#include "tandem/core/consent.hpp"

#include <catch2/catch.hpp>

#include "tandem/core/schema.hpp"
#include "test_util.hpp"

using namespace tandem;
using tandem::test::TempDir;

namespace {

constexpr const char* kToday = "2025-03-10";
constexpr const char* kYesterday = "2025-03-09";
constexpr const char* kTomorrow = "2025-03-11";

std::string make(Store& s, std::string_view kind, const Json& fields) {
  auto id = s.create(kind, fields);
  REQUIRE(id.ok());
  return *id;
}

std::string consent(Store& s, const std::string& child, const char* scope, const char* given_on,
                    const char* withdrawn_on = nullptr) {
  Json f = {{"child", child}, {"scope", scope}, {"given_on", given_on}};
  if (withdrawn_on != nullptr) f["withdrawn_on"] = withdrawn_on;
  return make(s, "consent", f);
}

std::vector<std::string> in_force(const Store& s, const std::string& child, const char* day) {
  auto scopes = scopes_in_force(s, child, day);
  REQUIRE(scopes.ok());
  return *scopes;
}

ConsentNeed need(const Store& s, std::string_view kind, const Json& fields) {
  auto n = consent_needed(s, kind, fields, kToday);
  REQUIRE(n.ok());
  REQUIRE(n->has_value());
  return **n;
}

using Scopes = std::vector<std::string>;

}  // namespace

TEST_CASE("consent status: from given_on through the day before withdrawn_on", "[core][consent]") {
  CHECK(consent_status(kToday, "", kToday) == ConsentStatus::kInForce);  // given today
  CHECK(consent_status(kYesterday, "", kToday) == ConsentStatus::kInForce);
  CHECK(consent_status(kTomorrow, "", kToday) == ConsentStatus::kNotYet);  // not yet given
  CHECK(consent_status(kYesterday, kToday, kToday) ==
        ConsentStatus::kWithdrawn);  // withdrawn today
  CHECK(consent_status(kYesterday, kTomorrow, kToday) ==
        ConsentStatus::kInForce);  // withdrawn tomorrow
  CHECK(consent_status(kToday, kToday, kToday) ==
        ConsentStatus::kWithdrawn);  // given and withdrawn today
  // Withdrawn before it was to start: it never starts.
  CHECK(consent_status(kTomorrow, kToday, kToday) == ConsentStatus::kWithdrawn);
  CHECK(consent_status("", "", kToday) == ConsentStatus::kNotYet);
  // Across a year: dates compare as calendar dates.
  CHECK(consent_status("2024-12-31", "2025-01-01", "2024-12-31") == ConsentStatus::kInForce);
  CHECK(consent_status("2024-12-31", "2025-01-01", "2025-01-01") == ConsentStatus::kWithdrawn);
  CHECK(consent_status_name(ConsentStatus::kInForce) == "in_force");
  CHECK(consent_status_name(ConsentStatus::kNotYet) == "not_yet");
  CHECK(consent_status_name(ConsentStatus::kWithdrawn) == "withdrawn");
}

TEST_CASE("consent days are Copenhagen days", "[core][consent]") {
  // 23:30 UTC on New Year's Eve is already 1 January in Copenhagen.
  auto late = parse_datetime_ms("2024-12-31T23:30:00Z");
  REQUIRE(late.ok());
  const std::string day = copenhagen_date(*late);
  CHECK(day == "2025-01-01");
  CHECK(consent_in_force("2025-01-01", "", day));
  CHECK_FALSE(consent_in_force("2024-06-01", "2025-01-01", day));
}

TEST_CASE("scopes in force for a child, from the store's consent records", "[core][consent]") {
  TempDir dir;
  std::string school;
  auto s = test::open_store_with_school(dir.file("t.db"), school);
  const std::string child = make(*s, "child", {{"pseudonym", "Ulv"}});
  const std::string other = make(*s, "child", {{"pseudonym", "Ræv"}});

  CHECK(in_force(*s, child, kToday).empty());
  consent(*s, child, "observation_notes", kToday);          // given today
  consent(*s, child, "resource_team", kYesterday, kToday);  // withdrawn today
  consent(*s, child, "external_professionals", kTomorrow);  // not yet
  consent(*s, other, "resource_team", kYesterday);          // another child's
  CHECK(in_force(*s, child, kToday) == Scopes{"observation_notes"});
  CHECK(in_force(*s, child, kYesterday) == Scopes{"resource_team"});
  CHECK(in_force(*s, child, kTomorrow) == Scopes{"external_professionals", "observation_notes"});
  CHECK(in_force(*s, other, kToday) == Scopes{"resource_team"});

  // Withdrawn tomorrow: still in force today.
  const std::string team = consent(*s, child, "resource_team", kYesterday, kTomorrow);
  CHECK(in_force(*s, child, kToday) == Scopes{"observation_notes", "resource_team"});

  auto states = consents_of_child(*s, child, kToday);
  REQUIRE(states.ok());
  REQUIRE(states->size() == 4);
  int withdrawn = 0, not_yet = 0, in = 0;
  for (const ConsentState& c : *states) {
    CHECK(c.child == child);
    withdrawn += c.status == ConsentStatus::kWithdrawn;
    not_yet += c.status == ConsentStatus::kNotYet;
    in += c.in_force();
  }
  CHECK((withdrawn == 1 && not_yet == 1 && in == 2));

  // A deleted consent is in force on no day; its record reads as withdrawn.
  REQUIRE(s->delete_record(team).ok());
  CHECK(in_force(*s, child, kToday) == Scopes{"observation_notes"});
  auto deleted = s->get(team);
  REQUIRE(deleted.ok());
  const ConsentState gone = consent_state(*deleted, kToday);
  CHECK(gone.status == ConsentStatus::kWithdrawn);
  CHECK(gone.to_json().at("state") == "withdrawn");
  CHECK(gone.to_json().at("withdrawn_on") == kTomorrow);
}

TEST_CASE("the scope a note or agenda item about a child needs, and whether it is in force",
          "[core][consent]") {
  TempDir dir;
  std::string school;
  auto s = test::open_store_with_school(dir.file("t.db"), school);
  const std::string child = make(*s, "child", {{"pseudonym", "Ulv"}});
  const std::string teacher = make(*s, "person", {{"name", "Åse"}, {"role", "teacher"}});
  const std::string ppr = make(*s, "person", {{"name", "Bo"}, {"role", "external"}});
  const std::string course =
      make(*s, "course", {{"kind", "co_teaching"}, {"title", "3.a"}, {"participants", {teacher}}});
  const std::string session = make(*s, "session", {{"course", course}});
  const std::string meeting = make(*s, "meeting", {{"date", kToday}, {"participants", {ppr}}});
  const Json entry = {{"session", session}, {"type", "note"}, {"child", child}};
  const Json item = {{"meeting", meeting}, {"need", "child_intervention"}, {"child", child}};

  // Nothing to check: no child, or a kind that does not carry notes about one.
  auto none = consent_needed(*s, "entry", Json{{"session", session}, {"type", "note"}}, kToday);
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  none = consent_needed(*s, "course", Json{{"child", child}}, kToday);
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());

  ConsentNeed n = need(*s, "entry", entry);
  CHECK(n.forum == course);
  CHECK(n.forum_kind == "course");
  CHECK(n.needed == Scopes{"observation_notes"});
  CHECK(n.missing == Scopes{"observation_notes"});
  CHECK_FALSE(n.covered());
  n = need(*s, "agenda_item", item);
  CHECK(n.forum == meeting);
  CHECK(n.needed == Scopes{"resource_team"});
  CHECK_FALSE(n.covered());

  // A consent for another forum does not cover this one.
  consent(*s, child, "resource_team", kYesterday, kToday);  // withdrawn today
  CHECK_FALSE(need(*s, "agenda_item", item).covered());
  consent(*s, child, "resource_team", kToday);
  CHECK(need(*s, "agenda_item", item).covered());
  CHECK_FALSE(need(*s, "entry", entry).covered());
  consent(*s, child, "observation_notes", kYesterday, kTomorrow);  // withdrawn tomorrow
  CHECK(need(*s, "entry", entry).covered());

  // An external on the course: the note reaches them only under
  // external_professionals as well.
  REQUIRE(s->add(course, "participants", ppr).ok());
  n = need(*s, "entry", entry);
  CHECK(n.needed == Scopes{"external_professionals", "observation_notes"});
  CHECK(n.missing == Scopes{"external_professionals"});
  consent(*s, child, "external_professionals", kTomorrow);  // not yet
  CHECK_FALSE(need(*s, "entry", entry).covered());
  consent(*s, child, "external_professionals", kToday);
  CHECK(need(*s, "entry", entry).covered());

  // A session this device does not hold: judged as a course of teachers.
  n = need(*s, "entry", Json{{"session", "session_unknown"}, {"type", "note"}, {"child", child}});
  CHECK(n.forum.empty());
  CHECK(n.needed == Scopes{"observation_notes"});
  CHECK(n.covered());
}

TEST_CASE("the forum's scope for a role", "[core][consent]") {
  CHECK(consent_scope_for("meeting", "external") == kScopeResourceTeam);
  CHECK(consent_scope_for("meeting", "teacher") == kScopeResourceTeam);
  CHECK(consent_scope_for("course", "external") == kScopeExternalProfessionals);
  CHECK(consent_scope_for("course", "pedagogue") == kScopeObservationNotes);
  CHECK(consent_scope_for("action", "teacher") == kScopeObservationNotes);
}
