// Visibility: what a device sees, how its view moves, and the pages it
// receives (access.hpp; the table is docs/visibility.md).
#include <algorithm>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "tandem/core/consent.hpp"
#include "tandem/core/schema.hpp"
#include "tandem/server/access.hpp"
#include "tandem/server/limits.hpp"

namespace tandem::server {
namespace {

std::string consent_key(std::string_view child, std::string_view scope) {
  std::string k(child);
  k += ' ';
  k += scope;
  return k;
}

Json set_json(const std::set<std::string>& s) { return Json(std::vector<std::string>(s.begin(), s.end())); }

std::set<std::string> json_set(const Json& j, const char* name) {
  std::set<std::string> out;
  auto it = j.find(name);
  if (it != j.end() && it->is_array()) {
    for (const auto& e : *it)
      if (e.is_string()) out.insert(e.get<std::string>());
  }
  return out;
}

// The rule itself is core's (consent.hpp), shared with the devices.
bool in_force(const ConsentRow& c, std::string_view day) {
  return c.live && consent_in_force(c.given_on, c.withdrawn_on, day);
}

// A view that holds everything / nothing: what a device that predates
// visibility may hold, and what a new device holds.
View everything() {
  View v;
  v.all = true;
  return v;
}

View nothing() {
  View v;
  v.notes = false;
  return v;
}

}  // namespace

bool is_reference_kind(std::string_view kind) {
  return kind == "school" || kind == "person" || kind == "group" || kind == "template";
}

Json View::to_json() const {
  return Json{{"person", person},           {"role", role},
              {"all", all},                 {"notes", notes},
              {"anchors", set_json(anchors)}, {"consents", set_json(consents)},
              {"children", set_json(children)}};
}

View View::from_json(const Json& j) {
  View v;
  if (!j.is_object()) return nothing();
  v.person = j.value("person", std::string());
  v.role = j.value("role", std::string());
  v.all = j.value("all", false);
  v.notes = j.value("notes", false);
  v.anchors = json_set(j, "anchors");
  v.consents = json_set(j, "consents");
  v.children = json_set(j, "children");
  return v;
}

bool visible(const RecordScope& s, const View& v) {
  if (v.all) return true;
  if (is_reference_kind(s.kind)) return true;
  if (!v.notes) return false;
  const bool own = !s.author.empty() && s.author == v.person;
  if (s.kind == "child" || s.kind == "consent") return own || v.children.count(s.child) > 0;
  const bool takes_part = (!s.anchor.empty() && v.anchors.count(s.anchor) > 0) ||
                          (!s.anchor_author.empty() && s.anchor_author == v.person) ||
                          (!s.assignee.empty() && s.assignee == v.person);
  if (!own && !takes_part) return false;
  if (s.child.empty() || own) return true;
  // A record that names a child, beyond its author: only under consent.
  return v.consents.count(consent_key(s.child, consent_scope_for(s.anchor_kind, v.role))) > 0;
}

Result<View> compute_view(const DeviceRecord& device, std::string_view day, PushTransaction& txn) {
  View v;
  v.person = device.person;
  auto person = txn.record(device.person);
  if (!person) return std::move(person).error();
  if (!*person || !(*person)->live() || (*person)->school != device.school) {
    v.notes = false;  // a person removed: reference data only
    return v;
  }
  auto role = (*person)->fields.find("role");
  v.role = role != (*person)->fields.end() && role->is_string() ? role->get<std::string>() : "";
  if (v.role == "leader" || v.role == "resource_person") {
    v.all = true;
    return v;
  }
  if (v.role != "teacher" && v.role != "pedagogue" && v.role != "external") {
    v.notes = false;  // admin (and any role this server does not know)
    return v;
  }
  auto anchors = txn.anchors_of(device.school, device.person);
  if (!anchors) return std::move(anchors).error();
  v.anchors.insert(anchors->begin(), anchors->end());
  auto consents = txn.consents(device.school);
  if (!consents) return std::move(consents).error();
  for (const auto& c : *consents)
    if (in_force(c, day)) v.consents.insert(consent_key(c.child, c.scope));
  // The children the view shows: those listed on a course the person takes
  // part in, and those named by records the person sees, under consent.
  auto links = txn.links_of(*anchors);
  if (!links) return std::move(links).error();
  for (const auto& [anchor, child] : *links) {
    if (v.consents.count(consent_key(child, consent_scope_for("course", v.role))))
      v.children.insert(child);
  }
  auto scopes = txn.school_scopes(device.school);
  if (!scopes) return std::move(scopes).error();
  for (const auto& s : *scopes) {
    if (s.child.empty() || s.kind == "child" || s.kind == "consent") continue;
    if (visible(s, v)) v.children.insert(s.child);
  }
  return v;
}

bool view_needs_update(const PullState& state, const sync::PullRequest& request,
                       std::string_view day) {
  if (!state.view) return true;
  const DeviceView& d = *state.view;
  if (d.backfill_pending()) return true;  // records that moved in (access.cpp)
  const bool acked = request.view == d.number;
  if (acked && (!d.gone.empty() || d.rewind || d.acked_view != d.view)) return true;
  if (acked && !d.backfill.empty() && request.cursor >= d.backfill_upto) return true;
  return d.scope_version != state.scope_version || d.day != day;
}

Result<DeviceView> update_view(const DeviceRecord& device, const sync::PullRequest& request,
                               std::string_view day, PushTransaction& txn) {
  auto stored = txn.device_view(device.id);
  if (!stored) return std::move(stored).error();
  auto now = txn.device(device.id);
  if (!now) return std::move(now).error();
  const DeviceRecord& dev = *now ? **now : device;  // its person and school as stored now
  auto school_version = txn.scope_version(dev.school);
  if (!school_version) return std::move(school_version).error();
  auto person_version = txn.scope_version(dev.person);
  if (!person_version) return std::move(person_version).error();
  const std::int64_t version = *school_version + *person_version;
  const bool first = !*stored;
  DeviceView d = first ? DeviceView{} : **stored;
  if (!first && d.backfill_pending()) {
    // Records that moved into the view (access.cpp tell_devices): their rows
    // up to where the device has pulled, after a rewind.
    d.backfill_upto = std::max<std::int64_t>(request.cursor, 0);
    d.rewind = true;
    if (request.view == d.number) ++d.number;
  }
  if (!first && request.view == d.number) {
    // The device applied the answer that carried `number`.
    d.acked_view = d.view;
    d.gone.erase(d.gone.begin(),
                 d.gone.begin() + static_cast<std::ptrdiff_t>(
                                      std::min(d.gone.size(), kMaxGonePerPage)));
    if (!d.gone.empty()) ++d.number;  // the next ones go with a new number
    d.rewind = false;
    if (!d.backfill.empty() && request.cursor >= d.backfill_upto) d.backfill.clear();
  }
  if (first || d.scope_version != version || d.day != day) {
    auto fresh = compute_view(dev, day, txn);
    if (!fresh) return std::move(fresh).error();
    const View old = first ? (request.cursor > 0 ? everything() : nothing()) : View::from_json(Json::parse(d.view, nullptr, false));
    const std::string text = fresh->text();
    if (first || text != d.view) {
      // What the device holds: what the old view showed, up to where it has
      // pulled (or had pulled before a backfill took it back).
      const std::int64_t held_upto =
          std::max(request.cursor, d.backfill.empty() ? std::int64_t{0} : d.backfill_upto);
      auto scopes = txn.school_scopes(dev.school);
      if (!scopes) return std::move(scopes).error();
      std::unordered_set<std::string> gone(d.gone.begin(), d.gone.end());
      std::unordered_set<std::string> backfill(d.backfill.begin(), d.backfill.end());
      bool added = false;
      for (const auto& s : *scopes) {
        const bool is = visible(s, *fresh);
        if (is) gone.erase(s.record);  // not erased yet (not acknowledged): kept
        if (s.first_seq == 0 || s.first_seq > held_upto) continue;
        const bool was = visible(s, old);
        if (was && !is) {
          gone.insert(s.record);
          backfill.erase(s.record);
        } else if (!was && is && !backfill.count(s.record)) {
          backfill.insert(s.record);
          added = true;
        }
      }
      d.gone.assign(gone.begin(), gone.end());
      std::sort(d.gone.begin(), d.gone.end());
      d.backfill.assign(backfill.begin(), backfill.end());
      std::sort(d.backfill.begin(), d.backfill.end());
      if (added) {
        d.backfill_upto = held_upto;
        d.rewind = true;
      }
      d.view = text;
      if (first) d.acked_view = text;
      ++d.number;
    }
    d.scope_version = version;
    d.day = std::string(day);
  }
  TANDEM_TRY(txn.put_device_view(device.id, d));
  return d;
}

namespace {

// Keeps the first `max_keep` rows `view` shows (`cut`: it showed more);
// collects the child-linked ones kept, which are delivered.
Status filter_rows(ServerStorage& storage, const View& view, std::vector<StoredChange>& rows,
                   std::size_t max_keep, std::vector<AuditRef>& delivered, bool& cut) {
  if (rows.empty()) return {};
  std::vector<std::string> ids;
  ids.reserve(rows.size());
  for (const auto& r : rows) ids.push_back(r.record);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  auto scopes = storage.scopes_of(ids);
  if (!scopes) return std::move(scopes).error();
  std::unordered_map<std::string_view, const RecordScope*> by_id;
  by_id.reserve(scopes->size());
  for (const auto& s : *scopes) by_id.emplace(s->record, s.get());
  std::unordered_set<std::string> seen;
  std::size_t kept = 0;
  std::erase_if(rows, [&](const StoredChange& row) {
    auto it = by_id.find(row.record);
    // A row without a scope row is seen by the resource centre only.
    bool keep = it == by_id.end() ? view.all : visible(*it->second, view);
    if (keep && kept == max_keep) {
      keep = false;
      cut = true;
    }
    kept += keep ? 1 : 0;
    if (keep && it != by_id.end() && !it->second->child.empty() && seen.insert(row.record).second)
      delivered.push_back(AuditRef{row.record, it->second->child});
    return !keep;
  });
  return {};
}

}  // namespace

Result<VisiblePage> changes_visible_to(ServerStorage& storage, const DeviceRecord& device,
                                       const sync::PullRequest& request, const DeviceView& state) {
  const std::size_t limit = std::clamp<std::size_t>(request.limit, 1, kMaxPullLimit);
  // Parsed only when a page has rows to judge: an up-to-date device's
  // check-in (nearly every sync) reads nothing but memory.
  std::optional<View> parsed;
  auto view = [&]() -> const View& {
    if (!parsed) parsed = View::from_json(Json::parse(state.view, nullptr, false));
    return *parsed;
  };
  VisiblePage out;
  sync::EncodedPullPage& page = out.page;
  page.view = state.number;
  const bool acked = request.view == state.number;
  if (!acked) {
    page.gone.assign(state.gone.begin(),
                     state.gone.begin() + static_cast<std::ptrdiff_t>(
                                              std::min(state.gone.size(), kMaxGonePerPage)));
    if (state.rewind) {
      page.rewind = true;
      page.cursor = 0;
      page.more = true;
      return out;
    }
  }
  std::int64_t cursor = request.cursor;
  if (!state.backfill.empty() && cursor < state.backfill_upto && !state.rewind) {
    // The records that entered the view, from the start, up to where the
    // device had pulled when they did.
    auto rows = storage.read_record_changes(device.school, state.backfill, cursor,
                                            state.backfill_upto, limit, kMaxPullPageBytes);
    if (!rows) return std::move(rows).error();
    bool cut = false;
    TANDEM_TRY(filter_rows(storage, view(), rows->rows, limit, out.delivered, cut));
    for (auto& row : rows->rows) page.changes.push_back({row.seq, std::move(row.body)});
    page.cursor = rows->cursor;
    page.more = true;  // the rows after backfill_upto follow
    return out;
  }
  std::size_t scanned = 0, bytes = 0;
  for (;;) {
    // The first read asks for a page; once the view is known to filter, the
    // reads go on in batches, and the page is cut where it is full.
    const std::size_t want = limit - page.changes.size();
    const std::size_t batch = parsed && !parsed->all ? std::max(want, kPullScanBatchRows) : want;
    auto rows = storage.read_changes(device.school, cursor, batch,
                                     kMaxPullPageBytes - std::min(bytes, kMaxPullPageBytes),
                                     device.id);
    if (!rows) return std::move(rows).error();
    scanned += rows->rows.size();
    bool cut = false;
    if (!rows->rows.empty())
      TANDEM_TRY(filter_rows(storage, view(), rows->rows, want, out.delivered, cut));
    for (auto& row : rows->rows) {
      bytes += row.body.size();
      page.changes.push_back({row.seq, std::move(row.body)});
    }
    if (cut) {
      // Rows this device sees remain after the last one the page carries.
      cursor = page.changes.back().seq;
      page.more = true;
      break;
    }
    cursor = std::max(cursor, rows->cursor);
    page.more = rows->more;
    // Stop when the page is full, the school has no more, or this request
    // has read its share (the cursor moved: the next one goes on).
    if (!rows->more || page.changes.size() >= limit || bytes >= kMaxPullPageBytes ||
        scanned >= kMaxScannedRowsPerPull || (parsed && parsed->all)) {
      break;
    }
  }
  page.cursor = std::max(request.cursor, cursor);
  return out;
}

}  // namespace tandem::server
