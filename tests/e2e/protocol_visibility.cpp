// The /v1 members of "replication follows visibility" (protocol.hpp):
// pull.view both ways, pull.gone and pull.rewind in answers. Their codec
// (strict, bounded), the server's fast encoder (the same text as to_json)
// and the checks of an answer against its request. In-process, no server.
#include <catch2/catch.hpp>
#include <functional>
#include <string>
#include <vector>

#include "protocol_helpers.hpp"
#include "tandem/sync/protocol.hpp"

using namespace tandem;        // NOLINT(google-build-using-namespace)
using namespace tandem::sync;  // NOLINT(google-build-using-namespace)

namespace {

// Written out: the tests must not take the bounds from the code they test.
const std::string k53 = "9007199254740992";
const std::string k53Plus1 = "9007199254740993";
constexpr std::size_t kGoneBound = 1000;

using test::change_at;
using test::decode_as;

// An answer whose pull part has `members` after its required ones.
ErrorCode answer_with(const std::string& members) {
  return decode_as<SyncResponse>(
      R"({"server_time_ms":1767225600000,"pull":{"changes":[],"cursor":5,"more":false)" + members +
      "}}");
}

std::string id_list(std::size_t n) {
  std::string out = "[";
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) out += ',';
    out += "\"note_" + std::to_string(i) + "\"";
  }
  return out + "]";
}

}  // namespace

TEST_CASE("protocol: pull.view is sent when known and decoded strictly",
          "[sync][protocol][visibility]") {
  SyncRequest req;
  req.pull = PullRequest{120, 500};
  CHECK_FALSE(req.to_json()["pull"].contains("view"));  // an old client's request, unchanged
  req.pull->view = 7;
  CHECK(req.to_json()["pull"]["view"] == 7);
  auto back = SyncRequest::from_json(req.to_json());
  REQUIRE(back.ok());
  CHECK(back->pull->view == 7);

  const auto pull = [](const std::string& view) {
    return decode_as<SyncRequest>(R"({"pull":{"cursor":1,"view":)" + view + "}}");
  };
  CHECK(decode_as<SyncRequest>(R"({"pull":{"cursor":1}})") == ErrorCode::kOk);
  CHECK(pull("0") == ErrorCode::kOk);
  CHECK(pull(k53) == ErrorCode::kOk);
  CHECK(pull(k53Plus1) == ErrorCode::kInvalidValue);
  CHECK(pull("-1") == ErrorCode::kInvalidValue);
  CHECK(pull("1.5") == ErrorCode::kWrongType);
  CHECK(pull("\"7\"") == ErrorCode::kWrongType);
}

TEST_CASE("protocol: pull answers carry view, gone and rewind, strictly decoded",
          "[sync][protocol][visibility]") {
  SyncResponse res;
  res.server_time_ms = 1767225600000;
  res.pull = PullResponse{{}, 40, true};
  res.pull->view = 3;
  res.pull->gone = {"note_a", "child_b"};
  res.pull->rewind = true;
  auto back = SyncResponse::from_json(res.to_json());
  REQUIRE(back.ok());
  CHECK(back->pull->view == 3);
  CHECK(back->pull->gone == std::vector<std::string>{"note_a", "child_b"});
  CHECK(back->pull->rewind);
  CHECK(back->to_json() == res.to_json());

  // Absent: none (what an old server sends).
  auto plain = SyncResponse::from_json(
      *parse_json(R"({"server_time_ms":1,"pull":{"changes":[],"cursor":5,"more":false}})"));
  REQUIRE(plain.ok());
  CHECK_FALSE(plain->pull->view.has_value());
  CHECK(plain->pull->gone.empty());
  CHECK_FALSE(plain->pull->rewind);

  CHECK(answer_with(R"(,"view":1)") == ErrorCode::kOk);
  CHECK(answer_with(R"(,"view":)" + k53) == ErrorCode::kOk);
  CHECK(answer_with(R"(,"view":0)") == ErrorCode::kInvalidValue);  // absent when 0
  CHECK(answer_with(R"(,"view":)" + k53Plus1) == ErrorCode::kInvalidValue);
  CHECK(answer_with(R"(,"view":"3")") == ErrorCode::kWrongType);
  CHECK(answer_with(R"(,"gone":[])") == ErrorCode::kOk);
  CHECK(answer_with(R"(,"gone":)" + id_list(kGoneBound)) == ErrorCode::kOk);
  CHECK(answer_with(R"(,"gone":)" + id_list(kGoneBound + 1)) == ErrorCode::kTooLong);
  CHECK(answer_with(R"(,"gone":"note_1")") == ErrorCode::kWrongType);
  CHECK(answer_with(R"(,"gone":[7])") == ErrorCode::kWrongType);
  CHECK(answer_with(R"(,"gone":["Note 1"])") == ErrorCode::kInvalidValue);
  CHECK(answer_with(R"(,"gone":[""])") == ErrorCode::kInvalidValue);
  CHECK(answer_with(R"(,"gone":["../x"])") == ErrorCode::kInvalidValue);
  CHECK(answer_with(R"(,"rewind":true)") == ErrorCode::kOk);
  CHECK(answer_with(R"(,"rewind":1)") == ErrorCode::kWrongType);
  CHECK(answer_with(R"(,"forget":[])") == ErrorCode::kUnknownField);

  // The refusal names the member, not the server's bytes.
  auto j = parse_json(
      R"({"server_time_ms":1,"pull":{"changes":[],"cursor":5,"more":false,"gone":["ok","Secret Name"]}})");
  REQUIRE(j.ok());
  auto refused = SyncResponse::from_json(*j);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message == "pull.gone[1] is not a record id");
}

TEST_CASE("protocol: the server's encoder writes view, gone and rewind as to_json() does",
          "[sync][protocol][visibility]") {
  const Change c = change_at(1767225600000);
  for (int mask = 0; mask < 8; ++mask) {
    const bool view = (mask & 1) != 0;
    const bool gone = (mask & 2) != 0;
    const bool rewind = (mask & 4) != 0;
    EncodedPullPage page;
    page.cursor = 140;
    page.more = true;
    PullResponse pull{{}, 140, true};
    if (!rewind) {
      page.changes.push_back({121, c.to_json().dump()});
      pull.changes.push_back(PulledChange{121, c});
    }
    if (view) {
      page.view = 9;
      pull.view = 9;
    }
    if (gone) {
      page.gone = {"note_1", "agenda_item-2"};
      pull.gone = page.gone;
    }
    page.rewind = rewind;
    pull.rewind = rewind;
    SyncResponse res;
    res.server_time_ms = 1767225600000;
    res.pull = pull;
    INFO("view " << view << ", gone " << gone << ", rewind " << rewind);
    const std::string text = encode_sync_response(res.server_time_ms, "", &page);
    CHECK(text == res.to_json().dump());
    auto decoded = parse_json(text);
    REQUIRE(decoded.ok());
    auto back = SyncResponse::from_json(*decoded);
    REQUIRE(back.ok());
    CHECK(back->pull->gone == pull.gone);
    CHECK(back->pull->view == pull.view);
    CHECK(back->pull->rewind == rewind);
  }
  // view 0 is the absence of a view.
  EncodedPullPage zero;
  zero.cursor = 3;
  CHECK(encode_sync_response(1, "", &zero).find("view") == std::string::npos);
}

TEST_CASE("protocol: rewind and gone are checked against the request",
          "[sync][protocol][visibility]") {
  SyncRequest request;
  request.pull = PullRequest{120, 10, 4};
  const auto verdict = [&](const PullResponse& page) {
    SyncResponse a;
    a.server_time_ms = 1767225600000;
    a.pull = page;
    const Status s = check_sync_response(request, a);
    return s ? ErrorCode::kOk : s.error().code;
  };
  const auto rewind_to = [](std::int64_t cursor) {
    PullResponse p{{}, cursor, true};
    p.rewind = true;
    p.view = 5;
    return p;
  };

  SECTION("what a conforming server may send") {
    CHECK(verdict(rewind_to(0)) == ErrorCode::kOk);
    CHECK(verdict(rewind_to(120)) == ErrorCode::kOk);  // from where it is: same cursor
    PullResponse gone{{}, 120, true};                  // erase first, then pull on
    gone.gone = {"note_1"};
    CHECK(verdict(gone) == ErrorCode::kOk);
    gone.gone = std::vector<std::string>(kGoneBound, "note_1");
    CHECK(verdict(gone) == ErrorCode::kOk);
    PullResponse both = rewind_to(60);
    both.gone = {"note_1"};
    CHECK(verdict(both) == ErrorCode::kOk);
  }

  SECTION("what it may not") {
    struct Bad {
      const char* name;
      std::function<void(PullResponse&)> spoil;
    };
    const std::vector<Bad> bad = {
        {"cursor behind without rewind", [](PullResponse& p) { p.rewind = false; }},
        {"rewind with changes",
         [](PullResponse& p) {
           p.changes.push_back(PulledChange{61, change_at(5)});
         }},
        {"rewind without more", [](PullResponse& p) { p.more = false; }},
        {"rewind ahead of the request", [](PullResponse& p) { p.cursor = 121; }},
        {"gone over the bound",
         [](PullResponse& p) { p.gone = std::vector<std::string>(kGoneBound + 1, "note_1"); }},
        {"gone with an invalid id",
         [](PullResponse& p) {
           p.gone = {"note_1", "No Id"};
         }},
    };
    for (const Bad& b : bad) {
      INFO(b.name);
      PullResponse p = rewind_to(60);
      b.spoil(p);
      CHECK(verdict(p) == ErrorCode::kBadResponse);
    }
    // Neither a cursor moved, nor records gone, nor a rewind: still refused.
    CHECK(verdict(PullResponse{{}, 120, true}) == ErrorCode::kBadResponse);
  }
}
