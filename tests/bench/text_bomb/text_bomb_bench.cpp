// Benchmark (not a test): the same-position text bomb of issue 11. A document
// "XY" typed by one agent, then N one-character inserts between X and Y, each
// from its own agent (the ops of one hostile `text` change), applied with
// Document::apply in three arrival orders: agents ascending, descending and
// shuffled. Each N runs in a child process so that its peak RSS is its own.
// Prints one line per N and order:
//   order N apply_s ops/s encode_s decode_s encoded_bytes peak_rss_mib
//
//   tandem_bench_text_bomb [N ...]      (default 16000 48000 100000)
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "tandem/core/text/sequence.hpp"

using tandem::Json;
using tandem::text::Document;
using Steady = std::chrono::steady_clock;

namespace {

double seconds_since(Steady::time_point t0) {
  return std::chrono::duration<double>(Steady::now() - t0).count();
}

// Agent names that sort like their number (fixed width).
std::string agent_name(std::size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "a%09zu", i);
  return buf;
}

int run(std::size_t n, const char* order) {
  Document doc;
  auto base = doc.insert("base", 0, "XY");
  if (!base.ok()) return 1;
  std::vector<std::size_t> agents(n);
  for (std::size_t i = 0; i < n; ++i) agents[i] = i;
  if (order[0] == 'd') std::reverse(agents.begin(), agents.end());
  if (order[0] == 's') std::shuffle(agents.begin(), agents.end(), std::mt19937_64(42));
  Json ops = Json::array();
  for (std::size_t a : agents) {
    ops.push_back(Json{{"op", "ins"},
                       {"id", Json::array({agent_name(a), 0})},
                       {"left", Json::array({"base", 0})},
                       {"right", Json::array({"base", 1})},
                       {"text", "z"}});
  }
  const auto t0 = Steady::now();
  if (!doc.apply(ops).ok()) return 1;
  const double apply_s = seconds_since(t0);
  if (doc.size() != n + 2) return 1;
  const auto t1 = Steady::now();
  const std::string bytes = doc.encode();
  const double encode_s = seconds_since(t1);
  const auto t2 = Steady::now();
  auto back = Document::decode(bytes);
  const double decode_s = seconds_since(t2);
  if (!back.ok() || back->text() != doc.text()) return 1;
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("%-10s %7zu %8.3f %10.0f %8.3f %8.3f %10zu %8.1f\n", order, n, apply_s,
              static_cast<double>(n) / apply_s, encode_s, decode_s, bytes.size(),
              static_cast<double>(ru.ru_maxrss) / 1024.0);
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::size_t> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(std::strtoull(argv[i], nullptr, 10));
  if (sizes.empty()) sizes = {16000, 48000, 100000};
  std::printf("%-10s %7s %8s %10s %8s %8s %10s %8s\n", "order", "N", "apply_s", "ops/s", "encode_s",
              "decode_s", "bytes", "rss_mib");
  std::fflush(stdout);
  int status = 0;
  for (std::size_t n : sizes) {
    for (const char* order : {"ascending", "descending", "shuffled"}) {
      const pid_t pid = fork();
      if (pid == 0) _exit(run(n, order));
      int ws = 0;
      waitpid(pid, &ws, 0);
      if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
        std::printf("%-10s %7zu FAILED\n", order, n);
        status = 1;
      }
    }
  }
  return status;
}
