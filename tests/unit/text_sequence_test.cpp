// Unit tests of tandem::text::Document: local edits, code point positions,
// op shape, remote application, buffering, encode/decode, bad input.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tandem/core/text/sequence.hpp"

using tandem::ErrorCode;
using tandem::Json;
using tandem::text::Document;

namespace {

const std::string kA = "a1a1a1a1a1a1a1a1";
const std::string kB = "b2b2b2b2b2b2b2b2";
const std::string kC = "c3c3c3c3c3c3c3c3";

Json ins(Document& d, const std::string& agent, std::size_t pos, const std::string& s) {
  auto r = d.insert(agent, pos, s);
  REQUIRE(r.ok());
  return *r;
}

Json del(Document& d, const std::string& agent, std::size_t pos, std::size_t len) {
  auto r = d.remove(agent, pos, len);
  REQUIRE(r.ok());
  return *r;
}

void apply_ok(Document& d, const Json& ops) {
  auto s = d.apply(ops);
  INFO(ops.dump());
  REQUIRE(s.ok());
}

Document roundtrip(const Document& d) {
  auto r = Document::decode(d.encode());
  REQUIRE(r.ok());
  return std::move(r).value();
}

}  // namespace

TEST_CASE("text: insert and delete at start, middle and end", "[core][text]") {
  Document d;
  CHECK(d.size() == 0);
  CHECK(d.text().empty());
  ins(d, kA, 0, "world");
  ins(d, kA, 0, "hello ");
  ins(d, kA, 11, "!");
  ins(d, kA, 5, ",");
  CHECK(d.text() == "hello, world!");
  CHECK(d.size() == 13);
  del(d, kA, 0, 1);  // start
  del(d, kA, 4, 2);  // middle ", "
  del(d, kA, 9, 1);  // end "!"
  CHECK(d.text() == "elloworld");
  del(d, kA, 0, d.size());
  CHECK(d.text().empty());
  ins(d, kA, 0, "again");
  CHECK(d.text() == "again");
}

TEST_CASE("text: positions are code points (Danish letters and emoji)", "[core][text]") {
  Document d;
  ins(d, kA, 0, "blåbærgrød");
  CHECK(d.size() == 10);
  ins(d, kA, 3, "-");  // after "blå"
  CHECK(d.text() == "blå-bærgrød");
  ins(d, kA, 6, "😀");  // after "blå-bæ"
  CHECK(d.text() == "blå-bæ😀rgrød");
  CHECK(d.size() == 12);
  del(d, kA, 2, 1);  // "å"
  CHECK(d.text() == "bl-bæ😀rgrød");
  del(d, kA, 5, 1);  // the emoji (4 bytes, one position)
  CHECK(d.text() == "bl-bærgrød");
  ins(d, kA, 10, "Æ𝄞Ø");
  CHECK(d.text() == "bl-bærgrødÆ𝄞Ø");
  CHECK(d.size() == 13);

  Document other;
  apply_ok(other, Json::array());
  auto copy = roundtrip(d);
  CHECK(copy.text() == d.text());
  CHECK(copy.size() == 13);
}

TEST_CASE("text: range and argument errors change nothing", "[core][text]") {
  Document d;
  ins(d, kA, 0, "æøå");
  auto r1 = d.insert(kA, 4, "x");
  REQUIRE_FALSE(r1.ok());
  CHECK(r1.error().code == ErrorCode::kInvalidArgument);
  auto r2 = d.remove(kA, 2, 2);
  REQUIRE_FALSE(r2.ok());
  CHECK(r2.error().code == ErrorCode::kInvalidArgument);
  auto r3 = d.remove(kA, 4, 0);
  REQUIRE_FALSE(r3.ok());
  auto r4 = d.remove(kA, 1, static_cast<std::size_t>(-1));
  REQUIRE_FALSE(r4.ok());
  CHECK(r4.error().code == ErrorCode::kInvalidArgument);
  auto r5 = d.insert(kA, 0, std::string("\xC3\x28", 2));
  REQUIRE_FALSE(r5.ok());
  CHECK(r5.error().code == ErrorCode::kInvalidUtf8);
  for (const char* bad : {"\xED\xA0\x80", "\xC0\xAF", "\xF4\x90\x80\x80", "\xE2\x82", "\xFF"}) {
    auto r = d.insert(kA, 0, bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kInvalidUtf8);
  }
  for (const std::string& agent : {std::string(), std::string("has space"), std::string(65, 'a')}) {
    auto r = d.insert(agent, 0, "x");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kInvalidArgument);
  }
  CHECK(d.text() == "æøå");
  // Empty edits are fine and produce no ops.
  CHECK(ins(d, kA, 3, "").empty());
  CHECK(del(d, kA, 3, 0).empty());
}

TEST_CASE("text: a run of typed text is one op", "[core][text]") {
  Document d;
  Json ops = ins(d, kA, 0, "Lektionslog: ");
  REQUIRE(ops.is_array());
  REQUIRE(ops.size() == 1);
  CHECK(ops[0]["op"] == "ins");
  CHECK(ops[0]["text"] == "Lektionslog: ");
  CHECK(ops[0]["id"] == Json::array({kA, 0}));
  CHECK(ops[0]["left"].is_null());
  CHECK(ops[0]["right"].is_null());
  Json next = ins(d, kA, 13, "ok");
  CHECK(next[0]["id"] == Json::array({kA, 13}));
  CHECK(next[0]["left"] == Json::array({kA, 12}));
  Json gone = del(d, kA, 0, 15);
  REQUIRE(gone.size() == 1);
  CHECK(gone[0]["op"] == "del");
  CHECK(gone[0]["ids"] == Json::array({Json::array({kA, 0, 15})}));
}

TEST_CASE("text: remote ops reproduce the text and are idempotent", "[core][text]") {
  Document a;
  Document b;
  std::vector<Json> log;
  log.push_back(ins(a, kA, 0, "Vi læste højt."));
  log.push_back(ins(a, kA, 8, " meget"));
  log.push_back(del(a, kA, 0, 3));
  log.push_back(ins(a, kA, 0, "De "));
  for (const Json& ops : log) apply_ok(b, ops);
  CHECK(b.text() == a.text());
  const std::string once = b.text();
  for (const Json& ops : log) apply_ok(b, ops);  // duplicates
  for (const Json& ops : log) apply_ok(a, ops);  // own ops echoed back
  CHECK(b.text() == once);
  CHECK(a.text() == once);
  CHECK(b.pending_count() == 0);
  // B continues editing; A receives it.
  Json more = ins(b, kB, b.size(), " Slut.");
  apply_ok(a, more);
  CHECK(a.text() == b.text());
}

TEST_CASE("text: ops arriving before their dependencies are buffered", "[core][text]") {
  Document a;
  Json op1 = ins(a, kA, 0, "abc");
  Json op2 = ins(a, kA, 3, "def");
  Json op3 = del(a, kA, 1, 4);  // removes "bcde"
  Json op4 = ins(a, kA, 1, "X");
  REQUIRE(a.text() == "aXf");

  Document b;
  apply_ok(b, op4);
  apply_ok(b, op3);
  apply_ok(b, op2);
  CHECK(b.text().empty());
  CHECK(b.pending_count() >= 2);
  // Buffered ops survive encode/decode.
  Document c = roundtrip(b);
  CHECK(c.pending_count() == b.pending_count());
  apply_ok(b, op1);
  apply_ok(c, op1);
  CHECK(b.text() == "aXf");
  CHECK(c.text() == "aXf");
  CHECK(b.pending_count() == 0);
  CHECK(c.pending_count() == 0);
  // Duplicated pending ops are buffered once.
  Document e;
  apply_ok(e, op2);
  apply_ok(e, op2);
  CHECK(e.pending_count() == 1);
}

TEST_CASE("text: concurrent inserts at one position do not interleave", "[core][text]") {
  Document base;
  Json init = ins(base, kC, 0, "[]");
  Document a = roundtrip(base);
  Document b = roundtrip(base);
  std::vector<Json> ta;
  std::vector<Json> tb;
  const std::string wa = "Anna skriver";
  const std::string wb = "Bo tilføjer";
  // Character by character, like typing.
  std::size_t pos = 1;
  for (char ch : wa) ta.push_back(ins(a, kA, pos++, std::string(1, ch)));
  pos = 1;
  for (std::size_t i = 0; i < wb.size();) {
    const std::size_t n = (static_cast<unsigned char>(wb[i]) >= 0x80) ? 2 : 1;
    tb.push_back(ins(b, kB, pos++, wb.substr(i, n)));
    i += n;
  }
  Document a2 = a;
  for (const Json& op : tb) apply_ok(a, op);
  for (auto it = ta.rbegin(); it != ta.rend(); ++it) apply_ok(b, *it);  // reversed order
  CHECK(a.text() == b.text());
  const std::string t = a.text();
  CHECK((t == "[" + wa + wb + "]" || t == "[" + wb + wa + "]"));
  CHECK(b.pending_count() == 0);
  (void)a2;
}

TEST_CASE("text: concurrent edits converge whatever the order", "[core][text]") {
  Document base;
  Json init = ins(base, kC, 0, "Mødet sluttede kl. 15.");
  Document a = roundtrip(base);
  Document b = roundtrip(base);
  Json a1 = ins(a, kA, 5, " i aulaen");
  Json a2 = del(a, kA, 0, 1);
  Json b1 = del(b, kB, 6, 8);  // "sluttede"
  Json b2 = ins(b, kB, 6, "begyndte");
  Json b3 = ins(b, kB, b.size(), " ✓");
  Document x = roundtrip(base);
  Document y = roundtrip(base);
  for (const Json& op : {a1, a2, b1, b2, b3}) apply_ok(x, op);
  for (const Json& op : {b3, b2, a2, b1, a1}) apply_ok(y, op);
  for (const Json& op : {b1, b2, b3}) apply_ok(a, op);
  for (const Json& op : {a2, a1}) apply_ok(b, op);
  CHECK(x.text() == y.text());
  CHECK(a.text() == x.text());
  CHECK(b.text() == x.text());
  CHECK(x.text() == "ødet i aulaen begyndte kl. 15. ✓");
}

TEST_CASE("text: encode/decode round trip", "[core][text]") {
  Document d;
  ins(d, kA, 0, "hemmelig kode: 1234");
  del(d, kA, 0, d.size());
  ins(d, kA, 0, "Elevernes refleksion: ");
  ins(d, kB, 0, "æøå 😀 ");
  del(d, kB, 2, 3);
  const std::string bytes = d.encode();
  // Deleted content is not kept.
  CHECK(bytes.find("hemmelig") == std::string::npos);
  CHECK(bytes.find("1234") == std::string::npos);
  auto r = Document::decode(bytes);
  REQUIRE(r.ok());
  CHECK(r->text() == d.text());
  CHECK(r->size() == d.size());
  CHECK(r->encode() == bytes);
  // The decoded document behaves like the original.
  Json e1 = ins(d, kA, 3, "ny");
  Json e2 = ins(*r, kA, 3, "ny");
  CHECK(e1 == e2);
  CHECK(r->text() == d.text());
  // An agent continues after its highest id: no id reuse after a restore.
  CHECK(e1[0]["id"][1].get<std::uint64_t>() > 19);
  // Copy and assignment.
  Document copy = d;
  CHECK(copy.text() == d.text());
  Document assigned;
  assigned = copy;
  CHECK(assigned.encode() == copy.encode());
  // Empty document.
  auto empty = Document::decode(Document().encode());
  REQUIRE(empty.ok());
  CHECK(empty->size() == 0);
}

TEST_CASE("text: decode rejects bad bytes without crashing", "[core][text]") {
  Document d;
  ins(d, kA, 0, "Noter fra vejledning æøå");
  del(d, kA, 3, 4);
  ins(d, kB, 5, "😀");
  Document pending;
  apply_ok(pending,
           Json::parse(R"({"op":"ins","id":["zz",5],"left":["zz",4],"right":null,"text":"x"})"));
  for (const Document* doc : {&d, &pending}) {
    const std::string bytes = doc->encode();
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      auto r = Document::decode(std::string_view(bytes).substr(0, n));
      CHECK_FALSE(r.ok());
    }
    auto trailing = Document::decode(bytes + "x");
    REQUIRE_FALSE(trailing.ok());
    CHECK(trailing.error().code == ErrorCode::kCorrupt);
    // Single-byte corruptions: either rejected or a valid document.
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string bad = bytes;
        bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
        auto r = Document::decode(bad);
        if (r.ok()) (void)r->text();
      }
    }
  }
  auto garbage = Document::decode("not a document");
  REQUIRE_FALSE(garbage.ok());
  CHECK(garbage.error().code == ErrorCode::kCorrupt);
  std::string future = d.encode();
  future[4] = 9;
  auto newer = Document::decode(future);
  REQUIRE_FALSE(newer.ok());
  CHECK(newer.error().code == ErrorCode::kUnsupportedVersion);
}

TEST_CASE("text: malformed ops are rejected and change nothing", "[core][text]") {
  Document d;
  ins(d, kA, 0, "abc");
  const std::string before = d.encode();
  const char* bad[] = {
      R"(42)",
      R"("ins")",
      R"({})",
      R"({"op":"upsert"})",
      R"({"op":"ins","id":["b",0],"left":null,"right":null})",
      R"({"op":"ins","id":["b",0],"left":null,"right":null,"text":""})",
      R"({"op":"ins","id":["b",0],"left":null,"right":null,"text":5})",
      R"({"op":"ins","id":["b",-1],"left":null,"right":null,"text":"x"})",
      R"({"op":"ins","id":["b",1.5],"left":null,"right":null,"text":"x"})",
      R"({"op":"ins","id":["b"],"left":null,"right":null,"text":"x"})",
      R"({"op":"ins","id":[7,0],"left":null,"right":null,"text":"x"})",
      R"({"op":"ins","id":["",0],"left":null,"right":null,"text":"x"})",
      R"({"op":"ins","id":null,"left":null,"right":null,"text":"x"})",
      R"({"op":"ins","id":["b",0],"left":"a","right":null,"text":"x"})",
      R"({"op":"ins","id":["b",0],"left":null,"right":null,"text":"x","extra":1})",
      R"({"op":"ins","id":["b",0],"left":["b",1],"right":null,"text":"xy"})",
      R"({"op":"ins","id":["b",0],"left":["a",1],"right":["a",1],"text":"x"})",
      R"({"op":"ins","id":["b",9007199254740991],"left":null,"right":null,"text":"xy"})",
      R"({"op":"del","by":"b","ids":[]})",
      R"({"op":"del","by":"b","ids":[["a",0,0]]})",
      R"({"op":"del","by":"b","ids":[["a",0]]})",
      R"({"op":"del","by":"b","ids":[["a",-1,1]]})",
      R"({"op":"del","ids":[["a",0,1]]})",
      R"({"op":"del","by":"b","ids":[["a",0,1]],"text":"x"})",
      R"([{"op":"ins","id":["b",0],"left":null,"right":null,"text":"ok"},{"op":"nope"}])",
  };
  for (const char* text : bad) {
    INFO(text);
    auto s = d.apply(Json::parse(text));
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code == ErrorCode::kInvalidArgument);
  }
  // Invalid UTF-8 inside an otherwise fine op.
  Json op = {{"op", "ins"},
             {"id", {"b", 0}},
             {"left", nullptr},
             {"right", nullptr},
             {"text", std::string("\xC3", 1)}};
  auto s = d.apply(op);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == ErrorCode::kInvalidUtf8);
  CHECK(d.encode() == before);
  CHECK(d.pending_count() == 0);
  // A single op object (not wrapped in an array) is accepted.
  apply_ok(d, Json::parse(R"({"op":"ins","id":["b",0],"left":null,"right":null,"text":"Z"})"));
  CHECK(d.text() == "abcZ");  // concurrent with "abc" at the start: agent order
}

TEST_CASE("text: a delete that arrives before its insert waits for it", "[core][text]") {
  Document a;
  Json i1 = ins(a, kA, 0, "hello world");
  Json d1 = del(a, kA, 0, 6);
  Document b;
  apply_ok(b, d1);
  CHECK(b.pending_count() == 1);
  apply_ok(b, i1);
  CHECK(b.text() == "world");
  CHECK(b.pending_count() == 0);
  // Deleting twice (concurrently) is the same as once.
  Document c;
  apply_ok(c, i1);
  Json d2 = del(c, kC, 0, 6);
  apply_ok(a, d2);
  apply_ok(c, d1);
  CHECK(a.text() == "world");
  CHECK(c.text() == "world");
}

TEST_CASE("text: long runs survive encode/decode and later edits", "[core][text]") {
  Document a;
  std::string long_text;
  for (int i = 0; i < 900; ++i) long_text += (i % 7 == 0) ? "æ" : "ab";
  Json first = ins(a, kA, 0, long_text);
  Json tail = ins(a, kA, a.size(), "slut");  // continues the run
  Document b;
  apply_ok(b, first);
  apply_ok(b, tail);
  Document c = roundtrip(a);
  CHECK(c.text() == a.text());
  CHECK(c.encode() == a.encode());
  // Concurrent edits inside the long run, merged both ways.
  Json ea = ins(c, kB, 700, "X");
  Json eb = del(b, kC, 650, 100);
  Json ec = ins(b, kC, 1500, "Y");
  apply_ok(c, eb);
  apply_ok(c, ec);
  apply_ok(b, ea);
  CHECK(c.text() == b.text());
  CHECK(roundtrip(c).text() == c.text());
}

TEST_CASE("text: initial_ops equals inserting into an empty document", "[core][text]") {
  const std::string agent = "00000000000000ab";
  for (const std::string& text : std::vector<std::string>{"", "a", "Læseløft for 4.b 📚", std::string(3000, 'x')}) {
    Document doc;
    auto from_doc = doc.insert(agent, 0, text);
    auto direct = Document::initial_ops(agent, text);
    REQUIRE(from_doc.ok());
    REQUIRE(direct.ok());
    CHECK(*direct == *from_doc);
  }
  CHECK(Document::initial_ops(agent, "\xff").error().code == ErrorCode::kInvalidUtf8);
  CHECK(Document::initial_ops("not an agent", "x").error().code == ErrorCode::kInvalidArgument);
}
