// The storage conformance suite's fixture and helpers: see
// storage_conformance.hpp.
#include <algorithm>
#include <future>

#include "tandem/server/stores.hpp"
#include "postgres_server.hpp"
#include "storage_conformance.hpp"

namespace tandem::test::conformance {

using server::AppliedChange;
using server::ChangePage;
using server::DeviceRecord;
using server::MutationOutcome;
using server::MutationState;
using server::PushTransaction;
using server::RecordScope;

std::unique_ptr<FreshStore> FreshStore::open(const std::string& backend) {
  std::unique_ptr<FreshStore> out(new FreshStore());
  Result<std::unique_ptr<ServerStorage>> opened = make_error(ErrorCode::kInternal, "no backend");
  if (backend == "sqlite") {
    opened = server::open_sqlite_storage({out->dir_.file("tandem-server.db")});
  } else if (backend == "postgresql") {
    PostgresServer* pg = postgres_or_skip();
    if (pg == nullptr) return nullptr;
    server::PostgresStorageOptions options;
    options.url = pg->create_database();
    options.cache_dir = out->dir_.file("cache");
    options.pool_size = 2;
    opened = server::open_postgres_storage(options);
  } else {
    FAIL("unknown backend " << backend);
  }
  INFO(backend << ": " << (opened ? std::string() : opened.error().message));
  REQUIRE(opened);
  out->storage_ = std::move(*opened);
  return out;
}

School make_school(ServerStorage& s, const std::string& name, int devices) {
  School school;
  auto info = s.create_school(name);
  REQUIRE(info);
  school.id = info->id;
  auto person = s.add_person(school.id, "Resource person", "resource_person", "");
  REQUIRE(person);
  school.person = person->id;
  for (int i = 0; i < devices; ++i) {
    const std::string code = name + "-code-" + std::to_string(i);
    REQUIRE(s.add_enrollment_code(code, school.person, 0, std::int64_t{1} << 50));
    auto e = s.enroll(code,
                      server::NewDevice{"dev_" + name + std::to_string(i), "tablet",
                                        name + "-token-" + std::to_string(i)},
                      1);
    REQUIRE(e);
    school.devices.push_back(e->device);
  }
  return school;
}

Result<MutationOutcome> mutate(ServerStorage& s, const DeviceRecord& device,
                               std::int64_t mutation_id, const std::string& digest,
                               server::MutationFn fn) {
  std::promise<Result<MutationOutcome>> done;
  s.submit_mutation(device, mutation_id, digest, 1, std::move(fn),
                    [&](Result<MutationOutcome> outcome) { done.set_value(std::move(outcome)); });
  return done.get_future().get();
}

Status write(ServerStorage& s, const std::string& school, server::WriteFn fn) {
  std::promise<Status> done;
  s.submit_write(school, 1, std::move(fn), [&](Status st) { done.set_value(std::move(st)); });
  return done.get_future().get();
}

Result<std::vector<AppliedChange>> apply_all(PushTransaction& txn,
                                             const std::vector<Change>& changes,
                                             const std::string& author) {
  std::vector<AppliedChange> out;
  for (const auto& c : changes) {
    auto applied = txn.apply(c, c.to_json().dump());
    if (!applied) return std::move(applied).error();
    if (c.op == Op::kCreate && applied->seq) {
      RecordScope scope;
      scope.record = c.record;
      scope.school = c.school;
      scope.kind = c.kind;
      scope.author = author;
      scope.first_seq = *applied->seq;
      TANDEM_TRY(txn.put_scope(scope));
    }
    out.push_back(*applied);
  }
  return out;
}

std::vector<AppliedChange> push(ServerStorage& s, const DeviceRecord& device,
                                std::int64_t mutation_id, const std::vector<Change>& changes) {
  std::vector<AppliedChange> applied;
  auto outcome = mutate(s, device, mutation_id, "digest-" + std::to_string(mutation_id),
                        [&](PushTransaction& txn) -> Result<std::string> {
                          auto done = apply_all(txn, changes, device.person);
                          if (!done) return std::move(done).error();
                          applied = std::move(*done);
                          return std::string("{}");
                        });
  INFO((outcome ? std::string() : outcome.error().message));
  REQUIRE(outcome);
  REQUIRE(outcome->state == MutationState::kCommitted);
  return applied;
}

ChangePage read(ServerStorage& s, const std::string& school, std::int64_t after_seq,
                std::size_t limit, std::size_t max_bytes, const std::string& skip_origin) {
  auto page = s.read_changes(school, after_seq, limit, max_bytes, skip_origin);
  REQUIRE(page);
  CHECK(page->rows.size() <= std::max<std::size_t>(limit, 1));
  if (page->rows.size() > 1) CHECK(page->bytes <= max_bytes);
  std::size_t bytes = 0;
  for (const auto& row : page->rows) bytes += row.body.size();
  CHECK(page->bytes == bytes);
  return *page;
}

std::vector<std::int64_t> seqs(const ChangePage& page) {
  std::vector<std::int64_t> out;
  for (const auto& row : page.rows) out.push_back(row.seq);
  return out;
}

std::vector<std::int64_t> dense(std::int64_t n) {
  std::vector<std::int64_t> out;
  for (std::int64_t i = 1; i <= n; ++i) out.push_back(i);
  return out;
}

std::vector<std::string> ids_of(const std::vector<Record>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(r.id);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace tandem::test::conformance
