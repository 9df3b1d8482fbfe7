#pragma once
// Every setting of the server in one place, with its default; flags override environment.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace colloquy {

struct Config {
  std::string bind = "127.0.0.1";        // --bind / COLLOQUY_BIND; 0.0.0.0 in containers
  std::uint16_t port = 8080;             // --port / COLLOQUY_PORT; 0 picks a free port
  std::string static_dir;                // --static-dir / COLLOQUY_STATIC_DIR; the built client
  std::size_t max_frame_bytes = 64 * 1024;      // --max-frame-bytes; larger frames close with 1009
  std::size_t max_send_queue_bytes = 1 << 20;   // --max-send-queue-bytes; past it: 4001 slow_consumer
  std::size_t max_members_per_room = 50;        // --max-members; room_full past it
  std::size_t max_room_state_bytes = 56 * 1024; // --max-room-state-bytes; room_state_full past it
  std::size_t max_rooms = 10000;                // --max-rooms; 503 past it
  std::int64_t room_unjoined_seconds = 24 * 3600;    // --room-unjoined-seconds; nobody joined: removed
  std::int64_t room_idle_seconds = 90 * 24 * 3600;   // --room-idle-seconds; no change: removed
  std::size_t max_connections = 10'000;             // --max-connections; past it: health checks only
  std::size_t max_connections_per_address = 100;    // --max-connections-per-address; past it: 429
  unsigned room_creations_per_hour = 30;            // --room-creations-per-hour; per client address, bursts of 10
  unsigned max_http_requests_per_second = 100;      // --max-http-requests-per-second; per address, bursts of 2x
  std::vector<std::string> trusted_proxies;         // --trusted-proxy; whose X-Forwarded-For is believed
  std::string create_token;                         // --create-token; empty: anyone may create rooms
  std::int64_t join_timeout_seconds = 30;            // --join-timeout-seconds; unjoined: closed 4002
  std::int64_t speaker_grace_seconds = 20;           // --speaker-grace-seconds; a dropped speaker keeps the turn
  unsigned max_commands_per_second = 20;        // --max-commands-per-second; per connection, bursts of 2x
  unsigned threads = 2;                  // --threads / COLLOQUY_THREADS; I/O threads
  std::string data_dir = "./data";       // --data-dir / COLLOQUY_DATA_DIR; the journal and snapshots
  std::string fsync = "always";
  std::string redis;                     // --redis / COLLOQUY_REDIS: redis://HOST:PORT[,…]; empty: embedded          // --fsync / COLLOQUY_FSYNC: always or everysec
  std::string log_level = "info";        // --log-level / COLLOQUY_LOG_LEVEL: debug, info, warn, error
  // --public-origin / COLLOQUY_PUBLIC_ORIGIN (repeatable, or comma-separated): the origins browsers
  // reach the server at, normalised (app/http_api.hpp); empty: loopback on the server's port only.
  std::vector<std::string> public_origins;
};

struct ConfigHelp { std::string text; };     // --help was given
struct ConfigVersion { std::string text; };  // --version was given
struct ConfigError { std::string message; }; // bad flag or value: print and exit 2

using ConfigResult = std::variant<Config, ConfigHelp, ConfigVersion, ConfigError>;

// Parses flags (argv without argv[0]) over environment variables over defaults, and validates.
ConfigResult parse_config(const std::vector<std::string>& args,
                          const std::map<std::string, std::string>& env);

} // namespace colloquy
