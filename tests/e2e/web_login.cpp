// The leaders' login end to end: the real tandem-server, its admin CLI for
// the codes, and libcurl as the browser (no redirects followed, cookies
// carried by hand so that each step is seen).
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "server_process.hpp"
#include "tandem/server/limits.hpp"

using tandem::test::HttpClient;
using tandem::test::HttpResponse;
using tandem::test::SchoolServer;
using tandem::test::server_admin;
using tandem::test::server_admin_json;

namespace {

const std::string kForm = "Content-Type: application/x-www-form-urlencoded";

std::string login_code(const SchoolServer& w, const std::string& person,
                       const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {"login-code", "--person", person};
  args.insert(args.end(), extra.begin(), extra.end());
  return server_admin_json(w.dir.path(), args).at("code").get<std::string>();
}

HttpResponse post_login(SchoolServer& w, const std::string& code,
                        std::vector<std::string> headers = {}) {
  headers.push_back(kForm);
  return w.http.request("POST", w.server->url("/login"), "code=" + code, headers);
}

// The session token of a 303 from /login ("" when none was set).
std::string session_of(const HttpResponse& r) {
  const auto it = r.headers.find("set-cookie");
  if (it == r.headers.end()) return {};
  const std::string& c = it->second;
  const std::string prefix = "tandem_session=";
  if (c.rfind(prefix, 0) != 0) return {};
  return c.substr(prefix.size(), c.find(';') - prefix.size());
}

HttpResponse get_page(SchoolServer& w, const std::string& path, const std::string& token) {
  return w.http.request("GET", w.server->url(path), "", {"Cookie: tandem_session=" + token});
}

std::string header(const HttpResponse& r, const std::string& name) {
  const auto it = r.headers.find(name);
  return it == r.headers.end() ? std::string() : it->second;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("web login: code, cookie, Danish overview, English, logout", "[e2e][server][web]") {
  SchoolServer w("Skovskolen");
  const std::string leader = w.add_person("Lise Leder", "leader");

  // Without a session every page leads to the login form.
  auto r = w.http.get(w.server->url("/overview"));
  CHECK(r.status == 303);
  CHECK(header(r, "location") == "/login");
  r = w.http.get(w.server->url("/"));
  CHECK(r.status == 303);
  CHECK(header(r, "location") == "/login");
  r = w.http.get(w.server->url("/login"));
  CHECK(r.status == 200);
  CHECK(has(r.body, "<label for=\"code\">Engangskode</label>"));

  r = post_login(w, login_code(w, leader));
  REQUIRE(r.status == 303);
  CHECK(header(r, "location") == "/overview");
  const std::string cookie = header(r, "set-cookie");
  CHECK(has(cookie, "; HttpOnly"));
  CHECK(has(cookie, "; SameSite=Strict"));
  CHECK(has(cookie, "; Path=/"));
  CHECK(!has(cookie, "; Secure"));  // plain HTTP on loopback: a Secure cookie would never come back
  CHECK(has(cookie, "; Max-Age=" + std::to_string(tandem::server::kWebSessionSeconds)));
  const std::string token = session_of(r);
  REQUIRE(token.size() >= 43);

  r = get_page(w, "/overview", token);
  REQUIRE(r.status == 200);
  CHECK(has(header(r, "content-type"), "text/html"));
  CHECK(has(r.body, "<html lang=\"da\""));
  CHECK(has(r.body, "<h1>Overblik – Skovskolen</h1>"));
  CHECK(has(r.body, "<h2 id=\"figures\">Nøgletal</h2>"));
  CHECK(has(r.body, "<h2 id=\"overdue\">Handlinger over tid</h2>"));
  CHECK(has(header(r, "content-security-policy"), "default-src 'none'"));
  CHECK(get_page(w, "/print", token).status == 200);
  CHECK(get_page(w, "/", token).status == 303);
  CHECK(header(get_page(w, "/", token), "location") == "/overview");
  // The stylesheet comes from the server itself.
  r = w.http.get(w.server->url("/assets/tandem.css"));
  CHECK(r.status == 200);
  CHECK(has(header(r, "content-type"), "text/css"));

  // English, remembered in a cookie of its own.
  r = get_page(w, "/overview?lang=en", token);
  REQUIRE(r.status == 200);
  CHECK(has(r.body, "<html lang=\"en\""));
  CHECK(has(r.body, "<h1>Overview – Skovskolen</h1>"));
  CHECK(has(header(r, "set-cookie"), "tandem_lang=en"));
  r = w.http.request("GET", w.server->url("/overview"), "",
                     {"Cookie: tandem_lang=en; tandem_session=" + token});
  CHECK(has(r.body, "<h1>Overview – Skovskolen</h1>"));

  // Bad ranges are refused, good ones shown.
  CHECK(get_page(w, "/overview?from=2026-13-01", token).status == 400);
  CHECK(get_page(w, "/overview?from=2026-10-01&to=2026-09-01", token).status == 400);
  r = get_page(w, "/overview?from=2026-09-01&to=2026-12-31", token);
  CHECK(r.status == 200);
  CHECK(has(r.body, "2026-09-01 – 2026-12-31"));

  // Logout needs the page's form token; without it nothing happens.
  const auto at = r.body.find("name=\"csrf\" value=\"");
  REQUIRE(at != std::string::npos);
  const std::string csrf = r.body.substr(at + 19, 32);
  r = w.http.request("POST", w.server->url("/logout"), "csrf=wrong",
                     {kForm, "Cookie: tandem_session=" + token});
  CHECK(r.status == 403);
  CHECK(get_page(w, "/overview", token).status == 200);
  r = w.http.request("POST", w.server->url("/logout"), "csrf=" + csrf,
                     {kForm, "Cookie: tandem_session=" + token});
  CHECK(r.status == 303);
  CHECK(header(r, "location") == "/login?out=1");
  CHECK(has(header(r, "set-cookie"),
            "tandem_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"));
  r = get_page(w, "/overview", token);
  CHECK(r.status == 303);
  CHECK(header(r, "location") == "/login");
}

TEST_CASE("web login: used, expired and unknown codes are refused", "[e2e][server][web]") {
  SchoolServer w;
  const std::string leader = w.add_person("Lise Leder", "leader");
  const std::string code = login_code(w, leader);
  REQUIRE(post_login(w, code).status == 303);
  auto r = post_login(w, code);  // used
  CHECK(r.status == 401);
  CHECK(has(r.body, "Koden er ukendt, allerede brugt eller udløbet"));
  CHECK(session_of(r).empty());

  // Issued an hour ago with ten minutes to live.
  const std::string old = login_code(w, leader, {"--now-offset-ms", "-3600000"});
  r = post_login(w, old);
  CHECK(r.status == 401);
  CHECK(session_of(r).empty());
  // Typed in lower case with spaces, a fresh code still works (Crockford).
  std::string typed = login_code(w, leader);
  for (char& ch : typed) ch = ch == '-' ? '+' : static_cast<char>(std::tolower(ch));
  CHECK(post_login(w, typed).status == 303);
  CHECK(post_login(w, "0000-0000-0000").status == 401);
  CHECK(post_login(w, "").status == 401);
}

TEST_CASE("web login: a teacher gets no code and no session", "[e2e][server][web]") {
  SchoolServer w;
  const std::string teacher = w.add_person("Bo Lærer", "teacher");
  const auto refused = server_admin(w.dir.path(), {"login-code", "--person", teacher});
  CHECK(refused.exit_code == 1);
  CHECK(has(refused.out, "forbidden"));

  // A leader's code, and the person is a teacher by the time it is typed.
  const std::string leader = w.add_person("Lise Leder", "leader");
  const std::string code = login_code(w, leader);
  const std::string kept = login_code(w, leader);
  auto r = post_login(w, kept);
  REQUIRE(r.status == 303);
  const std::string token = session_of(r);
  server_admin_json(w.dir.path(), {"person", "set", "--person", leader, "--role", "teacher"});
  r = post_login(w, code);
  CHECK(r.status == 403);
  CHECK(has(r.body, "Kun skolens ledelse kan se skolens rapporter"));
  CHECK(session_of(r).empty());
  // ...and the session she opened as a leader shows her nothing now.
  r = get_page(w, "/overview", token);
  CHECK(r.status == 403);
  CHECK_FALSE(has(r.body, "Nøgletal"));
}

TEST_CASE("web login: forms from another site are refused", "[e2e][server][web]") {
  SchoolServer w;
  const std::string leader = w.add_person("Lise Leder", "leader");
  const std::string code = login_code(w, leader);
  auto r = post_login(w, code, {"Origin: http://evil.example"});
  CHECK(r.status == 403);
  CHECK(session_of(r).empty());
  r = post_login(w, code, {"Referer: http://evil.example/form"});
  CHECK(r.status == 403);
  r = post_login(w, code, {"Origin: null"});
  CHECK(r.status == 403);
  // The code was not spent by the refused posts: from the page itself it works.
  const std::string self = "http://127.0.0.1:" + std::to_string(w.server->port());
  r = post_login(w, code, {"Origin: " + self});
  CHECK(r.status == 303);
  const std::string token = session_of(r);
  REQUIRE_FALSE(token.empty());
  // A foreign logout post is refused even with the right token.
  const auto page = get_page(w, "/overview", token).body;
  const auto at = page.find("name=\"csrf\" value=\"");
  REQUIRE(at != std::string::npos);
  r = w.http.request("POST", w.server->url("/logout"), "csrf=" + page.substr(at + 19, 32),
                     {kForm, "Origin: http://evil.example", "Cookie: tandem_session=" + token});
  CHECK(r.status == 403);
  CHECK(get_page(w, "/overview", token).status == 200);
}

TEST_CASE("web login: wrong codes from one address are throttled", "[e2e][server][web]") {
  SchoolServer w;
  const std::string leader = w.add_person("Lise Leder", "leader");
  const std::string good = login_code(w, leader);
  const int burst = static_cast<int>(tandem::server::kLoginFailureBurst);
  for (int i = 0; i < burst; ++i) {
    INFO("attempt " << i);
    REQUIRE(post_login(w, "AAAA-BBBB-CCC" + std::to_string(i % 10)).status == 401);
  }
  auto r = post_login(w, "AAAA-BBBB-CCCC");
  CHECK(r.status == 429);
  CHECK_FALSE(header(r, "retry-after").empty());
  CHECK(has(r.body, "For mange forkerte koder"));
  // While throttled nothing is looked up: a good code waits too, unspent.
  CHECK(post_login(w, good).status == 429);
  WARN("throttled after " << burst << " wrong codes; Retry-After " << header(r, "retry-after")
                          << " s");
}

TEST_CASE("web login: a session ends after its lifetime", "[e2e][server][web]") {
  SchoolServer w;
  const std::string leader = w.add_person("Lise Leder", "leader");
  auto r = post_login(w, login_code(w, leader));
  REQUIRE(r.status == 303);
  const std::string token = session_of(r);
  REQUIRE(get_page(w, "/overview", token).status == 200);
  // The same data, the server's clock a working day and a minute on.
  w.server->terminate();
  const std::int64_t later = (tandem::server::kWebSessionSeconds + 60) * 1000;
  w.server =
      tandem::test::ServerProcess::start(w.dir.path(), {"--now-offset-ms", std::to_string(later)});
  r = get_page(w, "/overview", token);
  CHECK(r.status == 303);
  CHECK(header(r, "location") == "/login");
}

TEST_CASE("web login: behind a TLS proxy (--secure-cookies) the session cookie is Secure", "[e2e][server][web]") {
  SchoolServer w("Skovskolen", {"--secure-cookies"});
  const std::string leader = w.add_person("Lise Leder", "leader");
  auto r = post_login(w, login_code(w, leader));
  REQUIRE(r.status == 303);
  const std::string cookie = header(r, "set-cookie");
  CHECK(has(cookie, "; Secure"));
  CHECK(has(cookie, "; HttpOnly"));
}
