#pragma once
// Serves every room this instance holds: runs commands through the room core, appends the
// resulting events to the room log and fans them out to the room's connections.
#include "app/connection.hpp"
#include "core/error_code.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>

namespace colloquy {

class RoomLog;
struct RoomState;

struct HubOptions {
  std::size_t max_members_per_room = 50;
  std::size_t max_rooms = 10000;
  std::size_t max_frame_bytes = 64 * 1024;
  std::string server_name = "colloquy";
  // Injected so tests can fix time and randomness; the defaults are the system clock and the
  // kernel's CSPRNG (getrandom).
  std::function<std::int64_t()> now_ms;
  std::function<void(std::span<std::uint8_t>)> random_bytes;
  // The room log; nullptr: an in-memory log (rooms end with the process). The hub rebuilds every
  // room the log holds when it starts.
  std::shared_ptr<RoomLog> log;
  // Submit timer expiries from a background thread as deadlines pass. Tests with a fake clock
  // turn it off and call fire_due_timers() themselves.
  bool run_timers = true;
};

struct CreatedRoom {
  std::string room_id;
  std::string title;
  std::string facilitator_key; // shown once to the creator; the hub keeps only its hash
  std::string join_code;       // shown once to the creator; the hub keeps only its hash
};

struct HubError {
  ErrorCode code;
  std::string message; // for people
};

struct HubStats {
  std::size_t rooms = 0;
  std::size_t connections = 0;
};

enum class Readiness { ready, draining, storage_unavailable };

struct HubRestore {
  std::size_t rooms = 0;
  std::size_t members_marked_away = 0; // were online when the previous process stopped
};

class RoomHub {
public:
  explicit RoomHub(HubOptions options);
  ~RoomHub();
  RoomHub(const RoomHub&) = delete;
  RoomHub& operator=(const RoomHub&) = delete;

  // HTTP: POST /api/rooms. Thread-safe.
  std::variant<CreatedRoom, HubError> create_room(std::string_view title);

  // WebSocket lifecycle, called by the connection's own strand. Thread-safe.
  void on_open(const std::shared_ptr<Connection>& connection);   // sends welcome
  void on_text(const std::shared_ptr<Connection>& connection, std::string_view frame);
  void on_binary(const std::shared_ptr<Connection>& connection); // error bad_frame
  void on_close(const std::shared_ptr<Connection>& connection);  // connection lost, if joined

  // Close every connection with 1001 server_shutdown. Thread-safe.
  void shutdown();

  HubStats stats() const;

  // Submits the expiry of every timer whose deadline has passed (the background thread does this
  // by itself; exposed for tests with a fake clock).
  void fire_due_timers();

  // For GET /readyz: draining after shutdown(), or the room log cannot be reached. May block
  // for a storage round trip; never holds the hub's lock while it does.
  Readiness readiness() const;

  // What the constructor rebuilt from the room log.
  const HubRestore& restored() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace colloquy
