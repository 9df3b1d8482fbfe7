#pragma once
// Display text rules shared by names and titles: trimmed, bounded in code points, no controls.
#include "core/generated/messages.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace colloquy {

// Number of Unicode code points in valid UTF-8, or nothing if the bytes are not valid UTF-8.
std::optional<std::size_t> utf8_length(std::string_view text);

// Trims white space at both ends; returns the text if it is valid UTF-8 of 1..max_chars code
// points with no control characters (C0, DEL, C1, U+2028, U+2029), otherwise nothing.
std::optional<std::string> clean_display_text(std::string_view text, std::size_t max_chars);

// As clean_display_text, but line feeds inside the text are allowed (anonymous prompts).
std::optional<std::string> clean_prompt_text(std::string_view text, std::size_t max_chars = max_prompt_chars);

// The text with every control character made visible, so that text from outside (a room id, a
// URL, a name) can never forge or break a line of the log: a line feed becomes "\\n", the rest
// of C0, DEL and C1 "\\xNN" (NN the code point), U+2028 and U+2029 "\\u2028" and "\\u2029",
// and each byte that is not valid UTF-8 "\\xNN" (NN the byte). Everything else is kept as is.
std::string escape_control_characters(std::string_view text);

} // namespace colloquy
