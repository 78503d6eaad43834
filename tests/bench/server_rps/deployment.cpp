// clang-format off
#include "deployment.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>  // first: Boost 1.74 asio uses std::exchange without it

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>
// clang-format on

extern char** environ;

namespace tandem::bench {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Json = nlohmann::json;

// Instances sharing one database at most (each a process with its threads).
constexpr int kMaxInstances = 8;

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
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string line;
    for (const auto& a : args) line += " " + a;
    throw std::runtime_error("failed: " + program + line);
  }
  return out;
}

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

}  // namespace

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
  if (c.pid < 0) return;
  kill(c.pid, SIGTERM);
  int status = 0;
  waitpid(c.pid, &status, 0);
  close(c.out_fd);
  c.pid = -1;
}

std::optional<ModeSpec> parse_mode(const std::string& name) {
  if (name == "sqlite") return ModeSpec{name, false, 1};
  if (name.size() == 3 && name.rfind("pg", 0) == 0 && name[2] >= '1' &&
      name[2] <= '0' + kMaxInstances) {
    return ModeSpec{name, true, name[2] - '0'};
  }
  return std::nullopt;
}

Deployment::Deployment(const std::string& server, const std::string& folder, const ModeSpec& mode,
                       const std::string& url, const std::vector<std::string>& server_args,
                       int clients, int per_school, bool mixed_roles)
    : server_(server) {
  namespace fs = std::filesystem;
  fs::create_directories(folder);
  // Every instance, and the admin commands, a folder of its own.
  const auto store = [&](const std::string& name) -> std::vector<std::string> {
    const std::string dir = (fs::path(folder) / name).string();
    if (!mode.postgres) return {"--data", folder};
    return {"--data", dir, "--store", url};
  };
  admin_store_ = store("admin");
  try {
    setup(mode, server_args, clients, per_school, mixed_roles, store);
  } catch (...) {
    stop_servers();
    throw;
  }
}

void Deployment::setup(const ModeSpec& mode, const std::vector<std::string>& server_args,
                       int clients, int per_school, bool mixed_roles,
                       const std::function<std::vector<std::string>(const std::string&)>& store) {
  // Schools of `per_school` devices, one device per client: a teacher's
  // each, or (mixed) each its own person's, the roles in turn: the resource
  // centre sees the school, the others what they wrote.
  static const char* const kMixedRoles[] = {"resource_person", "teacher", "teacher", "pedagogue",
                                            "external",        "leader",  "teacher", "external"};
  std::vector<std::string> people;  // by client
  std::string school_id;
  for (int i = 0; i < clients; ++i) {
    if (i % per_school == 0) {
      const Json school = Json::parse(run_capture(
          server_, admin({"school", "create", "--name", "Bench " + std::to_string(i / per_school + 1)})));
      school_id = school["id"];
    }
    if (i % per_school == 0 || mixed_roles) {
      const char* role = mixed_roles ? kMixedRoles[i % per_school % std::size(kMixedRoles)] : "teacher";
      const Json person = Json::parse(run_capture(
          server_, admin({"person", "add", "--school", school_id, "--name",
                          "P" + std::to_string(i), "--role", role})));
      people.push_back(person["id"]);
    } else {
      people.push_back(people.back());
    }
  }
  for (int k = 0; k < mode.instances; ++k) {
    std::vector<std::string> args = store("instance" + std::to_string(k + 1));
    args.insert(args.end(), {"--listen", "127.0.0.1:0", "--quiet"});
    args.insert(args.end(), server_args.begin(), server_args.end());
    servers_.push_back(spawn(server_, args));
    ports_.push_back(read_port(servers_.back()));
  }
  for (int i = 0; i < clients; ++i) {
    const Json code = Json::parse(run_capture(
        server_,
        admin({"enroll-code", "--person", people[static_cast<std::size_t>(i)]})));
    const std::size_t instance = static_cast<std::size_t>(i) % ports_.size();
    const Json e = Json::parse(
        post_blocking(ports_[instance], "/v1/enroll", Json{{"code", code["code"]}}.dump()));
    devices_.push_back({e["token"], e["school"]["id"], instance});
  }
}

Deployment::~Deployment() { stop_servers(); }

std::vector<pid_t> Deployment::server_pids() const {
  std::vector<pid_t> out;
  for (const auto& c : servers_) out.push_back(c.pid);
  return out;
}

void Deployment::stop_servers() {
  for (auto& c : servers_) stop(c);
}

std::vector<std::string> Deployment::admin(std::vector<std::string> args) const {
  std::vector<std::string> all = admin_store_;
  all.push_back("--json");
  all.insert(all.end(), args.begin(), args.end());
  return all;
}

}  // namespace tandem::bench
