#include "postgres_process.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "test_util.hpp"

namespace tandem::test::pg {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

// Longest base folder: BASE/tandem-pg-XXXXXX/sock/.s.PGSQL.65535 must fit
// in sun_path (107 bytes and a NUL).
constexpr std::size_t kMaxBaseLength = 70;
// Version of the cached initdb cluster's making (init_cluster).
constexpr const char* kClusterFormat = "1";
// A folder without an owner file is some process's half-made server until
// this old.
constexpr auto kOrphanAge = std::chrono::minutes(10);

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

bool has_server_binaries(const std::string& dir) {
  return executable(dir + "/initdb") && executable(dir + "/pg_ctl") &&
         executable(dir + "/postgres");
}

// "15" -> {15}, "9.6" -> {9, 6}; empty when not a version.
std::vector<int> version_of(const std::string& name) {
  std::vector<int> parts;
  std::stringstream in(name);
  std::string part;
  while (std::getline(in, part, '.')) {
    if (!all_digits(part)) return {};
    parts.push_back(std::stoi(part));
  }
  return parts;
}

// State letter and parent of a process from /proc/PID/stat ('\0' when gone).
// The command name in parentheses may itself hold spaces and parentheses.
char process_state(pid_t pid, pid_t* parent = nullptr) {
  const std::string stat = file_bytes("/proc/" + std::to_string(pid) + "/stat");
  const auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return '\0';
  std::stringstream rest(stat.substr(close + 2));
  char state = '\0';
  long ppid = 0;
  rest >> state >> ppid;
  if (parent != nullptr) *parent = static_cast<pid_t>(ppid);
  return state;
}

// Exited (a zombie has exited; only its parent's wait is missing).
bool gone(pid_t pid) {
  const char state = process_state(pid);
  return state == '\0' || state == 'Z' || state == 'X';
}

// Only characters that need no quoting in postgresql.conf, pg_ctl's shell
// command line or a conninfo string.
bool plain_path(const std::string& path) {
  return std::all_of(path.begin(), path.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '/' || c == '.' || c == '_' ||
           c == '-';
  });
}

// Can `user` search (x) `dir` and every folder above it?
bool reachable(const ServerUser& user, const fs::path& dir) {
  if (!user.switch_user) return ::access(dir.c_str(), X_OK | W_OK) == 0;
  for (fs::path p = dir; !p.empty(); p = p.parent_path()) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return false;
    const mode_t bit = st.st_uid == user.uid ? S_IXUSR : st.st_gid == user.gid ? S_IXGRP : S_IXOTH;
    if ((st.st_mode & bit) == 0) return false;
    if (p == p.root_path()) break;
  }
  return true;
}

}  // namespace

std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!all_digits(name)) continue;
    const auto pid = static_cast<pid_t>(std::stol(name));
    pid_t ppid = 0;
    if (process_state(pid, &ppid) != '\0' && ppid == parent) out.push_back(pid);
  }
  return out;
}

std::string find_bindir(const std::string& given, std::string* error) {
  const char* env = std::getenv("TANDEM_PG_BINDIR");
  const std::string chosen = !given.empty() ? given : env != nullptr ? env : "";
  if (!chosen.empty()) {
    if (has_server_binaries(chosen)) return chosen;
    *error = "PostgreSQL not found: " + chosen + " has no initdb, pg_ctl and postgres" +
             (given.empty() ? " (TANDEM_PG_BINDIR)" : "");
    return {};
  }
  std::string best;
  std::vector<int> best_version;
  std::error_code ec;
  for (fs::directory_iterator it("/usr/lib/postgresql", ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::vector<int> v = version_of(it->path().filename().string());
    const std::string bin = it->path().string() + "/bin";
    if (!v.empty() && v > best_version && has_server_binaries(bin)) {
      best = bin;
      best_version = v;
    }
  }
  if (best.empty()) {
    *error =
        "PostgreSQL is not installed: no /usr/lib/postgresql/<version>/bin with initdb, pg_ctl "
        "and postgres (Debian: apt-get install postgresql; or set TANDEM_PG_BINDIR)";
  }
  return best;
}

bool server_user(ServerUser* out, std::string* error) {
  ServerUser u;
  u.uid = ::geteuid();
  u.gid = ::getegid();
  if (u.uid != 0) {
    if (const passwd* pw = ::getpwuid(u.uid); pw != nullptr) u.name = pw->pw_name;
    *out = u;
    return true;
  }
  const passwd* pw = ::getpwnam("postgres");
  if (pw == nullptr) {
    *error =
        "running as root, and PostgreSQL refuses root: there is no 'postgres' user to run it "
        "as (Debian's postgresql package creates it)";
    return false;
  }
  u.switch_user = true;
  u.uid = pw->pw_uid;
  u.gid = pw->pw_gid;
  u.name = pw->pw_name;
  for (const char* tool :
       {"/usr/bin/setpriv", "/bin/setpriv", "/usr/sbin/runuser", "/sbin/runuser"}) {
    if (executable(tool)) {
      u.switcher = tool;
      break;
    }
  }
  if (u.switcher.empty()) {
    *error =
        "running as root: neither setpriv nor runuser (util-linux) to run PostgreSQL as 'postgres'";
    return false;
  }
  *out = u;
  return true;
}

ProcessResult run_as(const ServerUser& user, const std::string& program,
                     const std::vector<std::string>& args) {
  RunOptions options;
  // English messages (the harness reads "Address already in use" in the log).
  options.env = {"LC_ALL=C", "LANG=C"};
  options.timeout = kWait + std::chrono::seconds(5);  // pg_ctl's own -t comes first
  if (!user.switch_user) return run_process(program, args, options);
  std::vector<std::string> full;
  if (user.switcher.find("setpriv") != std::string::npos) {
    full = {"--reuid=" + user.name, "--regid=" + std::to_string(user.gid), "--init-groups", "--"};
  } else {
    full = {"-u", user.name, "--"};
  }
  full.push_back(program);
  full.insert(full.end(), args.begin(), args.end());
  return run_process(user.switcher, full, options);
}

std::string base_folder(const ServerUser& user, std::string* error) {
  std::vector<std::string> candidates;
  if (const char* tmp = std::getenv("TMPDIR"); tmp != nullptr && *tmp != '\0')
    candidates.push_back(tmp);
  candidates.emplace_back("/tmp");
  std::string why;
  for (const std::string& c : candidates) {
    std::error_code ec;
    const fs::path dir = fs::weakly_canonical(c, ec);
    if (ec || !fs::is_directory(dir, ec)) {
      why += c + ": not a folder; ";
    } else if (dir.string().size() > kMaxBaseLength) {
      why += c + ": too long for a unix socket path; ";
    } else if (!plain_path(dir.string())) {
      why += c + ": characters other than letters, digits and /._- ; ";
    } else if (!reachable(user, dir)) {
      why += c + ": user '" + user.name + "' cannot reach it; ";
    } else {
      return dir.string();
    }
  }
  *error = "no folder for the PostgreSQL server: " + why;
  return {};
}

std::string make_folder(const ServerUser& user, const std::string& base, std::string* error) {
  std::string pattern = base + "/tandem-pg-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    *error = "mkdtemp in " + base + ": " + std::strerror(errno);
    return {};
  }
  std::ofstream(pattern + "/owner") << ::getpid() << "\n";
  if (user.switch_user && ::chown(pattern.c_str(), user.uid, user.gid) != 0) {
    *error = "chown " + pattern + " to '" + user.name + "': " + std::strerror(errno);
    std::error_code ec;
    fs::remove_all(pattern, ec);
    return {};
  }
  return pattern;
}

bool init_cluster(const ServerUser& user, const std::string& bindir, const std::string& base,
                  const std::string& data_dir, std::string* error) {
  // The name says what made it: a change of initdb's arguments below must
  // change kClusterFormat.
  std::string key = bindir;
  for (char& c : key) c = std::isalnum(static_cast<unsigned char>(c)) != 0 ? c : '_';
  const std::string cluster =
      base + "/tandem-pgcluster-" + kClusterFormat + key + "-uid" + std::to_string(user.uid);
  std::error_code ec;
  if (!fs::exists(cluster + "/global/pg_control", ec)) {
    const std::string work = make_folder(user, base, error);
    if (work.empty()) return false;
    // --no-sync: the copies are what servers run on, and a crash test kills
    // the server, never the machine; the server fsyncs all it writes itself.
    const ProcessResult init = run_as(user, bindir + "/initdb",
                                      {"-D", work + "/data", "-U", "tandem", "--auth=trust",
                                       "--encoding=UTF8", "--no-locale", "--no-sync"});
    if (init.exit_code == 0) fs::rename(work + "/data", cluster, ec);  // fails if another won
    fs::remove_all(work, ec);
    if (init.exit_code != 0) {
      *error =
          "initdb failed (exit " + std::to_string(init.exit_code) + "): " + init.err + init.out;
      return false;
    }
  }
  const ProcessResult copy = run_as(user, "/bin/cp", {"-a", cluster, data_dir});
  if (copy.exit_code != 0) {
    *error = "cannot copy the initdb cluster " + cluster +
             " (delete it to have it made again): " + copy.err;
    return false;
  }
  return true;
}

int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

pid_t postmaster_of(const std::string& data_dir) {
  std::ifstream in(data_dir + "/postmaster.pid");
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return -1;
  const auto p = static_cast<pid_t>(pid);
  if (gone(p)) return -1;
  // The pid may have been reused: ours only when it runs with -D DATA.
  const std::string cmdline = file_bytes("/proc/" + std::to_string(p) + "/cmdline");
  return cmdline.find(data_dir) != std::string::npos ? p : -1;
}

bool kill_postmaster_tree(const std::string& data_dir, std::string* error) {
  const pid_t pm = postmaster_of(data_dir);
  std::vector<pid_t> all;
  if (pm > 0) {
    ::kill(pm, SIGSTOP);  // no new children from here on
    all = children_of(pm);
    all.push_back(pm);
    for (pid_t p : all) ::kill(p, SIGKILL);
  }
  // postmaster.pid: pid, data folder, start time, port, socket folder, ...
  std::vector<std::string> lines;
  {
    std::ifstream in(data_dir + "/postmaster.pid");
    for (std::string line; lines.size() < 5 && std::getline(in, line);) lines.push_back(line);
  }
  const auto deadline = SteadyClock::now() + kWait;
  for (pid_t p : all) {
    while (!gone(p)) {
      if (SteadyClock::now() > deadline) {
        *error = "PostgreSQL process " + std::to_string(p) + " still runs 30 s after SIGKILL";
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  // The lock files name the dead postmaster; left behind, a new one would
  // refuse to start while the zombie is not reaped (a container's pid 1 may
  // never reap it).
  std::error_code ec;
  if (lines.size() == 5 && !lines[4].empty()) {
    fs::remove(lines[4] + "/.s.PGSQL." + lines[3] + ".lock", ec);
  }
  fs::remove(data_dir + "/postmaster.pid", ec);
  return true;
}

void reap_orphans(const std::string& base) {
  std::vector<std::string> dirs;
  std::error_code ec;
  for (fs::directory_iterator it(base, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind("tandem-pg-", 0) == 0) dirs.push_back(it->path().string());
  }
  for (const std::string& dir : dirs) {
    std::ifstream owner_file(dir + "/owner");
    long owner = 0;
    bool orphan = false;
    if (owner_file >> owner && owner > 0) {
      orphan = gone(static_cast<pid_t>(owner));
    } else {
      std::error_code e;
      const auto age = fs::file_time_type::clock::now() - fs::last_write_time(dir, e);
      orphan = !e && age > kOrphanAge;
    }
    if (!orphan) continue;
    std::string ignored;
    if (kill_postmaster_tree(dir + "/data", &ignored)) fs::remove_all(dir, ec);
  }
}

std::string file_tail(const std::string& path, std::size_t bytes) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return {};
  const auto size = static_cast<std::size_t>(std::max<std::streamoff>(0, in.tellg()));
  const std::size_t from = size > bytes ? size - bytes : 0;
  in.seekg(static_cast<std::streamoff>(from));
  std::string out(size - from, '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  return out;
}

}  // namespace tandem::test::pg
