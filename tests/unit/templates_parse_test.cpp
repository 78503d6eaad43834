// parse_coding_scheme / parse_rating_items / validate_template on malformed
// definitions: each invariant of templates.hpp has a case that breaks it.
#include <catch2/catch.hpp>
#include <string>

#include "tandem/core/templates.hpp"

using namespace tandem;

namespace {

// A small valid definition: two groups, one categorised.
Json small() {
  return Json::parse(R"({
    "groups": [{"group": "a"}, {"group": "b"}],
    "codes": [{"code": "A-1", "group": "a", "label": {"da": "En", "en": "One"}},
              {"code": "A-2", "group": "a"},
              {"code": "B-1", "group": "b"}],
    "categories": [{"name": "X", "group": "a", "codes": ["A-1"]},
                   {"name": "Y", "group": "a", "codes": ["A-2"]}],
    "ratings": [{"item": "R-1", "min": 0, "max": 3}],
    "prompts": [{"id": "p1"}]})");
}

ErrorCode scheme_error(const Json& def) {
  auto r = parse_coding_scheme(def);
  return r.ok() ? ErrorCode::kOk : r.error().code;
}

}  // namespace

TEST_CASE("a valid definition parses in order", "[core][summary][templates]") {
  const auto s = parse_coding_scheme(small());
  REQUIRE(s.ok());
  REQUIRE(s->codes.size() == 3);
  CHECK(s->codes[0].code == "A-1");
  CHECK(s->codes[2].group == "b");
  REQUIRE(s->categories.size() == 2);
  CHECK(s->categories[1].name == "Y");
  CHECK(s->categories[1].codes == std::vector<std::string>{"A-2"});
  const auto items = parse_rating_items(small());
  REQUIRE(items.ok());
  CHECK(items->at(0).item == "R-1");
  CHECK(items->at(0).min == 0.0);
  CHECK(items->at(0).max == 3.0);
  // Everything is optional; unknown members are a school's own and ignored.
  CHECK(parse_coding_scheme(Json::object()).ok());
  CHECK(parse_coding_scheme(Json{{"colour", "blue"}}).ok());
}

TEST_CASE("malformed definitions are kInvalidValue", "[core][summary][templates]") {
  Json d = small();
  SECTION("not an object") { d = Json::array(); }
  SECTION("codes not an array") { d["codes"] = "A-1"; }
  SECTION("code entry not an object") { d["codes"][0] = "A-1"; }
  SECTION("missing code") { d["codes"][0].erase("code"); }
  SECTION("empty code") { d["codes"][0]["code"] = ""; }
  SECTION("code not a string") { d["codes"][0]["code"] = 7; }
  SECTION("duplicate code") { d["codes"][1]["code"] = "A-1"; }
  SECTION("group not a string") { d["codes"][2]["group"] = 2; }
  SECTION("group not listed in groups") { d["codes"][2]["group"] = "c"; }
  SECTION("label not an object") { d["codes"][0]["label"] = "En"; }
  SECTION("label text not a string") { d["codes"][0]["label"]["da"] = 1; }
  SECTION("unknown code in a category") { d["categories"][0]["codes"].push_back("A-9"); }
  SECTION("code of another group in a category") { d["categories"][0]["codes"].push_back("B-1"); }
  SECTION("code in two categories") { d["categories"][1]["codes"].push_back("A-1"); }
  SECTION("code twice in one category") { d["categories"][0]["codes"].push_back("A-1"); }
  SECTION("duplicate category in a group") { d["categories"][1]["name"] = "X"; }
  SECTION("categories do not partition the group") { d["categories"].erase(1); }
  SECTION("category without codes") { d["categories"][0]["codes"] = Json::array(); }
  SECTION("category codes not strings") { d["categories"][0]["codes"][0] = 1; }
  SECTION("category without a name") { d["categories"][0].erase("name"); }
  CHECK(scheme_error(d) == ErrorCode::kInvalidValue);
}

TEST_CASE("same category name in different groups is fine", "[core][summary][templates]") {
  Json d = small();
  d["categories"].push_back({{"name", "X"}, {"group", "b"}, {"codes", {"B-1"}}});
  CHECK(parse_coding_scheme(d).ok());
}

TEST_CASE("error messages name the offending member", "[core][summary][templates]") {
  Json d = small();
  d["categories"][0]["codes"].push_back("A-9");
  const auto r = parse_coding_scheme(d);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("categories[0]") != std::string::npos);
  CHECK(r.error().message.find("A-9") != std::string::npos);
}

TEST_CASE("malformed ratings and prompts", "[core][summary][templates]") {
  auto rating_error = [](const Json& def) {
    auto r = parse_rating_items(def);
    return r.ok() ? ErrorCode::kOk : r.error().code;
  };
  Json d = small();
  SECTION("min not below max") {
    d["ratings"][0]["min"] = 3;
    CHECK(rating_error(d) == ErrorCode::kInvalidValue);
  }
  SECTION("min not a number") {
    d["ratings"][0]["min"] = "1";
    CHECK(rating_error(d) == ErrorCode::kInvalidValue);
  }
  SECTION("duplicate item") {
    d["ratings"].push_back({{"item", "R-1"}});
    CHECK(rating_error(d) == ErrorCode::kInvalidValue);
  }
  SECTION("default scale is 1-5") {
    d["ratings"][0].erase("min");
    d["ratings"][0].erase("max");
    CHECK(parse_rating_items(d)->at(0).max == 5.0);
  }
  SECTION("duplicate prompt id fails validate_template") {
    d["prompts"].push_back({{"id", "p1"}});
    const Status st = validate_template({"t", "T", "focus", 0, d});
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code == ErrorCode::kInvalidValue);
  }
}

TEST_CASE("validate_template checks kind and interval", "[core][summary][templates]") {
  CHECK(validate_template({"t", "T", "interval", 60, small()}).ok());
  CHECK(validate_template({"t", "T", "event", 0, small()}).ok());
  auto code = [](const TemplateDef& t) {
    const Status st = validate_template(t);
    return st.ok() ? ErrorCode::kOk : st.error().code;
  };
  CHECK(code({"t", "T", "checklist", 0, small()}) == ErrorCode::kInvalidValue);
  CHECK(code({"t", "T", "interval", 0, small()}) == ErrorCode::kInvalidValue);
  CHECK(code({"t", "T", "focus", 120, small()}) == ErrorCode::kInvalidValue);
  CHECK(code({"", "T", "focus", 0, small()}) == ErrorCode::kInvalidValue);
  CHECK(code({"t", "", "focus", 0, small()}) == ErrorCode::kInvalidValue);
  CHECK(code({"t", "T", "interval", 120, Json::object()}) == ErrorCode::kInvalidValue);
}

TEST_CASE("too many codes is kTooLong", "[core][summary][templates]") {
  Json d = {{"codes", Json::array()}};
  for (std::size_t i = 0; i <= kMaxTemplateCodes; ++i) {
    d["codes"].push_back({{"code", "C-" + std::to_string(i)}});
  }
  CHECK(scheme_error(d) == ErrorCode::kTooLong);
}

TEST_CASE("codes and rating items fit an entry's code field", "[core][summary][templates]") {
  Json d = small();
  d["codes"][2]["code"] = std::string(kMaxCodeLength, 'x');  // exactly the limit: fine
  CHECK(scheme_error(d) == ErrorCode::kOk);
  d["codes"][2]["code"] = std::string(kMaxCodeLength + 1, 'x');
  CHECK(scheme_error(d) == ErrorCode::kTooLong);
  // The limit is in characters, not bytes: kMaxCodeLength x "ø" (twice the bytes) fits.
  std::string oe;
  for (std::size_t i = 0; i < kMaxCodeLength; ++i) oe += "\xc3\xb8";
  d["codes"][2]["code"] = oe;
  CHECK(scheme_error(d) == ErrorCode::kOk);
  d = small();
  d["ratings"][0]["item"] = std::string(kMaxCodeLength + 1, 'r');
  CHECK(parse_rating_items(d).error().code == ErrorCode::kTooLong);
}
