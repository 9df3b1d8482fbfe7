#include "app/logger.hpp"

#include "core/text.hpp"

#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <array>
#include <memory>

namespace colloquy::logger {
namespace {

constexpr std::array<std::string_view, 4> names = {"debug", "info", "warn", "error"};

std::string_view name_of(Level level) { return names[static_cast<std::size_t>(level)]; }

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
  case Level::debug: return spdlog::level::debug;
  case Level::info: return spdlog::level::info;
  case Level::warn: return spdlog::level::warn;
  case Level::error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

// Our level names ("warn", not spdlog's "warning"): scripts and tests read them.
class LevelName final : public spdlog::custom_flag_formatter {
public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string_view name = "info";
    switch (msg.level) {
    case spdlog::level::trace:
    case spdlog::level::debug: name = name_of(Level::debug); break;
    case spdlog::level::warn: name = name_of(Level::warn); break;
    case spdlog::level::err:
    case spdlog::level::critical: name = name_of(Level::error); break;
    default: break;
    }
    dest.append(name.data(), name.data() + name.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<LevelName>(); }
};

void use_sink(spdlog::logger& logger, spdlog::sink_ptr sink) {
  // "2025-01-31T09:15:02.123Z info room r1 created": UTC, milliseconds.
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc, "\n");
  formatter->add_flag<LevelName>('L').set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %L %v");
  sink->set_formatter(std::move(formatter));
  logger.sinks().assign({std::move(sink)});
}

spdlog::logger& the_logger() {
  static spdlog::logger* logger = [] {
    // Not registered with spdlog's registry and never destroyed: usable until the very end.
    auto* l = new spdlog::logger("colloquy");
    use_sink(*l, std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_level(spdlog::level::info);
    return l;
  }();
  return *logger;
}

} // namespace

void set_level(Level level) { the_logger().set_level(to_spdlog(level)); }

bool parse_level(std::string_view text, Level& out) {
  for (Level l : {Level::debug, Level::info, Level::warn, Level::error}) {
    if (text == name_of(l)) {
      out = l;
      return true;
    }
  }
  return false;
}

bool enabled(Level level) { return the_logger().should_log(to_spdlog(level)); }

void write(Level level, std::string_view message) {
  auto& logger = the_logger();
  const auto spd_level = to_spdlog(level);
  if (!logger.should_log(spd_level)) return;
  const std::string escaped = escape_control_characters(message);
  logger.log(spd_level, spdlog::string_view_t(escaped.data(), escaped.size()));
}

void set_output(std::ostream* out) {
  if (out) {
    use_sink(the_logger(), std::make_shared<spdlog::sinks::ostream_sink_mt>(*out, /*force_flush=*/true));
  } else {
    use_sink(the_logger(), std::make_shared<spdlog::sinks::stderr_sink_mt>());
  }
}

} // namespace colloquy::logger
