// A teacher added to a course pulls it and edits it offline before the next
// pull has acknowledged the view that brought it: the edit must be taken
// (writes are judged on the acknowledged view and on the one issued since).
#include <catch2/catch.hpp>

#include "sync_fixture.hpp"

namespace tandem::test {

TEST_CASE("Visibility: a record a view brought can be written before that view is acknowledged",
          "[visibility][widening]") {
  SyncWorld w;
  const std::string teacher = w.add_person("Bo Lærer", "teacher");
  Tablet rp(w.dir.path() + "/rp.db");
  w.enroll(rp);
  Tablet bo(w.dir.path() + "/bo.db");
  bo.enroll(w.base_url(), w.code_for(teacher));

  // The course is created after Bo's first sync: his next pull brings it
  // with a new (not yet acknowledged) view.
  auto course = rp.store().create("course", Json{{"kind", "co_teaching"}, {"title", "Læsning"},
                                                 {"tovholder", w.school.person},
                                                 {"participants", {w.school.person, teacher}}});
  REQUIRE(course.ok());
  REQUIRE(rp.sync(w.base_url()).ok());
  REQUIRE(bo.sync(w.base_url()).ok());
  REQUIRE(bo.store().get(*course).ok());

  // Offline, Bo edits it; then he syncs.
  REQUIRE(bo.store().set(*course, "title", Json("Læsning i 4.b")).ok());
  auto s = bo.sync(w.base_url());
  REQUIRE(s.ok());
  CHECK(s->rejected == 0);
  auto refused = bo.store().rejected();
  REQUIRE(refused.ok());
  CHECK(refused->empty());
  REQUIRE(rp.sync(w.base_url()).ok());
  auto seen = rp.store().get(*course);
  REQUIRE(seen.ok());
  CHECK(seen->fields.at("title") == "Læsning i 4.b");
}

}  // namespace tandem::test
