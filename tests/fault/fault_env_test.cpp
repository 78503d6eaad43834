// The command a fault suite prints for the README's reliability table
// (fault_env.hpp, suite_command) must rerun exactly its own test when it is
// pasted into a shell: Catch reads a ',' in a name as "or".
#include <catch2/catch.hpp>
#include <array>
#include <cstdio>
#include <string>

#include "fault_env.hpp"

namespace {

std::string shell_output(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  REQUIRE(p != nullptr);
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), static_cast<int>(buf.size()), p) != nullptr) out += buf.data();
  pclose(p);
  return out;
}

}  // namespace

TEST_CASE("a printed reliability command run by the shell selects exactly its own test", "[fault]") {
  // Names in this binary: with a comma, with '<', with nothing special.
  for (const std::string name : {"abuse: JSON nested 100,000 deep is refused cheaply",
                                 "abuse: 40 clients that never read a full pull page cost the "
                                 "server < 100 MB",
                                 "power loss: every sync point of 100 pushes on the server"}) {
    const std::string command = tandem::test::suite_command(name, false);
    INFO(command);
    CHECK(shell_output(std::string("cd '") + TANDEM_SOURCE_DIR + "' && " + command +
                       " --list-test-names-only") == name + "\n");
  }
}
