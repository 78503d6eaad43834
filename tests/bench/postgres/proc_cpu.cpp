#include "proc_cpu.hpp"

#include <unistd.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

#include "postgres_process.hpp"

namespace tandem::bench {
namespace {

// /proc/PID/stat fields 3.. (after the command name, which may hold spaces
// and parentheses); empty when the process is gone.
std::vector<std::string> stat_fields(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  const std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream rest(stat.substr(close + 1));
  std::vector<std::string> fields;
  for (std::string f; rest >> f;) fields.push_back(f);
  return fields;
}

// Field N of proc(5) (1-based, as the manual numbers them) in seconds.
double ticks_field(const std::vector<std::string>& fields, std::size_t n) {
  static const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  if (fields.size() < n - 2) return 0;
  return std::stod(fields[n - 3]) / ticks;
}

constexpr std::size_t kUtime = 14, kStime = 15, kCutime = 16, kCstime = 17;

}  // namespace

double process_cpu_seconds(pid_t pid) {
  const auto f = stat_fields(pid);
  if (f.size() < kStime) return -1;
  return ticks_field(f, kUtime) + ticks_field(f, kStime);
}

double tree_cpu_seconds(pid_t root) {
  const auto f = stat_fields(root);
  if (f.size() < kCstime) return -1;
  double total = ticks_field(f, kUtime) + ticks_field(f, kStime) + ticks_field(f, kCutime) +
                 ticks_field(f, kCstime);
  for (const pid_t child : test::pg::children_of(root)) {
    const double c = process_cpu_seconds(child);
    if (c > 0) total += c;  // a child that ended meanwhile is in cutime next time
  }
  return total;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

}  // namespace tandem::bench
