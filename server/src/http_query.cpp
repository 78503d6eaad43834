#include "http_query.hpp"

namespace tandem::server {
namespace {

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> form_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex(text[i + 1]), lo = hex(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::string_view query_of(std::string_view target) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view query = target.substr(q + 1);
  const auto hash = query.find('#');
  return hash == std::string_view::npos ? query : query.substr(0, hash);
}

std::optional<std::string> form_value(std::string_view form, std::string_view name) {
  std::size_t fields = 0;
  while (!form.empty() && fields++ < kMaxFormFields) {
    const auto amp = form.find('&');
    const std::string_view field = form.substr(0, amp);
    form = amp == std::string_view::npos ? std::string_view() : form.substr(amp + 1);
    const auto eq = field.find('=');
    auto key = form_decode(field.substr(0, eq));
    if (!key || *key != name) continue;
    return eq == std::string_view::npos ? std::optional<std::string>(std::string())
                                        : form_decode(field.substr(eq + 1));
  }
  return std::nullopt;
}

}  // namespace tandem::server
