// The school of the visibility matrix (visibility_matrix.cpp): a real
// tandem-server, a person of every role with one enrolled tablet each, the
// records the resource person's tablet writes (every string and text field a
// canary of its own), and what a round of syncs brought each tablet.
//
// Thread-safety: none; one test thread.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sync_fixture.hpp"

namespace tandem::test {

// What one tablet received in a round of syncs.
struct RoundCapture {
  std::set<std::string> in_responses;       // record keys whose canaries an answer carried
  std::vector<std::string> rejected_codes;  // error codes of rejected pushed changes
};

class MatrixWorld {
 public:
  // `pull_limit` 0: the engine's default page size.
  explicit MatrixWorld(std::size_t pull_limit);

  // leader, resource, teacherA, teacherB, pedagogue, external, admin.
  static const std::vector<std::string>& roles();

  // The resource person's tablet records the child K, course C1 (teacher A,
  // children [K]) with session S1 and entries EK (names K) and E0, course C2
  // (nobody), meeting M (external, teacher A) with agenda items AK (names K)
  // and A0, actions AC1 (under C1) and AM (under M).
  void record_school();
  // The resource person's tablet records consent `key` for K with `scope`.
  void add_consent(const std::string& key, const std::string& scope);
  // The resource person's tablet syncs, then every other tablet, each twice.
  std::map<std::string, RoundCapture> sync_all();

  Tablet& tablet(const std::string& role) { return *tablets_.at(role); }
  const std::string& person(const std::string& role) const { return people_.at(role); }
  const std::string& id(const std::string& key) const { return ids_.at(key); }

  // Every canary of the records `keys`.
  std::set<std::string> canaries_of(const std::set<std::string>& keys) const;
  // Canaries in the bytes of the tablet's db, -wal and -journal files (the
  // store open, as on a device), and the keys of the records they belong to.
  std::set<std::string> canaries_in_files(const std::string& role) const;
  std::set<std::string> keys_in_files(const std::string& role) const;
  // Keys of the records the tablet's store holds.
  std::set<std::string> keys_in_store(const std::string& role);

  // Teacher B writes to C2 (beyond its view) and to an unknown id: the same
  // not_found for both; the resource person's write to C2 is accepted.
  void check_write_beyond_view();
  // `audit export --child K --json` has a read per child-linked record each
  // device received; devices that received none have no read; verify exits 0.
  void check_audit();

  const std::size_t pull_limit;

 private:
  std::set<std::string> keys_in(const std::string& bytes) const;
  std::string canary(const std::string& key, const std::string& field);

  SyncWorld world_;
  TempDir dir_;
  std::map<std::string, std::string> people_;
  std::map<std::string, std::unique_ptr<Tablet>> tablets_;
  std::map<std::string, std::string> ids_;
  std::map<std::string, std::vector<std::string>> canaries_;
  std::map<std::string, std::set<std::string>> child_linked_held_;  // role -> keys ever held
};

}  // namespace tandem::test
