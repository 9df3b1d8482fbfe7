#pragma once
// One line per record to stderr, "<time> <level> <message>". Never pass secrets to it.
#include <string_view>

namespace colloquy::logger {

enum class Level { debug, info, warn, error };

void set_level(Level level);
bool parse_level(std::string_view text, Level& out);
void write(Level level, std::string_view message);

inline void debug(std::string_view m) { write(Level::debug, m); }
inline void info(std::string_view m) { write(Level::info, m); }
inline void warn(std::string_view m) { write(Level::warn, m); }
inline void error(std::string_view m) { write(Level::error, m); }

} // namespace colloquy::logger
