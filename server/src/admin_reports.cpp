// Admin CLI: the school's view as the school's administration sees it (a
// leader's view, audited with no person: reports.hpp).
#include <cstdio>
#include <fstream>

#include "tandem/core/excerpt.hpp"
#include "tandem/server/access.hpp"
#include "tandem/server/admin.hpp"
#include "tandem/server/reports.hpp"
#include "viewer.hpp"

namespace tandem::server {
namespace {


std::string count_line(const Json& counts) {
  std::string out;
  for (const auto& [k, v] : counts.items()) {
    if (!out.empty()) out += ", ";
    out += escape_controls(k) + " " + std::to_string(v.get<std::int64_t>());
  }
  return out.empty() ? "-" : out;
}

// The overview in a few lines for a terminal (the JSON has everything).
void print_overview(const Json& o, std::ostream& out) {
  const Json& a = o.at("actions");
  out << "School " << escape_controls(o.at("school").at("name").get<std::string>()) << " ("
      << o.at("range").at("from").get<std::string>() << " .. " << o.at("range").at("to").get<std::string>()
      << ")\n"
      << "Courses: " << o.at("courses_total").get<std::int64_t>() << "\n"
      << "  by kind: " << count_line(o.at("courses_by_kind")) << "\n"
      << "  by focus area: " << count_line(o.at("courses_by_focus_area")) << "\n"
      << "  by month: " << count_line(o.at("courses_by_month")) << "\n"
      << "Sessions: " << o.at("sessions_total").get<std::int64_t>()
      << "; approaches: " << count_line(o.at("sessions_by_approach")) << "\n"
      << "Actions: " << a.at("open").get<std::int64_t>() << " open, " << a.at("overdue").get<std::int64_t>()
      << " overdue, " << a.at("done").get<std::int64_t>() << " done (" << a.at("done_on_time").get<std::int64_t>()
      << " on time)\n";
  for (const auto& row : a.at("overdue_list")) {
    out << "  overdue since " << row.at("due").get<std::string>() << ": "
        << escape_controls(excerpt(row.at("text").get<std::string>())) << " ("
        << escape_controls(row.at("tovholder_name").get<std::string>()) << ")\n";
  }
  out << "Meetings: " << o.at("meetings").at("total").get<std::int64_t>()
      << "; agenda items by need: " << count_line(o.at("agenda_items_by_need")) << "\n";
  for (const auto& p : o.at("observation_profiles")) {
    out << "Observations with " << escape_controls(p.at("template_name").get<std::string>()) << " ("
        << p.at("sessions").get<std::int64_t>() << " sessions), mean % of intervals:";
    std::size_t shown = 0;
    for (const auto& c : p.at("codes")) {
      const double pct = c.at("mean_percent").get<double>();
      if (pct <= 0.0) continue;
      if (shown++ == 8) break;
      char buf[32];
      std::snprintf(buf, sizeof buf, " %.0f %%", pct);
      out << " " << escape_controls(c.at("code").get<std::string>()) << buf;
    }
    out << "\n";
  }
  out << "Workload (courses, sessions, observations, meetings):\n";
  for (const auto& [id, w] : o.at("workload_by_person").items()) {
    out << "  " << escape_controls(w.at("name").get<std::string>()) << ": " << w.at("courses").get<std::int64_t>()
        << ", " << w.at("sessions").get<std::int64_t>() << ", " << w.at("observations").get<std::int64_t>() << ", "
        << w.at("meetings").get<std::int64_t>() << "\n";
  }
}

}  // namespace

int admin_report(ServerStorage& storage, Clock& clock, const ReportCommand& cmd, AdminIo io) {
  Reports reports(storage, [&clock] { return clock.now_ms(); });
  auto range = parse_range(cmd.from, cmd.to, reports.today());
  if (!range) return admin_fail(range.error(), io);
  const Viewer admin;  // the administration: a leader's view, audited with no person
  if (!cmd.course.empty()) {
    auto c = reports.course(admin, cmd.school, cmd.course);
    if (!c) return admin_fail(c.error(), io);
    io.out << json_escape_controls(c->dump(2, ' ', false, Json::error_handler_t::replace)) << "\n";
    return 0;
  }
  auto o = reports.overview(admin, cmd.school, *range);
  if (!o) return admin_fail(o.error(), io);
  if (io.json) {
    io.out << json_escape_controls(o->dump(-1, ' ', false, Json::error_handler_t::replace)) << "\n";
  } else {
    print_overview(*o, io.out);
  }
  return 0;
}

int admin_export(ServerStorage& storage, Clock& clock, const ExportCommand& cmd, AdminIo io) {
  Reports reports(storage, [&clock] { return clock.now_ms(); });
  auto range = parse_range(cmd.from, cmd.to, reports.today());
  if (!range) return admin_fail(range.error(), io);
  const Viewer admin;
  std::string text;
  if (cmd.archive) {
    auto a = reports.archive(admin, cmd.school);
    if (!a) return admin_fail(a.error(), io);
    text = a->dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
  } else {
    auto t = reports.table(admin, cmd.school, cmd.table, *range);
    if (!t) return admin_fail(t.error(), io);
    if (cmd.format == "json") {
      text = t->to_json().dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
    } else {
      text = to_csv(*t, CsvOptions{cmd.semicolon ? ';' : ',', cmd.bom});
    }
  }
  if (cmd.output.empty()) {
    io.out << text;
    return io.out ? 0 : 1;
  }
  std::ofstream f(cmd.output, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  if (!f) return admin_fail(make_error(ErrorCode::kIo, "cannot write '" + cmd.output + "'"), io);
  return 0;
}

int admin_school_set(ServerStorage& storage, const std::string& school, const std::string& rp_reports,
                     AdminIo io) {
  Reports reports(storage, [] { return std::int64_t{0}; });
  // The school must exist (its overview loads): no setting for a typo.
  const Viewer admin;
  if (auto o = reports.overview(admin, school, DateRange{"2000-01-01", "2000-01-01"}); !o)
    return admin_fail(o.error(), io);
  if (auto s = storage.set_setting(reports_setting_key(school), rp_reports); !s) return admin_fail(s.error(), io);
  if (io.json) {
    io.out << Json{{"school", school}, {"reports_for_resource_persons", rp_reports == "yes"}}.dump() << "\n";
  } else {
    io.out << "resource persons " << (rp_reports == "yes" ? "may" : "may not") << " see the reports\n";
  }
  return 0;
}

}  // namespace tandem::server
