#include "core/text.hpp"

#include <cstdint>

namespace colloquy {
namespace {

// Decodes one code point at text[i], advancing i; nothing on malformed or overlong UTF-8.
std::optional<char32_t> next_code_point(std::string_view text, std::size_t& i) {
  const auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(text[k]); };
  const std::uint8_t lead = byte(i);
  std::size_t extra = 0;
  char32_t cp = 0;
  if (lead < 0x80) { ++i; return lead; }
  if ((lead & 0xE0) == 0xC0) { extra = 1; cp = lead & 0x1Fu; }
  else if ((lead & 0xF0) == 0xE0) { extra = 2; cp = lead & 0x0Fu; }
  else if ((lead & 0xF8) == 0xF0) { extra = 3; cp = lead & 0x07u; }
  else return std::nullopt;
  if (i + extra >= text.size()) return std::nullopt; // truncated sequence
  for (std::size_t k = 1; k <= extra; ++k) {
    const std::uint8_t b = byte(i + k);
    if ((b & 0xC0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (b & 0x3Fu);
  }
  static constexpr char32_t min_for_length[] = {0, 0x80, 0x800, 0x10000};
  if (cp < min_for_length[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
  i += extra + 1;
  return cp;
}

bool is_control(char32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

} // namespace

std::optional<std::size_t> utf8_length(std::string_view text) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < text.size();) {
    if (!next_code_point(text, i)) return std::nullopt;
    ++count;
  }
  return count;
}

namespace {
std::optional<std::string> clean(std::string_view text, std::size_t max_chars, bool line_feeds) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  if (text.empty()) return std::nullopt;
  std::size_t count = 0;
  for (std::size_t i = 0; i < text.size();) {
    const auto cp = next_code_point(text, i);
    if (!cp || (is_control(*cp) && !(line_feeds && *cp == '\n'))) return std::nullopt;
    if (++count > max_chars) return std::nullopt;
  }
  return std::string(text);
}
} // namespace

std::optional<std::string> clean_display_text(std::string_view text, std::size_t max_chars) {
  return clean(text, max_chars, false);
}

std::optional<std::string> clean_prompt_text(std::string_view text, std::size_t max_chars) {
  return clean(text, max_chars, true);
}

std::string escape_control_characters(std::string_view text) {
  static constexpr char digits[] = "0123456789abcdef";
  const auto hex = [](std::string& out, unsigned value) {
    out += "\\x";
    out.push_back(digits[(value >> 4) & 0xF]);
    out.push_back(digits[value & 0xF]);
  };
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t start = i;
    const auto cp = next_code_point(text, i);
    if (!cp) {
      hex(out, static_cast<std::uint8_t>(text[start]));
      i = start + 1;
    } else if (*cp == '\n') {
      out += "\\n";
    } else if (*cp == 0x2028 || *cp == 0x2029) {
      out += *cp == 0x2028 ? "\\u2028" : "\\u2029";
    } else if (is_control(*cp)) {
      hex(out, static_cast<unsigned>(*cp));
    } else {
      out.append(text.substr(start, i - start));
    }
  }
  return out;
}

} // namespace colloquy
