// Black-box: two co-teachers edit the same lesson log offline, at the same
// place and at different places; after exchanging bundles both tablets show
// the same text containing both edits, each typed run intact.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli_runner.hpp"

using tandem::test::CliDb;
using Json = nlohmann::json;

namespace {
Json ok_json(const CliDb& db, const std::vector<std::string>& args) {
  auto r = db.run_json(args);
  INFO("tandem " << args[0] << ": " << r.out << r.err);
  REQUIRE(r.exit_code == 0);
  return Json::parse(r.out);
}
std::string log_of(const CliDb& db, const std::string& id) {
  auto shown = ok_json(db, {"show", id});
  const Json& rec = shown.contains("record") ? shown["record"] : shown;
  return rec["fields"].value("log", "");
}
}  // namespace

TEST_CASE("concurrent offline edits of one lesson log merge on both tablets", "[cli][text]") {
  CliDb a, b;
  ok_json(a, {"init", "--school-name", "Søndervangskolen"});
  ok_json(b, {"init"});
  const std::string course = ok_json(a, {"new", "course", "kind=co_teaching", "title=Matematik 5.a"})["id"];
  const std::string session =
      ok_json(a, {"new", "session", "course=" + course, "approach=station", "log=Start: gennemgang. Slut."})["id"];
  const std::string ba = a.dir().file("a.bundle"), bb = b.dir().file("b.bundle");
  ok_json(a, {"changes", "export", "--out", ba});
  ok_json(b, {"changes", "import", ba});

  // Same place (position 7, after "Start: ") on both tablets, and different places.
  ok_json(a, {"text", session, "log", "--insert", "7", "Anne læser højt. "});
  ok_json(b, {"text", session, "log", "--insert", "7", "Bo deler ark ud. "});
  ok_json(b, {"text", session, "log", "--delete", "0", "7"});                   // b removes "Start: "
  const auto len_a = log_of(a, session).size();
  (void)len_a;
  ok_json(a, {"text", session, "log", "--insert", "41", " Godt samarbejde."});  // a appends at the end

  ok_json(a, {"changes", "export", "--out", ba});
  ok_json(b, {"changes", "export", "--out", bb});
  ok_json(a, {"changes", "import", bb});
  ok_json(b, {"changes", "import", ba});

  const std::string la = log_of(a, session), lb = log_of(b, session);
  CHECK(la == lb);
  CHECK(la.find("Anne læser højt. ") != std::string::npos);
  CHECK(la.find("Bo deler ark ud. ") != std::string::npos);
  CHECK(la.find("Godt samarbejde.") != std::string::npos);
  CHECK(la.find("Start:") == std::string::npos);
  CHECK(a.run({"dump", "--json"}).out == b.run({"dump", "--json"}).out);
}

TEST_CASE("text positions are code points and out-of-range edits are refused", "[cli][text]") {
  CliDb a;
  ok_json(a, {"init", "--school-name", "Skole"});
  const std::string action = ok_json(a, {"new", "action", "text=Ærø og Åbenrå"})["id"];
  ok_json(a, {"text", action, "text", "--insert", "3", "!"});
  auto shown = ok_json(a, {"show", action});
  const Json& rec = shown.contains("record") ? shown["record"] : shown;
  CHECK(rec["fields"]["text"] == "Ærø! og Åbenrå");
  const auto before = a.run({"dump", "--json"}).out;
  auto r = a.run_json({"text", action, "text", "--delete", "10", "50"});
  CHECK(r.exit_code == 1);
  CHECK(Json::parse(r.out)["error"]["code"] == "invalid_argument");
  CHECK(a.run({"dump", "--json"}).out == before);
}
