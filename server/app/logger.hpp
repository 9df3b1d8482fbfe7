#pragma once
// One line per record to stderr, "<UTC time> <level> <message>" (spdlog). Never pass secrets to it.
//   logger::info("room {} created", id);   formatted (fmt, checked at compile time) only when
//                                           info is enabled
//   logger::info(text);                     a message already built, written as is
// Either way every control character in the message is escaped (escape_control_characters), so
// text from outside cannot forge a log line.
#include <fmt/format.h>

#include <iosfwd>
#include <iterator>
#include <string_view>
#include <utility>

namespace colloquy::logger {

enum class Level { debug, info, warn, error };

void set_level(Level level);
bool parse_level(std::string_view text, Level& out);
bool enabled(Level level);

// Escapes and writes one record if `level` is enabled.
void write(Level level, std::string_view message);

// Tests: records go to `out` instead of stderr (nullptr: back to stderr). Not thread-safe:
// call it while nothing else logs.
void set_output(std::ostream* out);

template <typename... Args>
void log(Level level, fmt::format_string<Args...> format, Args&&... args) {
  if (!enabled(level)) return; // nothing is formatted for a level that is off
  fmt::memory_buffer text;
  fmt::format_to(std::back_inserter(text), format, std::forward<Args>(args)...);
  write(level, std::string_view(text.data(), text.size()));
}

// With arguments: a format string. Without: the message itself (braces are not special).
template <typename A, typename... Args>
void debug(fmt::format_string<A, Args...> f, A&& a, Args&&... args) { log<A, Args...>(Level::debug, f, std::forward<A>(a), std::forward<Args>(args)...); }
template <typename A, typename... Args>
void info(fmt::format_string<A, Args...> f, A&& a, Args&&... args) { log<A, Args...>(Level::info, f, std::forward<A>(a), std::forward<Args>(args)...); }
template <typename A, typename... Args>
void warn(fmt::format_string<A, Args...> f, A&& a, Args&&... args) { log<A, Args...>(Level::warn, f, std::forward<A>(a), std::forward<Args>(args)...); }
template <typename A, typename... Args>
void error(fmt::format_string<A, Args...> f, A&& a, Args&&... args) { log<A, Args...>(Level::error, f, std::forward<A>(a), std::forward<Args>(args)...); }

inline void debug(std::string_view m) { write(Level::debug, m); }
inline void info(std::string_view m) { write(Level::info, m); }
inline void warn(std::string_view m) { write(Level::warn, m); }
inline void error(std::string_view m) { write(Level::error, m); }

} // namespace colloquy::logger
