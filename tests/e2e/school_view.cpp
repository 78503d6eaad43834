// The school's view end to end: a school seeded through real tablets
// (school_view_world.hpp), its reports from the admin CLI and over HTTP
// with a leader's device token, who may see them, the drill-down and its
// audit entry, and CSV that Python's csv module reads back.
#include <catch2/catch.hpp>
#include <fstream>

#include "school_view_world.hpp"
#include "test_util.hpp"

namespace tandem::test {
namespace {

Json admin_json(const SeededSchool& w, std::vector<std::string> args) {
  auto r = server_admin(w.dir.path(), args);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  return Json::parse(r.out);
}

HttpResponse get_as(SeededSchool& w, const std::string& path, const std::string& token) {
  std::vector<std::string> headers;
  if (!token.empty()) headers.push_back("Authorization: Bearer " + token);
  return w.http.request("GET", w.url(path), {}, headers);
}

}  // namespace

TEST_CASE("School view: the overview's figures are the hand-computed ones, from the CLI and over HTTP",
          "[school_view]") {
  SeededSchool w;
  const Json o = admin_json(w, {"report", "overview", "--school", w.school.id, "--from", "2025-08-01", "--to",
                                "2027-07-31", "--json"});
  CHECK(o.at("range") == Json({{"from", "2025-08-01"}, {"to", "2027-07-31"}}));
  CHECK(o.at("courses_total") == 4);
  CHECK(o.at("courses_by_kind") == Json({{"co_teaching", 2}, {"observation", 1}, {"guidance", 1}}));
  CHECK(o.at("courses_by_focus_area") ==
        Json({{"relations", 3}, {"outdoor_learning", 1}, {"classroom_management", 1}, {"inclusion_plan", 1}}));
  CHECK(o.at("courses_by_month") == Json({{"2025-09", 2}, {"2025-11", 1}, {"2026-02", 1}}));
  CHECK(o.at("courses_by_group") == Json({{"4.b", 2}, {"6.a", 1}}));
  CHECK(o.at("courses_by_status") == Json({{"active", 1}, {"completed", 1}, {"planned", 1}, {"evaluated", 1}}));
  CHECK(o.at("courses_by_evaluation") == Json({{"yes", 1}, {"partly", 1}, {"no", 1}, {"none", 1}}));
  CHECK(o.at("courses_by_target") == Json({{"group", 3}, {"professionals", 1}}));
  CHECK(o.at("focus_areas").back() == "outdoor_learning");
  CHECK(o.at("sessions_total") == 5);
  CHECK(o.at("sessions_by_approach") == Json({{"station", 2}, {"parallel", 1}}));

  REQUIRE(o.at("observation_profiles").size() == 1);
  const Json& copus = o.at("observation_profiles")[0];
  CHECK(copus.at("template") == "template_copus");
  CHECK(copus.at("sessions") == 2);
  std::map<std::string, double> mean;
  for (const auto& c : copus.at("codes")) mean[c.at("code")] = c.at("mean_percent").get<double>();
  CHECK(mean["I-Lec"] == Approx(55.0));
  CHECK(mean["I-MG"] == Approx(45.0));
  CHECK(mean["S-L"] == Approx(10.0));
  CHECK(mean["S-WG"] == Approx(10.0));

  const Json& a = o.at("actions");
  CHECK(a.at("total") == 6);
  CHECK(a.at("open") == 3);
  CHECK(a.at("overdue") == 2);
  CHECK(a.at("done") == 3);
  CHECK(a.at("done_on_time") == 1);
  REQUIRE(a.at("overdue_list").size() == 2);
  const Json& first = a.at("overdue_list")[0];
  CHECK(first.at("id") == w.action_overdue1);
  CHECK(first.at("text") == "Læseplan for 4.b");
  CHECK(first.at("due") == "2025-10-15");
  CHECK(first.at("tovholder") == w.teacher1);
  CHECK(first.at("tovholder_name") == "Tove Lærer");
  CHECK(first.at("source") == w.course1);
  CHECK(first.at("source_kind") == "course");
  CHECK(first.at("source_title") == "Læsning 4.b");
  CHECK(a.at("overdue_list")[1].at("id") == w.action_overdue2);
  CHECK(a.at("overdue_list")[1].at("source_kind") == "agenda_item");

  CHECK(o.at("agenda_items_by_need") ==
        Json({{"child_intervention", 2}, {"group_intervention", 1}, {"pedagogical_development", 1}}));
  const Json& m = o.at("meetings");
  CHECK(m.at("total") == 2);
  CHECK(m.at("themes") == Json({{"wellbeing", 2}, {"reading", 1}}));
  CHECK(m.at("by_profession") == Json({{"psykolog", 2}, {"resource_person", 2}, {"leader", 1}}));
  CHECK(m.at("follow_up") == Json({{"actions", 2}, {"open", 1}, {"overdue", 1}, {"done", 1}}));

  const Json& wl = o.at("workload_by_person");
  const auto work = [&](const std::string& id) {
    const Json& p = wl.at(id);
    return std::vector<int>{p.at("courses"), p.at("tovholder"), p.at("participant"), p.at("sessions"),
                            p.at("observations"), p.at("meetings")};
  };
  CHECK(work(w.school.person) == std::vector<int>{4, 3, 2, 5, 2, 2});
  CHECK(work(w.teacher1) == std::vector<int>{2, 1, 1, 2, 0, 0});
  CHECK(work(w.teacher2) == std::vector<int>{2, 0, 2, 3, 0, 0});
  CHECK(work(w.leader) == std::vector<int>{0, 0, 0, 0, 0, 1});
  CHECK(work(w.external) == std::vector<int>{0, 0, 0, 0, 0, 2});
  CHECK(wl.at(w.teacher1).at("name") == "Tove Lærer");

  // The same figures over HTTP for the school's leader.
  auto res = get_as(w, "/v1/schools/" + w.school.id + "/overview" + w.range_query(), w.leader_device.token);
  REQUIRE(res.status == 200);
  CHECK(res.json() == o);

  // The default range is the school year that holds today.
  const Json year = admin_json(w, {"report", "overview", "--school", w.school.id, "--json"});
  const std::string from = year.at("range").at("from");
  CHECK(from.substr(4) == "-08-01");
  CHECK(year.at("range").at("to") == std::to_string(std::stoi(from.substr(0, 4)) + 1) + "-07-31");
}

TEST_CASE("School view: only the school's leaders (and resource persons when allowed) see it",
          "[school_view]") {
  SeededSchool w;
  const std::string overview = "/v1/schools/" + w.school.id + "/overview";
  CHECK(get_as(w, overview, "").status == 401);
  CHECK(get_as(w, overview, "not-a-token").status == 401);
  auto teacher = get_as(w, overview, w.teacher_device.token);
  CHECK(teacher.status == 403);
  CHECK(teacher.error_code() == "forbidden");
  CHECK(get_as(w, overview, w.rp_device.token).status == 403);
  admin_json(w, {"school", "set", "--school", w.school.id, "--reports-for-resource-persons", "yes", "--json"});
  CHECK(get_as(w, overview, w.rp_device.token).status == 200);
  admin_json(w, {"school", "set", "--school", w.school.id, "--reports-for-resource-persons", "no", "--json"});
  CHECK(get_as(w, overview, w.rp_device.token).status == 403);
  // The teacher made leader by the administration sees it at once.
  admin_json(w, {"person", "set", "--person", w.teacher1, "--role", "leader", "--json"});
  CHECK(get_as(w, overview, w.teacher_device.token).status == 200);

  // Another school's leader: the same answer as for a school that does not exist.
  auto other = server_admin_json(w.dir.path(), {"school", "create", "--name", "Naboskolen"});
  const std::string other_leader =
      server_admin_json(w.dir.path(), {"person", "add", "--school", other.at("id").get<std::string>(), "--name",
                                       "Nabo Leder", "--role", "leader"})
          .at("id");
  const TestDevice foreign = enroll_test_device(*w.server, other_leader);
  auto r = get_as(w, overview, foreign.token);
  CHECK(r.status == 404);
  CHECK(get_as(w, "/v1/schools/school_nope/overview", foreign.token).json().at("error") == r.json().at("error"));

  const std::string& t = w.leader_device.token;
  CHECK(get_as(w, overview + "?from=2025-13-01", t).status == 400);
  CHECK(get_as(w, overview + "?from=2026-01-01&to=2025-01-01", t).status == 400);
  CHECK(get_as(w, "/v1/schools/" + w.school.id + "/tables/secrets", t).status == 404);
  CHECK(get_as(w, "/v1/schools/" + w.school.id + "/courses/course_nope", t).status == 404);
  CHECK(get_as(w, "/v1/schools/" + w.school.id + "/overview/x/y", t).status == 404);
  CHECK(get_as(w, "/v1/schools/" + w.school.id + "/tables/actions?format=xml", t).status == 400);
}

TEST_CASE("School view: a course in full, and the view of a named child's note is audited", "[school_view]") {
  SeededSchool w;
  auto res = get_as(w, "/v1/schools/" + w.school.id + "/courses/" + w.course1, w.leader_device.token);
  REQUIRE(res.status == 200);
  const Json c = res.json();
  CHECK(c.at("course").at("title") == "Læsning 4.b");
  CHECK(c.at("course").at("tovholder_name") == "Resource person");
  CHECK(c.at("agreement").at("goals") == "Alle læser med.");
  REQUIRE(c.at("sessions").size() == 2);
  const Json& s1 = c.at("sessions")[0];
  CHECK(s1.at("started_at") == "2025-09-10T08:00:00Z");
  CHECK(s1.at("log") == "Lektion 1.");
  CHECK(s1.at("entries") == 1);
  REQUIRE(s1.at("reflections").size() == 1);
  CHECK(s1.at("reflections")[0].at("text") == "Rollerne holdt.");
  REQUIRE(c.at("actions").size() == 1);
  CHECK(c.at("actions")[0].at("overdue") == true);

  // The actions table: a done action is never overdue, whatever its due date.
  auto table = get_as(w, "/v1/schools/" + w.school.id + "/tables/actions" + w.range_query(), w.leader_device.token);
  REQUIRE(table.status == 200);
  const Json rows = table.json().at("rows");
  CHECK(rows.size() == 6);
  int done_late = 0;
  for (const auto& r : rows) {
    if (r.at("text") == "Feedback efter observation") {
      ++done_late;
      CHECK(r.at("done") == true);
      CHECK(r.at("overdue") == false);
      CHECK(r.at("done_on").get<std::string>() > "2025-12-01");
      CHECK(r.at("source_kind") == "session");
      CHECK(r.at("source_title") == "Klasseledelse 6.a");
    }
  }
  CHECK(done_late == 1);

  auto trail = server_admin(w.dir.path(), {"audit", "export", "--child", w.child, "--json"});
  REQUIRE(trail.exit_code == 0);
  bool leader_read = false;
  for (const auto& e : Json::parse(trail.out)) {
    if (e.at("action") == "read" && e.at("person") == w.leader && e.at("device") == w.leader_device.id)
      leader_read = true;
  }
  CHECK(leader_read);
}

}  // namespace tandem::test
