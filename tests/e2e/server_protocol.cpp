// The /v1 message codec (sync/include/tandem/sync/protocol.hpp) shared by the
// server and the client: round trips and strictness. In-process, no server.
#include <catch2/catch.hpp>
#include <string>

#include "tandem/sync/protocol.hpp"

using namespace tandem;        // NOLINT(google-build-using-namespace)
using namespace tandem::sync;  // NOLINT(google-build-using-namespace)

namespace {

Change sample_change() {
  auto c = Change::from_json(Json::parse(
      R"({"hlc":"0192a3b4c5d6-000001-0123456789abcdef","record":"course_1","kind":"course",)"
      R"("school":"school_1","op":"set","field":"title","value":"Dansk",)"
      R"("seen":["0192a3b4c000-000000-0123456789abcdef"]})"));
  REQUIRE(c.ok());
  return *c;
}

}  // namespace

TEST_CASE("protocol: sync messages survive a JSON round trip", "[server][protocol]") {
  SyncRequest req;
  req.push = PushRequest{7, {sample_change()}};
  req.pull = PullRequest{120, 500};
  auto back = SyncRequest::from_json(req.to_json());
  REQUIRE(back.ok());
  CHECK(back->to_json() == req.to_json());

  SyncResponse res;
  res.server_time_ms = 1767225600000;
  PushResponse push;
  push.mutation_id = 7;
  push.results.push_back(
      ChangeResult{"0192a3b4c5d6-000001-0123456789abcdef", ChangeStatus::kAccepted, 121, {}});
  push.results.push_back(ChangeResult{"0192a3b4c5d6-000002-0123456789abcdef",
                                      ChangeStatus::kRejected,
                                      {},
                                      make_error(ErrorCode::kClockSkew, "ahead")});
  res.push = push;
  res.pull = PullResponse{{PulledChange{121, sample_change()}}, 121, true};
  auto res_back = SyncResponse::from_json(res.to_json());
  REQUIRE(res_back.ok());
  CHECK(res_back->to_json() == res.to_json());
  CHECK(res_back->push->results[1].error->code == ErrorCode::kClockSkew);

  ErrorResponse err{make_error(ErrorCode::kAlreadyExists, "stale"), 5, 9};
  auto err_back = ErrorResponse::from_json(err.to_json());
  REQUIRE(err_back.ok());
  CHECK(err_back->error.code == ErrorCode::kAlreadyExists);
  CHECK(err_back->last_mutation_id == 9);
  CHECK(err_back->server_time_ms == 5);

  EnrollResponse enrolled{"dev_1", "tok", {"school_1", "S"}, {"person_1", "P", "teacher"}, 1};
  auto enrolled_back = EnrollResponse::from_json(enrolled.to_json());
  REQUIRE(enrolled_back.ok());
  CHECK(enrolled_back->to_json() == enrolled.to_json());
}

TEST_CASE("protocol: an answer built from encoded parts is the text to_json() writes",
          "[server][protocol]") {
  const Change a = sample_change();
  Change b = sample_change();
  b.hlc.counter += 1;
  b.value = "Matematik \u00e6\u00f8\u00e5 \"quoted\"";
  PushResponse push;
  push.mutation_id = 7;
  push.results.push_back(ChangeResult{a.hlc.str(), ChangeStatus::kAccepted, 121, {}});
  push.results.push_back(ChangeResult{b.hlc.str(), ChangeStatus::kRejected, {},
                                      make_error(ErrorCode::kClockSkew, "ahead")});
  const std::string push_json = push.to_json().dump();

  for (int parts = 0; parts < 4; ++parts) {
    const bool with_push = (parts & 1) != 0;
    for (std::size_t n : {0, 1, 2}) {
      SyncResponse res;
      res.server_time_ms = 1767225600000;
      if (with_push) res.push = push;
      EncodedPullPage page;
      page.cursor = 140;
      page.more = n == 2;
      if ((parts & 2) != 0) {
        PullResponse pull{{}, 140, n == 2};
        for (std::size_t i = 0; i < n; ++i) {
          const Change& c = i == 0 ? a : b;
          pull.changes.push_back(PulledChange{static_cast<std::int64_t>(121 + i), c});
          page.changes.push_back({static_cast<std::int64_t>(121 + i), c.to_json().dump()});
        }
        res.pull = pull;
      }
      INFO("push " << with_push << ", pull " << ((parts & 2) != 0) << ", changes " << n);
      const std::string text = encode_sync_response(
          res.server_time_ms, with_push ? push_json : "", (parts & 2) != 0 ? &page : nullptr);
      CHECK(text == res.to_json().dump());
      auto decoded = parse_json(text);
      REQUIRE(decoded.ok());
      CHECK(SyncResponse::from_json(*decoded).ok());
    }
  }
}

TEST_CASE("protocol: decoding is strict", "[server][protocol]") {
  const auto decode = [](const std::string& text) {
    auto j = parse_json(text);
    if (!j) return j.error().code;
    auto r = SyncRequest::from_json(*j);
    return r ? ErrorCode::kOk : r.error().code;
  };
  CHECK(decode("{}") == ErrorCode::kOk);
  CHECK(decode(R"({"pull":{}})") == ErrorCode::kOk);
  CHECK(decode(R"({"pull":{"cursor":1,"limit":1000000}})") ==
        ErrorCode::kOk);  // clamped by the server
  CHECK(decode("{") == ErrorCode::kInvalidJson);
  CHECK(decode(R"({"x":1})") == ErrorCode::kUnknownField);
  CHECK(decode(R"({"pull":{"cursor":1.0}})") == ErrorCode::kWrongType);
  CHECK(decode(R"({"pull":{"cursor":18446744073709551615}})") == ErrorCode::kInvalidValue);
  CHECK(decode(R"({"push":{"mutation_id":-3,"changes":[]}})") == ErrorCode::kInvalidValue);
  CHECK(decode(R"({"push":{"mutation_id":1}})") == ErrorCode::kMissingField);
  CHECK(decode(R"({"push":[]})") == ErrorCode::kWrongType);

  // Depth is refused before parsing; brackets inside strings do not count.
  std::string deep(65, '[');
  deep += std::string(65, ']');
  CHECK(decode(deep) == ErrorCode::kInvalidJson);
  std::string ok_depth(64, '[');
  ok_depth += std::string(64, ']');
  CHECK(parse_json(ok_depth).ok());
  CHECK(
      parse_json(
          R"({"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"["})")
          .ok());

  // A parse error message does not quote the sender's bytes.
  auto bad = parse_json("{\"secret-note\":\"\xff\"}");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("secret") == std::string::npos);
  CHECK(bad.error().message.find('\xff') == std::string::npos);

  // Too many changes is told before any change is decoded.
  std::string many = R"({"push":{"mutation_id":1,"changes":[)";
  for (std::size_t i = 0; i <= kMaxChangesPerPush; ++i) many += i ? ",0" : "0";
  many += "]}}";
  CHECK(decode(many) == ErrorCode::kTooManyChanges);
}
