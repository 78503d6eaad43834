// Encryption at rest on the server (issue 15): `tandem-server --db-key FILE`
// keeps the database, its WAL and journal as ciphertext (the same page
// cipher as the tablets), its key sealed under the key file in the data
// folder's keys/; without the key file, or with another one, nothing opens
// and nothing changes; a key file others can read is refused; a plain data
// folder is encrypted when first opened with a key, every row kept.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "sync_fixture.hpp"
#include "test_util.hpp"

namespace tandem::test {
namespace {

namespace fs = std::filesystem;

std::string write_key(const std::string& path, const std::string& hex, mode_t mode) {
  std::ofstream(path) << hex << "\n";
  REQUIRE(::chmod(path.c_str(), mode) == 0);
  return path;
}

// `tandem-server --data DIR --db-key KEY --json ARGS...`
ProcessResult admin(const std::string& data, const std::string& key, std::vector<std::string> args) {
  if (!key.empty()) args.insert(args.begin(), {"--db-key", key});
  return server_admin(data, args);
}

nlohmann::json admin_json(const std::string& data, const std::string& key, std::vector<std::string> args) {
  const ProcessResult r = admin(data, key, std::move(args));
  INFO("tandem-server exited " << r.exit_code << ": " << r.out << r.err);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out);
}

// The code an `enroll-code --json` printed.
std::string code_of(const ProcessResult& r) {
  INFO("enroll-code: " << r.out << r.err);
  REQUIRE(r.exit_code == 0);
  const auto doc = nlohmann::json::parse(r.out, nullptr, false);
  if (doc.is_object() && doc.contains("code")) return doc.at("code").get<std::string>();
  std::string s = r.out;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

const char* kHex = "8f3a0c5be21d47f9a6c8e0b3d5f7192a4c6e8f0a2b4d6e8f1a3c5e7f9b0d2e4f";
const char* kOtherHex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

}  // namespace

TEST_CASE("tandem-server --db-key: the server's files are ciphertext, its key sealed, and without the key "
          "nothing opens",
          "[sqlite-only][e2e][encryption][server]") {
  TempDir secrets, data_dir, tablets;
  const std::string data = data_dir.path();
  const std::string key = write_key(secrets.file("db.key"), kHex, 0600);
  const std::string school_name = "Serverkrypteringsskolen";

  const std::string school = admin_json(data, key, {"school", "create", "--name", school_name}).at("id");
  const std::string person = admin_json(data, key,
                                        {"person", "add", "--school", school, "--name", "Kirsten Krypto", "--role",
                                         "resource_person"})
                                 .at("id");
  auto server = ServerProcess::start(data, {"--db-key", key});
  const std::string url = "http://127.0.0.1:" + std::to_string(server->port());
  {
    Tablet t(tablets.file("writer.db"));
    t.enroll(url, code_of(admin(data, key, {"enroll-code", "--person", person})));
    t.record_actions(25, "SRVCANARY-k9-");
    auto synced = t.sync(url);
    REQUIRE(synced.ok());
    CHECK(synced->complete);
  }
  server->terminate();

  // Not a byte of what was written, nor the school's name, on disk.
  CHECK(raw_hits(data, "SRVCANARY-k9-") == 0);
  CHECK(raw_hits(data, school_name) == 0);
  CHECK(raw_hits(data, "Kirsten Krypto") == 0);
  CHECK(file_bytes(data + "/tandem-server.db").rfind("SQLite format 3", 0) != 0);
  // One sealed key beside the data, which is not the key file's key.
  std::size_t sealed = 0;
  for (const auto& e : fs::directory_iterator(data + "/keys")) {
    ++sealed;
    CHECK(e.path().extension() == ".sealed");
    CHECK((fs::status(e.path()).permissions() & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
  }
  CHECK(sealed == 1);

  // With the key: everything is there (a new tablet pulls every note).
  server = ServerProcess::start(data, {"--db-key", key});
  {
    Tablet reader(tablets.file("reader.db"));
    const std::string url2 = "http://127.0.0.1:" + std::to_string(server->port());
    reader.enroll(url2, code_of(admin(data, key, {"enroll-code", "--person", person})));
    REQUIRE(reader.sync(url2).ok());
    auto actions = reader.store().list("action");
    REQUIRE(actions.ok());
    CHECK(actions->size() == 25);
  }
  server->terminate();
  const std::string before = file_bytes(data + "/tandem-server.db");

  // Without the key file, with another one, with one others can read: a
  // clear error, the server does not start, and the files are untouched.
  const ProcessResult none = admin(data, "", {"device", "list", "--school", school});
  CHECK(none.exit_code != 0);
  CHECK(none.out.find("key_missing") != std::string::npos);
  const ProcessResult other = admin(data, write_key(secrets.file("other.key"), kOtherHex, 0600), {"device", "list", "--school", school});
  CHECK(other.exit_code != 0);
  CHECK(other.out.find("wrong_key") != std::string::npos);
  const ProcessResult open = admin(data, write_key(secrets.file("open.key"), kHex, 0644), {"device", "list", "--school", school});
  CHECK(open.exit_code != 0);
  CHECK(open.out.find("invalid_argument") != std::string::npos);
  CHECK(open.out.find("chmod 600") != std::string::npos);
  const ProcessResult junk = admin(data, write_key(secrets.file("junk.key"), "not a key", 0600), {"device", "list", "--school", school});
  CHECK(junk.exit_code != 0);
  CHECK(junk.out.find("invalid_argument") != std::string::npos);
  std::string why;
  CHECK(ServerProcess::try_start(data, {}, &why) == nullptr);
  CHECK(file_bytes(data + "/tandem-server.db") == before);
  // And the key still opens it.
  const auto devices = admin_json(data, key, {"device", "list", "--school", school});
  CHECK(devices.size() == 2);
}

TEST_CASE("tandem-server --db-key on a plain data folder encrypts it, every row kept", "[sqlite-only][e2e][encryption][server]") {
  TempDir secrets, data_dir;
  const std::string data = data_dir.path();
  const std::string school_name = "Klartekstskolen";
  const std::string school = admin_json(data, "", {"school", "create", "--name", school_name}).at("id");
  const std::string person =
      admin_json(data, "", {"person", "add", "--school", school, "--name", "Per Plain", "--role", "teacher"}).at("id");
  CHECK(raw_hits(data, school_name) > 0);  // the control: a plain file shows it

  const std::string key = write_key(secrets.file("db.key"), kHex, 0600);
  auto server = ServerProcess::start(data, {"--db-key", key});
  server->terminate();
  CHECK(raw_hits(data, school_name) == 0);
  CHECK(raw_hits(data, "Per Plain") == 0);
  // The school and the person are still there: a code is issued for them.
  CHECK(admin(data, key, {"enroll-code", "--person", person}).exit_code == 0);
  CHECK(admin_json(data, key, {"device", "list", "--school", school}).empty());
  CHECK(admin(data, "", {"enroll-code", "--person", person}).exit_code != 0);  // no longer plain
}

}  // namespace tandem::test
