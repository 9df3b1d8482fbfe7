#include "app/config.hpp"

#include "log/redis_room_log.hpp"

#include <charconv>
#include <functional>

namespace colloquy {
namespace {

constexpr std::string_view help_text = R"(colloquy: live session server for leadership learning groups

Usage: colloquy [options]

Options (each also read from the environment variable shown; a flag wins):
  --bind ADDR              address to listen on (COLLOQUY_BIND, default 127.0.0.1;
                           use 0.0.0.0 in a container)
  --port N                 TCP port, 0 picks a free one (COLLOQUY_PORT, default 8080)
  --static-dir DIR         the built web client (COLLOQUY_STATIC_DIR, default: client-web/dist
                           of the source tree this binary was built from)
  --threads N              I/O threads, 1-64 (COLLOQUY_THREADS, default 2)
  --max-frame-bytes N      largest WebSocket frame, 1 KiB-16 MiB (COLLOQUY_MAX_FRAME_BYTES, default 65536)
  --max-send-queue-bytes N bytes queued to one slow client before it is disconnected
                           (COLLOQUY_MAX_SEND_QUEUE_BYTES, default 1048576)
  --max-members N          members per room, 2-1000 (COLLOQUY_MAX_MEMBERS, default 50)
  --max-rooms N            rooms per server (COLLOQUY_MAX_ROOMS, default 10000)
  --room-unjoined-seconds N
                           a room nobody joined this long after its creation is removed
                           (COLLOQUY_ROOM_UNJOINED_SECONDS, 1-31536000, default 86400: a day)
  --room-idle-seconds N    a room without a change this long is removed, with everything in it
                           (COLLOQUY_ROOM_IDLE_SECONDS, 1-315360000, default 7776000: 90 days)
  --max-commands-per-second N
                           commands one connection may send a second, with bursts of twice
                           that; more get rate_limited (COLLOQUY_MAX_COMMANDS_PER_SECOND,
                           1-100000, default 20)
  --data-dir DIR           where rooms are kept across restarts: journal and snapshots
                           (COLLOQUY_DATA_DIR, default ./data; one server per directory)
  --fsync POLICY           always (an event is on disk before anyone sees it) or everysec
                           (flushed each second; faster, may lose the last second on power loss)
                           (COLLOQUY_FSYNC, default always)
  --redis URLS             scale-out: keep rooms in Redis and share them with every instance
                           using the same servers: redis://HOST:PORT, comma-separated to
                           shard rooms over several (COLLOQUY_REDIS; default: embedded)
  --log-level LEVEL        debug, info, warn or error (COLLOQUY_LOG_LEVEL, default info)
  --help                   show this text
  --version                show the version
)";

bool parse_number(std::string_view text, std::uint64_t min, std::uint64_t max, std::uint64_t& out) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) return false;
  out = value;
  return true;
}

struct Setting {
  std::string_view flag;
  std::string_view env;
  std::function<bool(Config&, std::string_view)> apply; // false: the value is wrong
  std::string_view expected; // said when the value is wrong
};

template <typename T>
std::function<bool(Config&, std::string_view)> number(T Config::*field, std::uint64_t min, std::uint64_t max) {
  return [=](Config& c, std::string_view v) {
    std::uint64_t n = 0;
    if (!parse_number(v, min, max, n)) return false;
    c.*field = static_cast<T>(n);
    return true;
  };
}

const std::vector<Setting>& settings() {
  static const std::vector<Setting> all = {
      {"--bind", "COLLOQUY_BIND", [](Config& c, std::string_view v) { c.bind = v; return !v.empty(); }, "an IP address"},
      {"--port", "COLLOQUY_PORT", number(&Config::port, 0, 65535), "a port number 0-65535"},
      {"--static-dir", "COLLOQUY_STATIC_DIR", [](Config& c, std::string_view v) { c.static_dir = v; return !v.empty(); }, "a directory"},
      {"--threads", "COLLOQUY_THREADS", number(&Config::threads, 1, 64), "a number 1-64"},
      {"--max-frame-bytes", "COLLOQUY_MAX_FRAME_BYTES", number(&Config::max_frame_bytes, 1024, 16u << 20), "a number 1024-16777216"},
      {"--max-send-queue-bytes", "COLLOQUY_MAX_SEND_QUEUE_BYTES", number(&Config::max_send_queue_bytes, 64 * 1024, 1u << 30), "a number 65536-1073741824"},
      {"--max-members", "COLLOQUY_MAX_MEMBERS", number(&Config::max_members_per_room, 2, 1000), "a number 2-1000"},
      {"--max-rooms", "COLLOQUY_MAX_ROOMS", number(&Config::max_rooms, 1, 10'000'000), "a number 1-10000000"},
      {"--room-unjoined-seconds", "COLLOQUY_ROOM_UNJOINED_SECONDS", number(&Config::room_unjoined_seconds, 1, 31'536'000),
       "a number of seconds 1-31536000"},
      {"--room-idle-seconds", "COLLOQUY_ROOM_IDLE_SECONDS", number(&Config::room_idle_seconds, 1, 315'360'000),
       "a number of seconds 1-315360000"},
      {"--max-commands-per-second", "COLLOQUY_MAX_COMMANDS_PER_SECOND", number(&Config::max_commands_per_second, 1, 100'000),
       "a number 1-100000"},
      {"--data-dir", "COLLOQUY_DATA_DIR", [](Config& c, std::string_view v) { c.data_dir = v; return !v.empty(); }, "a directory"},
      {"--fsync", "COLLOQUY_FSYNC", [](Config& c, std::string_view v) {
         c.fsync = v;
         return v == "always" || v == "everysec";
       }, "always or everysec"},
      {"--redis", "COLLOQUY_REDIS", [](Config& c, std::string_view v) {
         c.redis = v;
         return std::holds_alternative<std::vector<RedisEndpoint>>(parse_redis_urls(v));
       }, "redis://HOST:PORT, or several separated by commas (rooms are sharded over them)"},
      {"--log-level", "COLLOQUY_LOG_LEVEL", [](Config& c, std::string_view v) {
         c.log_level = v;
         return v == "debug" || v == "info" || v == "warn" || v == "error";
       }, "debug, info, warn or error"},
  };
  return all;
}

} // namespace

ConfigResult parse_config(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
  Config config;
#ifdef COLLOQUY_DEFAULT_STATIC_DIR
  config.static_dir = COLLOQUY_DEFAULT_STATIC_DIR;
#endif
  for (const auto& s : settings()) {
    auto it = env.find(std::string(s.env));
    if (it == env.end()) continue;
    if (!s.apply(config, it->second)) {
      return ConfigError{std::string(s.env) + "=" + it->second + " is not valid: expected " + std::string(s.expected)};
    }
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") return ConfigHelp{std::string(help_text)};
    if (arg == "--version") return ConfigVersion{std::string("colloquy ") + COLLOQUY_VERSION};
    std::string value;
    const auto eq = arg.find('=');
    const std::string_view flag = arg.substr(0, eq);
    const Setting* setting = nullptr;
    for (const auto& s : settings()) {
      if (s.flag == flag) setting = &s;
    }
    if (!setting) return ConfigError{"unknown option '" + std::string(arg) + "' (see --help)"};
    if (eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return ConfigError{std::string(flag) + " needs a value: " + std::string(setting->expected)};
    }
    if (!setting->apply(config, value)) {
      return ConfigError{std::string(flag) + " " + value + " is not valid: expected " + std::string(setting->expected)};
    }
  }
  return config;
}

} // namespace colloquy
