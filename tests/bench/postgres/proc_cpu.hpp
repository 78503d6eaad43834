// CPU time of processes, read from /proc (Linux), for the benchmarks that
// report CPU per request (bench_server_rps, sync_100k/run.sh through
// tandem-bench-postgres): user + system time, every thread of a process.
//
// A process tree's CPU (a postmaster and its backends) counts the root's own
// time, its running children's own time, and the time of the children that
// ended, which the kernel adds to the root's cutime/cstime when it waits for
// them (the postmaster reaps its backends). So the difference of two samples
// is what the tree used in between, backends that came and went included;
// grandchildren are not counted (PostgreSQL starts none).
//
// Thread-safety: every function may be called from any thread.
#pragma once

#include <sys/types.h>

#include <string>

namespace tandem::bench {

// User + system seconds `pid` has used (all its threads); -1 when it is gone.
double process_cpu_seconds(pid_t pid);

// User + system seconds of `root`, its running children and its children
// that ended and were waited for; -1 when `root` is gone.
double tree_cpu_seconds(pid_t root);

// The first three fields of /proc/loadavg ("1.57 2.32 2.20").
std::string load_average();

// The first "model name" of /proc/cpuinfo ("unknown" when there is none).
std::string cpu_model();

}  // namespace tandem::bench
