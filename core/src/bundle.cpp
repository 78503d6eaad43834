#include "tandem/core/bundle.hpp"

#include "tandem/core/json.hpp"

namespace tandem {

Json ImportReport::to_json() const {
  Json rej = Json::array();
  for (const auto& r : rejected) {
    rej.push_back(Json{{"hlc", r.hlc},
                       {"error", {{"code", error_code_name(r.error.code)}, {"message", r.error.message}}}});
  }
  return Json{{"applied", applied}, {"duplicates", duplicates}, {"ignored", ignored}, {"rejected", rej}};
}

Result<Json> export_bundle(const Store& store, std::int64_t since) {
  auto changes = store.changes_since(since, kMaxBundleChanges);
  if (!changes) return std::move(changes).error();
  Json list = Json::array();
  std::int64_t cursor = since;
  for (const auto& lc : *changes) {
    list.push_back(lc.change.to_json());
    cursor = lc.seq;
  }
  return Json{{"format", "tandem-bundle"}, {"version", 1},     {"site", store.site_id()},
              {"since", since},            {"cursor", cursor}, {"changes", std::move(list)}};
}

Result<Json> parse_bundle(std::string_view text) { return parse_json_text(text, kMaxJsonDepth); }

namespace {

// A member as text; "" when absent or not a string (Json::value would throw
// on another type: a hostile bundle must get an error, never an exception).
std::string text_member(const Json& j, const char* name) {
  if (!j.is_object()) return {};
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Result<ImportReport> import_bundle(Store& store, const Json& bundle) {
  if (!bundle.is_object() || text_member(bundle, "format") != "tandem-bundle") {
    return make_error(ErrorCode::kCorrupt, "not a Tandem change bundle");
  }
  if (!bundle.contains("version") || !bundle["version"].is_number_integer() || bundle["version"] != 1) {
    return make_error(ErrorCode::kUnsupportedVersion, "unsupported bundle version");
  }
  auto it = bundle.find("changes");
  if (it == bundle.end() || !it->is_array()) return make_error(ErrorCode::kCorrupt, "bundle has no 'changes' list");
  if (it->size() > kMaxBundleChanges) return make_error(ErrorCode::kTooManyChanges, "bundle too large");
  ImportReport report;
  Status st = store.transaction([&]() -> Status {
    for (const auto& j : *it) {
      auto c = Change::from_json(j);
      if (!c) {
        report.rejected.push_back({text_member(j, "hlc"), std::move(c).error()});
        continue;
      }
      auto r = store.apply(*c);
      if (!r) {
        const auto code = r.error().code;
        if (code == ErrorCode::kIo || code == ErrorCode::kDiskFull || code == ErrorCode::kBusy ||
            code == ErrorCode::kCorrupt) {
          return std::move(r).error();  // the store itself failed: undo the whole import
        }
        report.rejected.push_back({c->hlc.str(), std::move(r).error()});
        continue;
      }
      switch (*r) {
        case ApplyOutcome::kApplied: ++report.applied; break;
        case ApplyOutcome::kDuplicate: ++report.duplicates; break;
        case ApplyOutcome::kIgnored: ++report.ignored; break;
      }
    }
    return {};
  });
  if (!st) return std::move(st).error();
  return report;
}

}  // namespace tandem
