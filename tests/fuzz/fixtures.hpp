// The fixed worlds the fuzz targets start every input from, shared with the
// seed maker (make_seeds.cpp) so that the committed seeds name the same
// records, devices and tokens the targets hold. Everything is deterministic:
// fixed ids, fixed site ids, a fixed clock (kFuzzNowMs).
#pragma once

#include <memory>
#include <string>

#include "fuzz_support.hpp"
#include "tandem/core/store.hpp"
#include "tandem/core/text/sequence.hpp"

namespace tandem::fuzz {

// Record ids in the format the store mints (<kind>_<10 hex ms><6 hex>).
inline constexpr const char* kSchoolId = "school_a0c4506c00f02201";
inline constexpr const char* kPersonId = "person_a0c4506c00f02202";
inline constexpr const char* kCourseId = "course_a0c4506c00f02203";
inline constexpr const char* kOtherSchoolId = "school_a0c4506c00f02211";
inline constexpr const char* kOtherPersonId = "person_a0c4506c00f02212";

// Site ids: the fixture's own tablet, the tablet the seeds come from, and
// the server's store (its stamps must not collide with the tablets').
inline constexpr const char* kFixtureSite = "f022000000000001";
inline constexpr const char* kPeerSite = "f022000000000002";
inline constexpr const char* kServerSite = "f0220000000000f0";

// The server's enrolled devices: A and B in kSchoolId, C in kOtherSchoolId.
inline constexpr const char* kTokenA = "fuzz-token-a-0123456789abcdefghijklmnopqrstuv";
inline constexpr const char* kTokenB = "fuzz-token-b-0123456789abcdefghijklmnopqrstuv";
inline constexpr const char* kTokenC = "fuzz-token-c-0123456789abcdefghijklmnopqrstuv";
inline constexpr const char* kDeviceA = "dev_f022000000000a01";
inline constexpr const char* kDeviceB = "dev_f022000000000b01";
inline constexpr const char* kDeviceC = "dev_f022000000000c01";
// An unused enrollment code for kPersonId (as an admin would print it).
inline constexpr const char* kEnrollmentCode = "K7QM-2HXD-9RTA";

// The fixed clock every fixture store and server runs on.
FixedClock& fixture_clock();

// Opens (creating) a store at `path` on fixture_clock() whose site id is
// `site` (a new file is given it before first use). Aborts on failure.
std::unique_ptr<Store> open_fixed_store(const std::string& path, const std::string& site);

// Creates a record with a fixed id (Store::create). Aborts on failure.
void create_record(Store& store, const char* kind, const Json& fields, const char* id);

// A tablet's store at `path`: school kSchoolId (its default), person
// kPersonId, course kCourseId with a title, focus areas and goals text.
std::unique_ptr<Store> make_tablet(const std::string& path, const std::string& site);

// The server's database in `dir` (at server::database_path(dir), where
// tandem-server keeps it): both schools with a person each, devices A, B, C
// holding kToken*, and kEnrollmentCode unused. Closed when this returns.
void make_server_data(const TempDir& dir);

// The text document the text-op target starts from: "Læseløft 4.b: målet
// er ro" typed by site-a, concurrent insertions at one place by site-a and
// site-b, a deletion, and an op of site-c still waiting for its left origin.
text::Document make_text_base();

}  // namespace tandem::fuzz
