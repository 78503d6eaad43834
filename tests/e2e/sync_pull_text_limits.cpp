// A pulled change over the text cost limits (text/limits.hpp) — forged, or
// accepted by a server without the limits — is left out and counted
// (SyncSummary::pulled_refused); the rest of its page is merged and the
// cursor moves on, so the device's sync does not fail on it for good.
#include <catch2/catch.hpp>

#include "server_process.hpp"
#include "sync_fixture.hpp"
#include "tandem/core/text/limits.hpp"

namespace tandem::test {
namespace {

// Answers the first request with `page`, every later one with an empty page
// at the same cursor.
class PageTransport final : public sync::Transport {
 public:
  PageTransport(nlohmann::json page, std::int64_t cursor)
      : page_(std::move(page)), cursor_(cursor) {}
  Result<sync::HttpResponse> send(const sync::HttpRequest&) override {
    nlohmann::json answer{{"server_time_ms", wall_ms()}};
    answer["pull"] = {{"changes", requests++ == 0 ? page_ : nlohmann::json::array()},
                      {"cursor", cursor_},
                      {"more", false}};
    return sync::HttpResponse{200, answer.dump()};
  }
  int requests = 0;

 private:
  static std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  nlohmann::json page_;
  std::int64_t cursor_;
};

}  // namespace

TEST_CASE("a pulled change over the text cost limits is left out and the page merged",
          "[e2e][sync][text]") {
  TempDir dir;
  Tablet a(dir.file("a.db"));
  REQUIRE(a.store().set_meta(sync::kMetaToken, "token").ok());
  ChangeMaker maker;
  const std::string school = "school_00000000000000000001";
  const Change course = maker.create_course(school, "Kursus");
  Change forged = course;
  forged.op = Op::kText;
  forged.field = "goals";
  forged.value = nlohmann::json::array();
  for (std::uint64_t i = 0; i <= text::kMaxOpsPerChange; ++i) {
    forged.value.push_back({{"op", "ins"},
                            {"id", {"agent" + std::to_string(i % 100), i / 100}},
                            {"left", nullptr},
                            {"right", nullptr},
                            {"text", "z"}});
  }
  const Change bomb = maker.restamp(forged);
  const Change title = maker.set_field(course, "title", "Nyt navn");
  nlohmann::json page = nlohmann::json::array();
  std::int64_t seq = 0;
  for (const Change* c : {&course, &bomb, &title})
    page.push_back({{"seq", ++seq}, {"change", c->to_json()}});
  PageTransport transport(page, seq);
  sync::SyncEngine engine(
      a.store(), transport, a.clock(), [](std::chrono::milliseconds) {},
      [] { return std::uint64_t{7}; });
  auto summary = engine.sync();
  REQUIRE(summary.ok());
  CHECK(summary->pulled == 3);
  CHECK(summary->pulled_refused == 1);
  CHECK(summary->applied == 2);
  CHECK(summary->cursor == 3);
  auto record = a.store().get(course.record);
  REQUIRE(record.ok());
  CHECK(record->fields["title"] == "Nyt navn");
  CHECK(record->fields.value("goals", std::string()).empty());
}

}  // namespace tandem::test
