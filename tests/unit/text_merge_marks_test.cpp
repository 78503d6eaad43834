// Merge marks (issue 16): overlapping concurrent deletes of one text are
// reported with their authors until a later edit or a confirmation covers
// them; non-overlapping concurrent edits stay silent; the marks are a
// function of the set of ops (any order, duplicates, buffering, restarts).
#include <algorithm>
#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "tandem/core/text/sequence.hpp"

using tandem::ErrorCode;
using tandem::Json;
using tandem::text::Document;

namespace {

const std::string kA = "anna-tablet";
const std::string kB = "bo-tablet";
const std::string kC = "carl-tablet";
const std::string kD = "dora-tablet";
using Names = std::vector<std::string>;

// "Vi læste en bog. Så tegnede vi." typed by A.
const std::string kBase = "Vi læste en bog. Så tegnede vi.";

void apply_ok(Document& d, const Json& ops) {
  INFO(ops.dump());
  REQUIRE(d.apply(ops).ok());
}

Json ok(tandem::Result<Json> r) {
  REQUIRE(r.ok());
  return std::move(r).value();
}

// Replaces [pos, pos+len) by `text` as `agent`; the ops of both steps.
Json rewrite(Document& d, const std::string& agent, std::size_t pos, std::size_t len,
             const std::string& text) {
  Json ops = ok(d.remove(agent, pos, len));
  for (Json& op : ok(d.insert(agent, pos, text))) ops.push_back(std::move(op));
  return ops;
}

struct Base {
  Json ops;
  Document doc;
  Base() { ops = ok(doc.insert(kA, 0, kBase)); }
};

Document restart(const Document& d) {
  auto r = Document::decode(d.encode());
  REQUIRE(r.ok());
  return std::move(r).value();
}

}  // namespace

TEST_CASE("merge marks: both rewrite the same words offline, both replicas name both authors",
          "[core][text][merge_marks]") {
  Base base;
  Document a = base.doc;
  Document b = base.doc;
  // "en bog" (positions 9..15) becomes "et digt" on A and "to bøger" on B.
  const Json from_a = rewrite(a, kA, 9, 6, "et digt");
  const Json from_b = rewrite(b, kB, 9, 6, "to bøger");
  CHECK(a.merged_by().empty());  // nothing concurrent seen yet
  apply_ok(a, from_b);
  apply_ok(b, from_a);
  CHECK(a.text() == b.text());
  CHECK(a.merged_by() == Names{kA, kB});
  CHECK(b.merged_by() == Names{kA, kB});
  CHECK(restart(a).merged_by() == Names{kA, kB});

  SECTION("a confirmation on one replica settles it on both") {
    const Json ack = ok(b.confirm(kB));
    REQUIRE(ack.size() == 1);
    CHECK(ack[0]["op"] == "ack");
    CHECK(b.merged_by().empty());
    apply_ok(a, ack);
    CHECK(a.merged_by().empty());
    CHECK(a.text() == b.text());       // an ack changes no text
    CHECK(ok(a.confirm(kA)).empty());  // nothing left to confirm
  }
  SECTION("a third author's concurrent delete of the same words opens it again") {
    Document c = base.doc;
    const Json from_c = ok(c.remove(kC, 9, 3));
    apply_ok(a, ok(b.confirm(kB)));
    CHECK(a.merged_by().empty());
    apply_ok(a, from_c);
    CHECK(a.merged_by() == Names{kA, kB, kC});
  }
}

TEST_CASE(
    "merge marks: concurrent edits of different sentences, or an insert into deleted text, stay "
    "silent",
    "[core][text][merge_marks]") {
  Base base;
  Document a = base.doc;
  Document b = base.doc;
  const Json from_a = rewrite(a, kA, 0, 16, "Vi læste et digt.");
  const Json from_b = rewrite(b, kB, 17, 14, "Så malede vi.");
  const Json inside = ok(b.insert(kB, 3, "højt "));  // into what A deleted
  apply_ok(a, from_b);
  apply_ok(a, inside);
  apply_ok(b, from_a);
  CHECK(a.text() == b.text());
  CHECK(a.merged_by().empty());
  CHECK(b.merged_by().empty());
  // The same delete delivered twice is no overlap either.
  apply_ok(a, from_a);
  apply_ok(b, from_a);
  CHECK(a.merged_by().empty());
  CHECK(b.merged_by().empty());
}

TEST_CASE("merge marks: the same set of ops in any order gives the same marks",
          "[core][text][merge_marks][order]") {
  // A, B and C delete overlapping ranges concurrently (A and B "en", B and
  // C "bog"); D, who has seen A's and B's deletes only, confirms.
  Base base;
  Document a = base.doc, b = base.doc, c = base.doc, d = base.doc;
  const Json del_a = rewrite(a, kA, 3, 8, "læser");     // "læste en"
  const Json del_b = rewrite(b, kB, 9, 6, "to bøger");  // "en bog"
  const Json del_c = ok(c.remove(kC, 12, 10));          // "bog. Så te"
  apply_ok(d, del_a);
  apply_ok(d, del_b);
  REQUIRE(d.merged_by() == Names{kA, kB});
  const Json ack_d = ok(d.confirm(kD));
  const bool with_c = GENERATE(false, true);
  INFO("with C: " << with_c);

  std::vector<Json> ops = {base.ops};
  for (const Json* set : {&del_a, &del_b, &ack_d}) {
    for (const Json& op : *set) ops.push_back(op);
  }
  if (with_c) {
    for (const Json& op : del_c) ops.push_back(op);
  }
  // Everyone else's view, applied in document order.
  Document reference;
  for (const Json& op : ops) apply_ok(reference, op);
  const Names expected = with_c ? Names{kB, kC} : Names{};
  REQUIRE(reference.merged_by() == expected);

  std::mt19937_64 rng(16);
  for (int round = 0; round < 200; ++round) {
    std::vector<Json> order = ops;
    std::shuffle(order.begin(), order.end(), rng);
    if (round % 3 == 0) order.push_back(order[rng() % order.size()]);  // a replay
    Document replica;
    for (std::size_t i = 0; i < order.size(); ++i) {
      apply_ok(replica, order[i]);
      if (i == order.size() / 2 && round % 2 == 0) replica = restart(replica);
    }
    INFO("round " << round);
    REQUIRE(replica.pending_count() == 0);
    REQUIRE(replica.text() == reference.text());
    REQUIRE(replica.merged_by() == expected);
    REQUIRE(restart(replica).merged_by() == expected);
  }
}

TEST_CASE("merge marks: a text saved before deleters were kept still decodes, and makes no mark",
          "[core][text][merge_marks]") {
  // Format version 1: agent "a"; a visible run "hi" and a deleted run of 2
  // (a's ids 2..3, left origin the previous run).
  const std::string v1 = std::string(
                             "TDTX\x01\x01\x01"
                             "a",
                             8) +
                         std::string("\x02\x40\x00\x00\x02hi", 7) + std::string("\x07\x00\x02", 3) +
                         std::string("\x00", 1);
  auto doc = Document::decode(v1);
  INFO((doc.ok() ? std::string() : doc.error().message));
  REQUIRE(doc.ok());
  CHECK(doc->text() == "hi");
  // A delete of the deleted ids by anyone: the first deleter is unknown.
  apply_ok(*doc, Json::parse(R"([{"op":"del","by":"b","ids":[["a",2,2]]}])"));
  CHECK(doc->merged_by().empty());
  // Written again as version 2, it reads back the same.
  auto again = Document::decode(doc->encode());
  REQUIRE(again.ok());
  CHECK(again->text() == "hi");
  CHECK(again->encode() == doc->encode());
}

TEST_CASE("merge marks: malformed ack ops are refused and change nothing",
          "[core][text][merge_marks]") {
  Base base;
  Document d = base.doc;
  const std::string before = d.encode();
  for (const char* bad : {
           R"({"op":"ack","by":"x","ids":[["a",0,1]]})",              // no deleters
           R"({"op":"ack","by":"x","ids":[["a",0,1,[]]]})",           // empty deleters
           R"({"op":"ack","by":"x","ids":[["a",0,0,["b"]]]})",        // empty range
           R"({"op":"ack","by":"x","ids":[]})",                       // nothing
           R"({"op":"ack","by":"x","ids":[["a",0,1,[7]]]})",          // not an agent
           R"({"op":"ack","by":"x","ids":[["a",0,1,["b"]]],"z":1})",  // unknown member
           R"({"op":"ack","ids":[["a",0,1,["b"]]]})",                 // no by
       }) {
    INFO(bad);
    CHECK(d.apply(Json::parse(bad)).error().code == ErrorCode::kInvalidArgument);
  }
  CHECK(d.encode() == before);
  CHECK(d.confirm("").error().code == ErrorCode::kInvalidArgument);
}
