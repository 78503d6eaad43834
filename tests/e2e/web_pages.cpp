// The leaders' pages over real data: a device pushes a course and an
// overdue action, and a leader signed in with a code sees them rendered by
// the server (numbers, the drill-down to the course, escaping, downloads).
#include <catch2/catch.hpp>
#include <string>

#include "server_process.hpp"

using tandem::Change;
using tandem::test::ChangeMaker;
using tandem::test::HttpResponse;
using tandem::test::SchoolServer;
using tandem::test::server_admin_json;

namespace {

const std::string kCourse = "course_00000000000000a1";
const std::string kAction = "action_00000000000000b1";

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A text field's value at creation: one insert operation of the whole text.
tandem::Json text_ops(const std::string& text) {
  return tandem::Json::array({{{"op", "ins"},
                               {"id", {"web-test", 0}},
                               {"left", nullptr},
                               {"right", nullptr},
                               {"text", text}}});
}

// Signs `person` in with a fresh code; returns the session token.
std::string sign_in(SchoolServer& w, const std::string& person) {
  const std::string code = server_admin_json(w.dir.path(), {"login-code", "--person", person})
                               .at("code")
                               .get<std::string>();
  const HttpResponse r = w.http.request("POST", w.server->url("/login"), "code=" + code,
                                        {"Content-Type: application/x-www-form-urlencoded"});
  REQUIRE(r.status == 303);
  const std::string& c = r.headers.at("set-cookie");
  return c.substr(c.find('=') + 1, c.find(';') - c.find('=') - 1);
}

HttpResponse get_page(SchoolServer& w, const std::string& path, const std::string& token) {
  return w.http.request("GET", w.server->url(path), "", {"Cookie: tandem_session=" + token});
}

// A course of March 2020 led by `leader`, and an action of it due 1 April 2020.
void push_course_and_action(SchoolServer& w, const std::string& leader) {
  const auto device = w.enroll();
  ChangeMaker maker;
  Change course = maker.create_course_with_id(w.school.id, kCourse, "Læsebånd <4.A>");
  course.value = {{"kind", "co_teaching"},      {"title", "Læsebånd <4.A>"},
                  {"start_date", "2020-03-15"}, {"focus_areas", {"reading"}},
                  {"tovholder", leader},        {"goals", text_ops("Læse mere & bedre")}};
  Change action = maker.create_course_with_id(w.school.id, kAction, "");
  action.kind = "action";
  action.value = {{"text", text_ops("Ring til PPR")},
                  {"due", "2020-04-01"},
                  {"tovholder", leader},
                  {"source", kCourse}};
  const auto r = w.http.post(w.server->url("/v1/sync"),
                             tandem::test::sync_body(1, {course, action}), device.token);
  INFO(r.body);
  REQUIRE(r.status == 200);
  CHECK_FALSE(has(r.body, "rejected"));
}

}  // namespace

TEST_CASE("web pages: a leader sees the school's figures and opens a course",
          "[e2e][server][web]") {
  SchoolServer w("Skovskolen");
  const std::string leader = w.add_person("Lise Leder", "leader");
  push_course_and_action(w, leader);
  const std::string token = sign_in(w, leader);

  auto r = get_page(w, "/overview?from=2020-01-01&to=2020-12-31", token);
  REQUIRE(r.status == 200);
  CHECK(has(r.body, "<dt>Forløb</dt><dd>1</dd>"));
  CHECK(has(r.body, "<dt>Handlinger over tid</dt><dd>1</dd>"));
  CHECK(has(r.body, "<th scope=\"row\">2020-03</th><td class=\"num\">1</td>"));
  CHECK(has(r.body, "<th scope=\"row\">Læsning</th><td class=\"num\">1</td>"));
  CHECK(has(r.body, "<td>Ring til PPR</td><td>2020-04-01</td><td>Lise Leder</td>"));
  // The overdue action leads to its course; the title is escaped on the way.
  CHECK(has(r.body, "<a href=\"/courses/" + kCourse + "\">Forløb: Læsebånd &lt;4.A&gt;</a>"));
  CHECK_FALSE(has(r.body, "<4.A>"));
  CHECK(
      has(r.body, "/v1/schools/" + w.school.id + "/tables/courses?format=csv&amp;from=2020-01-01"));
  // Outside the range: nothing.
  r = get_page(w, "/overview?from=2021-01-01&to=2021-12-31", token);
  CHECK(has(r.body, "<dt>Forløb</dt><dd>0</dd>"));

  r = get_page(w, "/courses/" + kCourse, token);
  REQUIRE(r.status == 200);
  CHECK(has(r.body, "<h1>Forløb: Læsebånd &lt;4.A&gt;</h1>"));
  CHECK(has(r.body, "<div class=\"text\">Læse mere &amp; bedre</div>"));
  CHECK(has(r.body, "<dd>Co-teaching</dd>"));
  CHECK(has(r.body, "Ring til PPR"));
  CHECK(get_page(w, "/courses/course_00000000000000ff", token).status == 404);
  CHECK(get_page(w, "/courses/..%2Fetc", token).status == 404);

  // The page's download links work with the session cookie alone.
  r = get_page(w,
               "/v1/schools/" + w.school.id +
                   "/tables/courses?format=csv&sep=semicolon&bom=1&from=2020-01-01&to=2020-12-31",
               token);
  CHECK(r.status == 200);
  CHECK(r.body.rfind("\xEF\xBB\xBF", 0) == 0);
  CHECK(has(r.body, "Læsebånd <4.A>"));
  CHECK(w.http.get(w.server->url("/v1/schools/" + w.school.id + "/tables/courses?format=csv"))
            .status == 401);

  r = get_page(w, "/print?from=2020-01-01&to=2020-12-31", token);
  REQUIRE(r.status == 200);
  CHECK(has(r.body, "<h1>Årsplan og evaluering – Skovskolen</h1>"));
  CHECK(has(r.body, "Møder i perioden: <strong>0</strong>"));
}

TEST_CASE("web pages: resource persons sign in only where the school allows it",
          "[e2e][server][web]") {
  SchoolServer w;
  const auto refused =
      tandem::test::server_admin(w.dir.path(), {"login-code", "--person", w.school.person});
  CHECK(refused.exit_code == 1);
  server_admin_json(w.dir.path(), {"school", "set", "--school", w.school.id,
                                   "--reports-for-resource-persons", "yes"});
  const std::string token = sign_in(w, w.school.person);
  CHECK(get_page(w, "/overview", token).status == 200);
  server_admin_json(w.dir.path(), {"school", "set", "--school", w.school.id,
                                   "--reports-for-resource-persons", "no"});
  CHECK(get_page(w, "/overview", token).status == 403);
}
