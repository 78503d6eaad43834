// Fuzz target: the /v1 JSON codec (sync/src/protocol.cpp) on both sides of
// the wire: the server's request decoders (sync, enrollment) and the
// device's response decoders, through the client's own path (post_sync and
// post_enroll over a transport that answers the input with each status a
// server sends).
//
// Input: a message body (any bytes; the seeds are real messages).
// Invariants: nothing throws or crashes; whatever decodes re-encodes to
// something that decodes to the same encoding (the encoders' output is
// always accepted by the decoders: what one side sends, the other reads);
// encode_sync_response (the server's fast path) writes exactly what
// SyncResponse::to_json().dump() writes.
#include <string>

#include "fuzz_support.hpp"
#include "tandem/sync/client.hpp"
#include "tandem/sync/protocol.hpp"

namespace {

using tandem::Json;
using tandem::fuzz::check;
namespace sync = tandem::sync;

// Decodes `j` as T; when it decodes, its encoding must be a fixed point.
template <typename T>
void round_trip(const Json& j, const char* what) {
  auto first = T::from_json(j);
  if (!first.ok()) return;
  const Json encoded = first->to_json();
  auto second = T::from_json(encoded);
  check(second.ok(), what,
        second.ok() ? "" : "its own encoding does not decode: " + second.error().message);
  check(second->to_json() == encoded, what, "encode(decode(encode(x))) differs from encode(x)");
}

// The server's fast path must write SyncResponse::to_json().dump() exactly.
void check_fast_path(const Json& j) {
  auto r = sync::SyncResponse::from_json(j);
  if (!r.ok()) return;
  std::string push_json;
  if (r->push) push_json = r->push->to_json().dump();
  sync::EncodedPullPage page;
  if (r->pull) {
    page.cursor = r->pull->cursor;
    page.more = r->pull->more;
    for (const auto& c : r->pull->changes)
      page.changes.push_back({c.seq, c.change.to_json().dump()});
  }
  const std::string fast =
      sync::encode_sync_response(r->server_time_ms, push_json, r->pull ? &page : nullptr);
  check(fast == r->to_json().dump(), "encode_sync_response differs from SyncResponse::to_json");
}

// A transport that answers every request with one fixed response.
class CannedTransport final : public sync::Transport {
 public:
  CannedTransport(int status, std::string body) : response_{status, std::move(body)} {}
  tandem::Result<sync::HttpResponse> send(const sync::HttpRequest&) override { return response_; }

 private:
  sync::HttpResponse response_;
};

// One status of each way the client reads an answer (client.hpp): a
// success, a refusal with the server's code, a retryable failure. (Each
// costs a parse of the input; more statuses would only slow the fuzzer.)
constexpr int kStatuses[] = {200, 409, 503};

void check_client(const std::string& body) {
  for (int status : kStatuses) {
    CannedTransport transport(status, body);
    sync::ErrorResponse details;
    auto synced = sync::post_sync(transport, "token", "{}", &details);
    auto enrolled =
        sync::post_enroll(transport, sync::EnrollRequest{"K7QM-2HXD-9RTA", ""}, &details);
    if (status < 200 || status >= 300) {
      // A refusal is never mistaken for an answer.
      check(!synced.ok() && !enrolled.ok(), "an HTTP error status decoded as a success");
    }
    for (const auto* e :
         {synced.ok() ? nullptr : &synced.error(), enrolled.ok() ? nullptr : &enrolled.error()}) {
      // The client must tell retryable failures apart: a 5xx is never a
      // permanent refusal (the engine would drop the batch).
      if (e && status >= 500) check(sync::is_retryable(e->code), "a 5xx is not retryable");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  check_client(body);
  auto parsed = sync::parse_json(body);
  if (!parsed.ok()) {
    check(parsed.error().code == tandem::ErrorCode::kInvalidJson,
          "parse_json refused with another code than invalid_json");
    return 0;
  }
  const Json& j = *parsed;
  round_trip<sync::SyncRequest>(j, "SyncRequest");
  round_trip<sync::EnrollRequest>(j, "EnrollRequest");
  round_trip<sync::SyncResponse>(j, "SyncResponse");
  round_trip<sync::EnrollResponse>(j, "EnrollResponse");
  round_trip<sync::EnrollCheckResponse>(j, "EnrollCheckResponse");
  round_trip<sync::ErrorResponse>(j, "ErrorResponse");
  round_trip<sync::PushResponse>(j, "PushResponse");
  round_trip<sync::PullResponse>(j, "PullResponse");
  round_trip<sync::ChangeResult>(j, "ChangeResult");
  check_fast_path(j);
  return 0;
}
