// Text from outside never comes back raw: an error message quotes at most a
// short, escaped excerpt of what a request held, and the admin commands
// print names (typed on devices, or on the command line) with their control
// characters escaped.
#include <catch2/catch.hpp>
#include <string>

#include "server_process.hpp"
#include "server_store.hpp"
#include "tandem/core/excerpt.hpp"

using namespace tandem::test;  // NOLINT(google-build-using-namespace)
using nlohmann::json;

namespace {

// What a terminal would act on: C0 (but tab and newline where allowed),
// DEL, C1 and the bidi override U+202E, as UTF-8 bytes.
bool has_terminal_control(const std::string& s, bool allow_layout) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (allow_layout && (c == '\n' || c == '\t')) continue;
    if (c < 0x20 || c == 0x7F) return true;
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) < 0xA0) return true;
    if (s.compare(i, 3, "\xe2\x80\xae") == 0) return true;
  }
  return false;
}

// Control characters, a bidi override and 5,000 bytes of filler.
const std::string kHostile =
    "\x1b]0;owned\x07\x1b[2J\xc2\x9b"
    "31m\xe2\x80\xae" +
    std::string(5000, 'A') + "\r\nX-Injected: 1";

// Every error message in the answer (top level and per change).
std::vector<std::string> messages(const json& j) {
  std::vector<std::string> out;
  if (j.contains("error")) out.push_back(j["error"].value("message", ""));
  if (j.contains("push")) {
    for (const auto& r : j["push"]["results"]) {
      if (r.contains("error")) out.push_back(r["error"].value("message", ""));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("server: error messages quote at most a short, escaped excerpt of the request",
          "[server][e2e][bad-input]") {
  SchoolServer world;
  const TestDevice device = world.enroll();
  ChangeMaker maker;
  const tandem::Change course = maker.create_course(world.school.id, "c");
  json with_member = course.to_json();
  with_member[kHostile] = 1;
  json with_kind = course.to_json();
  with_kind["kind"] = kHostile;
  json with_field = maker.set_field(course, "title", "t").to_json();
  json with_tag = course.to_json();
  with_tag["value"]["tags"] = json::array({kHostile});
  json with_op = course.to_json();
  with_op["op"] = kHostile;

  struct Case {
    std::string what, path, body;
  };
  const auto push_of = [](const json& change) {
    return json{{"push", {{"mutation_id", 1}, {"changes", json::array({change})}}}}.dump();
  };
  with_field["field"] = kHostile;
  const std::vector<Case> cases = {
      {"unknown top-level member", "/v1/sync", json{{kHostile, 1}}.dump()},
      {"unknown member of a change", "/v1/sync", push_of(with_member)},
      {"unknown op", "/v1/sync", push_of(with_op)},
      {"unknown kind", "/v1/sync", push_of(with_kind)},
      {"unknown field", "/v1/sync", push_of(with_field)},
      {"bad tag", "/v1/sync", push_of(with_tag)},
      {"unknown member of an enrollment", "/v1/enroll", json{{kHostile, 1}}.dump()},
  };
  for (const auto& c : cases) {
    const auto r = world.http.post(world.server->url(c.path), c.body,
                                   c.path == "/v1/sync" ? device.token : "");
    INFO(c.what << ": " << r.status << " " << r.body.substr(0, 400));
    CHECK(r.status < 500);
    const auto ms = messages(r.json());
    REQUIRE_FALSE(ms.empty());
    for (const auto& m : ms) {
      CHECK(m.size() <= tandem::kMaxErrorMessageBytes);
      CHECK(m.find(std::string(tandem::kMaxExcerptCodePoints + 1, 'A')) == std::string::npos);
      CHECK_FALSE(has_terminal_control(m, false));
    }
    CHECK(r.body.size() < 1000);
  }
}

TEST_CASE("server: admin commands print names with control characters escaped",
          "[server][e2e][admin]") {
  SchoolServer world;
  const std::string name =
      "tablet\x1b[31m red\tcol\nrow\xe2\x80\xae"
      "fdp.exe\x7f";
  const std::string code = world.code_for(world.school.person);
  const auto enrolled = world.http.post(world.server->url("/v1/enroll"),
                                        json{{"code", code}, {"device_name", name}}.dump());
  REQUIRE(enrolled.status == 200);

  // Text: one line per device, nothing a terminal acts on.
  const auto text = run_process(
      server_binary(), store_args(world.dir.path(), {"device", "list", "--school", world.school.id}));
  REQUIRE(text.exit_code == 0);
  INFO(text.out);
  CHECK_FALSE(has_terminal_control(text.out, true));
  CHECK(std::count(text.out.begin(), text.out.end(), '\n') == 1);
  CHECK(text.out.find(tandem::escape_controls(name)) != std::string::npos);

  // JSON: the same name when decoded, nothing raw when printed.
  const auto raw = server_admin(world.dir.path(), {"device", "list", "--school", world.school.id});
  REQUIRE(raw.exit_code == 0);
  CHECK_FALSE(has_terminal_control(raw.out, true));
  const json list = json::parse(raw.out);
  REQUIRE(list.size() == 1);
  CHECK(list[0]["name"] == name);

  // A person's name typed with a control character, printed back as JSON.
  const auto person =
      server_admin(world.dir.path(), {"person", "add", "--school", world.school.id, "--name",
                                      "Anna\xc2\x9b"
                                      "2J",
                                      "--role", "teacher"});
  REQUIRE(person.exit_code == 0);
  CHECK_FALSE(has_terminal_control(person.out, true));
  CHECK(json::parse(person.out)["name"] ==
        "Anna\xc2\x9b"
        "2J");

  // An error about a typed value: escaped on stderr.
  const auto bad =
      run_process(server_binary(), store_args(world.dir.path(), {"device", "revoke", "dev_\x1b[2J"}));
  CHECK(bad.exit_code != 0);
  CHECK_FALSE(has_terminal_control(bad.err, true));
}
