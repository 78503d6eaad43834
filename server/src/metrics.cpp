#include "tandem/server/metrics.hpp"

#include <sstream>

#include "tandem/server/storage.hpp"

namespace tandem::server {

void Metrics::observe_request(std::string_view route, unsigned status, double seconds) {
  std::lock_guard lock(mu_);
  ++requests_[{std::string(route), status}];
  Histogram& h = latency_[std::string(route)];
  for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    if (seconds <= kLatencyBuckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::count_changes(std::int64_t accepted, std::int64_t duplicate, std::int64_t rejected) {
  std::lock_guard lock(mu_);
  accepted_ += accepted;
  duplicate_ += duplicate;
  rejected_ += rejected;
}

void Metrics::connection_opened() {
  std::lock_guard lock(mu_);
  ++connections_;
}

void Metrics::connection_closed() {
  std::lock_guard lock(mu_);
  --connections_;
}

std::string Metrics::render(std::int64_t active_devices, const StorageStats& storage) const {
  std::lock_guard lock(mu_);
  std::ostringstream out;
  out << "# HELP tandem_http_requests_total HTTP requests by route and status.\n"
         "# TYPE tandem_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    out << "tandem_http_requests_total{route=\"" << key.first << "\",status=\"" << key.second
        << "\"} " << n << "\n";
  }
  out << "# HELP tandem_http_request_duration_seconds Time from request read to response written.\n"
         "# TYPE tandem_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
      out << "tandem_http_request_duration_seconds_bucket{route=\"" << route << "\",le=\""
          << kLatencyBuckets[i] << "\"} " << h.buckets[i] << "\n";
    }
    out << "tandem_http_request_duration_seconds_bucket{route=\"" << route << "\",le=\"+Inf\"} "
        << h.count << "\n";
    out << "tandem_http_request_duration_seconds_sum{route=\"" << route << "\"} " << h.sum << "\n";
    out << "tandem_http_request_duration_seconds_count{route=\"" << route << "\"} " << h.count
        << "\n";
  }
  out << "# HELP tandem_changes_total Pushed changes by outcome.\n"
         "# TYPE tandem_changes_total counter\n"
      << "tandem_changes_total{result=\"accepted\"} " << accepted_ << "\n"
      << "tandem_changes_total{result=\"duplicate\"} " << duplicate_ << "\n"
      << "tandem_changes_total{result=\"rejected\"} " << rejected_ << "\n";
  out << "# HELP tandem_connections_open Open HTTP connections.\n"
         "# TYPE tandem_connections_open gauge\n"
      << "tandem_connections_open " << connections_ << "\n";
  out << "# HELP tandem_storage_reads_total Authentications and pulls by where they were "
         "answered from: memory, or the database file (devices further behind than the "
         "server keeps in memory).\n"
         "# TYPE tandem_storage_reads_total counter\n"
      << "tandem_storage_reads_total{read=\"token\",from=\"memory\"} " << storage.tokens_from_memory
      << "\n"
      << "tandem_storage_reads_total{read=\"token\",from=\"file\"} " << storage.tokens_from_store
      << "\n"
      << "tandem_storage_reads_total{read=\"pull\",from=\"memory\"} " << storage.pulls_from_memory
      << "\n"
      << "tandem_storage_reads_total{read=\"pull\",from=\"file\"} " << storage.pulls_from_store
      << "\n";
  if (active_devices >= 0) {
    out << "# HELP tandem_active_devices Devices not revoked and seen in the last 24 hours.\n"
           "# TYPE tandem_active_devices gauge\n"
        << "tandem_active_devices " << active_devices << "\n";
  }
  return out.str();
}

}  // namespace tandem::server
