// A school seeded through real tablets for the school's-view tests
// (tests/e2e/school_view*.cpp): people of every role, courses across months,
// focus areas (one the school defined) and kinds, sessions with approaches,
// two COPUS observations, actions overdue, open and done (one on time),
// resource-team meetings with need situations, and a child named in a note.
// Every number the tests expect is worked out by hand in the comments of
// school_view_world.cpp.
#pragma once

#include <memory>
#include <string>

#include "sync_fixture.hpp"

namespace tandem::test {

struct SeededSchool : SyncWorld {
  SeededSchool();
  std::string leader, teacher1, teacher2, external;  // person ids (school.person: the resource person)
  std::string course1, course2, course3, course4, course5, child;
  std::string action_overdue1, action_overdue2;
  TestDevice leader_device, rp_device, teacher_device;
  std::string range_query() const { return "?from=2025-08-01&to=2027-07-31"; }
  std::string url(const std::string& path) const { return server->url(path); }
  std::unique_ptr<Tablet> rp_tablet, leader_tablet;
};

}  // namespace tandem::test
