// Merges users can see (issue 16): two tablets, real `tandem` CLI processes
// syncing through the real server. When both rewrite the same sentence of a
// lesson log offline, `show` on BOTH tablets (and the server's archive of
// the school) says the log was merged from their concurrent edits, naming
// both; a confirmation on one tablet clears it on both after sync. Rewrites
// of different sentences say nothing.
#include <algorithm>
#include <catch2/catch.hpp>

#include "device_cli.hpp"
#include "sync_fixture.hpp"

namespace tandem::test {
namespace {

const std::string kLog = "Vi læste en bog om vikinger. Så tegnede vi skibe.";

struct TwoTablets {
  SyncWorld world;
  TempDir dir;
  std::string a = dir.file("anna.db");
  std::string b = dir.file("bo.db");
  std::string session;

  TwoTablets() {
    const std::string bo = world.add_person("Bo Lærer", "resource_person");
    enroll_cli(world, a, "anna");
    enroll_cli(world, b, "bo", bo);
    const std::string course =
        trim(cli_ok(a, {"new", "course", "kind=co_teaching", "title=Dansk 4.b",
                        "tovholder=" + world.school.person}));
    session =
        trim(cli_ok(a, {"new", "session", "course=" + course, "approach=station", "log=" + kLog}));
    sync(a);
    sync(b);
    REQUIRE(log(b) == kLog);
  }
  static std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }
  // Offline, A and B set the log to these; then they sync A, B, A.
  void rewrite_offline(const std::string& on_a, const std::string& on_b) {
    cli_ok(a, {"set", session, "log", on_a});
    cli_ok(b, {"set", session, "log", on_b});
    sync(a);
    sync(b);
    sync(a);
  }
  void sync(const std::string& db) { cli_ok(db, {"--json", "sync"}); }
  nlohmann::json show(const std::string& db) {
    return nlohmann::json::parse(cli_ok(db, {"--json", "show", session}));
  }
  std::string log(const std::string& db) {
    return show(db).at("fields").at("log").get<std::string>();
  }
  // The session as the server holds it (the school's archive).
  nlohmann::json on_server() {
    const auto archive = server_admin_json(world.server->data_dir(),
                                           {"export", "--school", world.school.id, "--archive"});
    for (const auto& r : archive.at("records")) {
      if (r.at("id") == session) return r;
    }
    FAIL("the server has no session " << session);
    return {};
  }
  // `show --json`'s merge notices ([] when it has none).
  nlohmann::json notices(const std::string& db) {
    return show(db).value("merge_notices", nlohmann::json::array());
  }
  // This tablet's site id, as its merge notice names it.
  std::string own_site(const std::string& db) {
    const nlohmann::json found = notices(db);
    for (const auto& by : found.at(0).at("by")) {
      if (by.at("this_device") == true) return by.at("site").get<std::string>();
    }
    FAIL("the merge does not name this tablet: " << found.dump());
    return {};
  }
};

}  // namespace

TEST_CASE("two tablets rewrite the same sentence offline: both show the merge until one confirms",
          "[e2e][sync][merge_marks]") {
  TwoTablets t;
  // Offline: both rewrite "en bog om vikinger".
  t.rewrite_offline("Vi læste et digt om vikinger. Så tegnede vi skibe.",
                    "Vi læste to bøger om vikinger. Så tegnede vi skibe.");

  const std::string merged_log = t.log(t.a);
  CHECK(t.log(t.b) == merged_log);
  INFO("merged log: " << merged_log);
  std::vector<std::string> both = {t.own_site(t.a), t.own_site(t.b)};
  REQUIRE(both[0] != both[1]);
  std::sort(both.begin(), both.end());
  for (const std::string& db : {t.a, t.b}) {
    const auto doc = t.show(db);
    INFO(db << ": " << doc.dump());
    CHECK(doc.at("merged").at("log") == nlohmann::json(both));
    REQUIRE(doc.at("merge_notices").size() == 1);
    const auto& notice = doc.at("merge_notices")[0];
    CHECK(notice.at("field") == "log");
    CHECK(notice.at("by").size() == 2);
    CHECK_THAT(notice.at("message").get<std::string>(),
               Catch::StartsWith("merged from concurrent edits by "));
    // On screen, in Danish, naming this tablet's own person.
    const std::string human = cli_ok(db, {"show", t.session});
    CHECK_THAT(human, Catch::Contains("log: flettet sammen af samtidige ændringer fra "));
    CHECK_THAT(human, Catch::Contains(db == t.a ? std::string("Resource person")
                                                : std::string("Bo Lærer")));
    CHECK_THAT(human, Catch::Contains("tandem text " + t.session + " log --confirm"));
  }
  CHECK(t.on_server().at("merged").at("log") == nlohmann::json(both));

  // Bo confirms the log as it reads; after sync neither tablet nor the
  // server shows the merge, and the text is unchanged.
  const auto confirmed =
      nlohmann::json::parse(cli_ok(t.b, {"--json", "text", t.session, "log", "--confirm"}));
  CHECK(confirmed.at("confirmed") == true);
  CHECK_FALSE(t.show(t.b).contains("merged"));
  t.sync(t.b);
  t.sync(t.a);
  for (const std::string& db : {t.a, t.b}) {
    const auto doc = t.show(db);
    CHECK_FALSE(doc.contains("merged"));
    CHECK_FALSE(doc.contains("merge_notices"));
    CHECK(doc.at("fields").at("log") == merged_log);
    CHECK_THAT(cli_ok(db, {"show", t.session}), !Catch::Contains("flettet sammen"));
  }
  CHECK_FALSE(t.on_server().contains("merged"));
  // Nothing left to confirm: a clear error.
  const ProcessResult again = cli(t.a, {"--json", "text", t.session, "log", "--confirm"});
  CHECK(again.exit_code == 1);
  CHECK_THAT(again.out, Catch::Contains("no_conflict"));
}

TEST_CASE("a later edit of the merged log clears the merge on both tablets",
          "[e2e][sync][merge_marks]") {
  TwoTablets t;
  t.rewrite_offline("Vi læste et digt om vikinger. Så tegnede vi skibe.",
                    "Vi læste to bøger om vikinger. Så tegnede vi skibe.");
  REQUIRE(t.show(t.a).contains("merged"));
  cli_ok(t.a, {"text", t.session, "log", "--insert", "0", "Mandag: "});
  t.sync(t.a);
  t.sync(t.b);
  CHECK_FALSE(t.show(t.a).contains("merged"));
  CHECK_FALSE(t.show(t.b).contains("merged"));
  CHECK_THAT(t.log(t.b), Catch::StartsWith("Mandag: "));
}

TEST_CASE("two tablets rewrite different sentences offline: no merge is shown",
          "[e2e][sync][merge_marks]") {
  TwoTablets t;
  t.rewrite_offline("Vi læste et digt om vikinger. Så tegnede vi skibe.",
                    "Vi læste en bog om vikinger. Så malede vi skibe.");
  for (const std::string& db : {t.a, t.b}) {
    const auto doc = t.show(db);
    CHECK(doc.at("fields").at("log") == "Vi læste et digt om vikinger. Så malede vi skibe.");
    CHECK_FALSE(doc.contains("merged"));
    CHECK_FALSE(doc.contains("merge_notices"));
    CHECK_THAT(cli_ok(db, {"show", t.session}), !Catch::Contains("flettet sammen"));
  }
  CHECK_FALSE(t.on_server().contains("merged"));
}

}  // namespace tandem::test
