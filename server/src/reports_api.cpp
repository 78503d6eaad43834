// GET /v1/schools/{school}/... : the school's view as JSON (and CSV), for
// the school's leaders (docs/openapi.yaml). The figures are Reports'
// (reports.hpp); who may see them is access.cpp's (may_view_reports).
#include <string>

#include "api.hpp"
#include "http_query.hpp"
#include "tandem/server/limits.hpp"

namespace tandem::server {
namespace {

// The parts of "/v1/schools/{school}/{what}[/{arg}]" after the prefix.
struct SchoolPath {
  std::string school, what, arg;
};

std::optional<SchoolPath> parse_school_path(std::string_view path) {
  path.remove_prefix(std::string_view("/v1/schools/").size());
  SchoolPath out;
  std::string* parts[] = {&out.school, &out.what, &out.arg};
  std::size_t i = 0;
  while (!path.empty()) {
    if (i == 3) return std::nullopt;
    const auto slash = path.find('/');
    *parts[i++] = std::string(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
  }
  if (out.school.empty() || out.what.empty()) return std::nullopt;
  return out;
}

}  // namespace

Result<Viewer> Api::viewer_of(const Request& request) {
  const auto auth = request[http::field::authorization];
  if (!auth.empty()) {
    auto device = service_.authenticate(std::string_view(auth.data(), auth.size()));
    if (!device) return std::move(device).error();
    return Viewer{device->person, device->school, device->id, ""};
  }
  if (session_lookup_) return session_lookup_(request);
  return make_error(ErrorCode::kUnauthorized, "log in, or send a leader's device token");
}

void Api::school_view(const Request& request, const ClientInfo& client, RequestLog& log, Post resume,
                      Respond respond) {
  if (auto refused = throttled(auth_failures_, client, request)) return respond(std::move(*refused));
  // A device's token is checked here (its cache answers at once); a browser
  // session is looked up on the worker pool, never on a network thread.
  std::optional<Viewer> viewer;
  if (!request[http::field::authorization].empty() || request[http::field::cookie].empty()) {
    auto v = viewer_of(request);
    if (!v) {
      if (is_credential_failure(v.error().code)) auth_failures_.failed(client.throttle_key, steady_ms());
      return respond(error(v.error().code, v.error().message, request.version(), request.keep_alive()));
    }
    viewer = std::move(*v);
    log.device_id = viewer->device;
  }
  // A report reads a whole school: off the network threads, and only so
  // many at once (the rest are told to come back).
  if (reports_in_flight_.fetch_add(1) >= kMaxQueuedReports) {
    reports_in_flight_.fetch_sub(1);
    return respond(error(ErrorCode::kBusy, "too many reports at once; retry shortly", request.version(),
                         request.keep_alive()));
  }
  offload_([this, &request, &client, viewer = std::move(viewer), resume, respond]() mutable {
    Response res;
    try {
      if (!viewer) {
        auto v = viewer_of(request);
        if (v) {
          viewer = std::move(*v);
        } else {
          if (is_credential_failure(v.error().code)) auth_failures_.failed(client.throttle_key, steady_ms());
          res = error(v.error().code, v.error().message, request.version(), request.keep_alive());
        }
      }
      if (viewer) res = school_view_answer(request, *viewer);
    } catch (...) {
      res = internal_error(request);
    }
    reports_in_flight_.fetch_sub(1);
    resume([respond = std::move(respond), res = std::move(res)]() mutable { respond(std::move(res)); });
  });
}

Response Api::school_view_answer(const Request& request, const Viewer& viewer) {
  const std::string_view target(request.target().data(), request.target().size());
  const auto fail = [&](const Error& e) {
    return error(e.code, e.message, request.version(), request.keep_alive());
  };
  const auto path = parse_school_path(path_of(target));
  if (!path) return fail(make_error(ErrorCode::kNotFound, "no such endpoint"));
  const std::string_view query = query_of(target);
  auto range = parse_range(form_value(query, "from").value_or(""), form_value(query, "to").value_or(""),
                           reports_.today());
  if (!range) return fail(range.error());
  if (path->what == "overview" && path->arg.empty()) {
    auto o = reports_.overview(viewer, path->school, *range);
    return o ? json(http::status::ok, *o, request) : fail(o.error());
  }
  if (path->what == "courses" && !path->arg.empty()) {
    auto c = reports_.course(viewer, path->school, path->arg);
    return c ? json(http::status::ok, *c, request) : fail(c.error());
  }
  if (path->what == "archive" && path->arg.empty()) {
    auto a = reports_.archive(viewer, path->school);
    if (!a) return fail(a.error());
    Response res = json(http::status::ok, *a, request);
    res.set(http::field::content_disposition, "attachment; filename=\"tandem-school.json\"");
    return res;
  }
  if (path->what == "tables" && !path->arg.empty()) {
    const std::string format = form_value(query, "format").value_or("json");
    if (format != "json" && format != "csv")
      return fail(make_error(ErrorCode::kInvalidArgument, "format is csv or json"));
    auto t = reports_.table(viewer, path->school, path->arg, *range);
    if (!t) return fail(t.error());
    if (format == "json") return json(http::status::ok, t->to_json(), request);
    CsvOptions options;
    options.bom = form_value(query, "bom").value_or("") == "1";
    options.separator = form_value(query, "sep").value_or("") == "semicolon" ? ';' : ',';
    Response res{http::status::ok, request.version()};
    common_headers(res, service_.now_ms());
    res.set(http::field::content_type, "text/csv; charset=utf-8; header=present");
    // The table's name is one of ours (report_table_names), never the request's.
    res.set(http::field::content_disposition, "attachment; filename=\"" + t->name + ".csv\"");
    res.keep_alive(request.keep_alive());
    res.body() = to_csv(*t, options);
    res.prepare_payload();
    return res;
  }
  return fail(make_error(ErrorCode::kNotFound, "no such endpoint"));
}

}  // namespace tandem::server
