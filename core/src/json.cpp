#include "tandem/core/json.hpp"

#include <exception>
#include <string>

namespace tandem {

Result<Json> parse_json_text(std::string_view text, std::size_t max_depth) {
  // Pre-scan: nesting depth outside strings. Linear, no allocation.
  std::size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) {
        return make_error(ErrorCode::kInvalidJson,
                          "JSON nested deeper than " + std::to_string(max_depth) + " levels");
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    // nlohmann's message gives the position and what was expected, then
    // quotes the last token read: that part is cut (it is the sender's data,
    // possibly not even UTF-8).
    std::string what = e.what();
    if (const auto cut = what.find("; last read"); cut != std::string::npos) what.resize(cut);
    if (const auto cut = what.find("] "); cut != std::string::npos) what.erase(0, cut + 2);
    return make_error(ErrorCode::kInvalidJson, "malformed JSON: " + what);
  } catch (const std::exception&) {
    return make_error(ErrorCode::kInvalidJson, "malformed JSON");
  }
}

}  // namespace tandem
