// bench_server_rps: requests/s of tandem-server's POST /v1/sync under N
// concurrent keep-alive clients (default 64), each doing small syncs, next to
// a bare Beast endpoint (bench_bare_endpoint) that answers a fixed JSON body,
// measured on the same machine in the same run with the same load generator.
//
// Modes measured, in order:
//   sync  — each request pushes 1 new change (one durable commit) and pulls
//           up to 50 changes after the client's cursor: what the other
//           devices of its school pushed since its last sync;
//   check-in — each request only pulls, from where the client's last pull
//           ended (no commit): after the warm-up every client is up to
//           date, so this is the "anything new?" sync a tablet makes most;
//   catch-up — each request pulls the next full page of 50 of the school's
//           history (no commit), from cursor 0, starting over at the end: a
//           device coming back after a long time offline, read from the file;
//   bare  — the same sync requests sent to the bare endpoint.
//
//   bench_server_rps [--clients 64] [--per-school 8] [--seconds 10] [--warmup 2]
//                    [--server-args "..."] [--bare-threads N]
//
// The generator is one Asio thread; it sets up a temporary data directory
// with schools of --per-school devices and one enrolled device per client
// (admin commands + POST /v1/enroll), then drives the load. It measures; it
// asserts nothing.
// clang-format off
#include <spawn.h>
#include <sys/wait.h>
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
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>
// clang-format on

extern char** environ;

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

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
  std::string bare_threads;  // "": the bare endpoint's default, as tandem-server's
};

// ---- processes ----

struct Child {
  pid_t pid = -1;
  int out_fd = -1;
};

Child spawn(const std::string& program, const std::vector<std::string>& args) {
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  std::vector<std::string> all = {program};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  Child c;
  if (posix_spawn(&c.pid, program.c_str(), &actions, nullptr, argv.data(), environ) != 0) {
    throw std::runtime_error("cannot start " + program);
  }
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  c.out_fd = out[0];
  return c;
}

std::string read_all(int fd) {
  std::string s;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<std::size_t>(n));
  return s;
}

std::string run_capture(const std::string& program, const std::vector<std::string>& args) {
  Child c = spawn(program, args);
  std::string out = read_all(c.out_fd);
  close(c.out_fd);
  int status = 0;
  waitpid(c.pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("failed: " + program + " " + args[2]);
  return out;
}

// Reads the child's stdout up to "listening on HOST:PORT\n"; returns PORT.
unsigned short read_port(const Child& c) {
  std::string line;
  char ch;
  while (read(c.out_fd, &ch, 1) == 1) {
    if (ch == '\n') {
      if (line.rfind("listening on ", 0) == 0) {
        return static_cast<unsigned short>(std::stoi(line.substr(line.rfind(':') + 1)));
      }
      line.clear();
    } else {
      line.push_back(ch);
    }
  }
  throw std::runtime_error("no port printed");
}

void stop(Child& c) {
  kill(c.pid, SIGTERM);
  int status = 0;
  waitpid(c.pid, &status, 0);
  close(c.out_fd);
}

// ---- HTTP (setup, blocking) ----

std::string post_blocking(unsigned short port, const std::string& target, const std::string& body) {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> req{http::verb::post, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  if (res.result() != http::status::ok)
    throw std::runtime_error("HTTP " + std::to_string(res.result_int()) + ": " + res.body());
  return res.body();
}

// ---- load ----

struct DeviceCreds {
  std::string token;
  std::string school;
};

enum class Mode { kSync, kCheckIn, kCatchUp };

struct Stats {
  std::vector<double> latencies_ms;
  long ok = 0;
  long errors = 0;
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
  LoadClient(net::io_context& ioc, tcp::endpoint ep, DeviceCreds creds, Mode mode, Stats& stats,
             const Window& w, std::uint64_t site)
      : stream_(ioc),
        ep_(ep),
        creds_(std::move(creds)),
        mode_(mode),
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
    if (mode_ == Mode::kSync) {
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
      cursor_ = std::strtoll(b.c_str() + at + 9, nullptr, 10);
    }
    if (mode_ == Mode::kCatchUp && b.find("\"more\":true") == std::string::npos) cursor_ = 0;
    send();
  }

  beast::tcp_stream stream_;
  tcp::endpoint ep_;
  DeviceCreds creds_;
  Mode mode_;
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

struct Result {
  std::string name;
  Stats stats;
  double seconds = 0;
};

Result run_load(const std::string& name, unsigned short port,
                const std::vector<DeviceCreds>& devices, Mode mode, const Options& o,
                std::uint64_t seed) {
  net::io_context ioc(1);
  Result r;
  r.name = name;
  r.seconds = o.seconds;
  Window w;
  w.measure_from =
      SteadyClock::now() + std::chrono::milliseconds(static_cast<long>(o.warmup * 1000));
  w.measure_to = w.measure_from + std::chrono::milliseconds(static_cast<long>(o.seconds * 1000));
  const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), port);
  std::mt19937_64 rng(seed);
  for (const auto& d : devices)
    std::make_shared<LoadClient>(ioc, ep, d, mode, r.stats, w, rng())->start();
  ioc.run();
  return r;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--clients")
      o.clients = std::stoi(argv[i + 1]);
    else if (k == "--per-school")
      o.per_school = std::max(1, std::stoi(argv[i + 1]));
    else if (k == "--seconds")
      o.seconds = std::stod(argv[i + 1]);
    else if (k == "--warmup")
      o.warmup = std::stod(argv[i + 1]);
    else if (k == "--bare-threads")
      o.bare_threads = argv[i + 1];
    else if (k == "--server-args") {
      std::istringstream in(argv[i + 1]);
      for (std::string a; in >> a;) o.server_args.push_back(a);
    } else {
      std::cerr << "usage: bench_server_rps [--clients N] [--per-school N] [--seconds S] [--warmup S] "
                   "[--server-args \"...\"] [--bare-threads N]\n";
      return 2;
    }
  }
  const char* server_env = std::getenv("TANDEM_SERVER_BINARY");  // e.g. a sanitizer build
  const std::string server =
      server_env != nullptr && *server_env != '\0' ? server_env : TANDEM_SERVER_PATH;
  const std::string bare = TANDEM_BARE_ENDPOINT_PATH;
  char tmpl[] = "/tmp/tandem-bench-XXXXXX";
  const std::string dir = mkdtemp(tmpl);

  try {
    // Setup: schools of --per-school devices, a person in each, one device
    // per client.
    std::vector<std::string> people;
    for (int i = 0; i < o.clients; i += o.per_school) {
      const Json school = Json::parse(run_capture(
          server, {"--data", dir, "--json", "school", "create", "--name",
                   "Bench " + std::to_string(people.size() + 1)}));
      const Json person =
          Json::parse(run_capture(server, {"--data", dir, "--json", "person", "add", "--school",
                                           school["id"], "--name", "P", "--role", "teacher"}));
      people.push_back(person["id"]);
    }
    std::vector<std::string> args = {"--data", dir, "--listen", "127.0.0.1:0", "--quiet"};
    args.insert(args.end(), o.server_args.begin(), o.server_args.end());
    Child srv = spawn(server, args);
    const unsigned short port = read_port(srv);
    std::vector<DeviceCreds> devices;
    for (int i = 0; i < o.clients; ++i) {
      const Json code = Json::parse(
          run_capture(server, {"--data", dir, "--json", "enroll-code", "--person",
                               people[static_cast<std::size_t>(i / o.per_school)]}));
      const Json e =
          Json::parse(post_blocking(port, "/v1/enroll", Json{{"code", code["code"]}}.dump()));
      devices.push_back({e["token"], e["school"]["id"]});
    }

    std::vector<Result> results;
    results.push_back(
        run_load("tandem-server sync (push 1 + pull)", port, devices, Mode::kSync, o, 1));
    results.push_back(
        run_load("tandem-server check-in (pull, up to date)", port, devices, Mode::kCheckIn, o, 2));
    results.push_back(
        run_load("tandem-server catch-up (pull, full pages)", port, devices, Mode::kCatchUp, o, 4));
    stop(srv);

    Child b = o.bare_threads.empty() ? spawn(bare, {"127.0.0.1:0"})
                                     : spawn(bare, {"127.0.0.1:0", o.bare_threads});
    const unsigned short bare_port = read_port(b);
    results.push_back(
        run_load("bare Beast endpoint, fixed JSON", bare_port, devices, Mode::kSync, o, 3));
    stop(b);

    std::printf("machine: %u cores, %s\n", std::thread::hardware_concurrency(),
                cpu_model().c_str());
    std::printf(
        "clients: %d keep-alive connections in schools of %d devices, %.0f s measured after %.0f "
        "s warm-up\n\n",
        o.clients, std::min(o.per_school, o.clients), o.seconds, o.warmup);
    std::printf("%-44s %10s %10s %9s %9s %9s %7s\n", "target", "requests", "req/s", "p50 ms",
                "p90 ms", "p99 ms", "errors");
    for (const auto& r : results) {
      std::printf("%-44s %10ld %10.0f %9.2f %9.2f %9.2f %7ld\n", r.name.c_str(), r.stats.ok,
                  static_cast<double>(r.stats.ok) / r.seconds,
                  percentile(r.stats.latencies_ms, 0.5), percentile(r.stats.latencies_ms, 0.9),
                  percentile(r.stats.latencies_ms, 0.99), r.stats.errors);
    }
  } catch (const std::exception& e) {
    std::cerr << "bench_server_rps: " << e.what() << "\n";
    std::filesystem::remove_all(dir);
    return 1;
  }
  std::filesystem::remove_all(dir);
  return 0;
}
