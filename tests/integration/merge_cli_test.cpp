// Black-box: two tablets (two `tandem` databases) edit offline, exchange
// change bundles both ways, and end identical with the concurrent edit of one
// field shown as exactly one conflict.
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
}  // namespace

TEST_CASE("two tablets converge through bundles and show exactly one conflict", "[cli][merge]") {
  CliDb a, b;
  ok_json(a, {"init", "--school-name", "Nørrebro Skole"});
  ok_json(b, {"init"});
  const std::string bundle_a = a.dir().file("a.bundle");
  const std::string bundle_b = b.dir().file("b.bundle");
  const std::string course =
      ok_json(a, {"new", "course", "kind=co_teaching", "title=Læseløft 4.b", "status=planned"})["id"];
  ok_json(a, {"changes", "export", "--out", bundle_a});
  ok_json(b, {"changes", "import", bundle_a});

  // Offline: same field on both, different fields on both.
  ok_json(a, {"set", course, "title", "Læseløft 4.b – efterår"});
  ok_json(b, {"set", course, "title", "Læseløft i 4.b"});
  ok_json(a, {"set", course, "status", "active"});
  ok_json(b, {"set", course, "start_date", "2026-11-23"});

  ok_json(a, {"changes", "export", "--out", bundle_a});
  ok_json(b, {"changes", "export", "--out", bundle_b});
  ok_json(b, {"changes", "import", bundle_a});
  ok_json(a, {"changes", "import", bundle_b});
  // Importing again changes nothing (idempotent).
  auto again = ok_json(a, {"changes", "import", bundle_b});
  CHECK(again["applied"] == 0);

  auto dump_a = a.run({"dump", "--json"});
  auto dump_b = b.run({"dump", "--json"});
  REQUIRE(dump_a.exit_code == 0);
  CHECK(dump_a.out == dump_b.out);

  auto shown = ok_json(a, {"show", course});
  INFO(shown.dump());
  const Json& rec = shown.contains("record") ? shown["record"] : shown;
  REQUIRE(rec["conflicts"].size() == 1);
  CHECK(rec["conflicts"][0]["field"] == "title");
  CHECK(rec["fields"]["status"] == "active");
  CHECK(rec["fields"]["start_date"] == "2026-11-23");

  // Resolving is itself a change that reaches the other tablet.
  ok_json(b, {"resolve", course, "title", "--take", "Læseløft 4.b (efterår)"});
  ok_json(b, {"changes", "export", "--out", bundle_b});
  ok_json(a, {"changes", "import", bundle_b});
  auto resolved = ok_json(a, {"show", course});
  const Json& rec2 = resolved.contains("record") ? resolved["record"] : resolved;
  CHECK(rec2["conflicts"].empty());
  CHECK(rec2["fields"]["title"] == "Læseløft 4.b (efterår)");
  CHECK(a.run({"dump", "--json"}).out == b.run({"dump", "--json"}).out);
}

TEST_CASE("a malformed bundle is refused whole and changes nothing", "[cli][merge]") {
  CliDb a;
  ok_json(a, {"init", "--school-name", "Skole"});
  const auto before = a.run({"dump", "--json"}).out;
  for (const std::string content : {"{not json", "{\"format\":\"zip\"}", "{\"format\":\"tandem-bundle\",\"version\":9,\"changes\":[]}"}) {
    tandem::test::RunOptions o;
    const std::string file = a.dir().file("bad.bundle");
    FILE* f = std::fopen(file.c_str(), "wb");
    std::fwrite(content.data(), 1, content.size(), f);
    std::fclose(f);
    auto r = a.run_json({"changes", "import", file});
    CHECK(r.exit_code == 1);
    auto err = Json::parse(r.out);
    CHECK(err["error"]["code"].is_string());
  }
  CHECK(a.run({"dump", "--json"}).out == before);
}
