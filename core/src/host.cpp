#include "tandem/core/host.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "secure_random.hpp"
#include "tandem/core/local_time.hpp"

namespace tandem {
namespace {

class DefaultFileLayer final : public FileLayer {
 public:
  std::string sqlite_vfs() const override { return {}; }
  Status remove_file(const std::string& path) override {
    if (std::remove(path.c_str()) == 0 || errno == ENOENT) return {};
    return make_error(ErrorCode::kIo, "cannot remove '" + path + "': " + std::strerror(errno));
  }
};

class OsRandom final : public RandomSource {
 public:
  void fill(unsigned char* out, std::size_t n) override { detail::os_random_fill(out, n); }
};

}  // namespace

// Stateless objects: one of each serves every Store (no mutable global state).
Clock& default_clock() {
  static SystemClock clock;
  return clock;
}
FileLayer& default_file_layer() {
  static DefaultFileLayer files;
  return files;
}
RandomSource& default_random() {
  static OsRandom random;
  return random;
}

Host resolved(const Host& host) {
  Host out = host;
  if (out.clock == nullptr) out.clock = &default_clock();
  if (out.files == nullptr) out.files = &default_file_layer();
  if (out.random == nullptr) out.random = &default_random();
  if (out.zone == nullptr) out.zone = &copenhagen_zone();
  return out;
}

void log_to(const Host& host, LogLevel level, std::string_view component, std::string_view message) {
  if (host.log != nullptr) host.log->log(level, component, message);
}

HostForwarder::HostForwarder(const Host& target) : target_(resolved(target)) {}

Host HostForwarder::host() {
  Host h;
  h.clock = this;
  h.keys = this;
  h.log = this;
  h.files = this;
  h.random = this;
  h.zone = target_.zone;
  return h;
}

std::int64_t HostForwarder::now_ms() { return target_.clock->now_ms(); }
Result<std::optional<std::string>> HostForwarder::get(std::string_view name) {
  if (target_.keys == nullptr) return std::optional<std::string>();
  return target_.keys->get(name);
}
Status HostForwarder::put(std::string_view name, std::string_view secret) {
  if (target_.keys == nullptr) return make_error(ErrorCode::kInvalidArgument, "this host has no key store");
  return target_.keys->put(name, secret);
}
Status HostForwarder::erase(std::string_view name) {
  if (target_.keys == nullptr) return {};
  return target_.keys->erase(name);
}
void HostForwarder::log(LogLevel level, std::string_view component, std::string_view message) {
  if (target_.log != nullptr) target_.log->log(level, component, message);
}
std::string HostForwarder::sqlite_vfs() const { return target_.files->sqlite_vfs(); }
Status HostForwarder::remove_file(const std::string& path) { return target_.files->remove_file(path); }
void HostForwarder::fill(unsigned char* out, std::size_t n) { target_.random->fill(out, n); }

}  // namespace tandem
