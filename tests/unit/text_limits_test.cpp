// The per-change cost limits of text ops (tandem/core/text/limits.hpp): how
// a change's text work is counted, that validate_change (the server's and
// every device's check) refuses a change over them with text_too_large, and
// that an honest device never writes one: a delete across many authors'
// runs becomes several changes, a long paste stays one.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "tandem/core/schema.hpp"
#include "tandem/core/store.hpp"
#include "tandem/core/text/limits.hpp"
#include "tandem/core/text/sequence.hpp"
#include "test_util.hpp"

using namespace tandem;
using tandem::test::TempDir;

namespace {

Json ins(const std::string& agent, std::uint64_t seq, Json left, Json right,
         const std::string& text) {
  return Json{{"op", "ins"},
              {"id", Json::array({agent, seq})},
              {"left", std::move(left)},
              {"right", std::move(right)},
              {"text", text}};
}

text::TextCost cost_of(const Json& ops) {
  const Json* values[] = {&ops};
  auto cost = text::measure_ops(values);
  REQUIRE(cost.ok());
  return *cost;
}

Change text_change(const std::string& record, const std::string& school, Json ops) {
  Change c;
  c.hlc = Hlc{1'790'000'000'000, 0, "00000000000000aa"};
  c.record = record;
  c.kind = "course";
  c.school = school;
  c.op = Op::kText;
  c.field = "goals";
  c.value = std::move(ops);
  return c;
}

// `n` one-character inserts at one place from `agents` agents taking turns.
Json burst(std::size_t n, std::size_t agents) {
  Json ops = Json::array();
  for (std::size_t i = 0; i < n; ++i) {
    ops.push_back(ins("agent" + std::to_string(i % agents), i / agents, Json::array({"base", 0}),
                      Json::array({"base", 1}), "z"));
  }
  return ops;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

TEST_CASE("text limits: a change's text work is counted", "[core][text][limits]") {
  const Json ops = Json::array(
      {ins("anna", 0, nullptr, nullptr, "æøå😀"),
       ins("bo", 0, Json::array({"anna", 3}), Json::array({"carl", 7}), "hej"),
       Json{{"op", "del"},
            {"by", "dora"},
            {"ids", Json::array({Json::array({"anna", 0, 2}), Json::array({"erik", 4, 1})})}}});
  const text::TextCost cost = cost_of(ops);
  CHECK(cost.ops == 4);       // two ins, two deleted ranges
  CHECK(cost.agents == 5);    // anna, bo, carl, dora, erik
  CHECK(cost.inserted == 7);  // code points, not bytes
  // A create's text fields are one change: agents counted once across them.
  const Json goals = Json::array({ins("anna", 0, nullptr, nullptr, "mål")});
  const Json frame = Json::array({ins("anna", 3, nullptr, nullptr, "ramme")});
  const Json* both[] = {&goals, &frame};
  auto create_cost = text::measure_ops(both);
  REQUIRE(create_cost.ok());
  CHECK(create_cost->ops == 2);
  CHECK(create_cost->agents == 1);
  CHECK(create_cost->inserted == 8);
  // Malformed ops are refused as Document::apply refuses them.
  const Json bad = Json::array({Json{{"op", "ins"}, {"id", Json::array({"a", 0})}}});
  const Json* one[] = {&bad};
  auto refused = text::measure_ops(one);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ErrorCode::kInvalidArgument);
}

TEST_CASE("text limits: a change over any limit is refused with text_too_large",
          "[core][text][limits]") {
  using text::kMaxAgentsPerChange;
  using text::kMaxInsertedPerChange;
  using text::kMaxOpsPerChange;
  CHECK(text::check_change_cost({kMaxOpsPerChange, kMaxAgentsPerChange, kMaxInsertedPerChange}));
  for (const text::TextCost over : {text::TextCost{kMaxOpsPerChange + 1, 1, 1},
                                    text::TextCost{1, kMaxAgentsPerChange + 1, 1},
                                    text::TextCost{1, 1, kMaxInsertedPerChange + 1}}) {
    auto refused = text::check_change_cost(over);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == ErrorCode::kTextTooLarge);
    CHECK(error_code_name(refused.error().code) == "text_too_large");
  }
  const std::string school = "school_00000000000000000001";
  const std::string record = "course_00000000000000000001";
  // issue 11's change: 48,000 inserts at one place from as many agents.
  auto bomb = validate_change(text_change(record, school, burst(48'000, 48'000)));
  REQUIRE_FALSE(bomb.ok());
  CHECK(bomb.error().code == ErrorCode::kTextTooLarge);
  // Within the op limit, too many agents.
  auto agents = validate_change(text_change(record, school, burst(300, 300)));
  REQUIRE_FALSE(agents.ok());
  CHECK(agents.error().code == ErrorCode::kTextTooLarge);
  // At the limits: accepted, and its cost reported.
  text::TextCost cost;
  REQUIRE(validate_change(
      text_change(record, school, burst(kMaxOpsPerChange, kMaxAgentsPerChange - 1)), &cost));
  CHECK(cost.ops == kMaxOpsPerChange);
  CHECK(cost.agents == kMaxAgentsPerChange);  // with "base", the origins' agent
  // A create's text fields count together.
  Change create;
  create.hlc = Hlc{1'790'000'000'000, 1, "00000000000000aa"};
  create.record = record;
  create.kind = "course";
  create.school = school;
  create.op = Op::kCreate;
  const std::string long_text(kMaxInsertedPerChange / 2 + 1, 'x');
  create.value = Json{{"kind", "observation"},
                      {"title", "T"},
                      {"goals", Json::array({ins("a", 0, nullptr, nullptr, long_text)})},
                      {"frame", Json::array({ins("a", 600'000, nullptr, nullptr, long_text)})}};
  auto too_long = validate_change(create);
  REQUIRE_FALSE(too_long.ok());
  CHECK(too_long.error().code == ErrorCode::kTextTooLarge);
}

TEST_CASE("text limits: a create with every text field at its longest fits",
          "[core][text][limits]") {
  for (const KindSpec& kind : schema()) {
    std::uint64_t text_fields = 0;
    for (const FieldSpec& f : kind.fields) text_fields += f.type == FieldType::kText ? 1 : 0;
    INFO(kind.name << " has " << text_fields << " text fields");
    CHECK(text_fields * kMaxTextLen <= text::kMaxInsertedPerChange);
  }
}

TEST_CASE("text limits: a device's deletes and pastes stay within the limits",
          "[core][text][limits]") {
  TempDir dir;
  std::string school;
  auto store = test::open_store_with_school(dir.file("t.db"), school);
  auto id = store->create("course", Json{{"kind", "observation"}, {"title", "T"}, {"goals", "x"}});
  REQUIRE(id.ok());
  // 5,000 characters appended by 600 other devices taking turns: every
  // character is a run of its own, and the text has 601 authors.
  Json last = nullptr;
  {
    auto outbox = store->outbox(10);
    REQUIRE(outbox.ok());
    const Json& create_ops = outbox->back().change.value.at("goals");
    last = Json::array({create_ops.at(0).at("id").at(0), 0});
  }
  std::vector<Json> ops;
  for (std::size_t i = 0; i < 5000; ++i) {
    const std::string agent = "device" + std::to_string(i % 600);
    ops.push_back(ins(agent, i / 600, last, nullptr, "y"));
    last = Json::array({agent, i / 600});
  }
  for (std::size_t start = 0; start < ops.size(); start += 200) {
    Change c = text_change(*id, school, Json(std::vector<Json>(
                                            ops.begin() + static_cast<std::ptrdiff_t>(start),
                                            ops.begin() + static_cast<std::ptrdiff_t>(
                                                              std::min(start + 200, ops.size())))));
    c.hlc = Hlc{now_ms(), static_cast<std::uint32_t>(start), "00000000000000bb"};
    REQUIRE(store->apply(c).ok());
  }
  auto before = store->outbox_size();
  REQUIRE(before.ok());
  // One delete of everything: 5,001 runs of 601 authors.
  REQUIRE(store->text_delete(*id, "goals", 0, 5001).ok());
  auto outbox = store->outbox(1000);
  REQUIRE(outbox.ok());
  std::vector<Change> written;
  for (std::size_t i = static_cast<std::size_t>(*before); i < outbox->size(); ++i) {
    written.push_back((*outbox)[i].change);
  }
  CHECK(written.size() >= 3);  // over the op limit, and over the agent limit
  std::uint64_t ranges = 0;
  for (const Change& c : written) {
    text::TextCost cost;
    INFO(c.value.dump().substr(0, 200));
    CHECK(validate_change(c, &cost));
    ranges += cost.ops;
  }
  CHECK(ranges == 5001);
  auto emptied = store->get(*id);
  REQUIRE(emptied.ok());
  CHECK(emptied->fields["goals"] == "");
  // A paste of the longest text a field holds is one change.
  const std::string paste(kMaxTextLen, 'p');
  auto size_before_paste = store->outbox_size();
  REQUIRE(store->set(*id, "goals", paste).ok());
  auto after_paste = store->outbox(1000);
  REQUIRE(after_paste.ok());
  REQUIRE(after_paste->size() == static_cast<std::size_t>(*size_before_paste) + 1);
  CHECK(validate_change(after_paste->back().change));
  // And replacing it deletes and inserts within the limits too.
  REQUIRE(store->set(*id, "goals", "kort").ok());
  auto after_replace = store->outbox(1000);
  REQUIRE(after_replace.ok());
  CHECK(validate_change(after_replace->back().change));
}

TEST_CASE("text limits: a device refuses a pulled change over the limits",
          "[core][text][limits]") {
  TempDir dir;
  std::string school;
  auto store = test::open_store_with_school(dir.file("t.db"), school);
  auto id = store->create("course", Json{{"kind", "observation"}, {"title", "T"}, {"goals", "XY"}});
  REQUIRE(id.ok());
  Change bomb = text_change(*id, school, burst(text::kMaxOpsPerChange + 1, 100));
  bomb.hlc = Hlc{now_ms(), 0, "00000000000000cc"};
  auto refused = store->apply(bomb);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ErrorCode::kTextTooLarge);
  auto unchanged = store->get(*id);
  REQUIRE(unchanged.ok());
  CHECK(unchanged->fields["goals"] == "XY");
}
