// tandem-bench-postgres: a private PostgreSQL for the benchmark scripts
// (tests/bench/sync_100k/run.sh), the tests' own (tests/support/
// postgres_server.hpp: initdb in a temporary folder, a free loopback port,
// fsync and synchronous_commit on), and the CPU its processes use.
//
//   tandem-bench-postgres serve
//       starts the server, makes one empty database and prints one line,
//       "URL POSTMASTER_PID", then runs until SIGTERM, SIGINT or SIGHUP:
//       then stops the server and removes its folder
//   tandem-bench-postgres cpu PID
//       prints the user + system CPU seconds of PID and its children, those
//       that ended included (proc_cpu.hpp): a postmaster's whole tree
//
// Only loopback is contacted; nothing outlives `serve` (a server left by a
// killed one is removed by the next start, as in the tests).
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "postgres_server.hpp"
#include "proc_cpu.hpp"

namespace {

int serve() {
  // Blocked before anything starts, so that a signal arriving during the
  // start is taken by sigwait below instead of ending the process.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&stop_signals, s);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::string error;
  auto pg = tandem::test::PostgresServer::start(&error);
  if (!pg) {
    std::cerr << "tandem-bench-postgres: cannot start PostgreSQL: " << error << "\n";
    return 1;
  }
  try {
    const std::string url = pg->create_database();
    std::cout << url << " " << pg->postmaster_pid() << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "tandem-bench-postgres: " << e.what() << "\n";
    return 1;
  }
  int signal = 0;
  sigwait(&stop_signals, &signal);
  return 0;  // pg's destructor stops the server and removes its folder
}

}  // namespace

int main(int argc, char** argv) {
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "serve" && argc == 2) return serve();
  if (cmd == "cpu" && argc == 3) {
    const double s = tandem::bench::tree_cpu_seconds(static_cast<pid_t>(std::stol(argv[2])));
    if (s < 0) {
      std::cerr << "tandem-bench-postgres: no process " << argv[2] << "\n";
      return 1;
    }
    std::printf("%.2f\n", s);
    return 0;
  }
  std::cerr << "usage: tandem-bench-postgres serve | cpu PID\n";
  return 2;
}
