// JSON text from outside (bodies, bundle files, typed values) is parsed with
// a bound on nesting (core/json.hpp): deeper text is refused before nlohmann
// parses it, because a deep value cannot be copied or printed without
// exhausting the stack (the bundle fuzzer's first finding: `changes import`
// of a bundle with a value 100,000 levels deep crashed the CLI).
#include <catch2/catch.hpp>
#include <string>

#include "tandem/core/bundle.hpp"
#include "tandem/core/json.hpp"

using tandem::ErrorCode;
using tandem::kMaxJsonDepth;
using tandem::parse_json_text;

namespace {

std::string nested(std::size_t depth, const std::string& inner = "1") {
  return std::string(depth, '[') + inner + std::string(depth, ']');
}

}  // namespace

TEST_CASE("JSON text: nesting up to the bound parses, one level more is refused", "[core][json]") {
  auto at_bound = parse_json_text(nested(kMaxJsonDepth));
  REQUIRE(at_bound.ok());
  CHECK(at_bound->dump() == nested(kMaxJsonDepth));
  auto over = parse_json_text(nested(kMaxJsonDepth + 1));
  REQUIRE_FALSE(over.ok());
  CHECK(over.error().code == ErrorCode::kInvalidJson);
  // Objects count like arrays.
  std::string objects;
  for (std::size_t i = 0; i <= kMaxJsonDepth; ++i) objects += R"({"a":)";
  objects += "1" + std::string(kMaxJsonDepth + 1, '}');
  CHECK_FALSE(parse_json_text(objects).ok());
}

TEST_CASE("JSON text: brackets inside strings are text, not nesting", "[core][json]") {
  // Quotes escaped inside a string do not end it.
  const std::string text = R"(["\"[[[[", ")" + std::string(200, '[') + R"("])";
  auto j = parse_json_text(text);
  REQUIRE(j.ok());
  CHECK((*j)[1].get<std::string>() == std::string(200, '['));
}

TEST_CASE("JSON text: a million levels are refused, and the message quotes nothing",
          "[core][json]") {
  auto r = parse_json_text(nested(1'000'000, "\"secret-note\""));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kInvalidJson);
  CHECK(r.error().message.find("secret") == std::string::npos);
  auto malformed = parse_json_text(R"({"note": "secret-note" oops})");
  REQUIRE_FALSE(malformed.ok());
  CHECK(malformed.error().message.find("secret") == std::string::npos);
}

TEST_CASE("bundle files are parsed with the same bound", "[core][json][bundle]") {
  const std::string head =
      R"({"format":"tandem-bundle","version":1,"changes":[{"hlc":"01a0c4506c00-000001-f022000000000002",)"
      R"("record":"course_a0c4506c00f02203","kind":"course","op":"set","field":"title","value":)";
  // The value sits three levels down (bundle, list, change).
  CHECK(tandem::parse_bundle(head + nested(kMaxJsonDepth - 3) + "}]}").ok());
  auto deep = tandem::parse_bundle(head + nested(100'000) + "}]}");
  REQUIRE_FALSE(deep.ok());
  CHECK(deep.error().code == ErrorCode::kInvalidJson);
}
