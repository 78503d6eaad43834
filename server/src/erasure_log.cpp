#include "tandem/server/erasure_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>

#include "tandem/server/access.hpp"

namespace tandem::server {
namespace {

Status write_all(int fd, const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return make_error(ErrorCode::kIo, std::string("cannot write the erasure log: ") + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
  return {};
}

}  // namespace

std::string erasure_log_path(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "erasure-log.jsonl").string();
}

Status ErasureLog::append(const Change& change, std::int64_t now_ms) {
  if (path_.empty()) return {};
  const Json line = {{"at_ms", now_ms}, {"school", change.school}, {"record", change.record},
                     {"change", change.to_json()}};
  const std::string text = line.dump() + "\n";
  std::lock_guard lock(mu_);
  const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return make_error(ErrorCode::kIo, "cannot open the erasure log '" + path_ + "': " + std::strerror(errno));
  }
  Status s = write_all(fd, text);
  if (s.ok() && ::fdatasync(fd) != 0) {
    s = make_error(ErrorCode::kIo, std::string("cannot sync the erasure log: ") + std::strerror(errno));
  }
  ::close(fd);
  return s;
}

Result<std::vector<Change>> ErasureLog::read(const std::string& path) {
  std::vector<Change> out;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (::access(path.c_str(), F_OK) != 0) return out;
    return make_error(ErrorCode::kIo, "cannot read the erasure log '" + path + "'");
  }
  std::string line;
  std::int64_t number = 0;
  for (;;) {
    line.clear();
    bool newline = false;
    char c = 0;
    while (in.get(c)) {
      if (c == '\n') {
        newline = true;
        break;
      }
      if (line.size() >= kMaxErasureLogLine) {
        return make_error(ErrorCode::kInvalidValue, "erasure log line " + std::to_string(number + 1) +
                                                        " is longer than " +
                                                        std::to_string(kMaxErasureLogLine) + " bytes");
      }
      line.push_back(c);
    }
    if (line.empty() && !newline) break;  // the end
    ++number;
    if (line.empty()) continue;
    const Json j = Json::parse(line, nullptr, false);
    auto change = j.is_object() && j.contains("change")
                      ? Change::from_json(j["change"])
                      : Result<Change>(make_error(ErrorCode::kInvalidValue, "not a log line"));
    if (!change || change->op != Op::kPurge) {
      // A last line without its newline was cut by a crash mid-append: its
      // purge never committed.
      if (!newline) break;
      return make_error(ErrorCode::kInvalidValue,
                        "erasure log line " + std::to_string(number) + " is not a purge");
    }
    out.push_back(std::move(*change));
  }
  return out;
}

Result<std::int64_t> reapply_erasures(ServerStorage& storage, const std::vector<Change>& purges,
                                      std::int64_t now_ms) {
  if (purges.empty()) return std::int64_t{0};
  std::int64_t applied_count = 0;
  std::promise<Status> result;
  auto done = result.get_future();
  storage.submit_write(
      "", purges.size(),
      [&purges, &applied_count, now_ms](PushTransaction& txn) -> Status {
        applied_count = 0;
        for (const Change& purge : purges) {
          AuditEntry erased{now_ms, purge.school, "", "", "erase", {}};
          auto before = txn.scope(purge.record);
          if (!before) return std::move(before).error();
          auto applied = txn.apply(purge, purge.to_json().dump());
          if (!applied) {
            // A record the backup never had: nothing to erase.
            if (applied.error().code == ErrorCode::kNotFound) continue;
            return std::move(applied).error();
          }
          if (applied->outcome != ApplyOutcome::kApplied) continue;
          ++applied_count;
          TANDEM_TRY(note_change(purge, applied->seq.value_or(0), "", txn));
          if (*before && !(*before)->child.empty()) {
            erased.records.push_back(AuditRef{purge.record, (*before)->child});
            TANDEM_TRY(txn.append_audit(erased));
          }
        }
        return {};
      },
      [&result](Status s) { result.set_value(std::move(s)); });
  TANDEM_TRY(done.get());
  return applied_count;
}

}  // namespace tandem::server
