// Fuzz target: the server's request path without sockets. Raw bytes go
// through Beast's request parser with the server's limits (as HttpSession
// reads a connection: several keep-alive requests in a row, a framing error
// ends the connection) and each request through Api::handle (server/src/
// api.cpp) on a real SQLite storage (fixtures.hpp: two schools, devices A
// and B in one, C in the other; the seeds carry their tokens).
//
// Input: what a client writes on one connection.
// Invariants: every request gets exactly one response, never a 5xx other
// than 503 (hostile input must not look like a server failure), with a
// correct Content-Length and the server-time header; JSON bodies parse, and
// the device's own decoders (protocol.hpp) accept them: errors as
// ErrorResponse, sync answers as SyncResponse, enrollments as EnrollResponse.
//
// Every input starts from the same database: after an input that wrote to it
// (its files changed: a commit grows the WAL or, checkpointed, the database),
// the fixture's files are copied back and the server reopened. Inputs that
// only read (most of them) keep the server open: reopening costs far more
// than a request.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "api.hpp"
#include "fixtures.hpp"
#include "http_types.hpp"
#include "web.hpp"
#include "tandem/server/stores.hpp"
#include "tandem/server/limits.hpp"
#include "tandem/server/options.hpp"
#include "tandem/sync/protocol.hpp"

namespace {

namespace server = tandem::server;
namespace sync = tandem::sync;
namespace http = server::http;
using tandem::ErrorCode;
using tandem::fuzz::check;
using tandem::fuzz::TempDir;

// Requests read from one input at most (a connection could send more; the
// fuzzer gains nothing from longer chains).
constexpr int kMaxRequestsPerInput = 8;
// A response that has not come after this long is a hang.
constexpr std::chrono::seconds kResponseDeadline{30};

// Tasks the Api hands back (`resume`), run on the fuzzing thread as the
// session's strand would run them.
class TaskQueue {
 public:
  void post(std::function<void()> task) {
    {
      std::lock_guard lock(mu_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
  }
  // Runs queued tasks until `done()` holds.
  void run_until(const std::function<bool()>& done) {
    while (!done()) {
      std::unique_lock lock(mu_);
      const bool woke = cv_.wait_for(lock, kResponseDeadline, [this] { return !tasks_.empty(); });
      check(woke, "no response within 30 s");
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
    }
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
};

// One server over the work copy of the database.
struct Server {
  explicit Server(const std::string& data_dir) {
    auto opened = server::open_sqlite_storage(
        {server::database_path(data_dir), &tandem::fuzz::fixture_clock()});
    check(opened.ok(), "cannot open the server storage", opened.ok() ? "" : opened.error().message);
    storage = std::move(*opened);
    service.emplace(*storage, tandem::fuzz::fixture_clock(), metrics, sync::kDefaultMaxSkewMs);
    // Enrollment's blocking work runs inline: this thread may block.
    api.emplace(*service, *storage, metrics, [](std::function<void()> task) { task(); });
    // A fixture that lost its devices would leave every authenticated path
    // unreached without a word.
    check(service->authenticate(std::string("Bearer ") + tandem::fuzz::kTokenA).ok(),
          "the fixture's device token is not accepted");
  }

  std::unique_ptr<server::ServerStorage> storage;
  server::Metrics metrics;
  std::optional<server::SyncService> service;
  std::optional<server::Api> api;
  TaskQueue tasks;
};

// Names, sizes and modification times of the files in `dir`.
std::string files_state(const TempDir& dir) {
  namespace fs = std::filesystem;
  std::string state;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    state += entry.path().filename().string() + ' ' + std::to_string(entry.file_size()) + ' ' +
             std::to_string(entry.last_write_time().time_since_epoch().count()) + '\n';
  }
  return state;
}

struct World {
  TempDir fixture{"http-fixture"};
  TempDir work{"http"};
  std::optional<Server> server;
  std::string opened_state;  // files_state(work) once the server had opened
};
World* g_world = nullptr;

bool is_json(const server::Response& res) {
  return res[http::field::content_type] == "application/json";
}

// `page`: a leaders' page (Web::route): HTML for people, not the JSON
// protocol, so no server-time header and no JSON body.
void check_response(const server::Response& res, std::string_view route, bool page = false) {
  const unsigned status = res.result_int();
  check(status < 500 || status == 503, "a hostile request got a server failure",
        std::to_string(status) + " " + res.body().substr(0, 200));
  check(res.has_content_length() &&
            res[http::field::content_length] == std::to_string(res.body().size()),
        "Content-Length does not match the body");
  if (page && !is_json(res)) return;
  check(res.find(server::beast::string_view(sync::kServerTimeHeader.data(),
                                            sync::kServerTimeHeader.size())) != res.end(),
        "a response lacks the server-time header");
  if (!is_json(res)) {
    check(status == 200 && route == "/metrics", "a non-JSON answer from a JSON endpoint");
    return;
  }
  auto body = sync::parse_json(res.body());
  check(body.ok(), "a JSON response does not parse", res.body().substr(0, 200));
  if (status >= 300) {
    auto e = sync::ErrorResponse::from_json(*body);
    check(e.ok(), "an error response does not decode", e.ok() ? "" : e.error().message);
    return;
  }
  if (route == "/v1/sync") {
    auto r = sync::SyncResponse::from_json(*body);
    check(r.ok(), "a sync answer does not decode", r.ok() ? "" : r.error().message);
  } else if (route == "/v1/enroll") {
    // An enrollment, or the answer to a check ("check": true: whom the code is for).
    auto r = sync::EnrollResponse::from_json(*body);
    if (!r.ok()) {
      auto c = sync::EnrollCheckResponse::from_json(*body);
      check(c.ok(), "an enrollment answer does not decode", r.error().message);
    }
  }
}

// What HttpSession answers when a request cannot be read (then it closes);
// nullopt: it closes without an answer.
std::optional<server::Response> framing_error(server::Api& api, server::beast::error_code ec,
                                              unsigned version) {
  if (!ec || ec == http::error::end_of_stream || ec == http::error::partial_message) {
    return std::nullopt;
  }
  if (ec == http::error::body_limit) {
    return api.error(ErrorCode::kPayloadTooLarge, "request body too large", version, false);
  }
  if (ec == http::error::header_limit) {
    auto res = api.error(ErrorCode::kPayloadTooLarge, "request headers too large", version, false);
    res.result(http::status::request_header_fields_too_large);
    return res;
  }
  return api.error(ErrorCode::kInvalidArgument, "malformed HTTP request", version, false);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  static World world;
  g_world = &world;
  tandem::fuzz::make_server_data(world.fixture);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  World& w = *g_world;
  if (!w.server || files_state(w.work) != w.opened_state) {
    w.server.reset();
    w.work.copy_from(w.fixture);
    w.server.emplace(w.work.path());
    w.opened_state = files_state(w.work);
  }
  Server& s = *w.server;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  for (int n = 0; n < kMaxRequestsPerInput && !in.empty(); ++n) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(server::kMaxHeaderBytes));
    parser.body_limit(server::kMaxBodyBytes);
    parser.eager(true);
    server::beast::error_code ec;
    while (!parser.is_done()) {
      // The whole rest of the input is offered each time; when the parser
      // cannot go on with it, the client has closed the connection.
      const std::size_t used =
          in.empty() ? 0 : parser.put(server::net::buffer(in.data(), in.size()), ec);
      in.remove_prefix(used);
      if (ec == http::error::need_more) ec = {};
      if (ec) break;
      if (used == 0) {
        parser.put_eof(ec);
        break;
      }
    }
    if (ec || !parser.is_done()) {
      const unsigned version = parser.is_header_done() ? parser.get().version() : 11;
      if (auto res = framing_error(*s.api, ec, version)) check_response(*res, "other");
      return 0;
    }
    const server::Request request = parser.release();
    server::RequestLog log;
    std::optional<server::Response> answer;
    // Each input from its own address, so the failure throttle (tested in
    // the abuse suite) does not turn the rest of a run into 429s.
    static std::uint64_t inputs = 0;
    server::ClientInfo client;
    client.throttle_key = "fuzz-" + std::to_string(inputs++ % 4096);
    s.api->handle(
        request, client, log, [&s](std::function<void()> task) { s.tasks.post(std::move(task)); },
        [&answer](server::Response res) {
          check(!answer, "a request was answered twice");
          answer = std::move(res);
        });
    s.tasks.run_until([&answer] { return answer.has_value(); });
    tandem::fuzz::trace(std::string(log.route) + " -> " + std::to_string(answer->result_int()) +
                        " " + answer->body().substr(0, 400));
    const std::string_view target(request.target().data(), request.target().size());
    const bool page = server::Web::route(target.substr(0, target.find('?'))).has_value();
    check_response(*answer, log.route, page);
    if (answer->need_eof()) return 0;
  }
  return 0;
}
