// Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/)
// from what the code itself produces: bundles exported by a tablet that
// edited the fixture's records, the client's requests and the server's
// answers as the protocol code encodes them, HTTP requests framed as libcurl
// sends them, and text ops and states from real edits. Deterministic (fixed
// sites, ids and clock): running it again rewrites the same files.
//
//   build/ci/tests/fuzz/fuzz_make_seeds tests/fuzz/corpus
//
// Regression inputs of past findings live beside the seeds (named
// regression-*) and are not touched.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fixtures.hpp"
#include "tandem/core/bundle.hpp"
#include "tandem/sync/protocol.hpp"

namespace {

namespace fs = std::filesystem;
namespace sync = tandem::sync;
using tandem::Change;
using tandem::Json;
using tandem::Store;
using tandem::fuzz::check;
using tandem::text::Document;
using namespace tandem::fuzz;

constexpr const char* kSessionId = "session_a0c4506c00f02301";
constexpr const char* kReflectionId = "reflection_a0c4506c00f02302";
constexpr const char* kChildId = "child_a0c4506c00f02303";
constexpr const char* kActionId = "action_a0c4506c00f02304";
constexpr const char* kTemplateId = "template_a0c4506c00f02305";

fs::path g_out;

void write(const char* target, const std::string& name, const std::string& bytes) {
  const fs::path dir = g_out / target;
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

void ok(const tandem::Status& s, const char* what) {
  check(s.ok(), what, s.ok() ? "" : s.error().message);
}

std::vector<Change> changes_of(const Json& bundle) {
  std::vector<Change> out;
  for (const auto& j : bundle["changes"]) out.push_back(Change::from_json(j).value());
  return out;
}

Json bundle_of(const Store& store, std::int64_t since = 0) {
  auto b = tandem::export_bundle(store, since);
  check(b.ok(), "export failed");
  return *b;
}

// ---- the peer tablet: the fixture's records, then its own edits ----

struct Peer {
  Json fixture_bundle;  // everything the fixture tablet holds
  Json edits;           // the peer's own changes
  Json full;            // everything the peer holds
};

Peer make_peer(const TempDir& dir) {
  Peer p;
  auto fixture = make_tablet(dir.file("fixture.db"), kFixtureSite);
  p.fixture_bundle = bundle_of(*fixture);
  auto peer = open_fixed_store(dir.file("peer.db"), kPeerSite);
  check(tandem::import_bundle(*peer, p.fixture_bundle).ok(), "peer import failed");
  ok(peer->set_default_school(kSchoolId), "default school");
  const std::int64_t cursor = bundle_of(*peer)["cursor"].get<std::int64_t>();
  Store& s = *peer;
  ok(s.set(kCourseId, "title", "Læseløft 4.b og 4.c"), "set title");
  ok(s.set(kCourseId, "status", "active"), "set status");
  ok(s.add(kCourseId, "focus_areas", "reading"), "add focus area");
  ok(s.text_insert(kCourseId, "goals", 0, "Mål: "), "text insert");
  ok(s.text_delete(kCourseId, "goals", 12, 4), "text delete");
  auto made = [](const tandem::Result<std::string>& r) { check(r.ok(), "create failed"); };
  made(s.create("session",
                {{"course", kCourseId},
                 {"approach", "station"},
                 {"started_at", "2026-09-21T08:15:00Z"},
                 {"log", "Eleverne arbejdede i stationer 🙂"}},
                kSessionId));
  made(s.create("reflection",
                {{"session", kSessionId}, {"author", kPersonId}, {"text", "Det gik godt."}},
                kReflectionId));
  made(s.create("child", {{"pseudonym", "Barn A"}}, kChildId));
  ok(s.add(kCourseId, "children", kChildId), "add child");
  made(s.create(
      "template",
      {{"name", "Egen observation"},
       {"kind", "event"},
       {"definition", {{"codes", Json::array({{{"code", "Q"}, {"label", "Spørgsmål"}}})}}}},
      kTemplateId));
  made(s.create("action", {{"text", "Følg op på læsebånd"}, {"due", "2026-10-01"}}, kActionId));
  ok(s.delete_record(kActionId), "delete");
  ok(s.purge(kChildId), "purge");
  p.edits = bundle_of(s, cursor);
  p.full = bundle_of(s);
  return p;
}

void bundle_seeds(const Peer& p) {
  write("bundle", "peer-edits.json", p.edits.dump());
  write("bundle", "peer-everything.json", p.full.dump());
  write("bundle", "fixture-everything.json", p.fixture_bundle.dump());
  // Changes a tablet must reject one by one while taking the rest.
  Json mixed = p.edits;
  Json bad = mixed["changes"][0];
  bad["hlc"] = tandem::Hlc{kFuzzNowMs + 3'600'000, 1, kPeerSite}.str();  // clock_skew
  mixed["changes"].push_back(bad);
  Json unknown = mixed["changes"][1];
  unknown["field"] = "no_such_field";
  mixed["changes"].push_back(unknown);
  write("bundle", "mixed-rejections.json", mixed.dump());
}

// ---- protocol messages ----

sync::SyncRequest push_request(const std::vector<Change>& changes, std::int64_t mutation_id) {
  sync::SyncRequest r;
  r.push = sync::PushRequest{mutation_id, changes};
  r.pull = sync::PullRequest{0, sync::kDefaultPullLimit};
  return r;
}

// The course's own changes: what device A pushes (the server has the school
// and person records already).
std::vector<Change> course_changes(const Peer& p) {
  std::vector<Change> out;
  for (const Change& c : changes_of(p.full)) {
    if (c.record != kSchoolId && c.record != kPersonId) out.push_back(c);
  }
  return out;
}

std::string sync_answer(const std::vector<Change>& pushed) {
  sync::PushResponse push;
  push.mutation_id = 1;
  std::int64_t seq = 2;
  for (const Change& c : pushed) {
    sync::ChangeResult r;
    r.hlc = c.hlc.str();
    r.seq = seq++;
    push.results.push_back(r);
  }
  push.results[1].status = sync::ChangeStatus::kDuplicate;
  push.results[1].seq.reset();
  push.results[2].status = sync::ChangeStatus::kRejected;
  push.results[2].seq.reset();
  push.results[2].error =
      tandem::make_error(tandem::ErrorCode::kClockSkew, "the change is stamped 3600 s ahead");
  sync::EncodedPullPage page;
  seq = 1;
  for (const Change& c : pushed) page.changes.push_back({seq++, c.to_json().dump()});
  page.cursor = seq - 1;
  page.more = true;
  return sync::encode_sync_response(kFuzzNowMs, push.to_json().dump(), &page);
}

void protocol_seeds(const Peer& p) {
  const auto pushed = course_changes(p);
  write("sync_protocol", "sync-request-push-pull.json", push_request(pushed, 1).to_json().dump());
  sync::SyncRequest pull;
  pull.pull = sync::PullRequest{42, 1000};
  write("sync_protocol", "sync-request-pull.json", pull.to_json().dump());
  write("sync_protocol", "enroll-request.json",
        sync::EnrollRequest{kEnrollmentCode, "Tablet 3"}.to_json().dump());
  sync::EnrollResponse enrolled{kDeviceA,
                                kTokenA,
                                {kSchoolId, "Skovbakkeskolen"},
                                {kPersonId, "Ida Holm", "resource_person"},
                                kFuzzNowMs};
  write("sync_protocol", "enroll-response.json", enrolled.to_json().dump());
  sync::EnrollCheckResponse checked{{kSchoolId, "Skovbakkeskolen"},
                                    {kPersonId, "Ida Holm", "resource_person"},
                                    kFuzzNowMs};
  write("sync_protocol", "enroll-check-response.json", checked.to_json().dump());
  write("sync_protocol", "sync-response.json", sync_answer(pushed));
  sync::ErrorResponse stale;
  stale.error = tandem::make_error(tandem::ErrorCode::kAlreadyExists,
                                   "push.mutation_id 3 is below this device's last one");
  stale.server_time_ms = kFuzzNowMs;
  stale.last_mutation_id = 7;
  write("sync_protocol", "error-stale-mutation.json", stale.to_json().dump());
  sync::ErrorResponse unauthorized;
  unauthorized.error = tandem::make_error(tandem::ErrorCode::kUnauthorized, "device revoked");
  unauthorized.server_time_ms = kFuzzNowMs;
  write("sync_protocol", "error-unauthorized.json", unauthorized.to_json().dump());
}

// ---- HTTP requests, framed as libcurl frames them ----

std::string post(const char* path, const std::string& body, const char* token = nullptr) {
  std::string r = std::string("POST ") + path + " HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n";
  if (token) r += std::string("Authorization: Bearer ") + token + "\r\n";
  r += "Accept: application/json\r\nContent-Type: application/json\r\n";
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return r;
}

std::string get(const char* path, const char* version = "HTTP/1.1") {
  return std::string("GET ") + path + " " + version + "\r\nHost: 127.0.0.1:8080\r\n\r\n";
}

void http_seeds(const Peer& p) {
  const auto pushed = course_changes(p);
  const std::string push = push_request(pushed, 1).to_json().dump();
  sync::SyncRequest pull;
  pull.pull = sync::PullRequest{0, 500};
  const std::string pull_body = pull.to_json().dump();
  write("http", "healthz.http", get("/healthz"));
  write("http", "metrics.http", get("/metrics"));
  write("http", "healthz-http10.http", get("/healthz", "HTTP/1.0"));
  write("http", "not-found.http", get("/v2/sync?x=1"));
  write("http", "sync-wrong-method.http", get("/v1/sync"));
  write("http", "enroll.http",
        post("/v1/enroll", sync::EnrollRequest{kEnrollmentCode, "Tablet 3"}.to_json().dump()));
  write("http", "enroll-unknown-code.http",
        post("/v1/enroll", sync::EnrollRequest{"AAAA-BBBB-CCCC", ""}.to_json().dump()));
  write("http", "enroll-check.http",
        post("/v1/enroll", sync::EnrollRequest{kEnrollmentCode, "", true}.to_json().dump()));
  write("http", "sync-pull.http", post("/v1/sync", pull_body, kTokenA));
  write("http", "sync-no-token.http", post("/v1/sync", pull_body));
  // A pushes the course, B (same school) pulls it, C (other school) pulls nothing.
  write("http", "sync-push-then-pulls.http",
        post("/v1/sync", push, kTokenA) + post("/v1/sync", pull_body, kTokenB) +
            post("/v1/sync", pull_body, kTokenC));
  // The same batch twice (a retry: replayed), then a reused id with another batch.
  std::vector<Change> first(pushed.begin(), pushed.begin() + 2);
  write("http", "sync-retry-and-reuse.http",
        post("/v1/sync", push_request(first, 1).to_json().dump(), kTokenA) +
            post("/v1/sync", push_request(first, 1).to_json().dump(), kTokenA) +
            post("/v1/sync", push, kTokenA));
  // Another school's device writes to this school's course.
  write("http", "sync-other-school.http", post("/v1/sync", push, kTokenC));
  // Chunked body after Expect: 100-continue (libcurl for large bodies).
  std::string chunked = "POST /v1/sync HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAuthorization: Bearer " +
                        std::string(kTokenA) +
                        "\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n";
  char size[16];
  std::snprintf(size, sizeof size, "%zx\r\n", pull_body.size());
  chunked += size + pull_body + "\r\n0\r\n\r\n";
  write("http", "sync-chunked.http", chunked);
  write("http", "sync-close.http",
        "POST /v1/sync HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer " +
            std::string(kTokenB) + "\r\nContent-Length: " + std::to_string(pull_body.size()) +
            "\r\n\r\n" + pull_body + get("/healthz"));
}

// ---- text ops and states ----

void text_seeds() {
  Document d = make_text_base();
  write("text_state", "base.bin", d.encode());
  write("text_state", "empty.bin", Document().encode());
  auto ops = [](const tandem::Result<Json>& r) {
    check(r.ok(), "a seed edit failed");
    return *r;
  };
  const Json ins = ops(d.insert("site-b", 3, "hej "));
  write("text_ops", "insert-middle.json", ins.dump());
  write("text_ops", "insert-single-object.json", ins[0].dump());
  const Json del = ops(d.remove("site-a", 2, 6));
  write("text_ops", "delete-across-runs.json", del.dump());
  const Json end = ops(d.insert("site-d", d.size(), "slut ✓"));
  Json both = Json::array({ins[0], del[0], end[0]});
  write("text_ops", "three-ops.json", both.dump());
  write("text_state", "edited.bin", d.encode());
  // What the buffered op of the base waits for: site-c's first five ids.
  Document c;
  write("text_ops", "wakes-buffered.json", ops(c.insert("site-c", 0, "abcde")).dump());
  // A delete of ids that never arrived (buffered), with a later insert.
  Document e;
  (void)ops(e.insert("site-e", 0, "xyz"));
  const Json early_delete = ops(e.remove("site-e", 0, 2));
  write("text_ops", "delete-before-insert.json", early_delete.dump());
  Document pending;
  check(pending.apply(early_delete).ok(), "buffering a delete failed");
  write("text_state", "pending-delete.bin", pending.encode());
  // Long runs (kept as several in memory) with deletions and non-ASCII text.
  Document longer;
  std::string para;
  for (int i = 0; i < 60; ++i) para += "Læsebånd hver dag, 20 min. ";
  (void)ops(longer.insert("f022000000000002", 0, para));
  (void)ops(longer.remove("f022000000000002", 100, 400));
  (void)ops(longer.insert("f022000000000001", 700, "🙂 ørn"));
  write("text_state", "long-runs.bin", longer.encode());
  // Two agents' overlapping deletes (a merge mark), then an acknowledgement.
  Document x = make_text_base();
  Document y = x;
  const Json del_x = ops(x.remove("site-x", 1, 4));
  const Json del_y = ops(y.remove("site-y", 2, 4));
  check(x.apply(del_y).ok() && !x.merged_by().empty(), "a seed overlap made no mark");
  write("text_state", "merged.bin", x.encode());
  write("text_ops", "overlap-and-ack.json",
        Json::array({del_x[0], del_y[0], ops(x.confirm("site-z"))[0]}).dump());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR (tests/fuzz/corpus)\n", argv[0]);
    return 2;
  }
  g_out = argv[1];
  TempDir dir("seeds");
  const Peer peer = make_peer(dir);
  bundle_seeds(peer);
  protocol_seeds(peer);
  http_seeds(peer);
  text_seeds();
  std::printf("seeds written to %s\n", argv[1]);
  return 0;
}
