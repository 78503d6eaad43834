// The power-loss suites' driver: a workload of durable steps (tablet edits,
// server pushes) run over PowerLossVfs, with the power failing at its crash
// points (every sync, and the instant after each acknowledged step) — a
// seeded sample of them in the CI tier, every one of them in every
// PowerLossMode in the soak tier (TANDEM_SOAK=1). TANDEM_FAULT_CASE=N checks
// crash point N only (every mode).
//
// For each crash image the workload reopens the files as a rebooted machine
// would and checks them; the digests it recorded during the run say what
// "all-or-nothing, nothing acknowledged lost" means: the content after the
// reboot must be the content after exactly k acknowledged steps, with k the
// number acknowledged when the power failed or one more (the step in flight
// may have reached the disk before its call returned).
//
// Thread-safety: one test thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "power_loss_vfs.hpp"

namespace tandem::test {

class PowerLossWorkload {
 public:
  virtual ~PowerLossWorkload() = default;
  // Fresh files and whatever precedes the crash window; ends with vfs.settle().
  virtual void prepare(PowerLossVfs& vfs) = 0;
  // The steps: vfs.set_progress(k) before step k. Returns the content digest
  // after k acknowledged steps, for k = 0..steps. Closes every connection.
  virtual std::vector<std::string> run(PowerLossVfs& vfs) = 0;
  // After vfs.restore(image): reopens, checks (Catch2 assertions), leaves
  // nothing open. Returns k, the number of steps the files hold.
  virtual std::int64_t verify(PowerLossVfs& vfs, const CrashImage& image,
                              const std::vector<std::string>& digests) = 0;
};

// The k in {image.progress, image.progress + 1} whose digest `found` is, or
// -1; REQUIREs a match, with both candidates in the failure message.
std::int64_t matching_step(const CrashImage& image, const std::vector<std::string>& digests,
                           const std::string& found);

// The whole test case: takes the seed (fault_seed), registers a PowerLossVfs,
// makes the workload with the seed, runs it with run_power_loss below and
// prints the figures and the TANDEM_RELIABILITY line for `fault`, whose
// result starts with `shown` (what the checks showed).
void power_loss_test(const std::string& who, const std::string& fault, const std::string& shown,
                     const std::string& test_name,
                     const std::function<std::unique_ptr<PowerLossWorkload>(std::uint64_t)>& make);

struct PowerLossReport {
  std::int64_t crash_points = 0;    // in one run of the workload
  std::int64_t sync_points = 0;     // of which syncs (the rest: acknowledgements)
  std::int64_t images = 0;          // crash images checked
  std::int64_t in_flight_kept = 0;  // images holding the step in flight at the failure
  double seconds = 0;
};

// Runs the workload once to count its crash points, then in as many runs as
// the images need (each run records several), checking every image.
// `label` names the suite in messages ("power loss (tablet)"), `test_name`
// the Catch2 test that a failure's replay command runs.
PowerLossReport run_power_loss(PowerLossWorkload& workload, PowerLossVfs& vfs, std::uint64_t seed,
                               const std::string& label, const std::string& test_name);

// "crash point 17 of 212 (sync of tablet.db-wal, torn-sectors, image seed 123), 41 steps
// acknowledged"
std::string describe(const CrashImage& image, std::int64_t crash_points);

}  // namespace tandem::test
