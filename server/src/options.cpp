#include "tandem/server/options.hpp"

#include <charconv>
#include <filesystem>

#include "tandem/core/excerpt.hpp"

namespace tandem::server {

std::string database_path(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "tandem-server.db").string();
}

Result<ListenAddress> parse_listen_address(const std::string& text) {
  const auto bad = [&] {
    return make_error(ErrorCode::kInvalidArgument,
                      "--listen expects HOST:PORT, got " + excerpt(text));
  };
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) return bad();
  ListenAddress a;
  a.host = text.substr(0, colon);
  if (a.host.size() >= 2 && a.host.front() == '[' && a.host.back() == ']') {
    a.host = a.host.substr(1, a.host.size() - 2);
  }
  if (a.host.empty()) a.host = "127.0.0.1";
  const std::string port = text.substr(colon + 1);
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535)
    return bad();
  a.port = static_cast<std::uint16_t>(value);
  return a;
}

}  // namespace tandem::server
