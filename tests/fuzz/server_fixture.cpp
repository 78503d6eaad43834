// The server's fixture (fixtures.hpp): linked only where the server is.
#include "fixtures.hpp"
#include "tandem/server/crypto.hpp"
#include "tandem/server/options.hpp"
#include "tandem/server/storage.hpp"
#include "tandem/server/stores.hpp"

namespace tandem::fuzz {

void make_server_data(const TempDir& dir) {
  const std::string path = server::database_path(dir.path());
  {
    // Records the server holds, with fixed ids: written through the same
    // store the server opens (admin commands would mint random ids).
    auto store = open_fixed_store(path, kServerSite);
    create_record(*store, "school", {{"name", "Skovbakkeskolen"}}, kSchoolId);
    create_record(*store, "person",
                  {{"school", kSchoolId}, {"name", "Ida Holm"}, {"role", "resource_person"}},
                  kPersonId);
    create_record(*store, "school", {{"name", "Engskolen"}}, kOtherSchoolId);
    create_record(*store, "person",
                  {{"school", kOtherSchoolId}, {"name", "Bo Lund"}, {"role", "teacher"}},
                  kOtherPersonId);
  }
  auto opened = server::open_sqlite_storage({path, &fixture_clock()});
  check(opened.ok(), "cannot open the fixture's server storage",
        opened.ok() ? "" : opened.error().message);
  server::ServerStorage& storage = **opened;
  const std::int64_t now = kFuzzNowMs;
  const std::int64_t expires = now + 24LL * 60 * 60 * 1000;
  struct Device {
    const char* id;
    const char* token;
    const char* person;
  };
  for (const Device& d :
       {Device{kDeviceA, kTokenA, kPersonId}, Device{kDeviceB, kTokenB, kPersonId},
        Device{kDeviceC, kTokenC, kOtherPersonId}}) {
    const std::string code_hash = server::sha256_hex(std::string("code for ") + d.id);
    check(storage.add_enrollment_code(code_hash, d.person, now, expires).ok(),
          "cannot add a fixture enrollment code");
    auto enrolled = storage.enroll(
        code_hash, server::NewDevice{d.id, "fuzz tablet", server::sha256_hex(d.token)}, now);
    check(enrolled.ok(), "cannot enroll a fixture device",
          enrolled.ok() ? "" : enrolled.error().message);
  }
  const std::string code = server::normalize_enrollment_code(kEnrollmentCode);
  check(storage.add_enrollment_code(server::sha256_hex(code), kPersonId, now, expires).ok(),
        "cannot add the fixture's enrollment code");
}

}  // namespace tandem::fuzz
