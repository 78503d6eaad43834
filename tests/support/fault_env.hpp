// What every fault, abuse and clock suite (tests/fault) shares: its seed, its
// tier, how one case is replayed, and the TANDEM_RELIABILITY line it prints
// for the README's reliability table (scripts/reliability.sh).
//
//   TANDEM_SEED=N       replay a run exactly (the suites print the seed they used)
//   TANDEM_SOAK=1       the soak tier (every case) instead of the CI sample
//   TANDEM_FAULT_CASE=X run only case X (a suite says what X names: a sync
//                       point, a byte offset, ...); printed with every failure
//
// Thread-safety: the functions read the environment and print; call them
// from the test's thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace tandem::test {

// TANDEM_SEED when set, else a fresh random seed. Prints "<suite>: TANDEM_SEED=N".
std::uint64_t fault_seed(const std::string& suite);
// TANDEM_SOAK=1 (or any value but "" and "0").
bool soak_tier();
// TANDEM_FAULT_CASE, when set.
std::optional<std::string> fault_case();

// The command that reruns the Catch2 test `test_name` of the running binary
// with `seed` (and the soak tier when `soak`), from the source directory.
std::string rerun_command(const std::string& test_name, std::uint64_t seed, bool soak);
// Same, without a seed: the command that repeats the run with a new one.
std::string suite_command(const std::string& test_name, bool soak);

// Prints, on one line of stdout:
//   TANDEM_RELIABILITY {"fault":...,"cases":N,"result":...,"command":...}
void reliability_line(const std::string& fault, std::int64_t cases, const std::string& result,
                      const std::string& command);

}  // namespace tandem::test
