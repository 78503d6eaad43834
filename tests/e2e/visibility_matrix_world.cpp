#include "visibility_matrix_world.hpp"

#include <algorithm>
#include <catch2/catch.hpp>

#include "tandem/core/schema.hpp"
#include "server_store.hpp"
#include "test_util.hpp"

namespace tandem::test {
namespace {

const std::vector<std::string> kChildLinked = {"K", "EK", "AK", "CO", "CR"};

// A meta value the tablet must have (its device id).
std::string meta_of(Tablet& t, std::string_view key) {
  auto v = t.store().meta(key);
  REQUIRE(v.ok());
  REQUIRE(v->has_value());
  return **v;
}

}  // namespace

const std::vector<std::string>& MatrixWorld::roles() {
  static const std::vector<std::string> kRoles = {"leader",    "resource", "teacherA", "teacherB",
                                                  "pedagogue", "external", "admin"};
  return kRoles;
}

MatrixWorld::MatrixWorld(std::size_t limit) : pull_limit(limit) {
  people_["resource"] = world_.school.person;
  people_["leader"] = world_.add_person("Lene Leder", "leader");
  people_["teacherA"] = world_.add_person("Anders Lærer", "teacher");
  people_["teacherB"] = world_.add_person("Bente Lærer", "teacher");
  people_["pedagogue"] = world_.add_person("Per Pædagog", "pedagogue");
  people_["external"] = world_.add_person("Eva PPR", "external");
  people_["admin"] = world_.add_person("Ali Admin", "admin");
  for (const auto& role : roles()) {
    tablets_[role] = std::make_unique<Tablet>(dir_.file(role + ".db"));
    tablets_[role]->enroll(world_.base_url(), world_.code_for(people_[role]));
  }
}

std::string MatrixWorld::canary(const std::string& key, const std::string& field) {
  std::string c = "cnry_" + key + "_" + field + "_q7";
  canaries_[key].push_back(c);
  return c;
}

void MatrixWorld::record_school() {
  Store& s = tablet("resource").store();
  const auto make = [&](const std::string& key, const std::string& kind, const Json& fields) {
    auto id = s.create(kind, fields);
    INFO("create " << key << ": " << (id ? "" : id.error().message));
    REQUIRE(id.ok());
    ids_[key] = *id;
  };
  const std::string today = copenhagen_date(SystemClock().now_ms());
  make("K", "child", {{"pseudonym", canary("K", "pseudonym")}});
  make("C1", "course",
       {{"kind", "co_teaching"},
        {"title", canary("C1", "title")},
        {"goals", canary("C1", "goals")},
        {"participants", Json::array({person("teacherA")})},
        {"children", Json::array({id("K")})}});
  make("S1", "session",
       {{"course", id("C1")}, {"focus", canary("S1", "focus")}, {"log", canary("S1", "log")}});
  make("EK", "entry",
       {{"session", id("S1")},
        {"type", "note"},
        {"text", canary("EK", "text")},
        {"child", id("K")}});
  make("E0", "entry", {{"session", id("S1")}, {"type", "note"}, {"text", canary("E0", "text")}});
  make("C2", "course",
       {{"kind", "observation"},
        {"title", canary("C2", "title")},
        {"goals", canary("C2", "goals")}});
  make("M", "meeting",
       {{"date", today},
        {"title", canary("M", "title")},
        {"minutes", canary("M", "minutes")},
        {"participants", Json::array({person("external"), person("teacherA")})}});
  make("AK", "agenda_item",
       {{"meeting", id("M")},
        {"need", "child_intervention"},
        {"title", canary("AK", "title")},
        {"notes", canary("AK", "notes")},
        {"child", id("K")}});
  make("A0", "agenda_item",
       {{"meeting", id("M")},
        {"need", "staff_learning"},
        {"title", canary("A0", "title")},
        {"notes", canary("A0", "notes")}});
  // More changes to the child-linked records than a page of 3 holds: a
  // record entering a view comes back over several pages.
  for (const char* key : {"EK", "AK"}) {
    const std::string field = std::string(key) == "EK" ? "text" : "notes";
    auto record = s.get(id(key));
    REQUIRE(record.ok());
    const std::size_t end = utf8_length(record->fields[field].get<std::string>());
    REQUIRE(s.text_insert(id(key), field, end, canary(key, field + "2")).ok());
    REQUIRE(s.set(id(key), std::string(key) == "EK" ? "code" : "title", canary(key, "set")).ok());
  }
  make("AC1", "action", {{"text", canary("AC1", "text")}, {"source", id("C1")}});
  make("AM", "action", {{"text", canary("AM", "text")}, {"source", id("M")}});
}

void MatrixWorld::add_consent(const std::string& key, const std::string& scope) {
  auto id = tablet("resource")
                .store()
                .create("consent", {{"child", ids_.at("K")},
                                    {"given_on", "2025-08-01"},
                                    {"scope", scope},
                                    {"recorded_by", person("resource")},
                                    {"note", canary(key, "note")}});
  REQUIRE(id.ok());
  ids_[key] = *id;
}

std::map<std::string, RoundCapture> MatrixWorld::sync_all() {
  std::map<std::string, RoundCapture> out;
  std::vector<std::string> order = {"resource"};
  for (const auto& r : roles())
    if (r != "resource") order.push_back(r);
  for (const auto& role : order) {
    auto curl = curl_to(world_.base_url());
    ScriptedTransport t(*curl);
    auto options = Tablet::fast_options();
    if (pull_limit > 0) options.pull_limit = pull_limit;
    for (int i = 0; i < 2; ++i) {
      auto r = tablet(role).sync(t, options);
      INFO(role << " sync " << i << ": " << (r ? "" : r.error().message));
      REQUIRE(r.ok());
      CHECK(r->complete);
    }
    RoundCapture& c = out[role];
    for (const auto& body : t.responses) {
      const auto in = keys_in(body);
      c.in_responses.insert(in.begin(), in.end());
      const auto j = Json::parse(body, nullptr, false);
      if (!j.is_object() || !j.contains("push")) continue;
      for (const auto& res : j["push"]["results"])
        if (res.value("status", "") == "rejected") c.rejected_codes.push_back(res["error"]["code"]);
    }
  }
  for (const auto& role : roles()) {
    const auto held = keys_in_store(role);
    for (const auto& k : kChildLinked)
      if (held.count(k)) child_linked_held_[role].insert(k);
  }
  return out;
}

std::set<std::string> MatrixWorld::canaries_of(const std::set<std::string>& keys) const {
  std::set<std::string> out;
  for (const auto& k : keys) {
    auto it = canaries_.find(k);
    if (it != canaries_.end()) out.insert(it->second.begin(), it->second.end());
  }
  return out;
}

std::set<std::string> MatrixWorld::keys_in(const std::string& bytes) const {
  std::set<std::string> out;
  for (const auto& [key, list] : canaries_)
    for (const auto& c : list)
      if (bytes.find(c) != std::string::npos) out.insert(key);
  return out;
}

std::set<std::string> MatrixWorld::canaries_in_files(const std::string& role) const {
  // On disk and decrypted (tablets' files are encrypted): `tandem debug scan`.
  std::set<std::string> out;
  for (const auto& [key, list] : canaries_)
    for (const auto& c : list)
      if (occurrences(tablets_.at(role)->path(), c) > 0) out.insert(c);
  return out;
}

std::set<std::string> MatrixWorld::keys_in_files(const std::string& role) const {
  std::set<std::string> out;
  const auto found = canaries_in_files(role);
  for (const auto& [key, list] : canaries_)
    for (const auto& c : list)
      if (found.count(c)) out.insert(key);
  return out;
}

std::set<std::string> MatrixWorld::keys_in_store(const std::string& role) {
  std::set<std::string> out;
  for (const auto& [key, record] : ids_)
    if (tablet(role).store().get(record).ok()) out.insert(key);
  return out;
}

void MatrixWorld::check_write_beyond_view() {
  // C2's create, as the server has it (school, kind, id).
  auto log = tablet("resource").store().changes_since(0, 100000);
  REQUIRE(log.ok());
  const auto c2 = std::find_if(log->begin(), log->end(), [&](const LoggedChange& lc) {
    return lc.change.record == id("C2") && lc.change.op == Op::kCreate;
  });
  REQUIRE(c2 != log->end());
  Change unknown = c2->change;
  unknown.record.back() = unknown.record.back() == '0' ? '1' : '0';  // same shape, no such record
  ChangeMaker maker;
  HttpClient http;
  const auto push = [&](const TestDevice& device, std::int64_t mutation, const Change& of) {
    const auto r = http.post(
        world_.server->url("/v1/sync"),
        sync_body(mutation, {maker.set_field(of, "title", "cnry_C2_title_q7")}), device.token);
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(keys_in(r.body).empty());  // the answer names nothing of the school
    const auto j = r.json();
    REQUIRE(j["push"]["results"].size() == 1);
    return j["push"]["results"][0];
  };
  const TestDevice b = enroll_test_device(*world_.server, person("teacherB"));
  const auto seen = pull_all(http, *world_.server, b.token);  // the view the writes are judged on
  CHECK(keys_in(Json(seen).dump()).empty());
  auto on_c2 = push(b, 1, c2->change);
  auto on_unknown = push(b, 2, unknown);
  CHECK(on_c2["status"] == "rejected");
  CHECK(on_c2["error"]["code"] == "not_found");
  CHECK(on_unknown["error"]["code"] == "not_found");
  // The same words, but for the id each names.
  std::string a = on_c2["error"].dump(), u = on_unknown["error"].dump();
  for (auto* s : {&a, &u})
    for (const auto& rid : {id("C2"), unknown.record})
      for (auto at = s->find(rid); at != std::string::npos; at = s->find(rid))
        s->replace(at, rid.size(), "ID");
  CHECK(a == u);
  // Control: the resource person's write of the same change is accepted.
  const TestDevice r = enroll_test_device(*world_.server, person("resource"));
  CHECK(push(r, 1, c2->change)["status"] == "accepted");
}

void MatrixWorld::check_audit() {
  const std::string data = world_.server->data_dir();
  const ProcessResult exported = run_process(
      server_binary(), store_args(data, {"audit", "export", "--child", id("K"), "--json"}));
  INFO("export: " << exported.err);
  REQUIRE(exported.exit_code == 0);
  CHECK(keys_in(exported.out).empty());  // ids only, never text
  const Json entries = Json::parse(exported.out, nullptr, false);
  REQUIRE(entries.is_array());
  int devices_with_reads = 0;
  for (const auto& role : roles()) {
    if (role == "resource") continue;  // the author: sent nothing back
    const std::string device = meta_of(tablet(role), sync::kMetaDeviceId);
    const auto& held = child_linked_held_[role];
    std::set<std::string> read;
    for (const auto& e : entries)
      if (e.value("device", "") == device && e.value("action", "") == "read")
        read.insert(e.value("record", ""));
    INFO(role << " held " << held.size() << " child-linked records; the trail has " << read.size()
              << " reads");
    for (const auto& k : held) {
      INFO(k);
      CHECK(read.count(id(k)) == 1);
    }
    if (held.empty()) CHECK(read.empty());
    devices_with_reads += held.empty() ? 0 : 1;
  }
  CHECK(devices_with_reads == 3);  // the leader, teacher A and the external
  const ProcessResult verified = run_process(server_binary(), store_args(data, {"audit", "verify"}));
  INFO("verify: " << verified.out << verified.err);
  CHECK(verified.exit_code == 0);
}

}  // namespace tandem::test
