// In-process counters for GET /metrics (Prometheus text exposition format):
//   tandem_http_requests_total{route,status}          counter
//   tandem_http_request_duration_seconds{route}        histogram
//   tandem_changes_total{result="accepted|duplicate|rejected"} counter
//   tandem_connections_open                           gauge
//   tandem_active_devices                             gauge (from storage, at render time)
// Routes are the fixed route names (never raw paths), so label sets stay small.
//
// Thread-safety: all methods are safe from any thread (one mutex, held for
// a few increments).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace tandem::server {

struct StorageStats;  // storage.hpp

class Metrics {
 public:
  static constexpr std::array<double, 12> kLatencyBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5};

  void observe_request(std::string_view route, unsigned status, double seconds);
  void count_changes(std::int64_t accepted, std::int64_t duplicate, std::int64_t rejected);
  void connection_opened();
  void connection_closed();

  // The exposition text; active_devices < 0 leaves that gauge out.
  std::string render(std::int64_t active_devices, const StorageStats& storage) const;

 private:
  struct Histogram {
    std::array<std::uint64_t, kLatencyBuckets.size()> buckets{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, unsigned>, std::uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  std::int64_t accepted_ = 0;
  std::int64_t duplicate_ = 0;
  std::int64_t rejected_ = 0;
  std::int64_t connections_ = 0;
};

}  // namespace tandem::server
