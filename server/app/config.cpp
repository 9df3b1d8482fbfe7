#include "app/config.hpp"

#include "app/http_api.hpp"
#include "core/text.hpp"
#include "app/rate_limit.hpp"
#include "log/redis_url.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <charconv>
#include <functional>
#include <optional>
#include <utility>

namespace colloquy {
namespace {

bool parse_number(std::string_view text, std::uint64_t min, std::uint64_t max, std::uint64_t& out) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) return false;
  out = value;
  return true;
}

// One setting: its flag, its environment variable, how it is read and checked, and its --help.
struct Setting {
  std::string_view flag;
  std::string_view env;
  std::function<bool(Config&, std::string_view)> apply; // false: the value is wrong
  std::string_view expected;                            // said when the value is wrong
  std::string_view value_name;                          // in --help: "--port N"
  std::string_view help;                                // in --help; names the variable and the default
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

std::function<bool(Config&, std::string_view)> text(std::string Config::*field) {
  return [=](Config& c, std::string_view v) {
    c.*field = v;
    return !v.empty();
  };
}

std::function<bool(Config&, std::string_view)> one_of(std::string Config::*field, std::vector<std::string_view> allowed) {
  return [=](Config& c, std::string_view v) {
    c.*field = v;
    return std::find(allowed.begin(), allowed.end(), v) != allowed.end();
  };
}

const std::vector<Setting>& settings() {
  static const std::vector<Setting> all = {
      {"--bind", "COLLOQUY_BIND", text(&Config::bind), "an IP address", "ADDR",
       "address to listen on (COLLOQUY_BIND, default 127.0.0.1;\nuse 0.0.0.0 in a container)"},
      {"--port", "COLLOQUY_PORT", number(&Config::port, 0, 65535), "a port number 0-65535", "N",
       "TCP port, 0 picks a free one (COLLOQUY_PORT, default 8080)"},
      {"--static-dir", "COLLOQUY_STATIC_DIR", text(&Config::static_dir), "a directory", "DIR",
       "the built web client (COLLOQUY_STATIC_DIR, default: client-web/dist\nof the source tree this binary was built from)"},
      {"--threads", "COLLOQUY_THREADS", number(&Config::threads, 1, 64), "a number 1-64", "N",
       "I/O threads, 1-64 (COLLOQUY_THREADS, default 2)"},
      {"--max-frame-bytes", "COLLOQUY_MAX_FRAME_BYTES", number(&Config::max_frame_bytes, 1024, 16u << 20),
       "a number 1024-16777216", "N", "largest WebSocket frame, 1 KiB-16 MiB (COLLOQUY_MAX_FRAME_BYTES, default 65536)"},
      {"--max-send-queue-bytes", "COLLOQUY_MAX_SEND_QUEUE_BYTES", number(&Config::max_send_queue_bytes, 64 * 1024, 1u << 30),
       "a number 65536-1073741824", "N",
       "bytes queued to one slow client before it is disconnected\n(COLLOQUY_MAX_SEND_QUEUE_BYTES, default 1048576)"},
      {"--max-members", "COLLOQUY_MAX_MEMBERS", number(&Config::max_members_per_room, 2, 1000), "a number 2-1000", "N",
       "members per room, 2-1000 (COLLOQUY_MAX_MEMBERS, default 50)"},
      {"--max-room-state-bytes", "COLLOQUY_MAX_ROOM_STATE_BYTES", number(&Config::max_room_state_bytes, 4096, 1u << 30),
       "a number 4096-1073741824", "N",
       "bytes of one room's state (as a snapshot); changes past it get\nroom_state_full; at most 7/8 of --max-frame-bytes is used\n(COLLOQUY_MAX_ROOM_STATE_BYTES, default 57344)"},
      {"--max-rooms", "COLLOQUY_MAX_ROOMS", number(&Config::max_rooms, 1, 10'000'000), "a number 1-10000000", "N",
       "rooms per server (COLLOQUY_MAX_ROOMS, default 10000)"},
      {"--room-unjoined-seconds", "COLLOQUY_ROOM_UNJOINED_SECONDS", number(&Config::room_unjoined_seconds, 1, 31'536'000),
       "a number of seconds 1-31536000", "N",
       "a room nobody joined this long after its creation is removed\n(COLLOQUY_ROOM_UNJOINED_SECONDS, 1-31536000, default 86400: a day)"},
      {"--room-idle-seconds", "COLLOQUY_ROOM_IDLE_SECONDS", number(&Config::room_idle_seconds, 1, 315'360'000),
       "a number of seconds 1-315360000", "N",
       "a room without a change this long is removed, with everything in it\n(COLLOQUY_ROOM_IDLE_SECONDS, 1-315360000, default 7776000: 90 days)"},
      {"--max-connections", "COLLOQUY_MAX_CONNECTIONS", number(&Config::max_connections, 16, 1'000'000), "a number 16-1000000",
       "N",
       "open sockets at most; past it only /healthz and /readyz are answered\n(COLLOQUY_MAX_CONNECTIONS, default 10000; held below the open-file limit)"},
      {"--max-connections-per-address", "COLLOQUY_MAX_CONNECTIONS_PER_ADDRESS", number(&Config::max_connections_per_address, 1, 1'000'000),
       "a number 1-1000000", "N",
       "WebSockets open at once from one client address; past it 429\n(COLLOQUY_MAX_CONNECTIONS_PER_ADDRESS, default 100)"},
      {"--room-creations-per-hour", "COLLOQUY_ROOM_CREATIONS_PER_HOUR", number(&Config::room_creations_per_hour, 1, 1'000'000),
       "a number 1-1000000", "N",
       "rooms one client address may create an hour, in bursts of up to 10 (or a\nminute's worth, if more);\nmore get 429 rate_limited (COLLOQUY_ROOM_CREATIONS_PER_HOUR, default 30)"},
      {"--max-http-requests-per-second", "COLLOQUY_MAX_HTTP_REQUESTS_PER_SECOND", number(&Config::max_http_requests_per_second, 1, 1'000'000),
       "a number 1-1000000", "N",
       "HTTP requests (pages, API, WebSocket upgrades) one client address may\nmake a second, bursts of twice that; more get 429 rate_limited;\n/healthz and /readyz never count (COLLOQUY_MAX_HTTP_REQUESTS_PER_SECOND, default 100)"},
      {"--trusted-proxy", "COLLOQUY_TRUSTED_PROXY",
       [](Config& c, std::string_view v) {
         c.trusted_proxies.clear();
         while (!v.empty()) {
           const auto comma = v.find(',');
           std::string_view one = v.substr(0, comma);
           while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
           while (!one.empty() && one.back() == ' ') one.remove_suffix(1);
           if (!is_proxy_spec(one)) return false;
           c.trusted_proxies.emplace_back(one);
           v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
         }
         return !c.trusted_proxies.empty();
       },
       "IP addresses or networks (10.0.0.0/8) separated by commas", "ADDRS",
       "the balancers in front of this server: for connections from them the\nclient address (for per-address limits) is taken from X-Forwarded-For\n(COLLOQUY_TRUSTED_PROXY; default none: the socket's address)"},
      {"--create-token", "COLLOQUY_CREATE_TOKEN",
       [](Config& c, std::string_view v) {
         c.create_token = v;
         return v.size() >= 16 && v.size() <= 256 &&
                std::all_of(v.begin(), v.end(), [](char ch) { return ch > 0x20 && ch < 0x7f; });
       },
       "16-256 printable ASCII characters, no spaces", "TOKEN",
       "only requests with \"Authorization: Bearer TOKEN\" may create rooms\n(COLLOQUY_CREATE_TOKEN, better than the flag: not in the process list;\ndefault: anyone may)"},
      {"--join-timeout-seconds", "COLLOQUY_JOIN_TIMEOUT_SECONDS", number(&Config::join_timeout_seconds, 1, 3600),
       "a number of seconds 1-3600", "N",
       "a connection that has not joined a room this long after opening is closed\n(4002 join_timeout; COLLOQUY_JOIN_TIMEOUT_SECONDS, 1-3600, default 30)"},
      {"--speaker-grace-seconds", "COLLOQUY_SPEAKER_GRACE_SECONDS", number(&Config::speaker_grace_seconds, 0, 600),
       "a number of seconds 0-600", "N",
       "a speaker whose connection drops keeps the turn this long before it is\nskipped; 0: skipped at once (COLLOQUY_SPEAKER_GRACE_SECONDS, 0-600, default 20)"},
      {"--max-commands-per-second", "COLLOQUY_MAX_COMMANDS_PER_SECOND", number(&Config::max_commands_per_second, 1, 100'000),
       "a number 1-100000", "N",
       "commands one connection may send a second, with bursts of twice\nthat; more get rate_limited (COLLOQUY_MAX_COMMANDS_PER_SECOND,\n1-100000, default 20)"},
      {"--data-dir", "COLLOQUY_DATA_DIR", text(&Config::data_dir), "a directory", "DIR",
       "where rooms are kept across restarts: journal and snapshots\n(COLLOQUY_DATA_DIR, default ./data; one server per directory)"},
      {"--fsync", "COLLOQUY_FSYNC", one_of(&Config::fsync, {"always", "everysec"}), "always or everysec", "POLICY",
       "always (an event is on disk before anyone sees it) or everysec\n(flushed each second; faster, may lose the last second on power "
       "loss)\n(COLLOQUY_FSYNC, default always)"},
      {"--redis", "COLLOQUY_REDIS",
       [](Config& c, std::string_view v) {
         c.redis = v;
         return std::holds_alternative<std::vector<RedisEndpoint>>(parse_redis_urls(v));
       },
       "redis://HOST:PORT, or several separated by commas (rooms are sharded over them)", "URLS",
       "scale-out: keep rooms in Redis and share them with every instance\nusing the same servers: redis://HOST:PORT, "
       "comma-separated to\nshard rooms over several (COLLOQUY_REDIS; default: embedded)"},
      {"--public-origin", "COLLOQUY_PUBLIC_ORIGIN",
       [](Config& c, std::string_view v) {
         // Several: repeated flags, or one value with commas. Each is kept normalised.
         while (true) {
           const auto comma = v.find(',');
           std::string_view item = v.substr(0, comma);
           while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
           while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
           if (item.ends_with('/')) item.remove_suffix(1); // as written in a browser's address bar
           auto origin = normalize_origin(item);
           if (!origin) return false;
           if (std::find(c.public_origins.begin(), c.public_origins.end(), *origin) == c.public_origins.end()) {
             c.public_origins.push_back(std::move(*origin));
           }
           if (comma == std::string_view::npos) return true;
           v.remove_prefix(comma + 1);
         }
       },
       "an origin like https://colloquy.example.org (scheme, host, optional port; no path), or several separated by commas",
       "ORIGIN",
       "where browsers reach this server, e.g. https://colloquy.example.org;\nrepeat or separate by commas for several. WebSocket upgrades\nfrom any other Origin get 403 (COLLOQUY_PUBLIC_ORIGIN; default:\nonly http://localhost, 127.0.0.1 and [::1] on this server's port)"},
      {"--log-level", "COLLOQUY_LOG_LEVEL", one_of(&Config::log_level, {"debug", "info", "warn", "error"}),
       "debug, info, warn or error", "LEVEL", "debug, info, warn or error (COLLOQUY_LOG_LEVEL, default info)"},
  };
  return all;
}

// A value as quoted back in a message: it may come from anywhere, so no raw control characters.
std::string shown(std::string_view value) { return escape_control_characters(value); }
// A secret is never quoted back (start-up errors end up in logs and terminals that others read).
template <typename Setting> std::string shown(const Setting& s, std::string_view value) {
  if (s.flag == "--create-token") return "(value not shown: it is a secret; " + std::to_string(value.size()) + " characters)";
  return shown(value);
}

// Thrown from a flag's callback to end parsing with `outcome` (help, version or an error).
struct Stop {};

} // namespace

ConfigResult parse_config(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
  Config config;
#ifdef COLLOQUY_DEFAULT_STATIC_DIR
  config.static_dir = COLLOQUY_DEFAULT_STATIC_DIR;
#endif
  // The environment first (a flag given too overrides it, but a bad variable is still refused).
  for (const auto& s : settings()) {
    auto it = env.find(std::string(s.env));
    if (it == env.end()) continue;
    if (!s.apply(config, it->second)) {
      return ConfigError{std::string(s.env) + "=" + shown(s, it->second) + " is not valid: expected " + std::string(s.expected)};
    }
  }

  // Then the flags, in the order given: each is applied (and help or version answered) as CLI11
  // reads it, so the first mistake is the one reported.
  CLI::App app("colloquy: live session server for leadership learning groups\n", "colloquy");
  app.allow_extras(); // unknown options are reported below, in our words
  app.set_help_flag();
  app.get_formatter()->column_width(27);
  app.option_defaults()->group("Options (each also read from the environment variable shown; a flag wins)");
  std::optional<ConfigResult> outcome;
  bool origins_flag_seen = false;
  for (const auto& s : settings()) {
    const auto on_value = [&config, &outcome, &s, &origins_flag_seen](const CLI::results_t& results) {
      const std::string value = results.empty() ? std::string() : results.back();
      // The one list setting: its flags add up, and together replace what the environment said.
      if (s.flag == "--public-origin" && !std::exchange(origins_flag_seen, true)) config.public_origins.clear();
      if (value.empty()) {
        outcome = ConfigError{std::string(s.flag) + " needs a value: " + std::string(s.expected)};
      } else if (!s.apply(config, value)) {
        outcome = ConfigError{std::string(s.flag) + " " + shown(s, value) + " is not valid: expected " + std::string(s.expected)};
      }
      if (outcome) throw Stop{};
      return true;
    };
    app.add_option(std::string(s.flag), on_value, std::string(s.help))
        ->type_name(std::string(s.value_name))
        ->expected(0, 1) // a missing value reaches the callback empty: "needs a value"
        ->trigger_on_parse();
  }
  const auto help = [&] {
    std::string text = app.help();
    while (text.ends_with("\n\n")) text.pop_back(); // CLI11 ends with an empty line
    return text;
  };
  app.add_flag_callback("--help,-h", [&] { outcome = ConfigHelp{help()}; throw Stop{}; }, "show this text")
      ->trigger_on_parse();
  app.add_flag_callback("--version", [&] { outcome = ConfigVersion{std::string("colloquy ") + COLLOQUY_VERSION}; throw Stop{}; },
                        "show the version")
      ->trigger_on_parse();

  std::vector<std::string> reversed(args.rbegin(), args.rend()); // CLI11 takes them last first
  try {
    app.parse(reversed);
  } catch (const Stop&) {
    return std::move(*outcome);
  } catch (const CLI::ParseError& e) {
    return ConfigError{shown(e.what())};
  }
  if (!app.remaining().empty()) return ConfigError{"unknown option '" + shown(app.remaining().front()) + "' (see --help)"};
  return config;
}

} // namespace colloquy
