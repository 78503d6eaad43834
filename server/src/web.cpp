#include "web.hpp"

#include "api.hpp"  // path_of
#include "tandem/core/schema.hpp"
#include "tandem/server/limits.hpp"
#include "web_auth.hpp"
#include "web_call.hpp"

namespace tandem::server {

namespace {

constexpr std::string_view kCoursesPrefix = "/courses/";
constexpr std::string_view kStylesheetPath = "/assets/tandem.css";
// The language chosen with ?lang= is remembered for a year.
constexpr std::int64_t kLangCookieSeconds = 365LL * 24 * 60 * 60;
// Pages load nothing from elsewhere, run no script, and are never framed.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'";

}  // namespace

Response answer(const WebCall& c, http::status status, std::string_view type, std::string body) {
  Response res{status, c.request.version()};
  res.set(http::field::server, "tandem-server");
  res.set(http::field::cache_control, "no-store");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "same-origin");
  res.set("X-Frame-Options", "DENY");
  res.set("Content-Security-Policy", kContentSecurityPolicy);
  if (c.lang_chosen) {
    res.insert(http::field::set_cookie,
               std::string(web::kLangCookie) + "=" + std::string(web::lang_code(c.ctx.lang)) +
                   "; SameSite=Strict; Path=/; Max-Age=" + std::to_string(kLangCookieSeconds));
  }
  res.set(http::field::content_type, boost::beast::string_view(type.data(), type.size()));
  res.keep_alive(c.request.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response html(const WebCall& c, http::status status, std::string body) {
  return answer(c, status, "text/html; charset=utf-8", std::move(body));
}

Response redirect(const WebCall& c, std::string_view location) {
  Response res = answer(c, http::status::see_other, "text/plain; charset=utf-8", "");
  res.set(http::field::location, boost::beast::string_view(location.data(), location.size()));
  return res;
}

Response message(const WebCall& c, http::status status, std::string_view message_key) {
  return html(c, status, web::render_message(c.ctx, "error.title", message_key));
}

// A form post comes from our own pages: when the browser says where from
// (Origin, else Referer), it must be this site. Neither header: allowed
// (scripts and old browsers; the session cookie is SameSite=Strict).
bool from_this_site(const WebCall& c) {
  const std::string_view host = c.header(http::field::host);
  const std::string_view origin = c.header(http::field::origin);
  if (!origin.empty()) return web::same_origin(origin, host);
  const std::string_view referer = c.header(http::field::referer);
  if (!referer.empty()) return web::same_origin(referer, host);
  return true;
}

http::status status_of(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound:
      return http::status::not_found;
    case ErrorCode::kForbidden:
      return http::status::forbidden;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kInvalidValue:
    case ErrorCode::kInvalidDate:
      return http::status::bad_request;
    default:
      return http::status::internal_server_error;
  }
}

std::string_view message_key_of(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound:
      return "error.not_found";
    case ErrorCode::kForbidden:
      return "error.forbidden";
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kInvalidValue:
    case ErrorCode::kInvalidDate:
      return "error.bad_range";
    default:
      return "error.internal";
  }
}

Web::Web(ServerStorage& storage, Reports& reports, Now now, WebOptions options)
    : storage_(storage),
      reports_(reports),
      now_(std::move(now)),
      options_(options),
      login_failures_({kLoginFailureBurst, kLoginFailuresPerSecond, kMaxThrottledAddresses}) {}

std::optional<std::string_view> Web::route(std::string_view path) {
  for (std::string_view p : {"/", "/login", "/logout", "/overview", "/print"}) {
    if (path == p) return p;
  }
  if (path.starts_with(kCoursesPrefix)) return "/courses/{id}";
  if (path.starts_with("/assets/")) return "/assets";
  return std::nullopt;
}

Result<Viewer> Web::viewer_of(const Request& request) {
  const auto cookie = request[http::field::cookie];
  return session_viewer(
      storage_,
      web::cookie_value(std::string_view(cookie.data(), cookie.size()), web::kSessionCookie),
      now_());
}

Response Web::handle(const Request& request, std::string_view throttle_key) noexcept {
  try {
    const std::string_view target(request.target().data(), request.target().size());
    WebCall call{request,
                 throttle_key,
                 path_of(target),
                 query_of(target),
                 web::cookie_value(std::string_view(request[http::field::cookie].data(),
                                                    request[http::field::cookie].size()),
                                   web::kSessionCookie),
                 false,
                 {},
                 {}};
    call.ctx.path = std::string(call.path);
    if (auto chosen = web::parse_lang(call.param("lang"))) {
      call.ctx.lang = *chosen;
      call.lang_chosen = true;
    } else if (auto kept = web::parse_lang(
                   web::cookie_value(call.header(http::field::cookie), web::kLangCookie))) {
      call.ctx.lang = *kept;
    }
    return dispatch(call);
  } catch (...) {
    // Never the exception's text: it could quote request data.
  }
  Response res{http::status::internal_server_error, request.version()};
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.keep_alive(false);
  res.body() = "internal error\n";
  res.prepare_payload();
  return res;
}

Response Web::dispatch(WebCall& c) {
  const http::verb method = c.request.method();
  const bool post = c.path == "/login" || c.path == "/logout";
  const bool allowed =
      (method == http::verb::get && c.path != "/logout") || (method == http::verb::post && post);
  if (!allowed) {
    Response res = answer(c, http::status::method_not_allowed, "text/plain; charset=utf-8",
                          "method not allowed\n");
    res.set(http::field::allow, c.path == "/login" ? "GET, POST" : post ? "POST" : "GET");
    return res;
  }
  if (c.path == kStylesheetPath) {
    Response res =
        answer(c, http::status::ok, "text/css; charset=utf-8", std::string(web::stylesheet()));
    res.set(http::field::cache_control, "public, max-age=3600");
    return res;
  }
  if (c.path.starts_with("/assets/"))
    return answer(c, http::status::not_found, "text/plain; charset=utf-8", "not found\n");
  if (c.path == "/login") {
    if (method == http::verb::post) return login(c);
    return html(c, http::status::ok,
                web::render_login(c.ctx, c.param("out") == "1" ? "login.logged_out" : ""));
  }
  if (c.path == "/logout") return logout(c);
  if (c.path == "/") {
    const bool signed_in =
        !c.token.empty() && static_cast<bool>(session_viewer(storage_, c.token, now_()));
    return redirect(c, signed_in ? "/overview" : "/login");
  }
  if (auto refused = sign_in_required(c)) return std::move(*refused);
  if (c.path == "/overview" || c.path == "/print") return report_page(c, c.path);
  return course_page(c, c.path.substr(kCoursesPrefix.size()));
}

std::optional<Response> Web::sign_in_required(WebCall& c) {
  auto viewer = session_viewer(storage_, c.token, now_());
  if (!viewer) {
    if (viewer.error().code == ErrorCode::kForbidden) {
      c.ctx.csrf = csrf_token(c.token);  // they may still log out
      return message(c, http::status::forbidden, "error.forbidden");
    }
    if (viewer.error().code != ErrorCode::kUnauthorized)
      return message(c, http::status::internal_server_error, "error.internal");
    Response res = redirect(c, "/login");
    if (!c.token.empty())
      res.insert(http::field::set_cookie, web::session_cookie("", 0, options_.secure_cookies));
    return res;
  }
  c.viewer = std::move(*viewer);
  c.ctx.csrf = csrf_token(c.token);
  return std::nullopt;
}

}  // namespace tandem::server
