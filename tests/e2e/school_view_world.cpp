#include "school_view_world.hpp"

#include <catch2/catch.hpp>

namespace tandem::test {
namespace {

std::string make(Tablet& t, const std::string& kind, const Json& fields) {
  auto id = t.store().create(kind, fields);
  INFO(kind << ": " << (id ? "" : id.error().message));
  REQUIRE(id.ok());
  return *id;
}

void set(Tablet& t, const std::string& id, const std::string& field, const Json& value) {
  auto s = t.store().set(id, field, value);
  INFO(id << "." << field << ": " << (s ? "" : s.error().message));
  REQUIRE(s.ok());
}

}  // namespace

SeededSchool::SeededSchool() {
  leader = add_person("Lene Leder", "leader");
  teacher1 = add_person("Tove Lærer", "teacher");
  teacher2 = add_person("Tage Lærer", "teacher");
  auto ext = server_admin_json(dir.path(), {"person", "add", "--school", school.id, "--name", "Pia Psykolog",
                                            "--role", "external", "--profession", "psykolog"});
  external = ext.at("id").get<std::string>();

  // The leader adds the school's own focus area "outdoor_learning" (only the school
  // record's writers may).
  leader_tablet = std::make_unique<Tablet>(dir.path() + "/leader.db");
  leader_tablet->enroll(base_url(), code_for(leader));
  {
    auto added = leader_tablet->store().add(school.id, "focus_areas", "outdoor_learning");
    INFO((added ? "" : added.error().message));
    REQUIRE(added.ok());
  }
  REQUIRE(leader_tablet->sync(base_url()).ok());

  rp_tablet = std::make_unique<Tablet>(dir.path() + "/rp.db");
  Tablet& t = *rp_tablet;
  enroll(t);
  const std::string rp = school.person;
  const std::string g4b = make(t, "group", {{"name", "4.b"}, {"type", "class"}});
  const std::string g6a = make(t, "group", {{"name", "6.a"}, {"type", "class"}});
  child = make(t, "child", {{"pseudonym", "K.J."}, {"group", g4b}});

  // Courses. In 2025-08-01..2027-07-31: C1..C4 (C5 starts 2024-10-01).
  //   kind: co_teaching 2 (C1, C4), observation 1, guidance 1
  //   focus: relations 3 (C1, C3, C4), læsning 1, classroom_management 1, inclusion_plan 1
  //   month: 2025-09 2, 2025-11 1, 2026-02 1; group: 4.b 2 (C1, C4), 6.a 1
  //   status: one each; evaluation: yes, partly, none, no
  course1 = make(t, "course",
                 {{"kind", "co_teaching"}, {"title", "Læsning 4.b"}, {"target", "group"}, {"horizon", "long"},
                  {"character", "anticipatory"}, {"focus_areas", {"relations", "outdoor_learning"}}, {"status", "active"},
                  {"start_date", "2025-09-03"}, {"tovholder", rp}, {"participants", {rp, teacher1}},
                  {"groups", {g4b}}, {"children", {child}}, {"environment_changed", "yes"},
                  {"goals", "Alle læser med."}});
  course2 = make(t, "course",
                 {{"kind", "observation"}, {"title", "Klasseledelse 6.a"}, {"target", "group"},
                  {"horizon", "short"}, {"character", "preventive"}, {"focus_areas", {"classroom_management"}},
                  {"status", "completed"}, {"start_date", "2025-09-20"}, {"tovholder", rp},
                  {"participants", {teacher2}}, {"groups", {g6a}}, {"environment_changed", "partly"}});
  course3 = make(t, "course",
                 {{"kind", "guidance"}, {"title", "Vejledning af team"}, {"target", "professionals"},
                  {"horizon", "short"}, {"character", "preventive"}, {"focus_areas", {"relations"}},
                  {"status", "planned"}, {"start_date", "2025-11-10"}, {"tovholder", teacher1},
                  {"participants", {rp}}});
  course4 = make(t, "course",
                 {{"kind", "co_teaching"}, {"title", "Inklusion 4.b"}, {"target", "group"}, {"horizon", "long"},
                  {"character", "intervening"}, {"focus_areas", {"inclusion_plan", "relations"}},
                  {"status", "evaluated"}, {"start_date", "2026-02-02"}, {"tovholder", rp},
                  {"participants", {teacher2}}, {"groups", {g4b}}, {"environment_changed", "no"}});
  course5 = make(t, "course",
                 {{"kind", "co_teaching"}, {"title", "Gammelt forløb"}, {"start_date", "2024-10-01"},
                  {"tovholder", rp}, {"participants", {teacher1}}});

  // Sessions in range: S1, S2 (C1), S3 (C4), S4, S5 (C2, COPUS). approach:
  // station 2, parallel 1. S6 (C5) is out of range.
  const std::string s1 = make(t, "session", {{"course", course1}, {"approach", "station"},
                                             {"started_at", "2025-09-10T08:00:00Z"}, {"log", "Lektion 1."}});
  make(t, "session", {{"course", course1}, {"approach", "parallel"}, {"started_at", "2025-10-01T08:00:00Z"}});
  make(t, "session", {{"course", course4}, {"approach", "station"}, {"started_at", "2026-02-10T09:00:00Z"}});
  make(t, "session", {{"course", course5}, {"approach", "team"}, {"started_at", "2024-10-02T09:00:00Z"}});
  make(t, "reflection", {{"session", s1}, {"author", rp}, {"text", "Rollerne holdt."}});
  make(t, "entry", {{"session", s1}, {"type", "note"}, {"text", "K.J. læste højt."}, {"child", child}});
  // COPUS: S4 has 5 intervals: I-Lec in 0, 1, 4 (60 %), I-MG in 2, 3
  // (40 %), S-L in 0 (20 %), S-WG in 3 (20 %). S5 has 2: I-Lec 50 %, I-MG
  // 50 %. Means: I-Lec 55, I-MG 45, S-L 10, S-WG 10.
  const std::string s4 =
      make(t, "session", {{"course", course2}, {"template", "template_copus"}, {"observer", rp},
                          {"started_at", "2025-09-25T10:00:00Z"}, {"ended_at", "2025-09-25T10:10:00Z"}});
  const std::string s5 =
      make(t, "session", {{"course", course2}, {"template", "template_copus"}, {"observer", rp},
                          {"started_at", "2025-10-05T10:00:00Z"}, {"ended_at", "2025-10-05T10:04:00Z"}});
  const std::pair<int, const char*> ticks4[] = {{0, "I-Lec"}, {0, "S-L"}, {1, "I-Lec"}, {2, "I-MG"},
                                                {3, "I-MG"},  {3, "S-WG"}, {4, "I-Lec"}};
  for (auto [iv, code] : ticks4)
    make(t, "entry", {{"session", s4}, {"type", "tick"}, {"interval", iv}, {"code", code}});
  make(t, "entry", {{"session", s5}, {"type", "tick"}, {"interval", 0}, {"code", "I-Lec"}});
  make(t, "entry", {{"session", s5}, {"type", "tick"}, {"interval", 1}, {"code", "I-MG"}});

  // Meetings in range: M1 (RP, Pia, Lene; læsning, trivsel; items
  // child_intervention, group_intervention), M2 (RP, Pia; trivsel; items
  // pedagogical_development, child_intervention). M3 (2024) is out.
  const std::string m1 = make(t, "meeting", {{"date", "2025-10-20"}, {"title", "Ressourceteam oktober"},
                                             {"participants", {rp, external, leader}},
                                             {"themes", {"reading", "wellbeing"}}});
  const std::string i1 =
      make(t, "agenda_item", {{"meeting", m1}, {"need", "child_intervention"}, {"title", "Bekymring"}});
  make(t, "agenda_item", {{"meeting", m1}, {"need", "group_intervention"}});
  const std::string m2 = make(t, "meeting", {{"date", "2026-01-15"}, {"participants", {rp, external}},
                                             {"themes", {"wellbeing"}}});
  make(t, "agenda_item", {{"meeting", m2}, {"need", "pedagogical_development"}});
  make(t, "agenda_item", {{"meeting", m2}, {"need", "child_intervention"}});
  const std::string m3 = make(t, "meeting", {{"date", "2024-05-01"}, {"participants", {rp}}});
  make(t, "agenda_item", {{"meeting", m3}, {"need", "parent_collaboration"}});

  // Actions in range: A1..A6 (6). open: A1, A3, A5; overdue: A1 (due
  // 2025-10-15), A3 (2026-03-01); done: A2 (late), A4 (on time), A6 (late).
  // Meeting follow-up: A3 (item of M1: open, overdue), A6 (M2: done).
  action_overdue1 = make(t, "action", {{"text", "Læseplan for 4.b"}, {"tovholder", teacher1},
                                       {"due", "2025-10-15"}, {"source", course1}});
  const std::string a2 = make(t, "action", {{"text", "Feedback efter observation"}, {"tovholder", rp},
                                            {"due", "2025-12-01"}, {"source", s4}});
  action_overdue2 = make(t, "action", {{"text", "Kontakt PPR"}, {"tovholder", teacher2},
                                       {"due", "2026-03-01"}, {"source", i1}});
  const std::string a4 = make(t, "action", {{"text", "Evaluering af inklusion"}, {"tovholder", rp},
                                            {"due", "2027-06-01"}, {"source", course4}});
  make(t, "action", {{"text", "Materialer til Pia"}, {"tovholder", external}});
  const std::string a6 = make(t, "action", {{"text", "Opfølgning på trivsel"}, {"tovholder", external},
                                            {"due", "2026-02-01"}, {"source", m2}});
  for (const auto& a : {a2, a4, a6}) set(t, a, "done", true);
  make(t, "action", {{"text", "Gammel aftale"}, {"due", "2024-01-01"}, {"tovholder", rp}});
  REQUIRE(t.sync(base_url()).ok());

  leader_device = enroll_test_device(*server, leader);
  rp_device = enroll_test_device(*server, school.person);
  teacher_device = enroll_test_device(*server, teacher1);
}

}  // namespace tandem::test
