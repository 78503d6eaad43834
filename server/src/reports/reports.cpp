// Reports: loading a school's records (cached, refreshed from the sequence),
// who may see them (access.cpp), and the audit of what they show.
#include "tandem/server/reports.hpp"

#include <future>
#include <optional>

#include "../viewer.hpp"
#include "compute.hpp"
#include "tandem/core/schema.hpp"
#include "tandem/server/access.hpp"
#include "tandem/server/limits.hpp"

namespace tandem::server {

DateRange school_year_of(std::string_view day) {
  const int year = std::stoi(std::string(day.substr(0, 4)));
  const int month = std::stoi(std::string(day.substr(5, 2)));
  const int start = month >= 8 ? year : year - 1;
  return {std::to_string(start) + "-08-01", std::to_string(start + 1) + "-07-31"};
}

Result<DateRange> parse_range(std::string_view from, std::string_view to, std::string_view today) {
  DateRange range = school_year_of(today);
  for (auto [given, slot] : {std::pair{from, &range.from}, std::pair{to, &range.to}}) {
    if (given.empty()) continue;
    if (!is_valid_date(given))
      return make_error(ErrorCode::kInvalidDate, "from and to are dates: YYYY-MM-DD");
    *slot = std::string(given);
  }
  if (range.from > range.to) return make_error(ErrorCode::kInvalidArgument, "from is after to");
  return range;
}

Reports::Reports(ServerStorage& storage, Now now_ms)
    : storage_(storage), now_ms_(std::move(now_ms)) {}
Reports::~Reports() = default;

std::string Reports::today() const { return copenhagen_date(now_ms_()); }

Result<SchoolData*> Reports::load_locked(std::string_view school) {
  if (!is_valid_id(school)) return make_error(ErrorCode::kNotFound, "no such school");
  auto it = cache_.begin();
  while (it != cache_.end() && (*it)->school != school) ++it;
  if (it == cache_.end()) {
    auto snapshot = storage_.school_records(school, 0);
    if (!snapshot) return std::move(snapshot).error();
    auto data = std::make_unique<SchoolData>();
    data->school = std::string(school);
    data->apply(std::move(*snapshot));
    if (!data->get(school, "school")) return make_error(ErrorCode::kNotFound, "no such school");
    cache_.push_front(std::move(data));
  } else {
    cache_.splice(cache_.begin(), cache_, it);
    SchoolData& data = *cache_.front();
    auto changed = storage_.school_records(school, data.seq);
    if (!changed) {
      cache_.pop_front();  // not known to be current any more
      return std::move(changed).error();
    }
    if (changed->seq != data.seq || !changed->records.empty()) data.apply(std::move(*changed));
    if (data.records.size() > kMaxReportRecords) {
      cache_.pop_front();
      return make_error(ErrorCode::kTooLong, "the school holds more records than a report reads");
    }
  }
  // Least recently used schools go while the cache holds too many schools
  // or records (the one just used always stays).
  std::size_t held = 0;
  for (auto it2 = cache_.begin(); it2 != cache_.end();) {
    held += (*it2)->records.size();
    if (it2 != cache_.begin() &&
        (static_cast<std::size_t>(std::distance(cache_.begin(), it2)) >= kMaxCachedReportSchools ||
         held > kMaxCachedReportRecords)) {
      held -= (*it2)->records.size();
      it2 = cache_.erase(it2);
    } else {
      ++it2;
    }
  }
  return cache_.front().get();
}

// Before anything of the school is read: a stranger costs two point reads,
// never a school load or a place in the cache.
Status Reports::authorize(const Viewer& viewer, std::string_view school) {
  if (viewer.person.empty()) return {};  // the administration (admin CLI)
  if (viewer.school != school) return make_error(ErrorCode::kNotFound, "no such school");
  auto person = storage_.read_record(viewer.person);
  if (!person) return std::move(person).error();
  auto setting = storage_.setting(reports_setting_key(school));
  if (!setting) return std::move(setting).error();
  return may_view_reports(viewer.person, *person ? &**person : nullptr, school,
                          *setting && **setting == "yes");
}

std::shared_ptr<AuditEntry> Reports::audit_entry(const Viewer& viewer, const SchoolData& data,
                                                 const char* action,
                                                 const std::vector<std::string>& records) {
  auto entry = std::make_shared<AuditEntry>();
  entry->at_ms = now_ms_();
  entry->school = data.school;
  entry->person = viewer.person;
  entry->device = viewer.device;
  entry->action = action;
  for (const auto& id : records) {
    const Record* r = data.get(id);
    if (!r) continue;
    if (r->kind == "course") {
      for (const auto& child : set_of(*r, "children")) entry->records.push_back({r->id, child});
    } else if (auto child = child_named(*r); !child.empty()) {
      entry->records.push_back({r->id, child});
    }
  }
  return entry;
}

// Recorded before the answer leaves: the report waits for the commit (with
// the cache's lock released: other reports go on meanwhile).
Status Reports::commit_audit(const std::shared_ptr<AuditEntry>& entry) {
  if (!entry || entry->records.empty()) return {};
  std::promise<Status> done;
  auto future = done.get_future();
  storage_.submit_write(
      entry->school, kPullWriteCost,
      [entry](PushTransaction& txn) { return txn.append_audit(*entry); },
      [&done](Status s) { done.set_value(std::move(s)); });
  return future.get();
}

// Every answer goes the same way: who asks is authorised; `fn` computes the
// answer from the school's records under the cache's lock and names in
// `shown` the records it shows; the audit entry for those naming a child is
// committed with the lock released, before the answer is returned.
template <class T, class Fn>
Result<T> Reports::answer(const Viewer& viewer, std::string_view school, const char* action,
                          Fn&& fn) {
  TANDEM_TRY(authorize(viewer, school));
  std::optional<Result<T>> out;
  std::shared_ptr<AuditEntry> audit;
  {
    std::lock_guard lock(mu_);
    auto data = load_locked(school);
    if (!data) return std::move(data).error();
    std::vector<std::string> shown;
    Result<T> computed = fn(**data, shown);
    if (!computed) return computed;
    audit = audit_entry(viewer, **data, action, shown);
    out.emplace(std::move(computed));
  }
  TANDEM_TRY(commit_audit(audit));
  return std::move(*out);
}

Result<Json> Reports::overview(const Viewer& viewer, std::string_view school,
                               const DateRange& range) {
  // Counts only: no record naming a child is shown, so nothing to audit.
  return answer<Json>(viewer, school, "read",
                      [&](const SchoolData& data, std::vector<std::string>&) -> Result<Json> {
                        return compute_overview(data, range, today());
                      });
}

Result<Json> Reports::course(const Viewer& viewer, std::string_view school,
                             std::string_view course) {
  return answer<Json>(viewer, school, "read",
                      [&](const SchoolData& data, std::vector<std::string>& shown) -> Result<Json> {
                        Json out = compute_course(data, course, today());
                        if (out.is_null())
                          return make_error(ErrorCode::kNotFound, "no such course");
                        shown = child_records_of_course(data, course);
                        shown.emplace_back(course);
                        return out;
                      });
}

Result<Table> Reports::table(const Viewer& viewer, std::string_view school, std::string_view name,
                             const DateRange& range) {
  return answer<Table>(viewer, school, "export",
                       [&](const SchoolData& data, std::vector<std::string>& shown) {
                         auto table = compute_table(data, name, range, today());
                         if (!table) return table;
                         // Rows that come from records naming a child: agenda items that concern
                         // one, observation codes from sessions whose entries name one.
                         if (name == "agenda_items") {
                           for (const auto& row : table->rows)
                             shown.push_back(row[0].get<std::string>());
                         } else if (name == "observations") {
                           std::string last;
                           for (const auto& row : table->rows) {
                             const std::string session = row[0].get<std::string>();
                             if (session == last) continue;
                             last = session;
                             if (auto it = data.entries_of_session.find(session);
                                 it != data.entries_of_session.end()) {
                               for (const Record* e : it->second) shown.push_back(e->id);
                             }
                           }
                         }
                         return table;
                       });
}

Result<Json> Reports::archive(const Viewer& viewer, std::string_view school) {
  return answer<Json>(viewer, school, "export",
                      [&](const SchoolData& d, std::vector<std::string>& shown) -> Result<Json> {
                        std::vector<const Record*> all;
                        all.reserve(d.records.size());
                        for (const auto& [id, r] : d.records) all.push_back(&r);
                        std::sort(all.begin(), all.end(), [](const Record* a, const Record* b) {
                          return std::tie(a->kind, a->id) < std::tie(b->kind, b->id);
                        });
                        Json records = Json::array();
                        for (const Record* r : all) {
                          records.push_back(r->to_json());
                          if (r->kind == "course" || !child_named(*r).empty())
                            shown.push_back(r->id);
                        }
                        const std::string day = today();
                        return Json{{"format", "tandem-school-archive"},
                                    {"version", 1},
                                    {"school", d.school},
                                    {"exported_at", format_datetime_ms(now_ms_())},
                                    {"sequence", d.seq},
                                    {"records", std::move(records)},
                                    {"overview", compute_overview(d, school_year_of(day), day)}};
                      });
}

}  // namespace tandem::server
