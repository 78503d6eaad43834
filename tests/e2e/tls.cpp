// TLS end to end: the real server with --tls-cert/--tls-key and certificates
// made at test time (test_pki.hpp), the real `tandem` CLI with --ca. Shown:
// enroll and sync over https; a certificate for another host, an expired one
// and one from another CA refused by the client with `certificate` before
// anything is sent; TLS 1.0/1.1 refused and 1.2/1.3 accepted (openssl
// s_client); http:// to a non-loopback address refused with
// insecure_transport; tablets with clocks years off enroll and sync
// (certificate_time.hpp); half-open handshakes are timed out and reaped.
#include <catch2/catch.hpp>
#include <chrono>
#include <sstream>
#include <thread>

#include "server_process.hpp"
#include "tandem/sync/curl_transport.hpp"
#include "test_pki.hpp"

namespace tandem::test {
namespace {

constexpr const char* kOpenssl = "/usr/bin/openssl";

struct TlsWorld {
  TlsWorld() {
    school = create_test_school(data(), "Skovbakkeskolen");
    server = ServerProcess::start_tls(data(), good.cert, good.key, pki.ca_file());
  }
  std::string data() const { return dir.file("data"); }
  std::string url() const { return server->url(""); }
  std::string code() const { return enrollment_code(data(), school.person); }
  // Restarts the server (same data) with another certificate.
  void serve_with(const CertFiles& cert) {
    server->terminate();
    server = ServerProcess::start_tls(data(), cert.cert, cert.key, "");
  }
  // Requests the server answered, all routes but /metrics (read without
  // verifying: the server may hold a bad certificate on purpose).
  long requests_answered() const {
    HttpClient probe;
    probe.skip_verification();
    const HttpResponse r = probe.get(server->url("/metrics"));
    REQUIRE(r.status == 200);
    long total = 0;
    std::istringstream lines(r.body);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("tandem_http_requests_total{", 0) != 0) continue;
      if (line.find("route=\"/metrics\"") != std::string::npos) continue;
      total += std::stol(line.substr(line.rfind(' ') + 1));
    }
    return total;
  }

  TempDir dir;
  TestPki pki{dir.path(), "Skovbakkeskolen CA", "school"};
  CertFiles good = pki.issue("server", {"127.0.0.1", "localhost"});
  TestSchool school;
  std::unique_ptr<ServerProcess> server;
};

// `tandem --db DB --json ARGS...`, under faketime SPEC when given.
ProcessResult tandem(const std::string& db, const std::vector<std::string>& args,
                     const std::string& faketime = "") {
  return run_cli_json_at(faketime, db, args);
}

nlohmann::json ok_json(const ProcessResult& r) {
  INFO("exit " << r.exit_code << "\nstdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out);
}

// The error a failed command printed with --json: {code, message}.
nlohmann::json failed_json(const ProcessResult& r) {
  INFO("exit " << r.exit_code << "\nstdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 1);
  const auto j = nlohmann::json::parse(r.out, nullptr, false);
  REQUIRE(j.contains("error"));
  return j.at("error");
}

std::string new_course(const std::string& db, const std::string& person, const std::string& title,
                       const std::string& faketime = "") {
  const ProcessResult r = tandem(
      db, {"new", "course", "kind=co_teaching", "title=" + title, "tovholder=" + person}, faketime);
  INFO(r.err << r.out);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

}  // namespace

TEST_CASE("TLS: a tablet enrolls and syncs over https with --ca, the web pages and /healthz too",
          "[e2e][tls]") {
  TlsWorld world;
  TempDir tablets;
  const std::string a = tablets.file("a.db");
  const std::string b = tablets.file("b.db");
  const auto enrolled = ok_json(tandem(a, {"enroll", "--server", world.url(), "--code",
                                           world.code(), "--ca", world.pki.ca_file(), "--quiet"}));
  CHECK(enrolled.at("server").get<std::string>().rfind("https://127.0.0.1:", 0) == 0);
  new_course(a, world.school.person, "Dansk 4.b over TLS");
  // No --ca: the CA remembered at enrollment is used.
  const auto synced = ok_json(tandem(a, {"sync", "--quiet"}));
  CHECK(synced.at("accepted") == 1);
  ok_json(tandem(b, {"enroll", "--server", world.url(), "--code", world.code(), "--ca",
                     world.pki.ca_file(), "--quiet"}));
  CHECK(ok_json(tandem(b, {"dump"})).dump().find("Dansk 4.b over TLS") != std::string::npos);

  // Without the school's CA the system's store does not know the server.
  const auto untrusted =
      failed_json(tandem(tablets.file("c.db"),
                         {"enroll", "--server", world.url(), "--code", world.code(), "--quiet"}));
  CHECK(untrusted.at("code") == "certificate");

  HttpClient https;
  https.set_ca_file(world.pki.ca_file());
  CHECK(https.get(world.server->url("/healthz")).status == 200);
  const HttpResponse login = https.get(world.server->url("/login"));
  CHECK(login.status == 200);
  // Over TLS the leaders' session cookie is Secure without --secure-cookies.
  CHECK(
      https.get("https://localhost:" + std::to_string(world.server->port()) + "/healthz").status ==
      200);
}

TEST_CASE("TLS: another host's, an expired and another CA's certificate are refused, nothing sent",
          "[e2e][tls]") {
  TlsWorld world;
  TempDir tablets;
  const std::string db = tablets.file("tablet.db");
  ok_json(tandem(db, {"enroll", "--server", world.url(), "--code", world.code(), "--ca",
                      world.pki.ca_file(), "--quiet"}));
  new_course(db, world.school.person, "Kept until a trusted server answers");

  TestPki stranger(world.dir.path(), "Someone Else's CA", "stranger");
  struct Case {
    const char* what;
    CertFiles cert;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"another host", world.pki.issue("wrong-host", {"wrong.example"}), "not for host"},
      {"expired", world.pki.issue("expired", {"127.0.0.1"}, -30 * kDay, -kDay), "has expired"},
      {"not yet valid", world.pki.issue("future", {"127.0.0.1"}, 30 * kDay, 60 * kDay),
       "not yet valid"},
      {"another CA", stranger.issue("server", {"127.0.0.1"}), "not issued by the CA file"},
  };
  for (const auto& c : cases) {
    SECTION(c.what) {
      world.serve_with(c.cert);
      const long before = world.requests_answered();
      const auto error = failed_json(tandem(db, {"sync", "--quiet", "--server", world.url()}));
      CHECK(error.at("code") == "certificate");
      CHECK(error.at("message").get<std::string>().find(c.message) != std::string::npos);
      // Refused in the handshake: not one request reached the server.
      CHECK(world.requests_answered() == before);
      // A new tablet's enrollment code is not sent either: it still works.
      const std::string code = world.code();
      const std::string fresh = tablets.file(std::string("fresh-") + c.what + ".db");
      if (std::string(c.what) != "expired" && std::string(c.what) != "not yet valid") {
        // (A first contact with an explicit CA does not judge validity
        // periods: certificate_time.hpp.)
        CHECK(failed_json(tandem(fresh, {"enroll", "--server", world.url(), "--code", code, "--ca",
                                         world.pki.ca_file(), "--quiet"}))
                  .at("code") == "certificate");
        CHECK(world.requests_answered() == before);
      }
      // Back to the good certificate: the record kept locally goes up.
      world.serve_with(world.good);
      const auto synced = ok_json(tandem(db, {"sync", "--quiet", "--server", world.url()}));
      CHECK(synced.at("accepted") == 1);
    }
  }
}

TEST_CASE("TLS: 1.0 and 1.1 handshakes are refused, 1.2 (AEAD only) and 1.3 accepted",
          "[e2e][tls]") {
  TlsWorld world;
  const std::string at = "127.0.0.1:" + std::to_string(world.server->port());
  const auto s_client = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"s_client",    "-connect",          at,
                                     "-CAfile",     world.pki.ca_file(), "-verify_return_error",
                                     "-servername", "localhost"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_process(kOpenssl, args);
  };
  struct Case {
    std::vector<std::string> args;
    bool accepted;
    const char* protocol;
  };
  const std::vector<Case> cases = {
      {{"-tls1", "-cipher", "DEFAULT@SECLEVEL=0"}, false, "TLSv1"},
      {{"-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"}, false, "TLSv1.1"},
      {{"-tls1_2"}, true, "TLSv1.2"},
      {{"-tls1_3"}, true, "TLSv1.3"},
      // TLS 1.2 with a CBC suite, or without forward secrecy: not offered.
      {{"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA"}, false, "TLSv1.2"},
      {{"-tls1_2", "-cipher", "AES128-GCM-SHA256:AES256-SHA"}, false, "TLSv1.2"},
  };
  for (const auto& c : cases) {
    const ProcessResult r = s_client(c.args);
    const std::string printed = r.out + r.err;
    INFO(nlohmann::json(c.args).dump() << " exit " << r.exit_code << "\n" << printed);
    // "New, TLSv1.2, Cipher is ECDHE-..." once negotiated, "New, (NONE),
    // Cipher is (NONE)" when refused.
    const bool negotiated =
        printed.find(std::string("New, ") + c.protocol + ", Cipher is ") != std::string::npos;
    CHECK(negotiated == c.accepted);
    CHECK((r.exit_code == 0) == c.accepted);
    if (c.accepted) CHECK(printed.find("Verify return code: 0 (ok)") != std::string::npos);
  }
}

TEST_CASE("TLS: http:// to a host that is not this machine is refused before any connection",
          "[e2e][tls]") {
  TempDir tablets;
  const auto started = std::chrono::steady_clock::now();
  // 192.0.2.1 is TEST-NET-1 (never routed): a connection attempt would hang
  // until the connect timeout or fail with `network`.
  const auto error = failed_json(
      tandem(tablets.file("t.db"), {"enroll", "--server", "http://192.0.2.1:8080", "--code",
                                    "ABCD-EFGH", "--connect-timeout-ms", "5000", "--quiet"}));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("http:// to 192.0.2.1 refused in %.3f s\n", seconds);
  CHECK(error.at("code") == "insecure_transport");
  CHECK(seconds < 3.0);

  // The rule, as libcurl parses hosts: loopback only (names other than
  // localhost are not resolved to decide).
  for (const char* host : {"localhost", "LOCALHOST", "127.0.0.1", "127.8.9.10", "[::1]"})
    CHECK(sync::is_loopback_host(host));
  for (const char* host : {"192.0.2.1", "10.0.0.1", "127.0.0.1.example.org", "localhost.example",
                           "[::2]", "[::ffff:127.0.0.1]", "0.0.0.0", ""})
    CHECK_FALSE(sync::is_loopback_host(host));
  for (const char* url :
       {"http://user@192.0.2.1:80", "http://127.0.0.1@192.0.2.1/", "http://192.0.2.1#@127.0.0.1"}) {
    sync::CurlOptions o;
    o.base_url = url;
    auto t = sync::CurlTransport::create(o);
    REQUIRE_FALSE(t);
    CHECK(t.error().code == ErrorCode::kInsecureTransport);
  }
  sync::CurlOptions allowed;
  allowed.base_url = "http://192.0.2.1:8080";
  allowed.allow_insecure_http = true;
  CHECK(sync::CurlTransport::create(allowed));  // created; nothing sent here
}

TEST_CASE("TLS: tablets 10 years behind and 5 years ahead enroll and sync (corrected time)",
          "[e2e][tls][clock]") {
  TlsWorld world;
  TempDir tablets;
  for (const char* spec : {"-3650d", "+1825d"}) {
    INFO("faketime " << spec);
    const std::string db = tablets.file(std::string("tablet") + spec + ".db");
    ok_json(tandem(db,
                   {"enroll", "--server", world.url(), "--code", world.code(), "--ca",
                    world.pki.ca_file(), "--quiet"},
                   spec));
    new_course(db, world.school.person, std::string("Recorded at ") + spec, spec);
    // Later syncs judge the certificate at the corrected time: the server's.
    for (int round = 0; round < 3; ++round) {
      const auto synced = ok_json(tandem(db, {"sync", "--quiet"}, spec));
      if (round == 0) CHECK(synced.at("accepted") == 1);
      CHECK(synced.at("clock_wrong") == true);
    }
  }
  // Enrolled with a true clock, then the clock falls back 10 years (a flat
  // battery): the next sync judges at the last server-confirmed time at the
  // earliest, so it goes through and learns the new offset.
  const std::string reset = tablets.file("reset.db");
  ok_json(tandem(reset, {"enroll", "--server", world.url(), "--code", world.code(), "--ca",
                         world.pki.ca_file(), "--quiet"}));
  new_course(reset, world.school.person, "Recorded before the clock fell back");
  const auto synced = ok_json(tandem(reset, {"sync", "--quiet"}, "-3650d"));
  CHECK(synced.at("accepted") == 1);
}

TEST_CASE("TLS: half-open handshakes are timed out and reaped at the connection limit",
          "[e2e][tls][limits]") {
  TempDir dir;
  TestPki pki(dir.path(), "Limits CA");
  const CertFiles cert = pki.issue("server", {"127.0.0.1"});
  auto server = ServerProcess::start_tls(dir.file("data"), cert.cert, cert.key, pki.ca_file(),
                                         {"--max-connections", "4", "--header-timeout-ms", "1500"});
  // Eight clients that start a handshake (a TLS record header) and stall.
  std::vector<std::unique_ptr<RawConnection>> stalled;
  for (int i = 0; i < 8; ++i) {
    stalled.push_back(std::make_unique<RawConnection>(server->port()));
    REQUIRE(stalled.back()->ok());
    REQUIRE(stalled.back()->send(std::string("\x16\x03\x01\x02\x00", 5)));
    // Room is made a moment later (the reaped connection closes on its own
    // strand): the next one then finds it, not an overflow slot.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // A real client is served at once: stalled handshakes make room (over the
  // limit only /healthz would be answered; /login gets 503 there).
  HttpClient https;
  https.set_ca_file(pki.ca_file());
  const auto started = std::chrono::steady_clock::now();
  CHECK(https.get(server->url("/login")).status == 200);
  const double served =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("TLS client served in %.3f s beside 8 stalled handshakes (limit 4)\n", served);
  CHECK(served < 1.0);
  // And every stalled handshake is closed by the header timeout (1.5 s).
  int closed_count = 0;
  for (auto& c : stalled) {
    bool closed = false;
    c->read_until_closed(std::chrono::milliseconds(6000), &closed);
    closed_count += closed ? 1 : 0;
  }
  CHECK(closed_count == 8);
}

}  // namespace tandem::test
