#include "fixtures.hpp"

namespace tandem::fuzz {

FixedClock& fixture_clock() {
  static FixedClock clock;
  return clock;
}

std::unique_ptr<Store> open_fixed_store(const std::string& path, const std::string& site) {
  auto open = [&] {
    auto s = Store::open({path, &fixture_clock()});
    check(s.ok(), "cannot open a fixture store", s.ok() ? "" : s.error().message);
    return std::move(*s);
  };
  auto store = open();
  if (store->site_id() == site) return store;
  // A new file: the store reads its site id when it opens.
  check(store->set_meta("site_id", site).ok(), "cannot set a fixture's site id");
  store.reset();
  store = open();
  check(store->site_id() == site, "a fixture store kept a random site id");
  return store;
}

void create_record(Store& store, const char* kind, const Json& fields, const char* id) {
  auto made = store.create(kind, fields, id);
  check(made.ok(), "cannot create a fixture record", made.ok() ? "" : made.error().message);
}

std::unique_ptr<Store> make_tablet(const std::string& path, const std::string& site) {
  auto store = open_fixed_store(path, site);
  create_record(*store, "school", {{"name", "Skovbakkeskolen"}}, kSchoolId);
  check(store->set_default_school(kSchoolId).ok(), "cannot set the default school");
  create_record(*store, "person",
                {{"school", kSchoolId}, {"name", "Ida Holm"}, {"role", "resource_person"}},
                kPersonId);
  create_record(*store, "course",
                {{"school", kSchoolId},
                 {"kind", "co_teaching"},
                 {"title", "Læseløft 4.b"},
                 {"focus_areas", Json::array({"relations", "classroom_management"})},
                 {"goals", "Eleverne læser 20 minutter hver dag."}},
                kCourseId);
  return store;
}

text::Document make_text_base() {
  text::Document a;
  text::Document b;
  auto apply = [](text::Document& to, const Result<Json>& ops) {
    check(ops.ok() && to.apply(*ops).ok(), "building the base text failed");
  };
  apply(b, a.insert("site-a", 0, "Læseløft 4.b: målet er ro"));
  // Concurrent edits at the same place and elsewhere, then exchanged.
  auto a1 = a.insert("site-a", 13, "fælles ");
  auto b1 = b.insert("site-b", 13, "vores ");
  auto b2 = b.remove("site-b", 0, 4);
  apply(a, b1);
  apply(a, b2);
  apply(b, a1);
  check(a.text() == b.text(), "the base text's replicas differ");
  // An op whose left origin never arrives: it stays buffered.
  const Json orphan = Json::parse(
      R"([{"op":"ins","id":["site-c",5],"left":["site-c",4],"right":null,"text":"🙂"}])");
  check(a.apply(orphan).ok(), "building the base text failed");
  return a;
}

}  // namespace tandem::fuzz
