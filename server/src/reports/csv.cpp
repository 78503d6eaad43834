// CSV for the exported tables (reports.hpp: RFC 4180, Danish Excel options,
// CSV-injection guard).
#include <cstdio>

#include "tandem/server/reports.hpp"

namespace tandem::server {
namespace {

// Text a spreadsheet would take for a formula.
bool formula_like(const std::string& s) {
  if (s.empty()) return false;
  const char c = s[0];
  // '-' too, digits after it or not ("-2+3+cmd|..." runs in spreadsheets);
  // numbers are written as numbers and never pass here.
  return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

// Control characters other than tab and line breaks have no place in a
// spreadsheet and could act on a terminal the file is printed to.
std::string without_controls(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t' && c != '\n' && c != '\r') || u == 0x7f) {
      out += "\xEF\xBF\xBD";  // U+FFFD
    } else {
      out += c;
    }
  }
  return out;
}

std::string cell_text(const Json& v, char separator) {
  if (v.is_null()) return {};
  if (v.is_string()) {
    std::string s = without_controls(v.get<std::string>());
    return formula_like(s) ? "'" + s : s;
  }
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  if (v.is_number()) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f", v.get<double>());
    std::string s = buf;
    // Danish Excel (the ';' variant) reads a decimal comma.
    if (separator == ';') {
      for (auto& ch : s) {
        if (ch == '.') ch = ',';
      }
    }
    return s;
  }
  return v.dump();
}

void append_field(std::string& out, const std::string& text, char separator) {
  bool quote = false;
  for (char c : text) {
    if (c == separator || c == '"' || c == '\n' || c == '\r') {
      quote = true;
      break;
    }
  }
  if (!quote) {
    out += text;
    return;
  }
  out += '"';
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

}  // namespace

std::string to_csv(const Table& table, const CsvOptions& options) {
  std::string out;
  if (options.bom) out += "\xEF\xBB\xBF";
  const char sep = options.separator;
  for (std::size_t i = 0; i < table.columns.size(); ++i) {
    if (i) out += sep;
    append_field(out, table.columns[i], sep);
  }
  out += "\r\n";
  for (const auto& row : table.rows) {
    for (std::size_t i = 0; i < table.columns.size(); ++i) {
      if (i) out += sep;
      if (i < row.size()) append_field(out, cell_text(row[i], sep), sep);
    }
    out += "\r\n";
  }
  return out;
}

}  // namespace tandem::server
