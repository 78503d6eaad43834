// Long text fields in the store. Until the sequence CRDT is wired in, edits
// are applied to the current text and stored as a whole-value register write.
#include "store_impl.hpp"

namespace tandem {
namespace {
// Byte offset of code point `pos` in s, or npos when past the end.
std::size_t byte_offset(std::string_view s, std::size_t pos) {
  std::size_t cp = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (cp == pos) return i;
      ++cp;
    }
  }
  return cp == pos ? s.size() : std::string_view::npos;
}

Result<std::string> current_text(const Store& store, std::string_view id, std::string_view field) {
  auto r = store.get(id);
  if (!r) return std::move(r).error();
  auto it = r->fields.find(std::string(field));
  if (it == r->fields.end() || !it->is_string()) return std::string();
  return it->get<std::string>();
}
}  // namespace

Status Store::Impl::apply_text(const std::string&, const std::string& field, const Json&) {
  return make_error(ErrorCode::kInvalidArgument, "text operations for '" + field + "' are not supported by this build");
}

Status Store::text_insert(std::string_view id, std::string_view field, std::size_t pos, std::string_view text) {
  if (!is_valid_utf8(text)) return make_error(ErrorCode::kInvalidUtf8, "inserted text is not valid UTF-8");
  auto cur = current_text(*this, id, field);
  if (!cur) return std::move(cur).error();
  const std::size_t at = byte_offset(*cur, pos);
  if (at == std::string_view::npos) return make_error(ErrorCode::kInvalidArgument, "position past the end of the text");
  std::string next = *cur;
  next.insert(at, text);
  return set(id, field, next);
}

Status Store::text_delete(std::string_view id, std::string_view field, std::size_t pos, std::size_t len) {
  auto cur = current_text(*this, id, field);
  if (!cur) return std::move(cur).error();
  const std::size_t from = byte_offset(*cur, pos), to = byte_offset(*cur, pos + len);
  if (from == std::string_view::npos || to == std::string_view::npos) {
    return make_error(ErrorCode::kInvalidArgument, "range past the end of the text");
  }
  std::string next = *cur;
  next.erase(from, to - from);
  return set(id, field, next);
}

}  // namespace tandem
