// End-to-end helpers for tandem-server: run the REAL binary on a free
// loopback port in a data directory, talk to it over HTTP with libcurl, and
// poke it with raw sockets. No Boost here (the support library is shared by
// every suite).
//
//   tandem::test::TempDir dir;
//   auto server = tandem::test::ServerProcess::start(dir.path());  // REQUIREs success
//   tandem::test::HttpClient http;
//   auto r = http.get(server->url("/healthz"));
//   CHECK(r.status == 200);
//   server->terminate();  // SIGTERM, waits, returns the ProcessResult
//
// Thread-safety: none; use each object from one thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "cli_runner.hpp"
#include "tandem/core/change.hpp"

namespace tandem::test {

// The tandem-server binary built with the tests ("" when the server is not
// built), or $TANDEM_SERVER_BINARY when set.
std::string server_binary();

class ServerProcess {
 public:
  // Starts `tandem-server --data DATA_DIR --listen 127.0.0.1:0 --quiet EXTRA...`,
  // reads the bound port from its stdout and waits until /healthz answers 200.
  // nullptr with the reason in *error when any of that fails (10 s each).
  static std::unique_ptr<ServerProcess> try_start(const std::string& data_dir,
                                                  const std::vector<std::string>& extra_args,
                                                  std::string* error);
  // Same, but fails the current Catch2 test when it cannot start.
  static std::unique_ptr<ServerProcess> start(const std::string& data_dir,
                                              const std::vector<std::string>& extra_args = {});
  // Same over HTTPS: --tls-cert/--tls-key from `tls`; url() gives https://
  // URLs, and the readiness check trusts `ca_file` ("" for a certificate
  // made bad on purpose: the readiness check then does not verify it).
  static std::unique_ptr<ServerProcess> try_start_tls(
      const std::string& data_dir, const std::string& cert_file, const std::string& key_file,
      const std::string& ca_file, const std::vector<std::string>& extra_args, std::string* error);
  static std::unique_ptr<ServerProcess> start_tls(const std::string& data_dir,
                                                  const std::string& cert_file,
                                                  const std::string& key_file,
                                                  const std::string& ca_file,
                                                  const std::vector<std::string>& extra_args = {});
  ~ServerProcess();  // SIGKILL if still running
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return child_->pid(); }
  const std::string& data_dir() const { return data_dir_; }
  std::string url(const std::string& path) const;

  // Sends a signal without waiting.
  bool signal(int signo) { return child_->kill(signo); }
  // Waits (up to `timeout`, then SIGKILL) for the process to exit.
  ProcessResult wait(std::chrono::milliseconds timeout = std::chrono::milliseconds(20000)) {
    return child_->wait(timeout);
  }
  // Sends SIGTERM and waits (up to `timeout`) for the process to exit.
  ProcessResult terminate(std::chrono::milliseconds timeout = std::chrono::milliseconds(20000));
  // SIGKILL now, like a power cut, and reap.
  ProcessResult kill_hard();

 private:
  ServerProcess() = default;
  static std::unique_ptr<ServerProcess> launch(const std::string& data_dir,
                                               const std::vector<std::string>& extra_args,
                                               const std::string& ca_file, std::string* error);
  std::unique_ptr<ChildProcess> child_;
  std::string data_dir_;
  std::string scheme_ = "http";
  int port_ = 0;
};

// Raw occurrences of `text` in a server data folder's database file, its WAL
// and journal (what is on disk, never decrypted).
std::size_t raw_hits(const std::string& data_dir, const std::string& text);

// Runs an admin subcommand: tandem-server --data DIR --json ARGS...
ProcessResult server_admin(const std::string& data_dir, const std::vector<std::string>& args);
// Same, decoding stdout as JSON; fails the test on a non-zero exit.
nlohmann::json server_admin_json(const std::string& data_dir, const std::vector<std::string>& args);

struct HttpResponse {
  long status = 0;  // 0: no HTTP answer (see error)
  std::string body;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string error;                           // libcurl's message when status == 0
  // The body as JSON (discarded value when it is not JSON).
  nlohmann::json json() const;
  // error.code of a JSON error body, "" if none.
  std::string error_code() const;
};

// A blocking HTTP/1.1 client over libcurl with one kept-alive connection.
class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResponse request(const std::string& method, const std::string& url,
                       const std::string& body = {}, const std::vector<std::string>& headers = {});
  HttpResponse get(const std::string& url) { return request("GET", url); }
  HttpResponse post(const std::string& url, const std::string& body,
                    const std::string& bearer = {});
  // Trust the CA certificates in this PEM file for https:// (default: the
  // system's store). Peer and host are verified either way.
  void set_ca_file(const std::string& ca_file) { ca_file_ = ca_file; }
  // Tests only: no verification of the server's certificate (to reach a
  // server given a bad certificate on purpose, e.g. for /metrics).
  void skip_verification() { verify_ = false; }
  // Deadlines of each later request (default: 60 s in all, 5 s to connect).
  void set_timeouts(std::chrono::milliseconds total, std::chrono::milliseconds connect) {
    total_ms_ = total.count();
    connect_ms_ = connect.count();
  }

 private:
  void* curl_;
  std::string ca_file_;
  bool verify_ = true;
  long total_ms_ = 60000;
  long connect_ms_ = 5000;
};

// A plain TCP connection for tests that must misbehave (slow or broken HTTP).
class RawConnection {
 public:
  // Connects to 127.0.0.1:port; check ok(). A `receive_buffer` (bytes, set
  // before connecting) keeps the window small: what the test does not read
  // then stays on the server's side.
  explicit RawConnection(int port, int receive_buffer = 0);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool ok() const { return fd_ >= 0; }
  // Sends all bytes; false if the peer closed or failed.
  bool send(const std::string& bytes);
  // Reads until the peer closes or `timeout` passes; `closed` tells which.
  std::string read_until_closed(std::chrono::milliseconds timeout, bool* closed);
  // One read of at most `max_bytes`, waiting up to `timeout` for data;
  // `closed` is set when the peer closed or reset the connection.
  std::string read_some(std::size_t max_bytes, std::chrono::milliseconds timeout, bool* closed);

 private:
  int fd_ = -1;
};

// ---- a school with an enrolled device, and changes to push ----

struct TestSchool {
  std::string id;
  std::string name;
  std::string person;  // a resource person of the school
};

// Creates a school and one person through the admin commands.
TestSchool create_test_school(const std::string& data_dir, const std::string& name);

struct TestDevice {
  std::string id;
  std::string token;
  std::string school;
  std::string person;
};

// A fresh one-time enrollment code for `person`, issued by the admin CLI.
std::string enrollment_code(const std::string& data_dir, const std::string& person);

// Issues a code for `person` and enrolls a device with it over HTTP.
TestDevice enroll_test_device(const ServerProcess& server, const std::string& person);

// A running server over a temp dir (its data directory) with one school and
// the school's resource person: where most end-to-end tests start.
struct SchoolServer {
  explicit SchoolServer(const std::string& school_name = "School",
                        const std::vector<std::string>& server_args = {});
  TempDir dir;
  TestSchool school;
  std::unique_ptr<ServerProcess> server;
  HttpClient http;

  // A device of the school's resource person, enrolled over HTTP.
  TestDevice enroll() const { return enroll_test_device(*server, school.person); }
  // A fresh one-time enrollment code for `person`.
  std::string code_for(const std::string& person) const;
  // Adds a person to the school; returns the id.
  std::string add_person(const std::string& name, const std::string& role) const;
};

// Builds valid changes as a device would stamp them: its own site id and a
// strictly increasing hybrid clock based on the real time.
class ChangeMaker {
 public:
  ChangeMaker();
  // A new course record (kind observation) in `school`.
  Change create_course(const std::string& school, const std::string& title);
  // A new course with a given record id (for tests about ids).
  Change create_course_with_id(const std::string& school, const std::string& id,
                               const std::string& title);
  // A new course carrying `tags` tags of 64 characters: ~67 bytes each on
  // the wire (160 tags: a change of ~10.7 KB), for tests about sizes.
  Change create_large_course(const std::string& school, const std::string& title, int tags);
  Change set_field(const Change& of_record, const std::string& field, const nlohmann::json& value);
  Change op(const Change& of_record, Op op);
  // Stamps `c` afresh (new hlc) with an offset added to the wall time.
  Change restamp(Change c, std::int64_t offset_ms = 0);

 private:
  Hlc next(std::int64_t offset_ms);
  std::string site_;
  std::int64_t last_ms_ = 0;
  std::uint32_t counter_ = 0;
  std::uint64_t ids_ = 0;
};

// {"push":{"mutation_id":M,"changes":[...]}} (+ "pull" when cursor >= 0).
std::string sync_body(std::int64_t mutation_id, const std::vector<Change>& changes,
                      std::int64_t pull_cursor = -1, std::int64_t pull_limit = 1000);
// {"pull":{"cursor":C,"limit":L}}
std::string pull_body(std::int64_t cursor, std::int64_t limit = 1000);

// The server's tandem_connections_open (from /metrics, on a connection of
// its own, which counts), -1 if it cannot be read.
long open_connections(const ServerProcess& server);

// Pushes `pushes` batches of `per_push` large courses of `tags` tags each
// (ChangeMaker::create_large_course) as `device`, with mutation ids 1, 2, ...;
// REQUIREs 200 for each. The stamps pushed are added to `hlcs` if given.
void push_large_courses(SchoolServer& world, const TestDevice& device, int pushes, int per_push,
                        int tags, std::set<std::string>* hlcs = nullptr);

// Pulls everything visible to `token` after `cursor` (following `more`);
// returns the changes (JSON) in order. Fails the test on a non-200 answer.
std::vector<nlohmann::json> pull_all(HttpClient& http, const ServerProcess& server,
                                     const std::string& token, std::int64_t cursor = 0,
                                     std::int64_t limit = 1000);

}  // namespace tandem::test
