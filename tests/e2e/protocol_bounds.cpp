// Range checks of the /v1 codec (protocol.hpp), both ways: every integer on
// the wire is within 0..2^53, push.mutation_id within 1..2^53; an answer is
// checked against the request it answers (check_sync_response); and the
// client maps an answer that breaks the protocol to bad_response. In-process,
// no server (the hostile-server suites in tests/fault drive the real CLI).
#include <catch2/catch.hpp>
#include <string>

#include "protocol_helpers.hpp"
#include "tandem/sync/client.hpp"
#include "tandem/sync/protocol.hpp"

using namespace tandem;        // NOLINT(google-build-using-namespace)
using namespace tandem::sync;  // NOLINT(google-build-using-namespace)

namespace {

// Written out: the tests must not take the bound from the code they test.
constexpr std::int64_t kTwoTo53 = 9'007'199'254'740'992;
const std::string k53 = "9007199254740992";
const std::string k53Plus1 = "9007199254740993";
const std::string kInt64Max = "9223372036854775807";

using test::change_at;
using test::decode_as;

}  // namespace

TEST_CASE("protocol: push.mutation_id is 1..2^53 and every integer at most 2^53",
          "[server][protocol]") {
  CHECK(kMaxMutationId == kTwoTo53);
  const auto push = [](const std::string& id) {
    return decode_as<SyncRequest>(R"({"push":{"mutation_id":)" + id + R"(,"changes":[]}})");
  };
  CHECK(push("1") == ErrorCode::kOk);
  CHECK(push(k53) == ErrorCode::kOk);
  CHECK(push(k53Plus1) == ErrorCode::kInvalidValue);
  CHECK(push(kInt64Max) == ErrorCode::kInvalidValue);
  CHECK(push("18446744073709551615") == ErrorCode::kInvalidValue);
  CHECK(push("0") == ErrorCode::kInvalidValue);
  CHECK(decode_as<SyncRequest>(R"({"pull":{"cursor":)" + k53 + "}}") == ErrorCode::kOk);
  CHECK(decode_as<SyncRequest>(R"({"pull":{"cursor":)" + k53Plus1 + "}}") ==
        ErrorCode::kInvalidValue);

  // The message names the member and the range, never more of the request.
  auto j = parse_json(R"({"push":{"mutation_id":)" + kInt64Max + R"(,"changes":[]}})");
  REQUIRE(j.ok());
  auto refused = SyncRequest::from_json(*j);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message == "push: 'mutation_id' is out of range (1.." + k53 + ")");

  // Answers a device decodes.
  const auto answer = [](const std::string& members) {
    return decode_as<SyncResponse>(R"({"server_time_ms":1767225600000)" + members + "}");
  };
  CHECK(answer("") == ErrorCode::kOk);
  CHECK(answer(R"(,"pull":{"changes":[],"cursor":)" + k53 + R"(,"more":false})") == ErrorCode::kOk);
  CHECK(answer(R"(,"pull":{"changes":[],"cursor":)" + k53Plus1 + R"(,"more":false})") ==
        ErrorCode::kInvalidValue);
  CHECK(answer(R"(,"pull":{"changes":[],"cursor":-1,"more":false})") == ErrorCode::kInvalidValue);
  CHECK(answer(R"(,"push":{"mutation_id":)" + k53Plus1 + R"(,"results":[]})") ==
        ErrorCode::kInvalidValue);
  CHECK(answer(R"(,"push":{"mutation_id":1,"results":[{"hlc":"h","status":"accepted","seq":)" +
               k53Plus1 + "}]}") == ErrorCode::kInvalidValue);
  CHECK(decode_as<SyncResponse>(R"({"server_time_ms":-1})") == ErrorCode::kInvalidValue);
  CHECK(decode_as<SyncResponse>(R"({"server_time_ms":)" + kInt64Max + "}") ==
        ErrorCode::kInvalidValue);

  const auto stale = [](const std::string& last) {
    return decode_as<ErrorResponse>(
        R"({"error":{"code":"already_exists","message":"stale","last_mutation_id":)" + last + "}}");
  };
  CHECK(stale(k53) == ErrorCode::kOk);
  CHECK(stale(k53Plus1) == ErrorCode::kInvalidValue);
  CHECK(stale(kInt64Max) == ErrorCode::kInvalidValue);
  CHECK(stale("-1") == ErrorCode::kInvalidValue);
  CHECK(
      decode_as<EnrollResponse>(
          R"({"device_id":"d","token":"t","school":{"id":"s"},"person":{"id":"p"},"server_time_ms":-5})") ==
      ErrorCode::kInvalidValue);
}

TEST_CASE("protocol: an answer is checked against the request it answers", "[server][protocol]") {
  SyncRequest request;
  request.push = PushRequest{7, {change_at(1'767'225'600'000), change_at(1'767'225'600'001)}};
  request.pull = PullRequest{120, 2};
  const std::string h0 = request.push->changes[0].id();
  const std::string h1 = request.push->changes[1].id();

  const auto good = [&] {
    SyncResponse a;
    a.server_time_ms = 1'767'225'600'000;
    a.push = PushResponse{7,
                          {ChangeResult{h0, ChangeStatus::kAccepted, 121, {}},
                           ChangeResult{h1, ChangeStatus::kDuplicate, {}, {}}}};
    a.pull =
        PullResponse{{PulledChange{122, change_at(5)}, PulledChange{130, change_at(6)}}, 140, true};
    return a;
  };
  const auto verdict = [&](const SyncResponse& a) {
    const Status s = check_sync_response(request, a);
    return s ? ErrorCode::kOk : s.error().code;
  };
  CHECK(verdict(good()) == ErrorCode::kOk);

  SECTION("what a conforming server may send") {
    SyncResponse a = good();
    a.push->results.pop_back();  // an unanswered change stays in the outbox
    a.pull->changes.clear();     // only this device's own changes were examined
    CHECK(verdict(a) == ErrorCode::kOk);
    a.pull->cursor = 120;  // nothing new at all
    a.pull->more = false;
    CHECK(verdict(a) == ErrorCode::kOk);
  }

  SECTION("what it may not") {
    struct Bad {
      const char* name;
      std::function<void(SyncResponse&)> spoil;
    };
    const std::vector<Bad> bad = {
        {"no push part", [](SyncResponse& a) { a.push.reset(); }},
        {"no pull part", [](SyncResponse& a) { a.pull.reset(); }},
        {"another mutation_id", [](SyncResponse& a) { a.push->mutation_id = 8; }},
        {"more results than pushed",
         [&](SyncResponse& a) {
           a.push->results.push_back({h0, ChangeStatus::kAccepted, 150, {}});
         }},
        {"one change answered twice", [&](SyncResponse& a) { a.push->results[1].hlc = h0; }},
        {"a change not pushed",
         [](SyncResponse& a) { a.push->results[0].hlc = change_at(99).id(); }},
        {"cursor going backwards", [](SyncResponse& a) { a.pull->cursor = 119; }},
        {"more changes than the limit",
         [](SyncResponse& a) {
           a.pull->changes.push_back(PulledChange{135, change_at(7)});
         }},
        {"seq at the request's cursor", [](SyncResponse& a) { a.pull->changes[0].seq = 120; }},
        {"seq beyond the page's cursor", [](SyncResponse& a) { a.pull->changes[1].seq = 141; }},
        {"seqs out of order", [](SyncResponse& a) { a.pull->changes[1].seq = 122; }},
        {"more without progress",
         [](SyncResponse& a) {
           a.pull->changes.clear();
           a.pull->cursor = 120;
         }},
    };
    for (const Bad& b : bad) {
      INFO(b.name);
      SyncResponse a = good();
      b.spoil(a);
      CHECK(verdict(a) == ErrorCode::kBadResponse);
    }
    SyncRequest pull_only;
    pull_only.pull = request.pull;
    SyncResponse a = good();
    CHECK(check_sync_response(pull_only, a).error().code ==
          ErrorCode::kBadResponse);  // a push part for no push
  }
}

namespace {

// Answers every request with one canned HTTP response.
class CannedTransport final : public Transport {
 public:
  CannedTransport(int status, std::string body) : status_(status), body_(std::move(body)) {}
  Result<HttpResponse> send(const HttpRequest& request) override {
    last_timeout = request.timeout;
    return HttpResponse{status_, body_};
  }
  std::chrono::milliseconds last_timeout{-1};

 private:
  int status_;
  std::string body_;
};

ErrorCode sync_through(int status, const std::string& body) {
  CannedTransport t(status, body);
  auto r = post_sync(t, "token", "{}");
  return r ? ErrorCode::kOk : r.error().code;
}

}  // namespace

TEST_CASE("client: an answer that breaks the protocol is bad_response, not a retryable failure",
          "[sync][protocol]") {
  CHECK(sync_through(200, R"({"server_time_ms":1})") == ErrorCode::kOk);
  CHECK(sync_through(200, R"({"server_time_ms":)" + kInt64Max + "}") == ErrorCode::kBadResponse);
  CHECK(sync_through(200, "<html>captive portal</html>") == ErrorCode::kBadResponse);
  CHECK(sync_through(409,
                     R"({"error":{"code":"already_exists","message":"stale","last_mutation_id":)" +
                         kInt64Max + "}}") == ErrorCode::kBadResponse);
  CHECK_FALSE(is_retryable(ErrorCode::kBadResponse));
  CHECK_FALSE(is_retryable(ErrorCode::kResponseTooLarge));
  // A proxy's page with a 5xx is still the retryable failure it was.
  CHECK(sync_through(502, "<html>bad gateway</html>") == ErrorCode::kServer);
  CHECK(sync_through(409,
                     R"({"error":{"code":"already_exists","message":"stale","last_mutation_id":)" +
                         k53 + "}}") == ErrorCode::kAlreadyExists);

  // The caller's deadline reaches the transport.
  CannedTransport t(200, R"({"server_time_ms":1})");
  REQUIRE(post_sync(t, "token", "{}", nullptr, std::chrono::milliseconds(1234)).ok());
  CHECK(t.last_timeout == std::chrono::milliseconds(1234));
}
