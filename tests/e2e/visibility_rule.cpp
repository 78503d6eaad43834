// The visibility rule itself (server/src/visibility.cpp), record by record:
// roles, taking part, authorship, and consent for records that name a child.
#include <catch2/catch.hpp>

#include "tandem/server/access.hpp"

using tandem::server::RecordScope;
using tandem::server::View;
using tandem::server::visible;

namespace {

RecordScope row(std::string kind, std::string anchor = "", std::string anchor_kind = "",
                std::string child = "", std::string author = "", std::string assignee = "") {
  RecordScope s;
  s.record = "r_" + kind;
  s.school = "school_1";
  s.kind = std::move(kind);
  s.anchor = std::move(anchor);
  s.anchor_kind = std::move(anchor_kind);
  s.child = std::move(child);
  s.author = std::move(author);
  s.assignee = std::move(assignee);
  return s;
}

View role(const std::string& r) {
  View v;
  v.person = "p_me";
  v.role = r;
  v.all = r == "leader" || r == "resource_person";
  v.notes = r != "admin";
  return v;
}

}  // namespace

TEST_CASE("visibility: the resource centre sees the school, admin reference data only",
          "[visibility]") {
  const RecordScope note = row("entry", "course_1", "course", "child_1", "p_other");
  CHECK(visible(note, role("leader")));
  CHECK(visible(note, role("resource_person")));
  CHECK_FALSE(visible(note, role("admin")));
  CHECK_FALSE(visible(note, role("teacher")));
  for (const char* kind : {"school", "person", "group", "template"}) {
    CHECK(visible(row(kind), role("admin")));
    CHECK(visible(row(kind), role("external")));
  }
  CHECK_FALSE(visible(row("child", "", "", "child_1", "p_other"), role("admin")));
}

TEST_CASE("visibility: teachers and externals see what they take part in", "[visibility]") {
  View teacher = role("teacher");
  const RecordScope session = row("session", "course_1", "course", "", "p_other");
  CHECK_FALSE(visible(session, teacher));
  teacher.anchors.insert("course_1");
  CHECK(visible(session, teacher));
  // An action given to them, under a course they are not in.
  CHECK(visible(row("action", "course_2", "course", "", "p_other", "p_me"), teacher));
  CHECK_FALSE(visible(row("action", "course_2", "course", "", "p_other", "p_x"), teacher));
  // What they wrote themselves, wherever it hangs.
  CHECK(visible(row("entry", "course_9", "course", "child_1", "p_me"), teacher));
}

TEST_CASE("visibility: a record naming a child needs the consent of its forum", "[visibility]") {
  View teacher = role("teacher");
  teacher.anchors = {"course_1", "meeting_1"};
  const RecordScope entry = row("entry", "course_1", "course", "child_1", "p_other");
  const RecordScope item = row("agenda_item", "meeting_1", "meeting", "child_1", "p_other");
  CHECK_FALSE(visible(entry, teacher));
  CHECK_FALSE(visible(item, teacher));
  teacher.consents.insert("child_1 resource_team");
  CHECK_FALSE(visible(entry, teacher));  // the wrong scope for course material
  CHECK(visible(item, teacher));
  teacher.consents.insert("child_1 observation_notes");
  CHECK(visible(entry, teacher));

  View external = role("external");
  external.anchors = {"course_1"};
  external.consents = {"child_1 observation_notes"};
  CHECK_FALSE(visible(entry, external));  // externals need external_professionals
  external.consents.insert("child_1 external_professionals");
  CHECK(visible(entry, external));

  // The child's own record and consents follow the children the view shows.
  const RecordScope child = row("child", "", "", "child_1", "p_other");
  const RecordScope consent = row("consent", "", "", "child_1", "p_other");
  CHECK_FALSE(visible(child, external));
  external.children.insert("child_1");
  CHECK(visible(child, external));
  CHECK(visible(consent, external));
}
