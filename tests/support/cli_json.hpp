// The JSON document a CLI command printed with --json, for tests that expect
// it to succeed: fails the test (showing the command, stdout and stderr) on
// a non-zero exit or output that is not JSON. (Older CLI tests carry their
// own copy of this; new ones use this one.)
#pragma once

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_runner.hpp"

namespace tandem::test {

inline nlohmann::json cli_ok_json(const CliDb& db, const std::vector<std::string>& args) {
  const ProcessResult r = db.run_json(args);
  INFO("args: " << nlohmann::json(args).dump() << "\nstdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

}  // namespace tandem::test
