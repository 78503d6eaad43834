#include "server_process.hpp"

#include "server_store.hpp"

#include "test_util.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>
#include <random>
#include <thread>

namespace tandem::test {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kStartTimeout{10000};

// "listening on 127.0.0.1:PORT" -> PORT, 0 if not (yet) there.
int port_from_banner(const std::string& out) {
  const std::string prefix = "listening on ";
  const auto at = out.find(prefix);
  if (at == std::string::npos) return 0;
  const auto eol = out.find('\n', at);
  if (eol == std::string::npos) return 0;
  const auto colon = out.rfind(':', eol);
  if (colon == std::string::npos || colon < at) return 0;
  try {
    return std::stoi(out.substr(colon + 1, eol - colon - 1));
  } catch (...) {
    return 0;
  }
}

size_t collect_body(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t collect_header(char* data, size_t size, size_t n, void* user) {
  auto& headers = *static_cast<std::map<std::string, std::string>*>(user);
  std::string line(data, size * n);
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
      value.pop_back();
    headers[name] = value;
  }
  return size * n;
}

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

}  // namespace

std::string server_binary() {
  // An override, to run the suite against another build (e.g. a sanitizer one).
  if (const char* env = std::getenv("TANDEM_SERVER_BINARY"); env != nullptr && *env != '\0')
    return env;
#ifdef TANDEM_SERVER_PATH
  return TANDEM_SERVER_PATH;
#else
  return {};
#endif
}

// ---- ServerProcess ----

std::unique_ptr<ServerProcess> ServerProcess::try_start(const std::string& data_dir,
                                                        const std::vector<std::string>& extra_args,
                                                        std::string* error) {
  return launch(data_dir, extra_args, "", error);
}

std::unique_ptr<ServerProcess> ServerProcess::try_start_tls(
    const std::string& data_dir, const std::string& cert_file, const std::string& key_file,
    const std::string& ca_file, const std::vector<std::string>& extra_args, std::string* error) {
  std::vector<std::string> args = {"--tls-cert", cert_file, "--tls-key", key_file};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  return launch(data_dir, args, ca_file, error);
}

std::unique_ptr<ServerProcess> ServerProcess::start_tls(
    const std::string& data_dir, const std::string& cert_file, const std::string& key_file,
    const std::string& ca_file, const std::vector<std::string>& extra_args) {
  std::string error;
  auto server = try_start_tls(data_dir, cert_file, key_file, ca_file, extra_args, &error);
  if (!server) FAIL("cannot start tandem-server over TLS: " << error);
  return server;
}

std::unique_ptr<ServerProcess> ServerProcess::launch(const std::string& data_dir,
                                                     const std::vector<std::string>& extra_args,
                                                     const std::string& ca_file,
                                                     std::string* error) {
  const std::string binary = server_binary();
  if (binary.empty()) {
    if (error) *error = "tandem-server is not built (TANDEM_SERVER_PATH empty)";
    return nullptr;
  }
  std::vector<std::string> args = store_args(data_dir);
  args.insert(args.end(), {"--listen", "127.0.0.1:0", "--quiet"});
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::unique_ptr<ServerProcess> server(new ServerProcess());
  server->data_dir_ = data_dir;
  for (const auto& a : extra_args) {
    if (a == "--tls-cert") server->scheme_ = "https";
  }
  server->child_ = ChildProcess::start(binary, args, RunOptions{}, error);
  if (!server->child_) return nullptr;

  const auto deadline = SteadyClock::now() + kStartTimeout;
  while (server->port_ == 0) {
    if (SteadyClock::now() > deadline) {
      if (error) *error = "tandem-server printed no port; stderr: " + server->child_->err();
      return nullptr;
    }
    if (!server->child_->pump(std::chrono::milliseconds(50))) {
      if (error) *error = "tandem-server exited at startup; stderr: " + server->child_->err();
      return nullptr;
    }
    server->port_ = port_from_banner(server->child_->out());
  }
  HttpClient http;
  http.set_ca_file(ca_file);
  if (server->scheme_ == "https" && ca_file.empty()) http.skip_verification();
  for (;;) {
    const HttpResponse r = http.get(server->url("/healthz"));
    if (r.status == 200) break;
    if (SteadyClock::now() > deadline) {
      if (error) *error = "tandem-server /healthz never answered 200: " + r.error + r.body;
      return nullptr;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return server;
}

std::unique_ptr<ServerProcess> ServerProcess::start(const std::string& data_dir,
                                                    const std::vector<std::string>& extra_args) {
  std::string error;
  auto server = try_start(data_dir, extra_args, &error);
  if (!server) FAIL("cannot start tandem-server: " << error);
  return server;
}

ServerProcess::~ServerProcess() = default;  // ChildProcess SIGKILLs a running child

std::string ServerProcess::url(const std::string& path) const {
  return scheme_ + "://127.0.0.1:" + std::to_string(port_) + path;
}

ProcessResult ServerProcess::terminate(std::chrono::milliseconds timeout) {
  child_->kill(SIGTERM);
  return child_->wait(timeout);
}

ProcessResult ServerProcess::kill_hard() {
  child_->kill(SIGKILL);
  return child_->wait(std::chrono::milliseconds(10000));
}

ProcessResult server_admin(const std::string& data_dir, const std::vector<std::string>& args) {
  std::vector<std::string> full = store_args(data_dir);
  full.push_back("--json");
  full.insert(full.end(), args.begin(), args.end());
  return run_process(server_binary(), full);
}

nlohmann::json server_admin_json(const std::string& data_dir,
                                 const std::vector<std::string>& args) {
  const ProcessResult r = server_admin(data_dir, args);
  INFO("tandem-server admin stdout: " << r.out << " stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out, nullptr, false);
}

// ---- HTTP ----

nlohmann::json HttpResponse::json() const { return nlohmann::json::parse(body, nullptr, false); }

std::string HttpResponse::error_code() const {
  const auto j = json();
  if (j.is_object() && j.contains("error") && j["error"].is_object() &&
      j["error"].contains("code") && j["error"]["code"].is_string()) {
    return j["error"]["code"].get<std::string>();
  }
  return {};
}

HttpClient::HttpClient() {
  static CurlGlobal global;
  curl_ = curl_easy_init();
}

HttpClient::~HttpClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

HttpResponse HttpClient::request(const std::string& method, const std::string& url,
                                 const std::string& body, const std::vector<std::string>& headers) {
  CURL* curl = static_cast<CURL*>(curl_);
  HttpResponse out;
  curl_easy_reset(curl);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, total_ms_);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, connect_ms_);
  if (!ca_file_.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file_.c_str());
  if (!verify_) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (method != "GET" || !body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  if (method == "GET" && body.empty()) curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  curl_slist* list = nullptr;
  list = curl_slist_append(list, "Content-Type: application/json");
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &out.headers);
  const CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(list);
  if (rc != CURLE_OK) {
    out.error = curl_easy_strerror(rc);
    out.status = 0;
    return out;
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out.status);
  return out;
}

HttpResponse HttpClient::post(const std::string& url, const std::string& body,
                              const std::string& bearer) {
  std::vector<std::string> headers;
  if (!bearer.empty()) headers.push_back("Authorization: Bearer " + bearer);
  return request("POST", url, body, headers);
}

// ---- raw sockets ----

RawConnection::RawConnection(int port, int receive_buffer) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  if (receive_buffer > 0)
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::send(const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

std::string RawConnection::read_until_closed(std::chrono::milliseconds timeout, bool* closed) {
  std::string out;
  if (closed) *closed = false;
  const auto deadline = SteadyClock::now() + timeout;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) return out;
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return out;
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (closed) *closed = true;
      return out;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
}

std::string RawConnection::read_some(std::size_t max_bytes, std::chrono::milliseconds timeout,
                                     bool* closed) {
  if (closed) *closed = false;
  pollfd p{fd_, POLLIN, 0};
  int ready = 0;
  do {
    ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (ready < 0 && errno == EINTR);
  if (ready <= 0) return {};
  std::string out(max_bytes, '\0');
  ssize_t n = 0;
  do {
    n = ::recv(fd_, out.data(), out.size(), 0);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) {
    if (closed) *closed = true;
    return {};
  }
  out.resize(static_cast<std::size_t>(n));
  return out;
}

void push_large_courses(SchoolServer& world, const TestDevice& device, int pushes, int per_push,
                        int tags, std::set<std::string>* hlcs) {
  ChangeMaker maker;
  for (int p = 0; p < pushes; ++p) {
    std::vector<Change> batch;
    for (int i = 0; i < per_push; ++i) {
      batch.push_back(maker.create_large_course(device.school, "large", tags));
      if (hlcs) hlcs->insert(batch.back().hlc.str());
    }
    const HttpResponse r =
        world.http.post(world.server->url("/v1/sync"), sync_body(p + 1, batch), device.token);
    INFO(r.body.substr(0, 300));
    REQUIRE(r.status == 200);
  }
}

long open_connections(const ServerProcess& server) {
  HttpClient http;
  const std::string body = http.get(server.url("/metrics")).body;
  const std::string name = "\ntandem_connections_open ";
  const auto at = body.find(name);
  return at == std::string::npos ? -1 : std::stol(body.substr(at + name.size()));
}

// ---- schools, devices, changes ----

TestSchool create_test_school(const std::string& data_dir, const std::string& name) {
  TestSchool school;
  school.name = name;
  const auto s = server_admin_json(data_dir, {"school", "create", "--name", name});
  school.id = s.at("id").get<std::string>();
  const auto p = server_admin_json(data_dir, {"person", "add", "--school", school.id, "--name",
                                              "Resource person", "--role", "resource_person"});
  school.person = p.at("id").get<std::string>();
  return school;
}

SchoolServer::SchoolServer(const std::string& school_name,
                           const std::vector<std::string>& server_args) {
  school = create_test_school(dir.path(), school_name);
  server = ServerProcess::start(dir.path(), server_args);
}

std::string SchoolServer::code_for(const std::string& person) const {
  return enrollment_code(dir.path(), person);
}

std::string SchoolServer::add_person(const std::string& name, const std::string& role) const {
  return server_admin_json(dir.path(),
                           {"person", "add", "--school", school.id, "--name", name, "--role", role})
      .at("id")
      .get<std::string>();
}

std::size_t raw_hits(const std::string& data_dir, const std::string& text) {
  std::size_t n = 0;
  for (const char* suffix : {"", "-wal", "-journal"}) {
    const std::string bytes = file_bytes(data_dir + "/tandem-server.db" + suffix);
    for (auto at = bytes.find(text); at != std::string::npos; at = bytes.find(text, at + 1)) ++n;
  }
  return n;
}

std::string enrollment_code(const std::string& data_dir, const std::string& person) {
  return server_admin_json(data_dir, {"enroll-code", "--person", person})
      .at("code")
      .get<std::string>();
}

TestDevice enroll_test_device(const ServerProcess& server, const std::string& person) {
  const std::string code = enrollment_code(server.data_dir(), person);
  HttpClient http;
  const HttpResponse r =
      http.post(server.url("/v1/enroll"),
                nlohmann::json{{"code", code}, {"device_name", "test tablet"}}.dump());
  INFO("enroll answered " << r.status << ": " << r.body);
  REQUIRE(r.status == 200);
  const auto j = r.json();
  TestDevice d;
  d.id = j.at("device_id").get<std::string>();
  d.token = j.at("token").get<std::string>();
  d.school = j.at("school").at("id").get<std::string>();
  d.person = j.at("person").at("id").get<std::string>();
  return d;
}

ChangeMaker::ChangeMaker() {
  std::random_device rd;
  std::mt19937_64 rng((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
  static constexpr char kHex[] = "0123456789abcdef";
  const std::uint64_t bits = rng();
  for (int i = 0; i < 16; ++i) site_.push_back(kHex[(bits >> (i * 4)) & 0xf]);
  ids_ = rng();
}

Hlc ChangeMaker::next(std::int64_t offset_ms) {
  const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count() +
                           offset_ms;
  if (now > last_ms_) {
    last_ms_ = now;
    counter_ = 0;
  } else {
    ++counter_;
  }
  return Hlc{last_ms_, counter_, site_};
}

Change ChangeMaker::create_course(const std::string& school, const std::string& title) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "course_";
  const std::uint64_t n = ++ids_ * 0x9e3779b97f4a7c15ULL;
  for (int i = 0; i < 16; ++i) id.push_back(kHex[(n >> (i * 4)) & 0xf]);
  return create_course_with_id(school, id, title);
}

Change ChangeMaker::create_course_with_id(const std::string& school, const std::string& id,
                                          const std::string& title) {
  Change c;
  c.hlc = next(0);
  c.record = id;
  c.kind = "course";
  c.school = school;
  c.op = Op::kCreate;
  c.value = nlohmann::json{{"kind", "observation"}, {"title", title}};
  return c;
}

Change ChangeMaker::create_large_course(const std::string& school, const std::string& title,
                                        int tags) {
  Change c = create_course(school, title);
  nlohmann::json list = nlohmann::json::array();
  for (int t = 0; t < tags; ++t) {
    std::string tag = "t" + std::to_string(ids_ % 100000) + "_" + std::to_string(t) + "_";
    tag.resize(64, 'x');
    list.push_back(std::move(tag));
  }
  c.value["tags"] = std::move(list);
  return c;
}

Change ChangeMaker::set_field(const Change& of_record, const std::string& field,
                              const nlohmann::json& value) {
  Change c;
  c.hlc = next(0);
  c.record = of_record.record;
  c.kind = of_record.kind;
  c.school = of_record.school;
  c.op = Op::kSet;
  c.field = field;
  c.value = value;
  return c;
}

Change ChangeMaker::op(const Change& of_record, Op o) {
  Change c;
  c.hlc = next(0);
  c.record = of_record.record;
  c.kind = of_record.kind;
  c.school = of_record.school;
  c.op = o;
  return c;
}

Change ChangeMaker::restamp(Change c, std::int64_t offset_ms) {
  c.hlc = next(offset_ms);
  return c;
}

std::string sync_body(std::int64_t mutation_id, const std::vector<Change>& changes,
                      std::int64_t pull_cursor, std::int64_t pull_limit) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& c : changes) list.push_back(c.to_json());
  nlohmann::json j{{"push", {{"mutation_id", mutation_id}, {"changes", std::move(list)}}}};
  if (pull_cursor >= 0) j["pull"] = {{"cursor", pull_cursor}, {"limit", pull_limit}};
  return j.dump();
}

std::string pull_body(std::int64_t cursor, std::int64_t limit) {
  return nlohmann::json{{"pull", {{"cursor", cursor}, {"limit", limit}}}}.dump();
}

std::vector<nlohmann::json> pull_all(HttpClient& http, const ServerProcess& server,
                                     const std::string& token, std::int64_t cursor,
                                     std::int64_t limit) {
  std::vector<nlohmann::json> out;
  for (int page = 0; page < 100000; ++page) {
    const HttpResponse r = http.post(server.url("/v1/sync"), pull_body(cursor, limit), token);
    INFO("pull answered " << r.status << ": " << r.body.substr(0, 300));
    REQUIRE(r.status == 200);
    const auto j = r.json();
    for (const auto& c : j.at("pull").at("changes")) out.push_back(c);
    cursor = j.at("pull").at("cursor").get<std::int64_t>();
    if (!j.at("pull").at("more").get<bool>()) break;
  }
  return out;
}

}  // namespace tandem::test
