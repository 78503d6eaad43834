// The leaders' pages' pure parts (tandem/server/web.hpp) in-process: the
// dictionary, a browser's cookies, forms and origins, and pages rendered
// from a hand-made report JSON of the documented shape.
#include <catch2/catch.hpp>
#include <regex>
#include <set>
#include <string>

#include "tandem/server/web.hpp"

using tandem::Json;
namespace web = tandem::server::web;

namespace {

const std::string kHostile = "<script>alert('x')</script>&\"";

// An overview as Reports::overview returns it (docs: issue13-design.md).
Json sample_overview() {
  return Json::parse(R"({
    "school": {"id": "school_abc", "name": "Skovskolen"},
    "range": {"from": "2026-08-01", "to": "2027-07-31"}, "today": "2026-11-30",
    "courses_total": 7,
    "courses_by_kind": {"co_teaching": 4, "observation": 3},
    "courses_by_target": {"group": 5}, "courses_by_horizon": {"long": 2},
    "courses_by_character": {"preventive": 1}, "courses_by_focus_area": {"sprog": 2, "trivsel": 5},
    "courses_by_status": {"active": 6, "planned": 1}, "courses_by_group": {"4.A": 3},
    "courses_by_month": {"2026-09": 3, "2026-10": 4},
    "courses_by_evaluation": {"yes": 1, "none": 6},
    "sessions_total": 11, "sessions_by_approach": {"station": 6, "parallel": 5},
    "observation_profiles": [{"template": "t1", "template_name": "COPUS", "sessions": 2,
      "codes": [{"code": "Lec", "group": "teacher", "mean_percent": 37.5}],
      "categories": [{"name": "Presenting", "group": "teacher", "mean_percent": 12.25}]}],
    "actions": {"total": 9, "open": 5, "overdue": 2, "done": 4, "done_on_time": 3,
      "overdue_list": [{"id": "action_1", "text": "Ring til PPR", "due": "2026-10-01",
        "tovholder": "person_1", "tovholder_name": "Lise Leder", "source": "course_1",
        "source_kind": "course", "source_title": "Læsebånd"}]},
    "workload_by_person": {"person_1": {"name": "Lise Leder", "role": "leader", "profession": "",
      "courses": 3, "tovholder": 2, "participant": 1, "sessions": 4, "observations": 1}},
    "agenda_items_by_need": {"staff_learning": 2},
    "meetings": {"total": 4, "themes": {"overgange": 3},
      "participation": [{"person": "person_1", "name": "Lise Leder", "role": "leader",
        "profession": "", "meetings": 4}],
      "by_profession": {"leader": 4}, "follow_up": {"actions": 3, "open": 2, "overdue": 1, "done": 1}},
    "focus_areas": ["trivsel", "sprog", "matematik"]
  })");
}

Json sample_course() {
  return Json::parse(R"({
    "course": {"id": "course_1", "kind": "co_teaching", "title": "Læsebånd", "target": "group",
      "horizon": "long", "character": "preventive", "focus_areas": ["sprog"], "status": "active",
      "start_date": "2026-09-01", "end_date": "2026-12-18", "tovholder": "person_1",
      "tovholder_name": "Lise Leder", "participants": [{"id": "person_2", "name": "Bo"}],
      "groups": [{"id": "group_1", "name": "4.A"}], "environment_changed": "partly",
      "evaluation": "Bedre ro\nog fokus"},
    "agreement": {"goals": "Læse mere", "frame": "Mandag", "roles": "Bo underviser"},
    "sessions": [{"id": "session_1", "started_at": "2026-09-07T08:15:00Z", "approach": "station",
      "focus": "Ro", "observer_name": "Lise Leder", "template_name": "COPUS", "log": "Gik godt",
      "reflections": [{"author": "person_2", "author_name": "Bo", "text": "Eleverne var med"}],
      "entries": 12}],
    "actions": [{"id": "action_1", "text": "Ring til PPR", "due": "2026-10-01", "done": false,
      "tovholder_name": "Lise Leder", "overdue": true}]
  })");
}

web::PageContext context(web::Lang lang) {
  web::PageContext ctx;
  ctx.lang = lang;
  ctx.csrf = "0123456789abcdef";
  ctx.path = "/overview";
  return ctx;
}

// Dictionary keys that reached a page untranslated (tr() falls back to the key).
std::set<std::string> untranslated(const std::string& page) {
  std::set<std::string> keys;
  for (const auto& e : web::dictionary()) keys.insert(std::string(e.key));
  std::set<std::string> found;
  static const std::regex kKey(R"([a-z]+\.[a-z_]+)");
  for (std::sregex_iterator it(page.begin(), page.end(), kKey), end; it != end; ++it) {
    if (keys.count(it->str())) found.insert(it->str());
  }
  return found;
}

}  // namespace

TEST_CASE("web: every dictionary entry has a Danish and an English text", "[server][web]") {
  std::set<std::string_view> keys;
  for (const auto& e : web::dictionary()) {
    INFO("key " << e.key);
    CHECK_FALSE(e.key.empty());
    CHECK_FALSE(e.da.empty());
    CHECK_FALSE(e.en.empty());
    CHECK(keys.insert(e.key).second);  // one entry per key
  }
  CHECK(keys.size() > 100);
  CHECK(web::tr(web::Lang::kDa, "nav.overview") == "Overblik");
  CHECK(web::tr(web::Lang::kEn, "nav.overview") == "Overview");
  CHECK(web::tr(web::Lang::kEn, "no.such.key") == "no.such.key");
}

TEST_CASE("web: every page renders every word from the dictionary, in both languages",
          "[server][web]") {
  for (auto lang : {web::Lang::kDa, web::Lang::kEn}) {
    const auto ctx = context(lang);
    for (const std::string& page :
         {web::render_overview(sample_overview(), ctx), web::render_print(sample_overview(), ctx),
          web::render_course(sample_course(), ctx), web::render_login(ctx, "login.bad_code"),
          web::render_message(ctx, "error.title", "error.not_found")}) {
      INFO(page.substr(0, 400));
      CHECK(untranslated(page).empty());
      CHECK(page.find("<html lang=\"" + std::string(web::lang_code(lang)) + "\"") !=
            std::string::npos);
    }
  }
}

TEST_CASE("web: the overview shows the report's numbers, charts with tables, and downloads",
          "[server][web]") {
  const std::string da = web::render_overview(sample_overview(), context(web::Lang::kDa));
  CHECK(da.find("<h1>Overblik – Skovskolen</h1>") != std::string::npos);
  CHECK(da.find("<dt>Forløb</dt><dd>7</dd>") != std::string::npos);
  CHECK(da.find("<dt>Handlinger over tid</dt><dd>2</dd>") != std::string::npos);
  CHECK(da.find("<dt>Møder i ressourceteamet</dt><dd>4</dd>") != std::string::npos);
  // Courses per month: two bars in month order, and the same figures in a table.
  const auto month = da.find("id=\"chart-month\"");
  REQUIRE(month != std::string::npos);
  const std::string chart = da.substr(month, da.find("</figure>", month) - month);
  CHECK(chart.find("<title id=\"chart-month-title\">Forløb pr. måned</title>") !=
        std::string::npos);
  CHECK(chart.find("2026-09") < chart.find("2026-10"));
  std::size_t rects = 0;
  for (auto p = chart.find("<rect"); p != std::string::npos; p = chart.find("<rect", p + 1))
    ++rects;
  CHECK(rects == 2);
  CHECK(chart.find("<th scope=\"row\">2026-10</th><td class=\"num\">4</td>") != std::string::npos);
  // Focus areas in the school's order, an unused one shown as zero.
  CHECK(da.find("<th scope=\"row\">matematik</th><td class=\"num\">0</td>") != std::string::npos);
  CHECK(da.find(">trivsel<") < da.find(">sprog<"));
  // The COPUS profile's mean with a decimal comma in Danish, a point in English.
  CHECK(da.find("37,5") != std::string::npos);
  CHECK(web::render_overview(sample_overview(), context(web::Lang::kEn)).find("37.5") !=
        std::string::npos);
  // Overdue action with its tovholder, its due date and a link to its course.
  CHECK(da.find("<td>Ring til PPR</td><td>2026-10-01</td><td>Lise Leder</td>") !=
        std::string::npos);
  CHECK(da.find("<a href=\"/courses/course_1\">Forløb: Læsebånd</a>") != std::string::npos);
  // Values of the data translated.
  CHECK(da.find("Stationsundervisning") != std::string::npos);
  // Each table as CSV, as CSV for Danish Excel (; and BOM), and as JSON.
  for (const char* table : {"courses", "sessions", "actions", "meetings", "observations"}) {
    const std::string base = std::string("/v1/schools/school_abc/tables/") + table;
    CHECK(da.find(base + "?format=csv\"") != std::string::npos);
    CHECK(da.find(base + "?format=csv&amp;sep=semicolon&amp;bom=1\"") != std::string::npos);
    CHECK(da.find(base + "?format=json\"") != std::string::npos);
  }
  // The logout form carries its token; landmarks and the skip link are there.
  CHECK(da.find("name=\"csrf\" value=\"0123456789abcdef\"") != std::string::npos);
  CHECK(da.find("<a class=\"skip\" href=\"#main\">") != std::string::npos);
  CHECK(da.find("<main id=\"main\"") != std::string::npos);
  CHECK(da.find("<nav aria-label=\"Hovedmenu\">") != std::string::npos);
}

TEST_CASE("web: text from the data is escaped everywhere", "[server][web]") {
  Json o = sample_overview();
  o["school"]["name"] = kHostile;
  o["courses_by_group"] = Json{{kHostile, 1}};
  o["meetings"]["themes"] = Json{{kHostile, 2}};
  o["actions"]["overdue_list"][0]["text"] = kHostile;
  o["actions"]["overdue_list"][0]["tovholder_name"] = kHostile;
  o["actions"]["overdue_list"][0]["source"] = "course_1\"><script>";
  o["workload_by_person"]["person_1"]["name"] = kHostile;
  Json c = sample_course();
  c["course"]["title"] = kHostile;
  c["agreement"]["goals"] = kHostile;
  c["sessions"][0]["reflections"][0]["text"] = kHostile;
  c["sessions"][0]["log"] = kHostile;
  const auto ctx = context(web::Lang::kDa);
  for (const std::string& page :
       {web::render_overview(o, ctx), web::render_print(o, ctx), web::render_course(c, ctx)}) {
    CHECK(page.find("<script") == std::string::npos);
    CHECK(page.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;") !=
          std::string::npos);
  }
}

TEST_CASE("web: a course page shows its agreement, sessions and actions", "[server][web]") {
  const std::string da = web::render_course(sample_course(), context(web::Lang::kDa));
  CHECK(da.find("<h1>Forløb: Læsebånd</h1>") != std::string::npos);
  CHECK(da.find("<div class=\"text\">Bedre ro\nog fokus</div>") != std::string::npos);
  CHECK(da.find("Læse mere") != std::string::npos);
  CHECK(da.find("<dd>12</dd>") != std::string::npos);  // entries of the session
  CHECK(da.find("Eleverne var med") != std::string::npos);
  CHECK(da.find("Nej <strong class=\"overdue\">(Over tid)</strong>") != std::string::npos);
  CHECK(da.find("<dd>Delvist</dd>") != std::string::npos);
}

TEST_CASE("web: cookies and origins as browsers send them", "[server][web]") {
  CHECK(web::cookie_value("a=1; tandem_session=abc-_9; b=2", "tandem_session") == "abc-_9");
  CHECK(web::cookie_value("tandem_session_x=1;tandem_session=\"q\"", "tandem_session") == "q");
  CHECK(web::cookie_value("xtandem_session=1", "tandem_session").empty());
  CHECK(web::cookie_value("", "tandem_session").empty());

  CHECK(web::same_origin("http://127.0.0.1:8080", "127.0.0.1:8080"));
  CHECK(web::same_origin("https://Tandem.School.dk", "tandem.school.dk"));
  CHECK(web::same_origin("http://127.0.0.1:8080/login?x=1", "127.0.0.1:8080"));  // a Referer
  CHECK_FALSE(web::same_origin("http://127.0.0.1:8081", "127.0.0.1:8080"));
  CHECK_FALSE(web::same_origin("http://evil.example", "127.0.0.1:8080"));
  CHECK_FALSE(web::same_origin("http://127.0.0.1:8080@evil.example", "127.0.0.1:8080"));
  CHECK_FALSE(web::same_origin("null", "127.0.0.1:8080"));
  CHECK_FALSE(web::same_origin("http://127.0.0.1:8080", ""));

  const std::string c = web::session_cookie("tok", 28800, false);
  CHECK(c == "tandem_session=tok; HttpOnly; SameSite=Strict; Path=/; Max-Age=28800");
  CHECK(web::session_cookie("tok", 60, true).ends_with("; Secure"));

  CHECK(web::html_escape("<a href=\"x\">'&'</a>") ==
        "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  CHECK(web::url_encode("a b/ø") == "a%20b%2F%C3%B8");
}
