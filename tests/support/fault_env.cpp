#include "fault_env.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

namespace tandem::test {
namespace {

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

// This test binary, relative to the source tree when it is inside it.
std::string this_binary() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "tandem_fault_tests";
#ifdef TANDEM_SOURCE_DIR
  const auto rel = exe.lexically_relative(TANDEM_SOURCE_DIR);
  if (!rel.empty() && *rel.begin() != "..") return rel.string();
#endif
  return exe.string();
}

}  // namespace

std::uint64_t fault_seed(const std::string& suite) {
  std::uint64_t seed = 0;
  if (auto s = env("TANDEM_SEED")) {
    seed = std::strtoull(s->c_str(), nullptr, 10);
  } else {
    std::random_device rd;
    seed = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }
  std::printf("%s: TANDEM_SEED=%llu%s\n", suite.c_str(), static_cast<unsigned long long>(seed),
              soak_tier() ? " (soak tier)" : " (CI tier; TANDEM_SOAK=1 for the soak tier)");
  std::fflush(stdout);
  return seed;
}

bool soak_tier() {
  auto s = env("TANDEM_SOAK");
  return s && *s != "0";
}

std::optional<std::string> fault_case() { return env("TANDEM_FAULT_CASE"); }

std::string suite_command(const std::string& test_name, bool soak) {
  // Inside the shell's double quotes: Catch reads ',' as "or" and '[' as a
  // tag unless escaped (\, stays as it is in the shell), a backslash is
  // doubled for Catch and again for the shell, and the shell's own '"', '$'
  // and '`' are escaped.
  std::string quoted;
  for (const char c : test_name) {
    if (c == ',' || c == '[' || c == ']') {
      quoted += '\\';
    } else if (c == '\\') {
      quoted += "\\\\\\";
    } else if (c == '"' || c == '$' || c == '`') {
      quoted += '\\';
    }
    quoted += c;
  }
  return std::string(soak ? "TANDEM_SOAK=1 " : "") + this_binary() + " \"" + quoted + "\"";
}

std::string rerun_command(const std::string& test_name, std::uint64_t seed, bool soak) {
  return "TANDEM_SEED=" + std::to_string(seed) + " " + suite_command(test_name, soak);
}

void reliability_line(const std::string& fault, std::int64_t cases, const std::string& result,
                      const std::string& command) {
  const nlohmann::ordered_json line = {
      {"fault", fault}, {"cases", cases}, {"result", result}, {"command", command}};
  std::printf("TANDEM_RELIABILITY %s\n", line.dump().c_str());
  std::fflush(stdout);
}

}  // namespace tandem::test
