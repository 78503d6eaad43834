#include "sync_fixture.hpp"

#include <catch2/catch.hpp>
#include <random>
#include <thread>

namespace tandem::test {

void SyncWorld::enroll(Tablet& tablet) { tablet.enroll(base_url(), code_for(school.person)); }

void Tablet::record_actions(int n, const std::string& prefix) {
  for (int i = 0; i < n; ++i) {
    auto id = store().create("action", Json{{"text", prefix + std::to_string(i)}});
    INFO("record: " << (id ? "" : id.error().message));
    REQUIRE(id.ok());
  }
}

Tablet::Tablet(const std::string& path, Clock* base_clock) : path_(path), base_clock_(base_clock) { reopen(); }

void Tablet::reopen() {
  close();
  // A tablet's database is encrypted, as on a real device (keys in the
  // tests' key store).
  StoreOptions o;
  o.path = path_;
  o.encryption = Encryption::kRequired;
  auto opened = Store::open(o, encrypted_host(base_clock_));
  INFO("open " << path_ << ": " << (opened ? "" : opened.error().message));
  REQUIRE(opened.ok());
  s_ = std::move(*opened);
}

sync::EngineOptions Tablet::fast_options() {
  sync::EngineOptions o;
  o.retry.initial_backoff = std::chrono::milliseconds(2);
  o.retry.max_backoff = std::chrono::milliseconds(50);
  o.retry.max_attempts = 20;
  return o;
}

std::unique_ptr<sync::CurlTransport> curl_to(const std::string& url, std::chrono::milliseconds total_timeout) {
  sync::CurlOptions o;
  o.base_url = url;
  o.total_timeout = total_timeout;
  o.connect_timeout = std::chrono::milliseconds(5000);
  auto t = sync::CurlTransport::create(o);
  REQUIRE(t.ok());
  return std::move(*t);
}

void Tablet::enroll(const std::string& url, const std::string& code) {
  auto transport = curl_to(url);
  sync::EnrollOptions o;
  o.server_url = url;
  o.code = code;
  o.device_name = path_;
  auto r = sync::enroll_device(store(), *transport, clock(), o);
  INFO("enroll: " << (r ? "" : r.error().message));
  REQUIRE(r.ok());
  // Like `tandem enroll`: a first sync brings the school (the default school).
  auto first = sync(*transport);
  INFO("first sync: " << (first ? "" : first.error().message));
  REQUIRE(first.ok());
  REQUIRE(store().default_school() == r->school.id);
}

Result<sync::SyncSummary> Tablet::sync(sync::Transport& transport, sync::EngineOptions options) {
  std::mt19937_64 rng(42);
  sync::SyncEngine engine(
      store(), transport, clock(), [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); },
      [&rng] { return rng(); }, options);
  return engine.sync();
}

Result<sync::SyncSummary> Tablet::sync(const std::string& url, sync::EngineOptions options) {
  auto transport = curl_to(url);
  return sync(*transport, options);
}

sync::SyncSummary Tablet::sync_until_complete(sync::Transport& transport, sync::EngineOptions options, int rounds) {
  std::string last_error;
  for (int i = 0; i < rounds; ++i) {
    auto r = sync(transport, options);
    if (r && r->complete) return *r;
    last_error = r ? "incomplete" : r.error().message;
  }
  FAIL("sync did not complete in " << rounds << " rounds: " << last_error);
  return {};
}

std::string Tablet::dump() {
  auto d = store().canonical_dump();
  REQUIRE(d.ok());
  return *d;
}

std::int64_t Tablet::outbox_size() {
  auto n = store().outbox_size();
  REQUIRE(n.ok());
  return *n;
}

Result<sync::HttpResponse> ScriptedTransport::send(const sync::HttpRequest& original) {
  ++calls_;
  sync::HttpRequest request = original;
  if (before) before(calls_, request);
  bodies.push_back(request.body);
  Result<sync::HttpResponse> out = make_error(ErrorCode::kInternal, "not sent");
  for (int i = 0; i < std::max(1, repeat); ++i) {
    out = inner_.send(request);
    if (out) responses.push_back(out->body);
  }
  if (after) return after(calls_, std::move(out));
  return out;
}

std::vector<nlohmann::json> server_sequence(const SyncWorld& world) {
  // A device of its own: a device is not sent back the changes it pushed.
  const TestDevice observer = enroll_test_device(*world.server, world.school.person);
  HttpClient http;
  return pull_all(http, *world.server, observer.token, 0, 1000);
}

std::set<std::string> distinct_hlcs(const std::vector<nlohmann::json>& sequence) {
  std::set<std::string> out;
  for (const auto& row : sequence) {
    const std::string hlc = row.at("change").at("hlc").get<std::string>();
    INFO("hlc " << hlc << " appears twice in the server's sequence");
    REQUIRE(out.insert(hlc).second);
  }
  return out;
}

std::set<std::string> local_hlcs(Store& store) {
  auto all = store.changes_since(0, 10'000'000);
  REQUIRE(all.ok());
  std::set<std::string> out;
  for (const auto& lc : *all) out.insert(lc.change.id());
  return out;
}

}  // namespace tandem::test
