#include "power_loss_driver.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <numeric>
#include <random>

#include "fault_env.hpp"

namespace tandem::test {
namespace {

// CI tier: crash points per workload (each in one mode, in one run).
constexpr std::size_t kCiCrashPoints = 40;
// Images held in memory at once (each is a copy of the files): the soak tier
// runs the workload again for every this many.
constexpr std::size_t kImagesPerRun = 24;

std::vector<CrashPoint> plan(std::int64_t crash_points, std::uint64_t seed) {
  std::vector<CrashPoint> out;
  if (auto only = fault_case()) {
    const std::int64_t point = std::stoll(*only);
    for (PowerLossMode m : kAllPowerLossModes) out.push_back({point, m});
    return out;
  }
  if (soak_tier()) {
    for (std::int64_t p = 1; p <= crash_points; ++p) {
      for (PowerLossMode m : kAllPowerLossModes) out.push_back({p, m});
    }
    return out;
  }
  std::vector<std::int64_t> all(static_cast<std::size_t>(crash_points));
  std::iota(all.begin(), all.end(), 1);
  std::mt19937_64 rng(seed);
  std::shuffle(all.begin(), all.end(), rng);
  all.resize(std::min(all.size(), kCiCrashPoints));
  std::sort(all.begin(), all.end());
  for (std::size_t i = 0; i < all.size(); ++i) {
    out.push_back({all[i], kAllPowerLossModes[(i + seed) % std::size(kAllPowerLossModes)]});
  }
  return out;
}

}  // namespace

std::string describe(const CrashImage& image, std::int64_t crash_points) {
  return "crash point " + std::to_string(image.point.point) + " of " +
         std::to_string(crash_points) + " (" + image.at + ", " + mode_name(image.point.mode) +
         ", image seed " + std::to_string(image.seed) + "), " + std::to_string(image.progress) +
         " steps acknowledged";
}

std::int64_t matching_step(const CrashImage& image, const std::vector<std::string>& digests,
                           const std::string& found) {
  const auto p = static_cast<std::size_t>(image.progress);
  REQUIRE(p < digests.size());
  if (found == digests[p]) return static_cast<std::int64_t>(p);
  if (p + 1 < digests.size() && found == digests[p + 1]) return static_cast<std::int64_t>(p + 1);
  INFO("after the reboot:        " << found);
  INFO("after " << p << " steps (acknowledged): " << digests[p]);
  if (p + 1 < digests.size()) INFO("after " << p + 1 << " steps (in flight): " << digests[p + 1]);
  FAIL("the files hold neither the acknowledged steps nor those plus the one in flight");
  return -1;
}

PowerLossReport run_power_loss(PowerLossWorkload& workload, PowerLossVfs& vfs, std::uint64_t seed,
                               const std::string& label, const std::string& test_name) {
  const auto started = std::chrono::steady_clock::now();
  PowerLossReport report;
  workload.prepare(vfs);
  (void)workload.run(vfs);
  report.crash_points = vfs.crash_points();
  report.sync_points = vfs.sync_points();
  const std::vector<CrashPoint> points = plan(report.crash_points, seed);
  for (std::size_t from = 0; from < points.size(); from += kImagesPerRun) {
    const std::vector<CrashPoint> chunk(points.begin() + static_cast<std::ptrdiff_t>(from),
                                        points.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                             points.size(), from + kImagesPerRun)));
    workload.prepare(vfs);
    vfs.capture_at(chunk, seed);
    const std::vector<std::string> digests = workload.run(vfs);
    INFO(label << ": the run had " << vfs.crash_points() << " crash points, the first "
               << report.crash_points);
    std::vector<CrashImage> images = vfs.take_images();
    REQUIRE(images.size() == chunk.size());
    for (const auto& image : images) {
      INFO(label << ": power lost at " << describe(image, report.crash_points)
                 << "; replay: TANDEM_FAULT_CASE=" << image.point.point << " "
                 << rerun_command(test_name, seed, false));
      const std::int64_t k = workload.verify(vfs, image, digests);
      ++report.images;
      if (k > image.progress) ++report.in_flight_kept;
    }
  }
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

void power_loss_test(const std::string& who, const std::string& fault, const std::string& shown,
                     const std::string& test_name,
                     const std::function<std::unique_ptr<PowerLossWorkload>(std::uint64_t)>& make) {
  const std::string label = "power loss (" + who + ")";
  const std::uint64_t seed = fault_seed(label);
  PowerLossVfs vfs("tandem-power-loss-" + who);
  auto workload = make(seed);
  const PowerLossReport r = run_power_loss(*workload, vfs, seed, label, test_name);
  std::printf(
      "%s: %lld crash images over %lld crash points (%lld syncs) checked in %.1f s (%lld held the "
      "step "
      "in flight)\n",
      label.c_str(), static_cast<long long>(r.images), static_cast<long long>(r.crash_points),
      static_cast<long long>(r.sync_points), r.seconds, static_cast<long long>(r.in_flight_kept));
  reliability_line(fault, r.images,
                   shown + "; " + std::to_string(r.images) + " crash images at " +
                       std::to_string(r.crash_points) + " crash points (" +
                       std::to_string(r.sync_points) +
                       " syncs, the rest acknowledgements; drop all / random pages / torn sectors)",
                   suite_command(test_name, soak_tier()));
}

}  // namespace tandem::test
