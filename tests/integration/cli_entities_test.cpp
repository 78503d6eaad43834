// Every kind of the schema through the CLI: the per-kind commands
// (`<kind> create|list|show|update|delete|purge`) and the generic ones
// (`new`, `set`, `add`, `remove`, ...), with values chosen from each field's
// type so that a new kind or field is covered without editing this test.
#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>

#include "cli_runner.hpp"
#include "tandem/core/schema.hpp"

namespace {

using Json = nlohmann::json;
using tandem::FieldSpec;
using tandem::FieldType;
using tandem::KindSpec;
using tandem::test::CliDb;
using tandem::test::ProcessResult;

Json ok_json(const CliDb& db, const std::vector<std::string>& args) {
  const ProcessResult r = db.run_json(args);
  INFO("args: " << Json(args).dump() << "\nstdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  const Json j = Json::parse(r.out, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

std::string option_name(const std::string& field) { return "--" + field; }

// Builds records of any kind, creating what they refer to on the way.
class Maker {
 public:
  explicit Maker(const CliDb& db) : db_(db) {
    school_ = ok_json(db_, {"init", "--school-name", "Tandem Skole"}).at("school");
    made_["school"] = school_;
  }

  // A record of `kind` (made once and reused as a reference target).
  std::string existing(const std::string& kind) {
    if (made_.count(kind) == 0) made_[kind] = create(kind, /*friendly=*/true);
    return made_[kind];
  }

  // A new record of `kind` with its required fields only (and an entry's code).
  std::string create(const std::string& kind_name, bool friendly) {
    const KindSpec* kind = tandem::find_kind(kind_name);
    REQUIRE(kind != nullptr);
    std::vector<std::string> args;
    if (friendly)
      args = {kind_name, "create"};
    else
      args = {"new", kind_name};
    for (const FieldSpec& f : kind->fields) {
      // A coded entry needs a code (record_rules.hpp): the sample entry
      // carries one, so that its type can become any other.
      if (!f.required && !(kind_name == "entry" && f.name == "code")) continue;
      const std::string text = sample_text(f, 0);
      if (friendly) {
        args.push_back(option_name(f.name));
        args.push_back(text);
      } else {
        args.push_back(f.name + "=" + text);
      }
    }
    const std::string id = ok_json(db_, args).at("id");
    CHECK(id.rfind(kind_name + "_", 0) == 0);
    return id;
  }

  // Text for a value of `f` (variant 0 or 1 give different values).
  std::string sample_text(const FieldSpec& f, int variant) {
    switch (f.type) {
      case FieldType::kString:
        return variant == 0 ? "Åse" : "Øjvind";
      case FieldType::kText:
        return variant == 0 ? "Første linje\nanden" : "Første linje om ro\nanden";
      case FieldType::kEnum:
        return f.values.at(variant == 0 ? 0 : f.values.size() - 1);
      case FieldType::kDate:
        return variant == 0 ? "2026-03-02" : "2026-12-31";
      case FieldType::kDateTime:
        return variant == 0 ? "2026-03-02T09:00:00Z" : "2026-03-02T10:15:30+01:00";
      case FieldType::kInt:
        return variant == 0 ? "3" : "-7";
      case FieldType::kNumber:
        return variant == 0 ? "2.5" : "4";
      case FieldType::kBool:
        return variant == 0 ? "true" : "nej";
      case FieldType::kRef:
        return existing(f.ref_kind.empty() ? "school" : f.ref_kind);
      case FieldType::kStringSet:
        if (f.name == "focus_areas") return variant == 0 ? "relations" : "reading,systemic";
        if (!f.values.empty()) return variant == 0 ? f.values.front() : f.values.back();
        return variant == 0 ? "tema_a" : "tema_b,tema_c";
      case FieldType::kRefSet:
        return existing(f.ref_kind);
      case FieldType::kJson:
        return variant == 0 ? "{}" : R"({"label":{"da":"Klasseledelse"}})";
    }
    return {};
  }

  // What `show` prints for sample_text(f, variant).
  Json expected(const FieldSpec& f, int variant) {
    const std::string text = sample_text(f, variant);
    switch (f.type) {
      case FieldType::kDateTime:
        return variant == 0 ? "2026-03-02T09:00:00Z" : "2026-03-02T09:15:30Z";
      case FieldType::kInt:
        return std::stoll(text);
      case FieldType::kNumber:
        return std::stod(text);
      case FieldType::kBool:
        return variant == 0;
      case FieldType::kStringSet:
      case FieldType::kRefSet: {
        Json arr = Json::array();
        std::string rest = text;
        for (std::size_t p; (p = rest.find(',')) != std::string::npos; rest.erase(0, p + 1)) {
          arr.push_back(rest.substr(0, p));
        }
        arr.push_back(rest);
        std::sort(arr.begin(), arr.end());
        return arr;
      }
      case FieldType::kJson:
        return Json::parse(text);
      default:
        return text;
    }
  }

  const std::string& school() const { return school_; }

 private:
  const CliDb& db_;
  std::string school_;
  std::map<std::string, std::string> made_;
};

}  // namespace

TEST_CASE("every kind: create, list, show, update every field, delete, purge (per-kind commands)",
          "[cli][entities]") {
  CliDb db;
  Maker maker(db);
  for (const KindSpec& kind : tandem::schema()) {
    if (kind.name == "school") continue;  // made by init; covered below
    DYNAMIC_SECTION("kind " << kind.name) {
      const std::string id = maker.create(kind.name, /*friendly=*/true);
      Json shown = ok_json(db, {kind.name, "show", id});
      CHECK(shown.at("kind") == kind.name);
      CHECK(shown.at("school") == maker.school());
      for (const FieldSpec& f : kind.fields) {
        if (f.required) CHECK(shown.at("fields").at(f.name) == maker.expected(f, 0));
      }

      // Every field, one update each (variant 1), then all of them at once.
      std::vector<std::string> all = {kind.name, "update", id};
      for (const FieldSpec& f : kind.fields) {
        INFO("field " << f.name);
        if (f.type == FieldType::kRef || f.type == FieldType::kRefSet) continue;
        ok_json(db, {kind.name, "update", id, option_name(f.name), maker.sample_text(f, 1)});
        all.push_back(option_name(f.name));
        all.push_back(maker.sample_text(f, 0));
      }
      shown = ok_json(db, {kind.name, "show", id});
      for (const FieldSpec& f : kind.fields) {
        if (f.type == FieldType::kRef || f.type == FieldType::kRefSet) continue;
        INFO("field " << f.name);
        CHECK(shown.at("fields").at(f.name) == maker.expected(f, 1));
      }
      ok_json(db, all);
      shown = ok_json(db, {kind.name, "show", id});
      for (const FieldSpec& f : kind.fields) {
        if (f.type == FieldType::kRef || f.type == FieldType::kRefSet) continue;
        INFO("field " << f.name);
        CHECK(shown.at("fields").at(f.name) == maker.expected(f, 0));
      }

      Json listed = ok_json(db, {kind.name, "list"});
      bool found = false;
      for (const Json& r : listed) found = found || r.at("id") == id;
      CHECK(found);
      CHECK(ok_json(db, {kind.name, "delete", id}).at("deleted") == true);
      listed = ok_json(db, {kind.name, "list"});
      for (const Json& r : listed) CHECK(r.at("id") != id);
      CHECK(ok_json(db, {kind.name, "show", id}).at("deleted") == true);
      CHECK(ok_json(db, {kind.name, "purge", id}).at("purged") == true);
      CHECK(ok_json(db, {kind.name, "show", id}).at("purged") == true);
    }
  }
}

TEST_CASE("every kind through the generic commands", "[cli][entities]") {
  CliDb db;
  Maker maker(db);
  for (const KindSpec& kind : tandem::schema()) {
    if (kind.name == "school") continue;
    DYNAMIC_SECTION("kind " << kind.name) {
      const std::string id = maker.create(kind.name, /*friendly=*/false);
      for (const FieldSpec& f : kind.fields) {
        if (f.type == FieldType::kRef || f.type == FieldType::kRefSet) continue;
        INFO("field " << f.name);
        ok_json(db, {"set", id, f.name, maker.sample_text(f, 1)});
        if (f.is_set()) {
          ok_json(db, {"add", id, f.name, f.name == "focus_areas" ? "language" : "ekstra"});
          ok_json(db, {"remove", id, f.name, f.name == "focus_areas" ? "language" : "ekstra"});
        }
      }
      const Json shown = ok_json(db, {"show", id});
      for (const FieldSpec& f : kind.fields) {
        if (f.type == FieldType::kRef || f.type == FieldType::kRefSet) continue;
        INFO("field " << f.name);
        CHECK(shown.at("fields").at(f.name) == maker.expected(f, 1));
      }
      Json listed = ok_json(db, {"list", kind.name});
      CHECK(std::any_of(listed.begin(), listed.end(),
                        [&](const Json& r) { return r.at("id") == id; }));
      ok_json(db, {"delete", id});
      CHECK(ok_json(db, {"show", id}).at("deleted") == true);
    }
  }
}

TEST_CASE("references and reference sets", "[cli][entities]") {
  CliDb db;
  Maker maker(db);
  const std::string anna =
      ok_json(db, {"person", "create", "--name", "Anna", "--role", "teacher"}).at("id");
  const std::string bo = ok_json(db, {"person", "create", "--name", "Bo", "--role", "external",
                                      "--profession", "PPR-psykolog"})
                             .at("id");
  const std::string course =
      ok_json(db, {"course", "create", "--kind", "co_teaching", "--title", "Holddeling", "--target",
                   "group", "--focus", "classroom_management,relations", "--tovholder", anna,
                   "--participants", anna, "--participants", bo})
          .at("id");
  Json shown = ok_json(db, {"course", "show", course});
  CHECK(shown.at("fields").at("tovholder") == anna);
  Json both = Json::array({anna, bo});
  std::sort(both.begin(), both.end());
  CHECK(shown.at("fields").at("participants") == both);
  CHECK(shown.at("fields").at("focus_areas") == Json::array({"classroom_management", "relations"}));

  ok_json(db, {"course", "update", course, "--tovholder", bo, "--participants", bo});
  shown = ok_json(db, {"course", "show", course});
  CHECK(shown.at("fields").at("tovholder") == bo);
  CHECK(shown.at("fields").at("participants") == Json::array({bo}));

  // A per-kind command only sees its own kind.
  const ProcessResult wrong = db.run_json({"session", "show", course});
  CHECK(wrong.exit_code == 1);
  CHECK(Json::parse(wrong.out).at("error").at("code") == "not_found");
  // The dashed alias of agenda_item.
  const std::string meeting = ok_json(db, {"meeting", "create", "--date", "2026-03-05"}).at("id");
  const std::string item = ok_json(db, {"agenda-item", "create", "--meeting", meeting, "--need",
                                        "child_intervention", "--title", "Bekymring"})
                               .at("id");
  CHECK(ok_json(db, {"agenda_item", "show", item}).at("fields").at("meeting") == meeting);
}
