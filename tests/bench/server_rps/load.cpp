// bench_server_rps: requests/s of tandem-server's POST /v1/sync under N
// concurrent keep-alive clients (default 64), each doing small syncs, next to
// a bare Beast endpoint (bench_bare_endpoint) that answers a fixed JSON body,
// measured on the same machine in the same run with the same load generator.
//
// Loads measured, in order (--loads picks some):
//   sync  — each request pushes 1 new change (one durable commit) and pulls
//           up to 50 changes after the client's cursor: what the other
//           devices of its school pushed since its last sync;
//   check-in — each request only pulls, from where the client's last pull
//           ended (no commit): after the warm-up every client is up to
//           date, so this is the "anything new?" sync a tablet makes most;
//   catch-up — each request pulls the next full page of 50 of the school's
//           history (no commit), from cursor 0, starting over at the end: a
//           device coming back after a long time offline, read from the store;
//   bare  — the same sync requests sent to the bare endpoint.
//
// Stores (modes, deployment.hpp), each with the same load, one after the
// other in one run (--modes sqlite,pg1,pg2), --rounds times alternating:
//   sqlite — one server on its SQLite file (--data DIR), the default;
//   pgN    — N tandem-server instances on different ports sharing one
//            PostgreSQL database, the devices spread over them. The database
//            is a fresh one on a private PostgreSQL started for the run (the
//            tests' own, tests/support/postgres_server.hpp: fsync and
//            synchronous_commit on), or the one --store URL names.
//   --store postgres|URL [--instances N] is one pgN mode.
//
//   bench_server_rps [--clients 64] [--per-school 8] [--seconds 10] [--warmup 2]
//                    [--modes sqlite,pg1,pg2 | --store sqlite|postgres|URL --instances N]
//                    [--loads sync,check-in,catch-up,bare] [--rounds 1]
//                    [--server-args "..."] [--bare-threads N] [--roles teacher|mixed]
//
// --roles: teacher (default) — the devices of a school are one teacher's;
// mixed — each device its own person: resource person, teachers, a
// pedagogue, externals, a leader (deployment.hpp), so most pulls are
// filtered down to what their person wrote.
//
// Besides req/s and latency, each row gives CPU per request: the user +
// system CPU time the tandem-server process(es) and the PostgreSQL server
// (the postmaster and every process it started: backends, WAL writer,
// checkpointer, ... ; proc_cpu.hpp) used during the measured window, divided
// by the requests answered in it; the load generator's own CPU per request
// separately; and the 1-minute load average at the end of the window. The
// PostgreSQL column is "-" with --store URL (its processes are not known).
//
// The generator is one Asio thread; it sets up each mode's servers with
// schools of --per-school devices and one enrolled device per client (admin
// commands + POST /v1/enroll), then drives the load. It measures and asserts
// no time; it exits 3 when a request failed or a load got no answer in its
// window (the smoke run, ctest bench/server_rps_smoke, checks that much).
// clang-format off
#include <unistd.h>
#include <utility>  // first: Boost 1.74 asio uses std::exchange without it

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>
// clang-format on

#include "deployment.hpp"
#include "postgres_server.hpp"
#include "proc_cpu.hpp"

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;
using tandem::bench::DeviceCreds;

namespace {

struct Options {
  int clients = 64;
  // Devices per school. A device pulls what the others of its school push,
  // so this sets the size of the pulls: 8 (a resource centre's tablets)
  // gives small syncs; --per-school 64 puts every client in one school and
  // fills each pull page.
  int per_school = 8;
  double seconds = 10;
  double warmup = 2;
  std::vector<std::string> server_args;
  std::string bare_threads;      // "": the bare endpoint's default, as tandem-server's
  std::string store = "sqlite";  // sqlite, postgres (a private server) or a postgresql:// URL
  int instances = 1;
  std::vector<std::string> modes;  // empty: the one --store/--instances name
  std::vector<std::string> loads = {"sync", "check-in", "catch-up", "bare"};
  int rounds = 1;
  bool mixed_roles = false;  // --roles mixed (deployment.hpp)
};

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

// ---- load ----

enum class LoadKind { kSync, kCheckIn, kCatchUp };

struct Stats {
  std::vector<double> latencies_ms;
  long ok = 0;
  long errors = 0;
  // Catch-up: how far the answers in the window moved the clients' cursors
  // (rows of the schools' history gone through; a device that sees part of
  // its school skips the rest, so its pages carry fewer rows).
  long long advanced = 0;
};

struct Window {
  SteadyClock::time_point measure_from;
  SteadyClock::time_point measure_to;
};

std::string hex(std::uint64_t v, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(static_cast<std::size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i, v >>= 4) s[static_cast<std::size_t>(i)] = kHex[v & 0xf];
  return s;
}

class LoadClient : public std::enable_shared_from_this<LoadClient> {
 public:
  LoadClient(net::io_context& ioc, tcp::endpoint ep, DeviceCreds creds, LoadKind kind, Stats& stats,
             const Window& w, std::uint64_t site)
      : stream_(ioc),
        ep_(ep),
        creds_(std::move(creds)),
        kind_(kind),
        stats_(stats),
        window_(w),
        site_(hex(site, 16)),
        tags_(site) {}

  void start() {
    stream_.async_connect(ep_, [self = shared_from_this()](beast::error_code ec) {
      if (ec) {
        ++self->stats_.errors;
        return;
      }
      self->stream_.socket().set_option(tcp::no_delay(true));
      self->send();
    });
  }

 private:
  std::string body() {
    Json j = Json::object();
    if (kind_ == LoadKind::kSync) {
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
      if (ms > last_ms_) {
        last_ms_ = ms;
        counter_ = 0;
      } else {
        ++counter_;
      }
      ++mutation_id_;
      Json change{{"hlc", hex(static_cast<std::uint64_t>(last_ms_), 12) + "-" + hex(counter_, 6) +
                              "-" + site_},
                  // A new record's id as a device makes it (core's
                  // Store::create): 10 hex of the clock's ms, then 6 hex
                  // unique to this record.
                  {"record", "course_" + hex(static_cast<std::uint64_t>(last_ms_), 10) +
                                 hex(record_tag(), 6)},
                  {"kind", "course"},
                  {"school", creds_.school},
                  {"op", "create"},
                  {"value", {{"kind", "observation"}, {"title", "bench"}}}};
      j["push"] = {{"mutation_id", mutation_id_}, {"changes", Json::array({change})}};
    }
    j["pull"] = {{"cursor", cursor_}, {"limit", 50}};
    return j.dump();
  }

  std::uint64_t record_tag() { return tags_() & 0xffffff; }

  void send() {
    if (SteadyClock::now() >= window_.measure_to) return;
    req_ = {http::verb::post, "/v1/sync", 11};
    req_.set(http::field::host, "127.0.0.1");
    req_.set(http::field::content_type, "application/json");
    req_.set(http::field::authorization, "Bearer " + creds_.token);
    req_.body() = body();
    req_.prepare_payload();
    started_ = SteadyClock::now();
    http::async_write(
        stream_, req_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
          if (ec) {
            ++self->stats_.errors;
            return;
          }
          self->res_ = {};
          http::async_read(self->stream_, self->buffer_, self->res_,
                           [self](beast::error_code rec, std::size_t) { self->on_read(rec); });
        });
  }

  void on_read(beast::error_code ec) {
    const auto now = SteadyClock::now();
    if (ec) {
      ++stats_.errors;
      return;
    }
    const bool in_window = started_ >= window_.measure_from && now <= window_.measure_to;
    if (in_window) {
      if (res_.result() == http::status::ok) {
        ++stats_.ok;
        stats_.latencies_ms.push_back(
            std::chrono::duration<double, std::milli>(now - started_).count());
      } else {
        ++stats_.errors;
      }
    }
    // The new cursor: the last "cursor": in the answer (cheap, no parse).
    const std::string& b = res_.body();
    if (const auto at = b.rfind("\"cursor\":"); at != std::string::npos) {
      const std::int64_t next = std::strtoll(b.c_str() + at + 9, nullptr, 10);
      if (in_window && res_.result() == http::status::ok && next > cursor_)
        stats_.advanced += next - cursor_;
      cursor_ = next;
    }
    if (kind_ == LoadKind::kCatchUp && b.find("\"more\":true") == std::string::npos) cursor_ = 0;
    send();
  }

  beast::tcp_stream stream_;
  tcp::endpoint ep_;
  DeviceCreds creds_;
  LoadKind kind_;
  Stats& stats_;
  const Window& window_;
  std::string site_;
  std::mt19937_64 tags_;  // the random part of new record ids
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
  SteadyClock::time_point started_;
  std::int64_t mutation_id_ = 0;
  std::int64_t cursor_ = 0;
  std::int64_t last_ms_ = 0;
  std::uint64_t counter_ = 0;
};

// CPU seconds used so far (user + system); postgres < 0: not known.
struct CpuSample {
  double server = 0;
  double postgres = -1;
  double generator = 0;
};
using CpuProbe = std::function<CpuSample()>;

struct Result {
  std::string name;
  Stats stats;
  double seconds = 0;
  CpuSample cpu;             // used during the measured window
  std::string load_average;  // 1 minute, at the end of the window
};

Result run_load(const std::string& name, const std::vector<unsigned short>& ports,
                const std::vector<DeviceCreds>& devices, LoadKind kind, const Options& o,
                std::uint64_t seed, const CpuProbe& probe) {
  net::io_context ioc(1);
  Result r;
  r.name = name;
  r.seconds = o.seconds;
  Window w;
  w.measure_from =
      SteadyClock::now() + std::chrono::milliseconds(static_cast<long>(o.warmup * 1000));
  w.measure_to = w.measure_from + std::chrono::milliseconds(static_cast<long>(o.seconds * 1000));
  // CPU sampled on the load's own thread at both ends of the window.
  CpuSample from, to;
  net::steady_timer at_from(ioc, w.measure_from), at_to(ioc, w.measure_to);
  at_from.async_wait([&](beast::error_code) { from = probe(); });
  at_to.async_wait([&](beast::error_code) {
    to = probe();
    const std::string load = tandem::bench::load_average();
    r.load_average = load.substr(0, load.find(' '));
  });
  std::mt19937_64 rng(seed);
  for (const auto& d : devices) {
    const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), ports.at(d.instance));
    std::make_shared<LoadClient>(ioc, ep, d, kind, r.stats, w, rng())->start();
  }
  ioc.run();
  r.cpu.server = to.server - from.server;
  r.cpu.generator = to.generator - from.generator;
  if (from.postgres >= 0 && to.postgres >= 0) r.cpu.postgres = to.postgres - from.postgres;
  return r;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

// CPU of `servers` and of the PostgreSQL tree under `postmaster` (-1: none),
// and of this process.
CpuProbe cpu_probe(std::vector<pid_t> servers, pid_t postmaster) {
  return [servers = std::move(servers), postmaster] {
    CpuSample s;
    for (const pid_t pid : servers)
      s.server += std::max(0.0, tandem::bench::process_cpu_seconds(pid));
    if (postmaster > 0) s.postgres = tandem::bench::tree_cpu_seconds(postmaster);
    s.generator = tandem::bench::process_cpu_seconds(getpid());
    return s;
  };
}

struct LoadSpec {
  const char* option;  // in --loads
  const char* label;
  LoadKind kind;
  std::uint64_t seed;
};
// Every server load; the bare endpoint ("bare") runs once, after them.
constexpr LoadSpec kLoads[] = {
    {"sync", "sync (push 1 + pull)", LoadKind::kSync, 1},
    {"check-in", "check-in (pull, up to date)", LoadKind::kCheckIn, 2},
    {"catch-up", "catch-up (pull, full pages)", LoadKind::kCatchUp, 4},
};

bool wanted(const Options& o, const std::string& load) {
  return std::find(o.loads.begin(), o.loads.end(), load) != o.loads.end();
}

void print_results(const std::vector<Result>& results) {
  std::printf("%-36s %9s %8s %8s %8s %8s %6s | %8s %8s %8s | %8s %5s\n", "", "", "", "", "", "", "",
              "CPU", "us/req", "", "gen", "load");
  std::printf("%-36s %9s %8s %8s %8s %8s %6s | %8s %8s %8s | %8s %5s\n", "target", "requests",
              "req/s", "p50 ms", "p90 ms", "p99 ms", "errors", "server", "postgres", "total",
              "us/req", "1 min");
  for (const auto& r : results) {
    const double n = std::max(1.0, static_cast<double>(r.stats.ok));
    const auto per_request = [n](double seconds) { return seconds * 1e6 / n; };
    char pg[16] = "-";
    if (r.cpu.postgres >= 0) std::snprintf(pg, sizeof pg, "%.0f", per_request(r.cpu.postgres));
    std::printf("%-36s %9ld %8.0f %8.2f %8.2f %8.2f %6ld | %8.0f %8s %8.0f | %8.0f %5s\n",
                r.name.c_str(), r.stats.ok, static_cast<double>(r.stats.ok) / r.seconds,
                percentile(r.stats.latencies_ms, 0.5), percentile(r.stats.latencies_ms, 0.9),
                percentile(r.stats.latencies_ms, 0.99), r.stats.errors, per_request(r.cpu.server),
                pg, per_request(r.cpu.server + std::max(0.0, r.cpu.postgres)),
                per_request(r.cpu.generator), r.load_average.c_str());
  }
  for (const auto& r : results) {
    if (r.stats.advanced == 0 || r.name.find("catch-up") == std::string::npos) continue;
    std::printf("%-36s history gone through: %.0f rows/s (%.0f rows per answer)\n", r.name.c_str(),
                static_cast<double>(r.stats.advanced) / r.seconds,
                static_cast<double>(r.stats.advanced) / std::max(1.0, static_cast<double>(r.stats.ok)));
  }
}

int usage() {
  std::cerr
      << "usage: bench_server_rps [--clients N] [--per-school N] [--seconds S] [--warmup S]\n"
         "         [--modes sqlite,pg1,pg2 | --store sqlite|postgres|postgresql://... "
         "--instances N]\n"
         "         [--loads sync,check-in,catch-up,bare] [--rounds R] [--server-args \"...\"] "
         "[--bare-threads N] [--roles teacher|mixed]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (argc % 2 == 0) return usage();
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const std::string v = argv[i + 1];
    if (k == "--clients")
      o.clients = std::max(1, std::stoi(v));
    else if (k == "--per-school")
      o.per_school = std::max(1, std::stoi(v));
    else if (k == "--seconds")
      o.seconds = std::stod(v);
    else if (k == "--warmup")
      o.warmup = std::stod(v);
    else if (k == "--bare-threads")
      o.bare_threads = v;
    else if (k == "--store")
      o.store = v;
    else if (k == "--instances")
      o.instances = std::stoi(v);
    else if (k == "--modes")
      o.modes = split_commas(v);
    else if (k == "--loads")
      o.loads = split_commas(v);
    else if (k == "--rounds")
      o.rounds = std::max(1, std::stoi(v));
    else if (k == "--roles" && (v == "teacher" || v == "mixed"))
      o.mixed_roles = v == "mixed";
    else if (k == "--server-args") {
      std::istringstream in(v);
      for (std::string a; in >> a;) o.server_args.push_back(a);
    } else {
      return usage();
    }
  }
  const bool store_url = o.store.rfind("postgresql://", 0) == 0;
  if (o.modes.empty()) {
    if (o.store == "sqlite" && o.instances != 1) {
      std::cerr
          << "bench_server_rps: the SQLite store has one instance; --store postgres for more\n";
      return 2;
    }
    if (o.store != "sqlite" && o.store != "postgres" && !store_url) return usage();
    o.modes = {o.store == "sqlite" ? std::string("sqlite") : "pg" + std::to_string(o.instances)};
  }
  std::vector<tandem::bench::ModeSpec> modes;
  for (const auto& m : o.modes) {
    const auto spec = tandem::bench::parse_mode(m);
    if (!spec) {
      std::cerr << "bench_server_rps: unknown mode '" << m << "' (sqlite, pg1 .. pg8)\n";
      return 2;
    }
    modes.push_back(*spec);
  }
  for (const auto& l : o.loads) {
    const bool known = l == "bare" || std::any_of(std::begin(kLoads), std::end(kLoads),
                                                  [&](const LoadSpec& s) { return l == s.option; });
    if (!known) {
      std::cerr << "bench_server_rps: unknown load '" << l << "'\n";
      return 2;
    }
  }
  const char* server_env = std::getenv("TANDEM_SERVER_BINARY");  // e.g. a sanitizer build
  const std::string server =
      server_env != nullptr && *server_env != '\0' ? server_env : TANDEM_SERVER_PATH;
  const std::string bare = TANDEM_BARE_ENDPOINT_PATH;
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/tandem-bench-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::cerr << "bench_server_rps: cannot make a folder " << tmpl << "\n";
    return 1;
  }
  const std::string dir = tmpl;
  const std::string load_at_start = tandem::bench::load_average();

  try {
    // A private PostgreSQL for the pg modes, unless --store names a database.
    std::unique_ptr<tandem::test::PostgresServer> pg;
    const bool any_pg =
        std::any_of(modes.begin(), modes.end(), [](const auto& m) { return m.postgres; });
    if (any_pg && !store_url) {
      std::string error;
      pg = tandem::test::PostgresServer::start(&error);
      if (!pg) throw std::runtime_error("cannot start PostgreSQL: " + error);
    }
    std::vector<Result> results;
    std::vector<DeviceCreds> last_devices;
    for (int round = 1; round <= o.rounds; ++round) {
      for (const auto& mode : modes) {
        std::string url;
        if (mode.postgres) url = pg ? pg->create_database() : o.store;
        const std::string folder = dir + "/" + mode.name + "-" + std::to_string(round);
        tandem::bench::Deployment d(server, folder, mode, url, o.server_args, o.clients,
                                    o.per_school, o.mixed_roles);
        const CpuProbe probe =
            cpu_probe(d.server_pids(), mode.postgres && pg ? pg->postmaster_pid() : -1);
        const std::string prefix =
            o.rounds > 1 ? mode.name + " #" + std::to_string(round) : mode.name;
        for (const auto& l : kLoads) {
          if (!wanted(o, l.option)) continue;
          results.push_back(
              run_load(prefix + " " + l.label, d.ports(), d.devices(), l.kind, o, l.seed, probe));
        }
        last_devices = d.devices();
        d.stop_servers();
        // What this mode left in PostgreSQL (autovacuum, checkpoints) is not
        // the next mode's cost.
        if (pg && mode.postgres && !pg->drop_database(url))
          std::cerr << "bench_server_rps: drop database: " << pg->last_error() << "\n";
      }
    }

    if (wanted(o, "bare")) {
      tandem::bench::Child b = o.bare_threads.empty()
                                   ? tandem::bench::spawn(bare, {"127.0.0.1:0"})
                                   : tandem::bench::spawn(bare, {"127.0.0.1:0", o.bare_threads});
      const unsigned short bare_port = tandem::bench::read_port(b);
      for (auto& d : last_devices) d.instance = 0;
      results.push_back(run_load("bare Beast endpoint, fixed JSON", {bare_port}, last_devices,
                                 LoadKind::kSync, o, 3, cpu_probe({b.pid}, -1)));
      tandem::bench::stop(b);
    }

    std::printf("machine: %u cores, %s; load average at start %s, at end %s\n",
                std::thread::hardware_concurrency(), tandem::bench::cpu_model().c_str(),
                load_at_start.c_str(), tandem::bench::load_average().c_str());
    std::printf(
        "clients: %d keep-alive connections in schools of %d devices (%s), %.0f s measured after "
        "%.0f s warm-up\n",
        o.clients, std::min(o.per_school, o.clients),
        o.mixed_roles ? "mixed roles, a person each" : "one teacher's", o.seconds, o.warmup);
    if (any_pg) {
      const std::string where = pg ? "a private server (tests/support/postgres_server.hpp: fsync, "
                                     "synchronous_commit on), a fresh database per mode"
                                   : "--store " + o.store + " (its CPU not measured)";
      std::printf("PostgreSQL: %s\n", where.c_str());
    }
    std::printf(
        "CPU us/req: user+sys CPU in the measured window / requests answered in it; "
        "server = tandem-server process(es), postgres = postmaster and its children, "
        "gen = this load generator\n\n");
    print_results(results);
    const bool failed = std::any_of(results.begin(), results.end(), [](const Result& r) {
      return r.stats.errors > 0 || r.stats.ok == 0;
    });
    if (failed) {
      std::cerr << "bench_server_rps: a request failed or a load got no answer\n";
      std::filesystem::remove_all(dir);
      return 3;
    }
  } catch (const std::exception& e) {
    std::cerr << "bench_server_rps: " << e.what() << "\n";
    std::filesystem::remove_all(dir);
    return 1;
  }
  std::filesystem::remove_all(dir);
  return 0;
}
