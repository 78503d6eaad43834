// The tandem-server side of bench_server_rps (load.cpp): child processes,
// and one benchmark mode's servers with their schools and enrolled devices.
//
// A mode is the SQLite store (one server, --data DIR) or N instances sharing
// one PostgreSQL database (each `--data DIR_k --store URL`: the folder holds
// only that instance's erasure log and record cache). Schools and people are
// made by the admin commands before the servers start (the first of them
// creates PostgreSQL's schema); each client's device is enrolled through
// instance `client % N`, and drives its load through that instance, so the
// devices of one school are spread over every instance.
//
// Thread-safety: none; the load generator's main thread uses these.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace tandem::bench {

struct Child {
  pid_t pid = -1;
  int out_fd = -1;
};

// Starts `program args...` with its stdout on a pipe (Child::out_fd).
Child spawn(const std::string& program, const std::vector<std::string>& args);
// Reads the child's stdout up to "listening on HOST:PORT\n"; returns PORT.
unsigned short read_port(const Child& c);
// SIGTERM, then waits for it.
void stop(Child& c);

// "sqlite", or "pgN" (N instances sharing one PostgreSQL database, 1..8).
struct ModeSpec {
  std::string name;
  bool postgres = false;
  int instances = 1;
};
std::optional<ModeSpec> parse_mode(const std::string& name);

struct DeviceCreds {
  std::string token;
  std::string school;
  std::size_t instance = 0;  // which server it syncs with
};

class Deployment {
 public:
  // `folder`: a fresh folder for this mode's data; `url`: the PostgreSQL
  // database (postgres modes only). `mixed_roles`: each device its own
  // person, of the roles a school's devices have (kMixedRoles); else every
  // device of a school is the same teacher's. Throws std::runtime_error on
  // failure.
  Deployment(const std::string& server, const std::string& folder, const ModeSpec& mode,
             const std::string& url, const std::vector<std::string>& server_args, int clients,
             int per_school, bool mixed_roles = false);
  ~Deployment();  // stops the servers still running
  Deployment(const Deployment&) = delete;
  Deployment& operator=(const Deployment&) = delete;

  const std::vector<unsigned short>& ports() const { return ports_; }
  const std::vector<DeviceCreds>& devices() const { return devices_; }
  std::vector<pid_t> server_pids() const;
  void stop_servers();

 private:
  // `store(name)`: the --data/--store arguments of a folder named `name`.
  void setup(const ModeSpec& mode, const std::vector<std::string>& server_args, int clients,
             int per_school, bool mixed_roles,
             const std::function<std::vector<std::string>(const std::string&)>& store);
  std::vector<std::string> admin(std::vector<std::string> args) const;

  std::string server_;
  std::vector<std::string> admin_store_;  // --data/--store for admin commands
  std::vector<Child> servers_;
  std::vector<unsigned short> ports_;
  std::vector<DeviceCreds> devices_;
};

}  // namespace tandem::bench
