// Long text fields in the store: each (record, field) holds a sequence-CRDT
// Document (text/sequence.hpp), persisted as its compact run-length encoding
// plus the materialised text for display, search and reports. Loading a note
// decodes its state; it never replays history. Edits travel as `text`
// changes whose value is the Document's operations.
#include "store_impl.hpp"
#include "tandem/core/text/limits.hpp"
#include "tandem/core/text/sequence.hpp"
#include "text/utf8.hpp"

namespace tandem {
namespace {

std::vector<std::uint32_t> code_points(std::string_view s) {
  std::vector<std::uint32_t> out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
    std::uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (std::size_t k = 1; k < n && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.push_back(cp);
    i += n;
  }
  return out;
}

// The text's open merge marks as saved in texts.merged ("" for none).
std::string merged_column(const text::Document& doc) {
  const std::vector<std::string> by = doc.merged_by();
  return by.empty() ? std::string() : Json(by).dump();
}

void append_ops(Json& all, Json ops) {
  if (ops.is_array()) {
    for (auto& op : ops) all.push_back(std::move(op));
  } else if (!ops.is_null()) {
    all.push_back(std::move(ops));
  }
}

Status confirm_merges(text::Document& doc, const std::string& site, Json& ops) {
  // Whoever edits a field has the merged text in front of them: the edit
  // settles its merge marks (text/sequence.hpp, MERGE MARKS) everywhere.
  auto ack = doc.confirm(site);
  if (!ack) return std::move(ack).error();
  append_ops(ops, std::move(*ack));
  return {};
}

}  // namespace

Result<text::Document> Store::Impl::load_text(std::string_view record, std::string_view field) {
  auto st = stmt("SELECT state FROM texts WHERE record=? AND field=?");
  if (!st) return std::move(st).error();
  (*st)->bind(1, record).bind(2, field);
  auto row = (*st)->step();
  if (!row) return std::move(row).error();
  if (*row) return text::Document::decode((*st)->blob(0));
  // No state of its own yet: a lazy record's text is its create's operations.
  auto rec = record_row(record);
  if (!rec) return std::move(rec).error();
  text::Document doc;
  if (*rec && (*rec)->lazy) {
    auto values = create_values(**rec);
    if (!values) return std::move(values).error();
    if (auto it = values->find(field); it != values->end()) TANDEM_TRY(doc.apply(*it));
  }
  return doc;
}

Result<PreparedText> Store::Impl::prepare_text(const std::string& record, const std::string& field, const Json& ops) {
  bool cached = false;
  if (text_cache.doc && text_cache.record == record && text_cache.field == field) {
    auto st = stmt("SELECT state FROM texts WHERE record=? AND field=?");
    if (!st) return std::move(st).error();
    (*st)->bind(1, record).bind(2, field);
    auto row = (*st)->step();
    if (!row) return std::move(row).error();
    cached = *row && (*st)->blob(0) == text_cache.state;
  }
  std::optional<text::Document> doc = std::move(text_cache.doc);
  text_cache.doc.reset();  // taken: a failure below leaves no cache behind
  if (!cached) {
    auto loaded = load_text(record, field);
    if (!loaded) return std::move(loaded).error();
    doc = std::move(*loaded);
  }
  TANDEM_TRY(doc->apply(ops));
  PreparedText prepared{field, doc->encode(), doc->text(), merged_column(*doc)};
  text_cache = TextCache{record, field, prepared.state, std::move(doc)};
  return prepared;
}

Status Store::Impl::save_text(const std::string& record, const PreparedText& t) {
  auto st = stmt(
      "INSERT INTO texts(record, field, state, text, merged) VALUES(?,?,?,?,?) "
      "ON CONFLICT(record, field) DO UPDATE SET state=excluded.state, text=excluded.text, "
      "merged=excluded.merged");
  if (!st) return std::move(st).error();
  return (*st)
      ->bind(1, record)
      .bind(2, t.field)
      .bind_blob(3, t.state)
      .bind(4, t.text)
      .bind(5, t.merged)
      .run();
}

Result<Json> Store::Impl::text_ops_for_replace(std::string_view record, std::string_view field,
                                               std::string_view next) {
  auto doc = load_text(record, field);
  if (!doc) return std::move(doc).error();
  const std::string cur = doc->text();
  // Replace only the part that differs, so concurrent edits elsewhere survive.
  const auto a = code_points(cur), b = code_points(next);
  std::size_t prefix = 0;
  while (prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix]) ++prefix;
  std::size_t suffix = 0;
  while (suffix < a.size() - prefix && suffix < b.size() - prefix &&
         a[a.size() - 1 - suffix] == b[b.size() - 1 - suffix]) {
    ++suffix;
  }
  Json ops = Json::array();
  const std::size_t del = a.size() - prefix - suffix;
  if (del > 0) {
    auto r = doc->remove(site, prefix, del);
    if (!r) return std::move(r).error();
    append_ops(ops, std::move(*r));
  }
  const std::size_t from = text::detail::utf8_offset(next, b.size(), prefix);
  const std::size_t to = text::detail::utf8_offset(next, b.size(), b.size() - suffix);
  if (to > from) {
    auto r = doc->insert(site, prefix, next.substr(from, to - from));
    if (!r) return std::move(r).error();
    append_ops(ops, std::move(*r));
  }
  if (!ops.empty()) TANDEM_TRY(confirm_merges(*doc, site, ops));
  return ops;
}

namespace {
Status local_text_change(Store::Impl& m, std::string_view id, std::string_view field,
                         const std::function<Result<Json>(text::Document&)>& edit) {
  auto row = m.record_row(id);
  if (!row) return std::move(row).error();
  if (!*row) return make_error(ErrorCode::kNotFound, "no record '" + std::string(id.substr(0, 64)) + "'");
  if (!(*row)->purged.empty()) return make_error(ErrorCode::kPurged, "record has been erased");
  if (!(*row)->deleted.empty()) return make_error(ErrorCode::kDeleted, "record has been deleted");
  if ((*row)->school.empty()) return make_error(ErrorCode::kForbidden, "built-in records are read-only");
  const KindSpec* kind = find_kind((*row)->kind);
  const FieldSpec* fs = kind ? kind->field(field) : nullptr;
  if (!fs) return make_error(ErrorCode::kUnknownField, "unknown field '" + std::string(field.substr(0, 64)) + "'");
  if (fs->type != FieldType::kText) {
    return make_error(ErrorCode::kWrongType, "'" + std::string(field) + "' is not a text field");
  }
  auto doc = m.load_text(id, field);
  if (!doc) return std::move(doc).error();
  auto ops = edit(*doc);
  if (!ops) return std::move(ops).error();
  TANDEM_TRY(confirm_merges(*doc, m.site, *ops));
  if (doc->size() > kMaxTextLen) {
    return make_error(ErrorCode::kTooLong, "'" + std::string(field) + "' would be longer than " +
                                               std::to_string(kMaxTextLen) + " characters");
  }
  Change c;
  c.record = std::string(id);
  c.kind = (*row)->kind;
  c.school = (*row)->school;
  c.op = Op::kText;
  c.field = std::string(field);
  c.value = std::move(*ops);
  return m.write_text_edit(std::move(c));
}
}  // namespace

Status Store::Impl::write_text_edit(Change c) {
  std::vector<Json> parts = text::split_ops(c.value);
  if (parts.size() <= 1) return write_local(std::move(c));
  return in_transaction([&]() -> Status {
    for (Json& part : parts) {
      Change one = c;
      one.value = std::move(part);
      TANDEM_TRY(write_local(std::move(one)));
    }
    return {};
  });
}

Status Store::text_insert(std::string_view id, std::string_view field, std::size_t pos, std::string_view text) {
  if (!is_valid_utf8(text)) return make_error(ErrorCode::kInvalidUtf8, "inserted text is not valid UTF-8");
  if (text.empty()) return make_error(ErrorCode::kInvalidArgument, "nothing to insert");
  const std::string agent = impl_->site;
  return local_text_change(*impl_, id, field, [&](text::Document& d) { return d.insert(agent, pos, text); });
}

Status Store::text_confirm(std::string_view id, std::string_view field) {
  const std::string agent = impl_->site;
  return local_text_change(*impl_, id, field, [&](text::Document& d) -> Result<Json> {
    auto ops = d.confirm(agent);
    if (ops && ops->empty()) {
      return make_error(ErrorCode::kNoConflict,
                        "field '" + std::string(field.substr(0, 64)) +
                            "' has no merge of concurrent edits to confirm");
    }
    return ops;
  });
}

Status Store::text_delete(std::string_view id, std::string_view field, std::size_t pos, std::size_t len) {
  if (len == 0) return make_error(ErrorCode::kInvalidArgument, "nothing to delete");
  const std::string agent = impl_->site;
  return local_text_change(*impl_, id, field, [&](text::Document& d) { return d.remove(agent, pos, len); });
}

}  // namespace tandem
