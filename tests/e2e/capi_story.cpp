// The plain-C story (tests/capi/c/story.c, only tandem.h) against the real
// server: two tablets enroll, record offline, sync through the app's own
// HTTP stack (a transport callback), read the merged text and the conflict,
// resolve it. TANDEM_CAPI_STORY_CMD runs another build of the program
// instead (scripts/cross.sh: the aarch64 build under qemu-aarch64).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <sstream>

#include "cli_runner.hpp"
#include "server_process.hpp"

namespace tandem::test {

TEST_CASE("a C program using only tandem.h records offline, syncs and reads merges and conflicts",
          "[e2e][capi]") {
  std::vector<std::string> command;
  if (const char* cmd = std::getenv("TANDEM_CAPI_STORY_CMD"); cmd != nullptr && *cmd != '\0') {
    std::istringstream words(cmd);
    for (std::string w; words >> w;) command.push_back(w);
  } else {
    command.push_back(TANDEM_CAPI_STORY_PATH);
  }
  REQUIRE_FALSE(command.front().empty());
  SchoolServer world("Skovbakkeskolen");
  const std::string url = "http://127.0.0.1:" + std::to_string(world.server->port());
  TempDir tablets;
  std::vector<std::string> args(command.begin() + 1, command.end());
  for (const std::string& a :
       {url, world.code_for(world.school.person), world.code_for(world.school.person), tablets.path()}) {
    args.push_back(a);
  }
  RunOptions options;
  options.timeout = std::chrono::seconds(240);  // under qemu: slower
  const ProcessResult r = run_process(command.front(), args, options);
  INFO("stdout:\n" << r.out << "\nstderr:\n" << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("story: ok") != std::string::npos);
  CHECK(r.out.find("merged text: Alle: Læse højt hver dag") != std::string::npos);
}

}  // namespace tandem::test
