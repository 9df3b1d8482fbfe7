// colloquy: reads the configuration, serves until SIGINT/SIGTERM, exits 0 after a clean shutdown.
#include "app/config.hpp"
#include "app/http_api.hpp"
#include "app/logger.hpp"
#include "app/room_hub.hpp"
#include "log/journal_room_log.hpp"
#include "log/redis_room_log.hpp"
#include "net/redis_pubsub.hpp"
#include "net/server.hpp"

#include <csignal>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

extern char** environ;

namespace {

std::map<std::string, std::string> colloquy_environment() {
  std::map<std::string, std::string> env;
  for (char** entry = environ; entry && *entry; ++entry) {
    const std::string_view text(*entry);
    if (!text.starts_with("COLLOQUY_")) continue;
    const auto eq = text.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
  }
  return env;
}

int serve(const colloquy::Config& config) {
  using namespace colloquy;
  logger::Level level = logger::Level::info;
  logger::parse_level(config.log_level, level);
  logger::set_level(level);

  if (!std::filesystem::is_regular_file(std::filesystem::path(config.static_dir) / "index.html")) {
    logger::warn("no built web client in '{}' (run npm run build in client-web); serving the API only", config.static_dir);
  }

  // The room log: Redis when configured (scale-out), else the journal in the data directory.
  std::shared_ptr<RoomLog> log;
  std::shared_ptr<JournalRoomLog> journal;
  std::string storage;
  if (!config.redis.empty()) {
    auto endpoints = std::get<std::vector<RedisEndpoint>>(parse_redis_urls(config.redis));
    RedisLogOptions redis_options;
    redis_options.idle_room_seconds = config.room_idle_seconds;
    redis_options.unjoined_room_seconds = config.room_unjoined_seconds;
    redis_options.max_rooms = config.max_rooms;
    auto redis = std::make_shared<RedisRoomLog>(endpoints, net::make_redis_pubsub(endpoints), redis_options);
    storage = "Redis (" + std::to_string(endpoints.size()) + " shard" + (endpoints.size() == 1 ? "" : "s") + ")";
    if (!redis->healthy()) logger::warn("Redis is not reachable yet; /readyz reports redis_unavailable until it is");
    log = std::move(redis);
  } else {
    try {
      journal = std::make_shared<JournalRoomLog>(JournalOptions{
          config.data_dir, config.fsync == "everysec" ? FsyncPolicy::everysec : FsyncPolicy::always});
    } catch (const JournalError& e) {
      logger::error(e.what());
      return 1;
    }
    storage = "data directory '" + config.data_dir + "'";
    log = journal;
  }

  HubOptions hub_options;
  hub_options.log = log;
  hub_options.max_members_per_room = config.max_members_per_room;
  hub_options.max_room_state_bytes = config.max_room_state_bytes;
  hub_options.max_rooms = config.max_rooms;
  hub_options.max_frame_bytes = config.max_frame_bytes;
  hub_options.max_commands_per_second = config.max_commands_per_second;
  hub_options.join_timeout_ms = config.join_timeout_seconds * 1000;
  hub_options.speaker_grace_ms = config.speaker_grace_seconds * 1000;
  hub_options.unjoined_room_ms = config.room_unjoined_seconds * 1000;
  hub_options.idle_room_ms = config.room_idle_seconds * 1000;
  hub_options.server_name = std::string("colloquy/") + COLLOQUY_VERSION;
  RoomHub hub(std::move(hub_options));
  if (journal) {
    const auto& recovered = journal->recovery();
    logger::info("{}: {} rooms restored ({} journal events replayed, {} members marked away), fsync {}", storage,
                 hub.restored().rooms, recovered.events_replayed, hub.restored().members_marked_away, config.fsync);
  } else {
    logger::info("rooms are kept in {} and shared with every instance using it", storage);
  }

  net::ServerOptions options;
  options.bind = config.bind;
  options.port = config.port;
  options.static_dir = config.static_dir;
  options.max_frame_bytes = config.max_frame_bytes;
  options.max_send_queue_bytes = config.max_send_queue_bytes;
  options.threads = config.threads;
  options.max_connections = config.max_connections;
  options.max_connections_per_address = config.max_connections_per_address;
  options.max_http_requests_per_second = config.max_http_requests_per_second;
  options.room_creations_per_hour = config.room_creations_per_hour;
  options.trusted_proxies = config.trusted_proxies;
  options.create_token = config.create_token;
  options.server_name = std::string("colloquy/") + COLLOQUY_VERSION;
  options.public_origins = config.public_origins;
  net::Server server(std::move(options), hub);

  std::uint16_t port = 0;
  try {
    port = server.listen();
  } catch (const std::exception& e) {
    logger::error(e.what());
    return 1;
  }
  const bool v6 = config.bind.find(':') != std::string::npos;
  const std::string url = "http://" + (v6 ? "[" + config.bind + "]" : config.bind) + ":" + std::to_string(port);
  // Scripts and tests read the port from this line; keep its shape.
  std::cout << "colloquy listening on " << url << std::endl;
  logger::info("serving {} (web client from '{}')", url, config.static_dir);
  std::string origins;
  for (const auto& origin : origin_policy(config.public_origins, port).allowed) origins += (origins.empty() ? "" : ", ") + origin;
  logger::info("WebSocket upgrades accepted with Origin {}{} (or none: not a browser)", origins,
               config.public_origins.empty() ? " only; behind a proxy or on another name, set --public-origin" : "");

  server.run();
  logger::info("stopped");
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  const std::vector<std::string> args(argv + 1, argv + argc);
  const auto result = colloquy::parse_config(args, colloquy_environment());
  if (const auto* help = std::get_if<colloquy::ConfigHelp>(&result)) {
    std::cout << help->text;
    return 0;
  }
  if (const auto* version = std::get_if<colloquy::ConfigVersion>(&result)) {
    std::cout << version->text << '\n';
    return 0;
  }
  if (const auto* error = std::get_if<colloquy::ConfigError>(&result)) {
    std::cerr << "colloquy: " << error->message << "\n(run colloquy --help for the options)\n";
    return 2;
  }
  try {
    return serve(std::get<colloquy::Config>(result));
  } catch (const std::exception& e) {
    colloquy::logger::error("fatal: {}", e.what());
    return 1;
  }
}
