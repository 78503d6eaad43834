// One line per request on stderr: time, method, route, status, latency,
// device id. Never bodies, headers, tokens or query strings.
// Thread-safety: safe from any thread (one fwrite per line).
#pragma once

#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>

namespace tandem::server {

inline void log_line(std::string_view text) {
  std::string line;
  char stamp[32];
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ ", &tm);
  line.reserve(text.size() + 32);
  line += stamp;
  line += text;
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace tandem::server
