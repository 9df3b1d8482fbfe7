#pragma once
// Serves every room this instance holds: runs commands through the room core, appends the
// resulting events to the room log and fans them out to the room's connections. Rooms run side
// by side: each has its own lock, never held across storage I/O (see server/README.md).
#include "app/connection.hpp"
#include "core/error_code.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>

namespace colloquy {

class RoomLog;

struct HubOptions {
  std::size_t max_members_per_room = 50;
  std::size_t max_rooms = 10000;
  std::size_t max_frame_bytes = 64 * 1024;
  // Commands of one room waiting for its storage at most; past it a command gets `busy`.
  std::size_t max_waiting_commands = 256;
  // A connection that has not joined a room this long after it opened is closed (4002
  // join_timeout), so connections that never join cannot pile up.
  std::int64_t join_timeout_ms = 30'000;
  std::int64_t reserve_join_timeout_ms = 5'000; // at most join_timeout_ms
  // Commands one connection may send a second (token bucket; a burst of twice that); past it a
  // command gets rate_limited and changes nothing. Pings do not count; ephemeral updates have
  // their own limit.
  double max_commands_per_second = 20;
  // A resume whose missed events would take more than this many bytes gets a snapshot instead,
  // so a member who was away for long can always come back (it fits the send queue).
  std::size_t max_replay_bytes = 256 * 1024;
  // The bytes of one room's state as a snapshot encodes it (core/state_bytes.hpp); a change past
  // it gets room_state_full. At most 7/8 of max_frame_bytes is used, so that the join reply with
  // its snapshot always fits one frame.
  std::size_t max_room_state_bytes = 56 * 1024;
  // A speaker whose connection dropped keeps the turn this long before it is skipped (0: at once).
  std::int64_t speaker_grace_ms = 20'000;
  // Rooms end: one nobody joined within unjoined_room_ms of its creation, and one without a
  // change for idle_room_ms, is removed with everything it holds (not while a member is
  // connected). The embedded log is swept; Redis keys expire by themselves (TTL).
  std::int64_t unjoined_room_ms = 24LL * 3600 * 1000;
  std::int64_t idle_room_ms = 90LL * 24 * 3600 * 1000;
  // Ephemeral updates are relayed in batches this far apart (latest per member and kind).
  std::int64_t ephemeral_flush_ms = 50;
  // Ephemeral updates one connection may send a second; more get rate_limited.
  double max_ephemeral_per_second = 60;
  std::string server_name = "colloquy";
  // Injected so tests can fix time and randomness; the defaults are the system clock and the
  // kernel's CSPRNG.
  std::function<std::int64_t()> now_ms;
  std::function<void(std::span<std::uint8_t>)> random_bytes;
  // The room log; nullptr: an in-memory log (rooms end with the process). The hub rebuilds every
  // room the log holds when it starts.
  std::shared_ptr<RoomLog> log;
  // Submit timer expiries (and ephemeral flushes) from a background thread as deadlines pass.
  // Tests with a fake clock turn it off and call fire_due_timers() themselves.
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
  std::size_t rooms_paused = 0;        // a round, turn or timer was running: paused until a facilitator resumes
};

// Runs a task on a thread that serves sockets (the server's I/O pool). Never blocks.
using Executor = std::function<void(std::function<void()>)>;

class RoomHub {
public:
  explicit RoomHub(HubOptions options);
  ~RoomHub();
  RoomHub(const RoomHub&) = delete;
  RoomHub& operator=(const RoomHub&) = delete;

  // Where storage completions continue (the server's I/O threads). Until it is set, and after it
  // is reset with nullptr, a thread of the hub's own runs them. Thread-safe.
  void set_executor(Executor executor);

  using CreateResult = std::variant<CreatedRoom, HubError>;
  // HTTP: POST /api/rooms. Thread-safe; `done` is called once the room is stored (maybe on
  // another thread, maybe before this returns).
  void create_room(std::string_view title, std::function<void(CreateResult)> done);
  // The same, waiting for it (start-up and tests; not on a thread that serves sockets).
  CreateResult create_room(std::string_view title);

  // What an invitation (facilitator key or join code) leads to, for the join form.
  struct Invitation {
    std::string title;
    Role role = Role::participant; // facilitator with a key
  };
  using InvitationResult = std::variant<Invitation, HubError>;
  // HTTP: POST /api/rooms/{id}/invite-check. Answers as `join` would refuse (room_not_found,
  // bad_credentials, unavailable), changes nothing. Thread-safe; `done` maybe on another thread.
  void check_invitation(const std::string& room_id, Credential credential, std::string_view secret,
                        std::function<void(InvitationResult)> done);

  // WebSocket lifecycle, called by the connection's own strand. Thread-safe, never block.
  // Sends welcome. A connection in the reserve of places (net's ConnectionLimits) must join within
  // reserve_join_timeout_ms instead of join_timeout_ms.
  void on_open(const std::shared_ptr<Connection>& connection, bool in_reserve = false);
  void on_text(const std::shared_ptr<Connection>& connection, std::string_view frame);
  void on_binary(const std::shared_ptr<Connection>& connection); // error bad_frame
  void on_close(const std::shared_ptr<Connection>& connection);  // connection lost, if joined

  // Close every connection with 1001 server_shutdown. Thread-safe.
  void shutdown();

  // Never touches a room's lock or the storage.
  HubStats stats() const;

  // Submits the expiry of every timer whose deadline has passed and flushes ephemeral updates
  // (the background thread does this by itself; exposed for tests with a fake clock).
  void fire_due_timers();

  // For GET /readyz: draining after shutdown(), or the room log cannot be reached (as its own
  // threads last found: never a round trip).
  Readiness readiness() const;

  // What the constructor rebuilt from the room log.
  const HubRestore& restored() const;

  // Waits until no command, storage operation or completion is in progress (tests, shutdown).
  // False if that did not happen within `limit`.
  bool wait_idle(std::chrono::milliseconds limit = std::chrono::seconds(5)) const;

private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

} // namespace colloquy
