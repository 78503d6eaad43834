// JSON codec of the /v1 messages (see protocol.hpp). Decoders are strict and
// never throw: nlohmann exceptions are caught at this edge.
#include "tandem/sync/protocol.hpp"

#include <algorithm>
#include <array>
#include <initializer_list>

#include "tandem/core/excerpt.hpp"
#include "tandem/core/schema.hpp"

namespace tandem::sync {
namespace {

// ---- strict member access ----

Error at(std::string_view where, Error e) {
  if (!where.empty()) e.message = std::string(where) + ": " + e.message;
  return e;
}

Status only_members(const Json& j, std::string_view where,
                    std::initializer_list<std::string_view> allowed) {
  if (!j.is_object()) return at(where, make_error(ErrorCode::kWrongType, "must be a JSON object"));
  for (const auto& [key, _] : j.items()) {
    bool known = false;
    for (auto a : allowed) known = known || key == a;
    if (!known)
      return at(where, make_error(ErrorCode::kUnknownField, "unknown member " + excerpt(key)));
  }
  return {};
}

const Json* member(const Json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

Result<std::string> get_string(const Json& j, const char* key, std::string_view where,
                               bool required) {
  const Json* v = member(j, key);
  if (!v) {
    if (required)
      return at(where, make_error(ErrorCode::kMissingField, std::string("lacks '") + key + "'"));
    return std::string();
  }
  if (!v->is_string())
    return at(where,
              make_error(ErrorCode::kWrongType, std::string("'") + key + "' must be a string"));
  return v->get<std::string>();
}

// Integers only (1.0 and "1" are wrong types), within [min, max]; no
// integer on the wire goes beyond kMaxWireInteger.
Result<std::int64_t> get_int(const Json& j, const char* key, std::string_view where, bool required,
                             std::int64_t fallback, std::int64_t min,
                             std::int64_t max = kMaxWireInteger) {
  const Json* v = member(j, key);
  if (!v) {
    if (required)
      return at(where, make_error(ErrorCode::kMissingField, std::string("lacks '") + key + "'"));
    return fallback;
  }
  if (!v->is_number_integer()) {
    return at(where,
              make_error(ErrorCode::kWrongType, std::string("'") + key + "' must be an integer"));
  }
  const bool above =
      v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(max);
  const auto n = above ? max : v->get<std::int64_t>();
  if (above || n < min || n > max) {
    return at(where, make_error(ErrorCode::kInvalidValue,
                                std::string("'") + key + "' is out of range (" +
                                    std::to_string(min) + ".." + std::to_string(max) + ")"));
  }
  return n;
}

Result<bool> get_bool(const Json& j, const char* key, std::string_view where, bool fallback) {
  const Json* v = member(j, key);
  if (!v) return fallback;
  if (!v->is_boolean())
    return at(where,
              make_error(ErrorCode::kWrongType, std::string("'") + key + "' must be a boolean"));
  return v->get<bool>();
}

Result<const Json*> get_array(const Json& j, const char* key, std::string_view where) {
  const Json* v = member(j, key);
  if (!v)
    return at(where, make_error(ErrorCode::kMissingField, std::string("lacks '") + key + "'"));
  if (!v->is_array())
    return at(where,
              make_error(ErrorCode::kWrongType, std::string("'") + key + "' must be an array"));
  return v;
}

Status decode_error_object(const Json& j, std::string_view where, Error& out) {
  TANDEM_TRY(only_members(j, where, {"code", "message"}));
  auto code = get_string(j, "code", where, true);
  if (!code) return std::move(code).error();
  auto message = get_string(j, "message", where, false);
  if (!message) return std::move(message).error();
  out = Error{error_code_from_name(*code), std::move(*message)};
  return {};
}

// Every error that leaves in a message passes here: its text is bounded and
// escaped whatever it quotes (the quoting sites bound their excerpts too).
Json encode_error_object(const Error& e) {
  return Json{{"code", std::string(error_code_name(e.code))},
              {"message", bounded_message(e.message)}};
}

// pull.gone: at most kMaxGonePerPage ids, each a valid record id. One rule
// for the decoder and for check_sync_response (answers built in code).
Status check_gone_count(std::size_t n) {
  if (n <= kMaxGonePerPage) return {};
  return make_error(ErrorCode::kTooLong, "pull.gone names " + std::to_string(n) +
                                             " records; at most " +
                                             std::to_string(kMaxGonePerPage) + " per answer");
}

Status check_gone(const std::vector<std::string>& gone) {
  TANDEM_TRY(check_gone_count(gone.size()));
  for (std::size_t i = 0; i < gone.size(); ++i) {
    if (!is_valid_id(gone[i])) {
      return make_error(ErrorCode::kInvalidValue,
                        "pull.gone[" + std::to_string(i) + "] is not a record id");
    }
  }
  return {};
}

constexpr std::array<std::string_view, 3> kStatusNames = {"accepted", "duplicate", "rejected"};

}  // namespace

// ---- JSON text ----

Result<Json> parse_json(std::string_view text, std::size_t max_depth) {
  return parse_json_text(text, max_depth);
}

// ---- errors ----

Json ErrorResponse::to_json() const {
  Json j{{"error", encode_error_object(error)}};
  if (last_mutation_id) j["error"]["last_mutation_id"] = *last_mutation_id;
  if (server_time_ms) j["server_time_ms"] = *server_time_ms;
  return j;
}

Result<ErrorResponse> ErrorResponse::from_json(const Json& j) {
  TANDEM_TRY(only_members(j, "", {"error", "server_time_ms"}));
  const Json* e = member(j, "error");
  if (!e) return make_error(ErrorCode::kMissingField, "lacks 'error'");
  ErrorResponse r;
  Json inner = *e;
  if (inner.is_object() && inner.contains("last_mutation_id")) {
    auto last = get_int(inner, "last_mutation_id", "error", true, 0, 0, kMaxMutationId);
    if (!last) return std::move(last).error();
    r.last_mutation_id = *last;
    inner.erase("last_mutation_id");
  }
  TANDEM_TRY(decode_error_object(inner, "error", r.error));
  if (member(j, "server_time_ms")) {
    auto t = get_int(j, "server_time_ms", "", true, 0, 0);
    if (!t) return std::move(t).error();
    r.server_time_ms = *t;
  }
  return r;
}

// ---- enroll ----

Json EnrollRequest::to_json() const {
  Json j{{"code", code}};
  if (!device_name.empty()) j["device_name"] = device_name;
  if (check) j["check"] = true;
  return j;
}

Result<EnrollRequest> EnrollRequest::from_json(const Json& j) {
  TANDEM_TRY(only_members(j, "", {"code", "device_name", "check"}));
  EnrollRequest r;
  auto check = get_bool(j, "check", "", false);
  if (!check) return std::move(check).error();
  r.check = *check;
  auto code = get_string(j, "code", "", true);
  if (!code) return std::move(code).error();
  r.code = std::move(*code);
  auto name = get_string(j, "device_name", "", false);
  if (!name) return std::move(name).error();
  r.device_name = std::move(*name);
  if (r.code.size() > 64)
    return make_error(ErrorCode::kTooLong, "'code' is longer than 64 characters");
  if (r.device_name.size() > 200)
    return make_error(ErrorCode::kTooLong, "'device_name' is longer than 200 bytes");
  return r;
}

namespace {

Json holder_json(const SchoolInfo& school, const PersonInfo& person) {
  return Json{{"school", {{"id", school.id}, {"name", school.name}}},
              {"person", {{"id", person.id}, {"name", person.name}, {"role", person.role}}}};
}

// The school and person an enrollment answer names.
Status parse_holder(const Json& j, SchoolInfo& school, PersonInfo& person) {
  const Json* s = member(j, "school");
  if (!s) return make_error(ErrorCode::kMissingField, "lacks 'school'");
  TANDEM_TRY(only_members(*s, "school", {"id", "name"}));
  auto sid = get_string(*s, "id", "school", true);
  if (!sid) return std::move(sid).error();
  auto sname = get_string(*s, "name", "school", false);
  if (!sname) return std::move(sname).error();
  school = {std::move(*sid), std::move(*sname)};
  const Json* p = member(j, "person");
  if (!p) return make_error(ErrorCode::kMissingField, "lacks 'person'");
  TANDEM_TRY(only_members(*p, "person", {"id", "name", "role"}));
  auto pid = get_string(*p, "id", "person", true);
  if (!pid) return std::move(pid).error();
  auto pname = get_string(*p, "name", "person", false);
  if (!pname) return std::move(pname).error();
  auto prole = get_string(*p, "role", "person", false);
  if (!prole) return std::move(prole).error();
  person = {std::move(*pid), std::move(*pname), std::move(*prole)};
  return {};
}

}  // namespace

Json EnrollResponse::to_json() const {
  Json j = holder_json(school, person);
  j["device_id"] = device_id;
  j["token"] = token;
  j["server_time_ms"] = server_time_ms;
  if (lease_days) j["lease_days"] = *lease_days;
  return j;
}

Result<EnrollResponse> EnrollResponse::from_json(const Json& j) {
  TANDEM_TRY(only_members(j, "", {"device_id", "token", "school", "person", "server_time_ms",
                                  "lease_days"}));
  EnrollResponse r;
  auto id = get_string(j, "device_id", "", true);
  if (!id) return std::move(id).error();
  r.device_id = std::move(*id);
  auto token = get_string(j, "token", "", true);
  if (!token) return std::move(token).error();
  r.token = std::move(*token);
  TANDEM_TRY(parse_holder(j, r.school, r.person));
  auto t = get_int(j, "server_time_ms", "", true, 0, 0);
  if (!t) return std::move(t).error();
  r.server_time_ms = *t;
  if (member(j, "lease_days")) {
    auto days = get_int(j, "lease_days", "", true, 0, kMinLeaseDays, kMaxLeaseDays);
    if (!days) return std::move(days).error();
    r.lease_days = *days;
  }
  return r;
}

Json EnrollCheckResponse::to_json() const {
  Json j = holder_json(school, person);
  j["server_time_ms"] = server_time_ms;
  return j;
}

Result<EnrollCheckResponse> EnrollCheckResponse::from_json(const Json& j) {
  TANDEM_TRY(only_members(j, "", {"school", "person", "server_time_ms"}));
  EnrollCheckResponse r;
  TANDEM_TRY(parse_holder(j, r.school, r.person));
  auto t = get_int(j, "server_time_ms", "", true, 0, 0);
  if (!t) return std::move(t).error();
  r.server_time_ms = *t;
  return r;
}

// ---- sync request ----

namespace {

// The request with its push's changes left out (an empty array).
Json request_shell(const SyncRequest& r) {
  Json j = Json::object();
  if (r.push) j["push"] = Json{{"mutation_id", r.push->mutation_id}, {"changes", Json::array()}};
  if (r.pull) {
    j["pull"] = Json{{"cursor", r.pull->cursor}, {"limit", r.pull->limit}};
    if (r.pull->view > 0) j["pull"]["view"] = r.pull->view;
  }
  return j;
}

}  // namespace

Json SyncRequest::to_json() const {
  Json j = request_shell(*this);
  if (push) {
    Json& changes = j["push"]["changes"];
    for (const auto& c : push->changes) changes.push_back(c.to_json());
  }
  return j;
}

std::string SyncRequest::to_text(const std::vector<std::string>& change_texts) const {
  const std::string shell = request_shell(*this).dump();
  // The only member named "changes" (the pull's members are numbers).
  constexpr std::string_view kEmpty = "\"changes\":[]";
  const std::size_t at = shell.find(kEmpty);
  if (at == std::string::npos) return to_json().dump();
  const std::size_t split = at + kEmpty.size() - 1;  // at the ']'
  std::size_t bytes = shell.size();
  for (const auto& t : change_texts) bytes += t.size() + 1;
  std::string text;
  text.reserve(bytes);
  text.append(shell, 0, split);
  for (std::size_t i = 0; i < change_texts.size(); ++i) {
    if (i > 0) text += ',';
    text += change_texts[i];
  }
  text.append(shell, split);
  return text;
}

Result<SyncRequest> SyncRequest::from_json(const Json& j) {
  TANDEM_TRY(only_members(j, "", {"push", "pull"}));
  SyncRequest r;
  if (const Json* p = member(j, "push")) {
    TANDEM_TRY(only_members(*p, "push", {"mutation_id", "changes"}));
    PushRequest push;
    auto id = get_int(*p, "mutation_id", "push", true, 0, 1, kMaxMutationId);
    if (!id) return std::move(id).error();
    push.mutation_id = *id;
    auto changes = get_array(*p, "changes", "push");
    if (!changes) return std::move(changes).error();
    // Checked before decoding, so an oversized batch costs nothing more.
    if ((*changes)->size() > kMaxChangesPerPush) {
      return make_error(ErrorCode::kTooManyChanges,
                        "push.changes holds " + std::to_string((*changes)->size()) +
                            " changes; at most " + std::to_string(kMaxChangesPerPush) +
                            " per request");
    }
    push.changes.reserve((*changes)->size());
    std::size_t i = 0;
    for (const auto& cj : **changes) {
      auto c = Change::from_json(cj);
      if (!c) return at("push.changes[" + std::to_string(i) + "]", std::move(c).error());
      push.changes.push_back(std::move(*c));
      ++i;
    }
    r.push = std::move(push);
  }
  if (const Json* p = member(j, "pull")) {
    TANDEM_TRY(only_members(*p, "pull", {"cursor", "limit", "view"}));
    PullRequest pull;
    auto cursor = get_int(*p, "cursor", "pull", false, 0, 0);
    if (!cursor) return std::move(cursor).error();
    pull.cursor = *cursor;
    auto limit =
        get_int(*p, "limit", "pull", false, static_cast<std::int64_t>(kDefaultPullLimit), 1);
    if (!limit) return std::move(limit).error();
    pull.limit = static_cast<std::size_t>(*limit);
    auto view = get_int(*p, "view", "pull", false, 0, 0);
    if (!view) return std::move(view).error();
    pull.view = *view;
    r.pull = pull;
  }
  return r;
}

// ---- sync response ----

std::string_view change_status_name(ChangeStatus s) noexcept {
  return kStatusNames[static_cast<std::size_t>(s)];
}

Result<ChangeStatus> change_status_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kStatusNames.size(); ++i) {
    if (kStatusNames[i] == name) return static_cast<ChangeStatus>(i);
  }
  return make_error(ErrorCode::kInvalidValue, "unknown change status " + excerpt(name));
}

Json ChangeResult::to_json() const {
  Json j{{"hlc", hlc}, {"status", std::string(change_status_name(status))}};
  if (seq) j["seq"] = *seq;
  if (error) j["error"] = encode_error_object(*error);
  return j;
}

Result<ChangeResult> ChangeResult::from_json(const Json& j) {
  TANDEM_TRY(only_members(j, "result", {"hlc", "status", "seq", "error"}));
  ChangeResult r;
  auto hlc = get_string(j, "hlc", "result", true);
  if (!hlc) return std::move(hlc).error();
  r.hlc = std::move(*hlc);
  auto status = get_string(j, "status", "result", true);
  if (!status) return std::move(status).error();
  auto s = change_status_from_name(*status);
  if (!s) return std::move(s).error();
  r.status = *s;
  if (member(j, "seq")) {
    auto seq = get_int(j, "seq", "result", true, 0, 1);
    if (!seq) return std::move(seq).error();
    r.seq = *seq;
  }
  if (const Json* e = member(j, "error")) {
    Error err;
    TANDEM_TRY(decode_error_object(*e, "result.error", err));
    r.error = std::move(err);
  }
  return r;
}

Json PushResponse::to_json() const {
  Json list = Json::array();
  for (const auto& r : results) list.push_back(r.to_json());
  Json j{{"mutation_id", mutation_id}, {"results", std::move(list)}};
  if (replayed) j["replayed"] = true;
  return j;
}

Result<PushResponse> PushResponse::from_json(const Json& j) {
  TANDEM_TRY(only_members(j, "push", {"mutation_id", "results", "replayed"}));
  PushResponse r;
  auto id = get_int(j, "mutation_id", "push", true, 0, 1, kMaxMutationId);
  if (!id) return std::move(id).error();
  r.mutation_id = *id;
  auto replayed = get_bool(j, "replayed", "push", false);
  if (!replayed) return std::move(replayed).error();
  r.replayed = *replayed;
  auto list = get_array(j, "results", "push");
  if (!list) return std::move(list).error();
  for (const auto& rj : **list) {
    auto cr = ChangeResult::from_json(rj);
    if (!cr) return std::move(cr).error();
    r.results.push_back(std::move(*cr));
  }
  return r;
}

Json PullResponse::to_json() const {
  Json list = Json::array();
  for (const auto& c : changes)
    list.push_back(Json{{"seq", c.seq}, {"change", c.change.to_json()}});
  Json j{{"changes", std::move(list)}, {"cursor", cursor}, {"more", more}};
  if (view) j["view"] = *view;
  if (!gone.empty()) j["gone"] = gone;
  if (rewind) j["rewind"] = true;
  return j;
}

Result<PullResponse> PullResponse::from_json(const Json& j) {
  TANDEM_TRY(only_members(j, "pull", {"changes", "cursor", "more", "view", "gone", "rewind"}));
  PullResponse r;
  auto list = get_array(j, "changes", "pull");
  if (!list) return std::move(list).error();
  std::size_t i = 0;
  for (const auto& cj : **list) {
    const std::string where = "pull.changes[" + std::to_string(i++) + "]";
    TANDEM_TRY(only_members(cj, where, {"seq", "change"}));
    auto seq = get_int(cj, "seq", where, true, 0, 1);
    if (!seq) return std::move(seq).error();
    const Json* c = member(cj, "change");
    if (!c) return at(where, make_error(ErrorCode::kMissingField, "lacks 'change'"));
    auto change = Change::from_json(*c);
    if (!change) return at(where, std::move(change).error());
    r.changes.push_back(PulledChange{*seq, std::move(*change)});
  }
  auto cursor = get_int(j, "cursor", "pull", true, 0, 0);
  if (!cursor) return std::move(cursor).error();
  r.cursor = *cursor;
  auto more = get_bool(j, "more", "pull", false);
  if (!more) return std::move(more).error();
  r.more = *more;
  if (member(j, "view")) {
    auto view = get_int(j, "view", "pull", true, 0, 1);
    if (!view) return std::move(view).error();
    r.view = *view;
  }
  if (member(j, "gone")) {
    auto gone = get_array(j, "gone", "pull");
    if (!gone) return std::move(gone).error();
    // Counted before anything is copied.
    TANDEM_TRY(check_gone_count((*gone)->size()));
    r.gone.reserve((*gone)->size());
    for (const auto& id : **gone) {
      if (!id.is_string()) {
        return make_error(ErrorCode::kWrongType,
                          "pull.gone[" + std::to_string(r.gone.size()) + "] must be a string");
      }
      r.gone.push_back(id.get<std::string>());
    }
    TANDEM_TRY(check_gone(r.gone));
  }
  auto rewind = get_bool(j, "rewind", "pull", false);
  if (!rewind) return std::move(rewind).error();
  r.rewind = *rewind;
  return r;
}

Json SyncResponse::to_json() const {
  Json j{{"server_time_ms", server_time_ms}};
  if (push) j["push"] = push->to_json();
  if (pull) j["pull"] = pull->to_json();
  if (device) {
    Json d{{"lease_days", device->lease_days}};
    if (device->token) d["token"] = *device->token;
    j["device"] = std::move(d);
  }
  return j;
}

namespace {

Result<DeviceTerms> device_terms_from_json(const Json& j) {
  TANDEM_TRY(only_members(j, "device", {"lease_days", "token"}));
  DeviceTerms d;
  auto days = get_int(j, "lease_days", "device", true, 0, kMinLeaseDays, kMaxLeaseDays);
  if (!days) return std::move(days).error();
  d.lease_days = *days;
  if (member(j, "token")) {
    auto token = get_string(j, "token", "device", true);
    if (!token) return std::move(token).error();
    const bool printable = std::all_of(token->begin(), token->end(),
                                       [](char c) { return c > ' ' && c < 0x7f; });
    if (token->empty() || token->size() > kMaxTokenBytes || !printable) {
      return make_error(ErrorCode::kInvalidValue,
                        "device: 'token' must be 1.." + std::to_string(kMaxTokenBytes) +
                            " printable ASCII characters");
    }
    d.token = std::move(*token);
  }
  return d;
}

}  // namespace

Result<SyncResponse> SyncResponse::from_json(const Json& j) {
  TANDEM_TRY(only_members(j, "", {"server_time_ms", "push", "pull", "device"}));
  SyncResponse r;
  auto t = get_int(j, "server_time_ms", "", true, 0, 0);
  if (!t) return std::move(t).error();
  r.server_time_ms = *t;
  if (const Json* p = member(j, "push")) {
    auto push = PushResponse::from_json(*p);
    if (!push) return std::move(push).error();
    r.push = std::move(*push);
  }
  if (const Json* p = member(j, "pull")) {
    auto pull = PullResponse::from_json(*p);
    if (!pull) return std::move(pull).error();
    r.pull = std::move(*pull);
  }
  if (const Json* d = member(j, "device")) {
    auto device = device_terms_from_json(*d);
    if (!device) return std::move(device).error();
    r.device = std::move(*device);
  }
  return r;
}

Status check_sync_response(const SyncRequest& request, const SyncResponse& answer) {
  const auto bad = [](std::string what) {
    return make_error(ErrorCode::kBadResponse,
                      "server answer breaks the protocol: " + std::move(what));
  };
  if (request.push.has_value() != answer.push.has_value()) {
    return bad(request.push ? "no 'push' part for a push" : "a 'push' part for no push");
  }
  if (request.pull.has_value() != answer.pull.has_value()) {
    return bad(request.pull ? "no 'pull' part for a pull" : "a 'pull' part for no pull");
  }
  if (answer.push) {
    const PushRequest& sent = *request.push;
    if (answer.push->mutation_id != sent.mutation_id) {
      return bad("push.mutation_id " + std::to_string(answer.push->mutation_id) +
                 " answers a push of " + std::to_string(sent.mutation_id));
    }
    if (answer.push->results.size() > sent.changes.size()) {
      return bad("push.results holds " + std::to_string(answer.push->results.size()) +
                 " results for " + std::to_string(sent.changes.size()) + " changes pushed");
    }
    // Each result names a change of this push, once.
    std::vector<std::string> pushed;
    pushed.reserve(sent.changes.size());
    for (const auto& c : sent.changes) pushed.push_back(c.id());
    std::sort(pushed.begin(), pushed.end());
    std::vector<bool> answered(pushed.size(), false);
    for (const ChangeResult& r : answer.push->results) {
      const auto it = std::lower_bound(pushed.begin(), pushed.end(), r.hlc);
      if (it == pushed.end() || *it != r.hlc)
        return bad("push.results names a change that was not pushed");
      const auto i = static_cast<std::size_t>(it - pushed.begin());
      if (answered[i]) return bad("push.results answers one change twice");
      answered[i] = true;
    }
  }
  if (answer.pull) {
    const PullRequest& asked = *request.pull;
    const PullResponse& page = *answer.pull;
    if (page.rewind) {
      // Records entered the scope: the device pulls on from an earlier
      // cursor, so this answer has nothing to apply and must ask for more.
      if (!page.changes.empty()) return bad("pull.rewind with changes");
      if (!page.more) return bad("pull.rewind without more");
      if (page.cursor > asked.cursor) {
        return bad("pull.rewind to cursor " + std::to_string(page.cursor) +
                   ", ahead of the request's " + std::to_string(asked.cursor));
      }
    } else if (page.cursor < asked.cursor) {
      return bad("pull.cursor " + std::to_string(page.cursor) + " is behind the request's " +
                 std::to_string(asked.cursor));
    }
    if (Status gone = check_gone(page.gone); !gone) return bad(gone.error().message);
    if (page.changes.size() > std::min(asked.limit, kMaxPullLimit)) {
      return bad("pull.changes holds " + std::to_string(page.changes.size()) + " changes; " +
                 std::to_string(std::min(asked.limit, kMaxPullLimit)) + " were asked for");
    }
    std::int64_t last = asked.cursor;
    for (const PulledChange& c : page.changes) {
      if (c.seq <= last || c.seq > page.cursor) {
        return bad("pull.changes: seq " + std::to_string(c.seq) + " is not in (" +
                   std::to_string(last) + ", " + std::to_string(page.cursor) + "]");
      }
      last = c.seq;
    }
    // "Ask again" with nothing examined would ask the same forever.
    if (page.more && page.cursor == asked.cursor && !page.rewind && page.gone.empty())
      return bad("pull.more without progress");
  }
  return {};
}

std::string encode_sync_response(std::int64_t server_time_ms, std::string_view push_json,
                                 const EncodedPullPage* pull, const DeviceTerms* device) {
  // Members in nlohmann's order (sorted by name), as SyncResponse::to_json()
  // would write them.
  std::size_t size = 64 + push_json.size();
  if (pull) {
    for (const auto& c : pull->changes) size += c.json.size() + 40;
    for (const auto& id : pull->gone) size += id.size() + 3;
  }
  std::string out;
  out.reserve(size);
  out += '{';
  if (device) {
    out += R"("device":{"lease_days":)";
    out += std::to_string(device->lease_days);
    if (device->token) {
      out += R"(,"token":)";
      out += Json(*device->token).dump();
    }
    out += "},";
  }
  if (pull) {
    out += R"("pull":{"changes":[)";
    bool first = true;
    for (const auto& c : pull->changes) {
      if (!first) out += ',';
      first = false;
      out += R"({"change":)";
      out += c.json;
      out += R"(,"seq":)";
      out += std::to_string(c.seq);
      out += '}';
    }
    out += R"(],"cursor":)";
    out += std::to_string(pull->cursor);
    if (!pull->gone.empty()) {
      out += R"(,"gone":[)";
      for (std::size_t i = 0; i < pull->gone.size(); ++i) {
        if (i > 0) out += ',';
        out += Json(pull->gone[i]).dump();
      }
      out += ']';
    }
    out += R"(,"more":)";
    out += pull->more ? "true" : "false";
    if (pull->rewind) out += R"(,"rewind":true)";
    if (pull->view > 0) {
      out += R"(,"view":)";
      out += std::to_string(pull->view);
    }
    out += "},";
  }
  if (!push_json.empty()) {
    out += R"("push":)";
    out += push_json;
    out += ',';
  }
  out += R"("server_time_ms":)";
  out += std::to_string(server_time_ms);
  out += '}';
  return out;
}

}  // namespace tandem::sync
