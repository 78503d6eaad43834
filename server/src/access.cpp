// The write twin of visibility and the bookkeeping that keeps every record's
// scope queryable (see access.hpp; the table is docs/visibility.md).
#include "tandem/server/access.hpp"

#include <algorithm>
#include <future>
#include <iterator>
#include <map>

#include "tandem/core/excerpt.hpp"
#include "tandem/core/schema.hpp"
#include "tandem/server/limits.hpp"

namespace tandem::server {
namespace {

Error not_found(const std::string& id) {
  return make_error(ErrorCode::kNotFound, "no record " + excerpt(id));
}

Error administration_only(const char* what) {
  return make_error(ErrorCode::kForbidden,
                    std::string(what) + " are set by the school's administration, not by a device");
}

// The field naming the record a kind hangs under ("" none).
const char* parent_field(std::string_view kind) {
  if (kind == "session") return "course";
  if (kind == "entry" || kind == "reflection") return "session";
  if (kind == "agenda_item") return "meeting";
  if (kind == "consent") return "child";
  if (kind == "action") return "source";
  return "";
}

std::string text_of(const Json& fields, const char* name) {
  auto it = fields.find(name);
  return it != fields.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::vector<std::string> list_of(const Json& fields, const char* name) {
  std::vector<std::string> out;
  auto it = fields.find(name);
  if (it == fields.end()) return out;
  if (it->is_string()) out.push_back(it->get<std::string>());
  if (it->is_array()) {
    for (const auto& e : *it)
      if (e.is_string()) out.push_back(e.get<std::string>());
  }
  return out;
}

// Checks a reference to the record a new or moved record hangs under: the
// record must be known, of the device's school, and in the device's view.
// Unknown, other school's and invisible read alike.
Status check_parent(const DeviceRecord& device, const View& view, const std::string& parent,
                    PushTransaction& txn) {
  if (parent.empty()) return {};
  auto school = txn.record_school(parent);
  if (!school) return std::move(school).error();
  if (*school && (*school)->empty()) return {};  // built-in (templates)
  if (*school && **school != device.school) return not_found(parent);
  if (view.all) return {};
  if (!*school) return not_found(parent);
  auto scope = txn.scope(parent);
  if (!scope) return std::move(scope).error();
  if (!*scope || !visible(**scope, view)) return not_found(parent);
  return {};
}

// A record that exists elsewhere is refused like an unknown one; unknown
// ids pass (a device may refer to records the server has not seen yet).
Status check_in_school(const DeviceRecord& device, const std::string& id, PushTransaction& txn) {
  auto school = txn.record_school(id);
  if (!school) return std::move(school).error();
  if (*school && !(*school)->empty() && **school != device.school) return not_found(id);
  return {};
}

Status check_refs(const DeviceRecord& device, const FieldSpec& field, const Json& value,
                  PushTransaction& txn) {
  if (field.type != FieldType::kRef && field.type != FieldType::kRefSet) return {};
  if (value.is_string()) return check_in_school(device, value.get<std::string>(), txn);
  if (value.is_array()) {
    for (const auto& el : value)
      if (el.is_string()) TANDEM_TRY(check_in_school(device, el.get<std::string>(), txn));
  }
  return {};
}

// Who may write reference data (the school record and people are the
// administration's, except a person's own name and initials).
Status check_reference_write(const DeviceRecord& device, const View& view, const Change& change) {
  if (change.kind == "person") {
    if (change.op == Op::kSet && change.record == device.person &&
        (change.field == "name" || change.field == "initials")) {
      return {};
    }
    return administration_only("people, their roles, professions and schools");
  }
  if (change.kind == "school") {
    if (view.role == "leader") return {};
    return administration_only("the school's own record and its settings");
  }
  // Groups and templates: everyone who works with notes, not externals.
  if (view.role == "external" || view.role.empty())
    return administration_only("classes, groups and templates");
  return {};
}

}  // namespace

Status check_write_access(const DeviceRecord& device, const View& view, const Change& change,
                          PushTransaction& txn) {
  if (change.school != device.school) {
    return make_error(ErrorCode::kWrongSchool,
                      "the change names another school than this device's");
  }
  if (change.kind == "school" && change.record != change.school) {
    return make_error(ErrorCode::kInvalidArgument, "a school record's id must be its school");
  }
  auto school = txn.record_school(change.record);
  if (!school) return std::move(school).error();
  // The record must be the device's school's. A change to a record the
  // server does not have is refused too, unless it creates it (an earlier
  // change of the same push may have: the transaction sees it): a record
  // never reaches another device without its create. A purge carries no
  // content and may erase what never arrived. Both refusals read alike.
  if (*school ? **school != device.school
              : (change.op != Op::kCreate && change.op != Op::kPurge)) {
    return not_found(change.record);
  }
  if (is_reference_kind(change.kind)) {
    TANDEM_TRY(check_reference_write(device, view, change));
  } else if (!view.notes) {
    // Reference data only: notes beyond it read as unknown.
    return not_found(change.record);
  } else if (*school && !view.all) {
    auto scope = txn.scope(change.record);
    if (!scope) return std::move(scope).error();
    if (*scope && !visible(**scope, view)) return not_found(change.record);
  }
  const KindSpec* kind = find_kind(change.kind);
  if (!kind) return {};  // validate_change reports the unknown kind
  const std::string pfield = parent_field(change.kind);
  if (change.op == Op::kCreate && change.value.is_object()) {
    for (const auto& [name, v] : change.value.items()) {
      const FieldSpec* fs = kind->field(name);
      if (!fs) continue;
      if (name == pfield && v.is_string()) {
        TANDEM_TRY(check_parent(device, view, v.get<std::string>(), txn));
      } else {
        TANDEM_TRY(check_refs(device, *fs, v, txn));
      }
    }
  } else if (change.op == Op::kSet || change.op == Op::kAdd || change.op == Op::kRemove) {
    if (const FieldSpec* fs = kind->field(change.field)) {
      if (change.field == pfield && change.value.is_string()) {
        TANDEM_TRY(check_parent(device, view, change.value.get<std::string>(), txn));
      } else {
        TANDEM_TRY(check_refs(device, *fs, change.value, txn));
      }
    }
  }
  return {};
}

// ---- bookkeeping ----

namespace {

constexpr int kMaxMoveDepth = 8;  // course > session > entry > action > ...: well above real chains

// Gives `scope` its parent, anchor and child from the record's merged fields.
Status derive_scope(const Record& rec, RecordScope& scope, PushTransaction& txn) {
  const Json& f = rec.fields;
  scope.parent.clear();
  scope.anchor.clear();
  scope.anchor_kind.clear();
  scope.child.clear();
  scope.assignee.clear();
  scope.anchor_author.clear();
  const std::string& kind = rec.kind;
  if (kind == "course" || kind == "meeting") {
    scope.anchor = rec.id;
    scope.anchor_kind = kind;
  } else if (kind == "session") {
    scope.parent = text_of(f, "course");
    scope.anchor = scope.parent;
    scope.anchor_kind = "course";
  } else if (kind == "agenda_item") {
    scope.parent = text_of(f, "meeting");
    scope.anchor = scope.parent;
    scope.anchor_kind = "meeting";
    scope.child = text_of(f, "child");
  } else if (kind == "entry" || kind == "reflection" || kind == "action") {
    scope.parent = text_of(f, parent_field(kind));
    if (!scope.parent.empty()) {
      auto parent = txn.scope(scope.parent);
      if (!parent) return std::move(parent).error();
      if (*parent && !(*parent)->anchor.empty()) {
        scope.anchor = (*parent)->anchor;
        scope.anchor_kind = (*parent)->anchor_kind;
      }
    }
    if (kind == "entry") scope.child = text_of(f, "child");
    if (kind == "action") {
      scope.assignee = text_of(f, "tovholder");
      if (scope.anchor.empty()) {  // an action of its own: its people see it
        scope.anchor = rec.id;
        scope.anchor_kind = "action";
      }
    }
  } else if (kind == "child") {
    scope.child = rec.id;
  } else if (kind == "consent") {
    scope.parent = text_of(f, "child");
    scope.child = scope.parent;
  }
  // Whoever made the course, meeting or action sees all that hangs under it.
  if (scope.anchor == rec.id) {
    scope.anchor_author = scope.author;
  } else if (!scope.anchor.empty()) {
    auto anchor = txn.scope(scope.anchor);
    if (!anchor) return std::move(anchor).error();
    if (*anchor) scope.anchor_author = (*anchor)->author;
  }
  return {};
}

// The people of an anchor record (course, meeting, action of its own); its
// author sees it through anchor_author.
std::vector<std::string> members_of(const Record& rec) {
  std::vector<std::string> people = list_of(rec.fields, "participants");
  const std::string tovholder = text_of(rec.fields, "tovholder");
  if (!tovholder.empty()) people.push_back(tovholder);
  std::sort(people.begin(), people.end());
  people.erase(std::unique(people.begin(), people.end()), people.end());
  return people;
}

// Moves what hangs under `parent` with it (depth-bounded: a cycle of
// parents cannot loop).
// A record's scope before and after a change moved it.
struct Moved {
  RecordScope before;
  RecordScope after;
};

Status move_children(const RecordScope& parent, PushTransaction& txn, int depth,
                     std::vector<Moved>& moved) {
  if (depth >= kMaxMoveDepth) return {};
  auto under = txn.scopes_under(parent.record);
  if (!under) return std::move(under).error();
  for (RecordScope s : *under) {
    if (s.kind == "session" || s.kind == "agenda_item" || s.kind == "consent") continue;
    if (s.kind == "action" && s.anchor == s.record && parent.anchor.empty()) continue;
    std::string anchor = parent.anchor, anchor_kind = parent.anchor_kind;
    if (s.kind == "action" && anchor.empty()) {
      anchor = s.record;
      anchor_kind = "action";
    }
    const std::string anchor_author = s.kind == "action" && anchor == s.record ? s.author
                                                                                : parent.anchor_author;
    if (s.anchor == anchor && s.anchor_kind == anchor_kind && s.anchor_author == anchor_author)
      continue;
    RecordScope before = s;
    s.anchor = anchor;
    s.anchor_kind = anchor_kind;
    s.anchor_author = anchor_author;
    TANDEM_TRY(txn.put_scope(s));
    moved.push_back(Moved{std::move(before), s});
    TANDEM_TRY(move_children(s, txn, depth + 1, moved));
  }
  return {};
}

// Views are worked out from where records stand: a record that moves (its
// own change: it names a child now, hangs under another course; or its
// parent's) leaves or enters the views of devices whose view did not change.
// Each device of the school is told at once, in its stored view: a record
// leaving goes on its gone list, under a new view number (an answer already
// sent must not be taken for having carried it); a record entering is
// backfilled from where the device has pulled (kBackfillFromNextPull until
// its next pull says where that is: update_view).
Status tell_devices(std::string_view school, const std::vector<Moved>& moved,
                    PushTransaction& txn) {
  if (moved.empty()) return {};
  auto devices = txn.school_device_views(school);
  if (!devices) return std::move(devices).error();
  for (auto& [device, d] : *devices) {
    const View issued = View::from_json(Json::parse(d.view, nullptr, false));
    const View acked = d.acked_view == d.view
                           ? issued
                           : View::from_json(Json::parse(d.acked_view, nullptr, false));
    if (issued.all && acked.all) continue;  // the resource centre sees the school either way
    std::set<std::string> gone(d.gone.begin(), d.gone.end());
    std::set<std::string> backfill(d.backfill.begin(), d.backfill.end());
    const bool backfilling = !d.backfill.empty();
    bool changed = false, entered = false;
    for (const auto& m : moved) {
      const bool was = visible(m.before, issued) || visible(m.before, acked);
      const bool is = visible(m.after, issued);
      if (was == is) continue;
      changed = true;
      if (was) {
        gone.insert(m.after.record);
        backfill.erase(m.after.record);
      } else {
        gone.erase(m.after.record);
        entered |= backfill.insert(m.after.record).second;
      }
    }
    if (!changed) continue;
    d.gone.assign(gone.begin(), gone.end());
    d.backfill.assign(backfill.begin(), backfill.end());
    if (entered) {
      if (backfilling && d.backfill_upto >= 0) {
        d.rewind = true;  // the backfill under way starts again with the new record
      } else {
        d.backfill_upto = DeviceView::kBackfillFromNextPull;
      }
    }
    if (d.backfill.empty()) d.backfill_upto = 0;
    ++d.number;
    TANDEM_TRY(txn.put_device_view(device, d));
  }
  return {};
}

// `moves`: null, the devices are told of what moved at once; else what
// moved is added there, for the caller to tell (a rebuild of every scope:
// once per school, not once per record).
Status note_record(const std::string& id, std::int64_t seq, std::string_view author,
                   bool created, PushTransaction& txn, std::vector<Moved>* moves = nullptr) {
  auto rec = txn.record(id);
  if (!rec) return std::move(rec).error();
  if (!*rec) return {};
  const Record& r = **rec;
  auto old = txn.scope(id);
  if (!old) return std::move(old).error();
  RecordScope scope;
  if (*old) {
    scope = **old;
  } else {
    scope.record = id;
    scope.school = r.school;
    scope.kind = r.kind;
    scope.first_seq = seq;
    scope.author = std::string(author);
  }
  if (created && scope.author.empty()) scope.author = std::string(author);
  // An erased or deleted record keeps where it stood: its last rows (the
  // delete, the purge) reach exactly those who saw it.
  if (r.purged.empty() && r.deleted.empty()) TANDEM_TRY(derive_scope(r, scope, txn));
  const bool changed = !*old || !(scope == **old);
  if (changed) TANDEM_TRY(txn.put_scope(scope));
  // Whose views this moves: the school's (a record moving, consents, people,
  // children) or only some people's (memberships; a new record naming a
  // child, for those who take part where it hangs).
  bool school_moves = false;
  std::vector<std::string> people_move;
  std::vector<Moved> moved;
  if (*old && changed &&
      (scope.anchor != (*old)->anchor || scope.child != (*old)->child ||
       scope.assignee != (*old)->assignee)) {
    school_moves = true;
    moved.push_back(Moved{**old, scope});
    TANDEM_TRY(move_children(scope, txn, 0, moved));
  }
  // A record whose row comes after rows that hang under it (pushed before
  // their parent reached the server): they move with it now.
  if (!*old && !scope.anchor.empty()) TANDEM_TRY(move_children(scope, txn, 0, moved));
  if (moves) {
    moves->insert(moves->end(), std::make_move_iterator(moved.begin()),
                  std::make_move_iterator(moved.end()));
  } else {
    TANDEM_TRY(tell_devices(r.school, moved, txn));
  }
  if (!*old && !scope.child.empty() && !scope.anchor.empty()) {
    auto members = txn.members(scope.anchor);
    if (!members) return std::move(members).error();
    people_move = std::move(*members);
    if (!scope.anchor_author.empty()) people_move.push_back(scope.anchor_author);
    if (!scope.assignee.empty()) people_move.push_back(scope.assignee);
  }
  if (scope.anchor == id && r.purged.empty()) {
    auto before = txn.members(id);
    if (!before) return std::move(before).error();
    const auto after = r.deleted.empty() ? members_of(r) : std::vector<std::string>{};
    if (*before != after) {
      TANDEM_TRY(txn.set_members(r.school, id, after));
      std::set_symmetric_difference(before->begin(), before->end(), after.begin(), after.end(),
                                    std::back_inserter(people_move));
    }
    if (r.kind == "course") {
      auto links = list_of(r.fields, "children");
      TANDEM_TRY(txn.set_links(r.school, id, links));
      if (!links.empty()) people_move.insert(people_move.end(), after.begin(), after.end());
    }
  }
  if (r.kind == "consent") {
    ConsentRow c{id,
                 r.school,
                 text_of(r.fields, "child"),
                 text_of(r.fields, "scope"),
                 text_of(r.fields, "given_on"),
                 text_of(r.fields, "withdrawn_on"),
                 r.live()};
    TANDEM_TRY(txn.put_consent(c));
    school_moves = true;
  }
  if (r.kind == "person" || r.kind == "child") school_moves = true;
  if (school_moves) TANDEM_TRY(txn.bump_scope_version(r.school));
  std::sort(people_move.begin(), people_move.end());
  people_move.erase(std::unique(people_move.begin(), people_move.end()), people_move.end());
  for (const auto& person : people_move) TANDEM_TRY(txn.bump_scope_version(person));
  return {};
}

}  // namespace

Status note_change(const Change& change, std::int64_t seq, std::string_view author,
                   PushTransaction& txn) {
  return note_record(change.record, seq, author, change.op == Op::kCreate, txn);
}

Status rebuild_scopes(PushTransaction& txn) {
  constexpr std::string_view kDone = "scopes_v4_built";
  auto done = txn.meta(kDone);
  if (!done) return std::move(done).error();
  if (*done) return {};
  // Parents before what hangs under them. The devices are told of what
  // moved per school, at the end.
  std::map<std::string, std::vector<Moved>> moved;  // by school
  for (const char* kind : {"school", "person", "group", "template", "child", "consent", "course",
                           "meeting", "session", "agenda_item", "reflection", "entry", "action"}) {
    auto ids = txn.record_ids(kind);
    if (!ids) return std::move(ids).error();
    for (const auto& id : *ids) {
      auto rec = txn.record(id);
      if (!rec) return std::move(rec).error();
      if (!*rec || (*rec)->school.empty()) continue;  // built-in templates
      auto seq = txn.first_seq((*rec)->school, id);
      if (!seq) return std::move(seq).error();
      TANDEM_TRY(note_record(id, *seq, "", false, txn, &moved[(*rec)->school]));
    }
  }
  for (const auto& [school, moves] : moved) TANDEM_TRY(tell_devices(school, moves, txn));
  return txn.set_meta(kDone, "1");
}

Status prepare_visibility(ServerStorage& storage) {
  std::promise<Status> result;
  auto done = result.get_future();
  storage.submit_write("", 1, [](PushTransaction& txn) { return rebuild_scopes(txn); },
                       [&result](Status s) { result.set_value(std::move(s)); });
  return done.get();
}

Status may_view_reports(std::string_view person_id, const Record* person, std::string_view school,
                        bool resource_persons_allowed) {
  if (person_id.empty()) return {};
  if (!person || person->kind != "person" || !person->live() || person->school != school)
    return make_error(ErrorCode::kNotFound, "no such school");
  const auto role = person->fields.value("role", std::string());
  if (role == "leader" || (role == "resource_person" && resource_persons_allowed)) return {};
  return make_error(ErrorCode::kForbidden,
                    role == "resource_person"
                        ? "this school lets only its leaders see its reports"
                        : "only the school's leaders see its reports");
}

std::string reports_setting_key(std::string_view school) {
  return "reports_for_resource_persons:" + std::string(school);
}

}  // namespace tandem::server
