// `tandem agreement` through the CLI: two observers record the same lesson
// with `tandem record`, each with a template of their own, and the --json
// contract holds per code `code`, `jaccard`, `kappa` (and the counts) and an
// `overall` object. The values are docs/agreement.md's worked example.
#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>

#include "cli_json.hpp"

namespace {

using Json = nlohmann::json;
using tandem::test::cli_ok_json;
using tandem::test::CliDb;
using tandem::test::ProcessResult;

std::string id_of(const CliDb& db, const std::vector<std::string>& args) {
  return cli_ok_json(db, args).at("id");
}

}  // namespace

TEST_CASE("agreement of two recorded observations, as JSON and for people", "[cli][agreement]") {
  CliDb db;
  cli_ok_json(db, {"init", "--school-name", "Skovgårdsskolen"});
  const std::string course =
      id_of(db, {"course", "create", "--kind", "observation", "--title", "Fysik 8.a"});
  const std::string ta =
      id_of(db, {"template", "create", "--name", "Anne", "--kind", "event", "--definition",
                 R"({"codes":[{"code":"Lec"},{"code":"PQ"},{"code":"W"}]})"});
  const std::string tb =
      id_of(db, {"template", "create", "--name", "Bo", "--kind", "event", "--definition",
                 R"({"codes":[{"code":"Lec"},{"code":"PQ"},{"code":"SQ"}]})"});
  const std::string a = id_of(db, {"session", "create", "--course", course, "--template", ta});
  const std::string b = id_of(db, {"session", "create", "--course", course, "--template", tb});
  // Anne watches the clip at 10:00, Bo at 14:00 (local +01:00 for Bo).
  id_of(db, {"record", a, "--code", "Lec", "--at", "2026-03-02T10:00:00Z", "--end",
             "2026-03-02T10:00:09Z"});
  id_of(db, {"record", a, "--code", "PQ", "--at", "2026-03-02T10:00:00Z", "--end",
             "2026-03-02T10:00:02Z"});
  id_of(db, {"record", a, "--note", "eleverne var urolige"});
  id_of(db, {"record", b, "--code", "PQ", "--at", "2026-03-02T15:00:00+01:00"});
  id_of(db, {"record", b, "--code", "Lec", "--at", "2026-03-02T15:00:01+01:00", "--end",
             "2026-03-02T15:00:10+01:00"});
  id_of(db, {"record", b, "--code", "SQ", "--at", "2026-03-02T15:00:09+01:00", "--end",
             "2026-03-02T15:00:10+01:00"});

  const Json j = cli_ok_json(db, {"agreement", a, b});
  CHECK(j.at("unit") == "second");
  CHECK(j.at("units") == 10);
  CHECK(j.at("first").at("session") == a);
  CHECK(j.at("second").at("session") == b);
  std::map<std::string, Json> codes;
  for (const Json& c : j.at("codes")) codes[c.at("code")] = c;
  REQUIRE(codes.size() == 4);
  CHECK(codes.at("Lec").at("jaccard").get<double>() == Approx(0.8));
  CHECK(codes.at("Lec").at("kappa").get<double>() == Approx(-1.0 / 9));
  CHECK(codes.at("Lec").at("percent_agreement").get<double>() == Approx(80.0));
  CHECK(codes.at("Lec").at("a") == 8);
  CHECK(codes.at("Lec").at("d") == 0);
  CHECK(codes.at("PQ").at("jaccard").get<double>() == Approx(0.5));
  CHECK(codes.at("PQ").at("kappa").get<double>() == Approx(8.0 / 13));
  CHECK(codes.at("SQ").at("in_first_template") == false);
  CHECK(codes.at("SQ").at("c") == 1);
  CHECK(codes.at("W").at("kappa").is_null());
  CHECK(codes.at("W").at("kappa_undefined") == "expected_agreement_is_1");
  CHECK(codes.at("W").at("jaccard").is_null());
  const Json& all = j.at("overall");
  CHECK(all.at("codes") == 3);
  CHECK(all.at("jaccard").get<double>() == Approx(9.0 / 13));
  CHECK(all.at("kappa").get<double>() == Approx(149.0 / 209));
  CHECK(all.at("percent_agreement").get<double>() == Approx(260.0 / 3));
  CHECK(all.at("mean_kappa").get<double>() == Approx(59.0 / 351));

  const ProcessResult human = db.run({"agreement", a, b});
  REQUIRE(human.exit_code == 0);
  CHECK(human.out.find("10 enheder") != std::string::npos);
  CHECK(human.out.find("puljet over 3 brugte koder") != std::string::npos);
  CHECK(human.out.find("begge konstante og ens") != std::string::npos);

  // An interval-coded session cannot be compared with these: a clear error.
  const std::string c =
      id_of(db, {"session", "create", "--course", course, "--template", "template_copus",
                 "--started_at", "2026-03-02T10:00:00Z", "--ended_at", "2026-03-02T10:10:00Z"});
  id_of(db, {"record", c, "--tick", "I-Lec", "--interval", "0"});
  const ProcessResult mixed = db.run_json({"agreement", a, c});
  CHECK(mixed.exit_code == 1);
  const Json err = Json::parse(mixed.out, nullptr, false);
  REQUIRE_FALSE(err.is_discarded());
  CHECK(err.at("error").at("code") == "invalid_value");
  CHECK(err.at("error").at("message").get<std::string>().find("interval-coded") !=
        std::string::npos);
  CHECK(db.run({"agreement", a}).exit_code == 2);  // two sessions are needed
}
