// The templates Tandem ships: fixed ids, valid definitions, and COPUS exactly
// as DOMAIN.md's appendix gives it (13 student + 12 instructor codes, the
// collapsed categories partitioning each group).
#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <string>

#include "tandem/core/templates.hpp"

using namespace tandem;

namespace {

bool has_da_en_label(const Json& obj) {
  const Json* label = obj.contains("label") ? &obj["label"] : nullptr;
  return label != nullptr && label->is_object() && label->contains("da") && label->contains("en") &&
         !(*label)["da"].get<std::string>().empty() && !(*label)["en"].get<std::string>().empty();
}

}  // namespace

TEST_CASE("shipped templates: fixed ids, kinds, and all valid", "[core][summary][templates]") {
  const auto& all = builtin_templates();
  REQUIRE(all.size() == 3);
  CHECK(all[0].id == "template_copus");
  CHECK(all[0].kind == "interval");
  CHECK(all[0].interval_seconds == 120);
  CHECK(all[1].id == "template_klasseledelse");
  CHECK(all[1].kind == "focus");
  CHECK(all[1].interval_seconds == 0);
  CHECK(all[2].id == "template_coteaching_reflection");
  CHECK(all[2].kind == "reflection");
  CHECK(all[2].interval_seconds == 0);
  for (const TemplateDef& t : all) {
    INFO(t.id);
    CHECK_FALSE(t.name.empty());
    const Status st = validate_template(t);
    CHECK(st.ok());
    CHECK(has_da_en_label(t.definition));
    CHECK(find_builtin_template(t.id) == &t);
    const Json j = t.to_json();
    CHECK(j["id"] == t.id);
    CHECK(j["definition"] == t.definition);
  }
  CHECK(find_builtin_template("template_nope") == nullptr);
}

TEST_CASE("COPUS has the 25 codes of the appendix", "[core][summary][templates]") {
  const TemplateDef* t = find_builtin_template(kTemplateCopus);
  REQUIRE(t != nullptr);
  const auto scheme = parse_coding_scheme(t->definition);
  REQUIRE(scheme.ok());
  std::set<std::string> students;
  std::set<std::string> instructor;
  for (const auto& c : scheme->codes) {
    (c.group == "students" ? students : instructor).insert(c.code);
    CHECK((c.group == "students" || c.group == "instructor"));
    CHECK(c.code.rfind(c.group == "students" ? "S-" : "I-", 0) == 0);  // namespaced
  }
  CHECK(students == std::set<std::string>{"S-L", "S-Ind", "S-CG", "S-WG", "S-OG", "S-AnQ", "S-SQ",
                                          "S-WC", "S-Prd", "S-SP", "S-TQ", "S-W", "S-O"});
  CHECK(instructor == std::set<std::string>{"I-Lec", "I-RtW", "I-FUp", "I-PQ", "I-CQ", "I-AnQ",
                                            "I-MG", "I-1o1", "I-D/V", "I-Adm", "I-W", "I-O"});
  CHECK(students.size() == 13);
  CHECK(instructor.size() == 12);
  for (const Json& c : t->definition["codes"]) {
    INFO(c.dump());
    CHECK(has_da_en_label(c));
  }
}

TEST_CASE("COPUS categories partition each group as the appendix says",
          "[core][summary][templates]") {
  const auto scheme = parse_coding_scheme(find_builtin_template(kTemplateCopus)->definition);
  REQUIRE(scheme.ok());
  std::map<std::string, std::string> group_of;
  for (const auto& c : scheme->codes) group_of[c.code] = c.group;

  std::map<std::string, int> times_categorised;
  std::map<std::pair<std::string, std::string>, std::set<std::string>> by_name;
  for (const auto& cat : scheme->categories) {
    for (const auto& code : cat.codes) {
      REQUIRE(group_of.count(code) == 1);  // every category code exists
      CHECK(group_of[code] == cat.group);  // ...in the category's group
      ++times_categorised[code];
    }
    by_name[{cat.group, cat.name}] = {cat.codes.begin(), cat.codes.end()};
  }
  for (const auto& [code, group] : group_of) {
    INFO(code);
    CHECK(times_categorised[code] == 1);  // exactly one category: a partition
  }
  using Set = std::set<std::string>;
  CHECK(by_name.size() == 8);
  CHECK(by_name[{"instructor", "Presenting"}] == Set{"I-Lec", "I-RtW", "I-D/V"});
  CHECK(by_name[{"instructor", "Guiding"}] ==
        Set{"I-FUp", "I-PQ", "I-CQ", "I-AnQ", "I-MG", "I-1o1"});
  CHECK(by_name[{"instructor", "Administration"}] == Set{"I-Adm"});
  CHECK(by_name[{"instructor", "Other"}] == Set{"I-W", "I-O"});
  CHECK(by_name[{"students", "Receiving"}] == Set{"S-L"});
  CHECK(by_name[{"students", "Talking to class"}] == Set{"S-AnQ", "S-SQ", "S-WC", "S-SP"});
  CHECK(by_name[{"students", "Working"}] == Set{"S-Ind", "S-CG", "S-WG", "S-OG", "S-Prd", "S-TQ"});
  CHECK(by_name[{"students", "Other"}] == Set{"S-W", "S-O"});
  for (const Json& c : find_builtin_template(kTemplateCopus)->definition["categories"]) {
    CHECK(has_da_en_label(c));
  }
}

TEST_CASE("klasseledelse: labelled codes and 1-5 ratings", "[core][summary][templates]") {
  const TemplateDef* t = find_builtin_template(kTemplateKlasseledelse);
  REQUIRE(t != nullptr);
  const auto scheme = parse_coding_scheme(t->definition);
  REQUIRE(scheme.ok());
  std::set<std::string> codes;
  for (const auto& c : scheme->codes) codes.insert(c.code);
  for (const char* c : {"T-Start", "T-Instr", "T-Praise", "T-Correct", "T-Trans", "T-Rule",
                        "P-OnTask", "P-OffTask"}) {
    CHECK(codes.count(c) == 1);
  }
  for (const Json& c : t->definition["codes"]) CHECK(has_da_en_label(c));
  const auto items = parse_rating_items(t->definition);
  REQUIRE(items.ok());
  REQUIRE(items->size() >= 3);
  for (const RatingItem& r : *items) {
    CHECK(r.min == 1.0);
    CHECK(r.max == 5.0);
  }
  for (const Json& r : t->definition["ratings"]) CHECK(has_da_en_label(r));
}

TEST_CASE("co-teaching reflection: prompts only", "[core][summary][templates]") {
  const TemplateDef* t = find_builtin_template(kTemplateCoteachingReflection);
  REQUIRE(t != nullptr);
  REQUIRE(t->definition["prompts"].size() >= 5);
  for (const Json& p : t->definition["prompts"]) {
    CHECK_FALSE(p["id"].get<std::string>().empty());
    CHECK(has_da_en_label(p));
  }
  const auto scheme = parse_coding_scheme(t->definition);
  REQUIRE(scheme.ok());
  CHECK(scheme->codes.empty());
  CHECK(scheme->categories.empty());
}
