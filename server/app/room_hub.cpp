#include "app/room_hub.hpp"

#include "app/logger.hpp"
#include "app/rate_limit.hpp"
#include "core/random.hpp"
#include "core/room.hpp"
#include "core/secret.hpp"
#include "core/text.hpp"
#include "log/room_log.hpp"
#include "protocol/codec.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <unordered_map>

namespace colloquy {
namespace {

using json = nlohmann::json;

std::int64_t system_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void system_random_bytes(std::span<std::uint8_t> out) { random_bytes(out); }

Frame make_frame(std::string text) { return std::make_shared<const std::string>(std::move(text)); }

// A value from storage, or why there is none.
template <typename T>
struct StoreResult {
  std::optional<T> value;
  std::string error;
};

template <typename Op>
auto attempt(Op& op) -> StoreResult<decltype(op())> {
  try {
    return {op(), {}};
  } catch (const std::exception& e) {
    return {std::nullopt, e.what()};
  }
}

// A map split into shards with a lock each, held only to find, insert or erase an entry.
template <typename Key, typename Value>
class ShardedMap {
public:
  static constexpr std::size_t shards = 64;

  Value find(const Key& key) const {
    const Shard& s = of(key);
    std::lock_guard lock(s.mutex);
    auto it = s.map.find(key);
    return it == s.map.end() ? Value{} : it->second;
  }
  // Inserts `value` unless the key is taken; returns what is there afterwards and whether it was inserted.
  std::pair<Value, bool> insert(const Key& key, Value value) {
    Shard& s = of(key);
    std::lock_guard lock(s.mutex);
    auto [it, inserted] = s.map.try_emplace(key, std::move(value));
    return {it->second, inserted};
  }
  // Erases the key if it still maps to `expected`.
  bool erase(const Key& key, const Value& expected) {
    Shard& s = of(key);
    std::lock_guard lock(s.mutex);
    auto it = s.map.find(key);
    if (it == s.map.end() || it->second != expected) return false;
    s.map.erase(it);
    return true;
  }
  std::size_t size() const {
    std::size_t n = 0;
    for (const auto& s : shards_) {
      std::lock_guard lock(s.mutex);
      n += s.map.size();
    }
    return n;
  }
  template <typename F>
  void for_each(F f) const {
    for (const auto& s : shards_) {
      std::vector<Value> values;
      {
        std::lock_guard lock(s.mutex);
        for (const auto& [k, v] : s.map) values.push_back(v);
      }
      for (auto& v : values) f(v);
    }
  }

private:
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<Key, Value> map;
  };
  Shard& of(const Key& key) { return shards_[std::hash<Key>{}(key) % shards]; }
  const Shard& of(const Key& key) const { return shards_[std::hash<Key>{}(key) % shards]; }
  std::array<Shard, shards> shards_;
};

constexpr std::string_view storage_unreachable = "the room's storage cannot be reached; nothing was changed, try again";

} // namespace

struct RoomEntry;
using RoomPtr = std::shared_ptr<RoomEntry>;
enum class Lookup { found, missing, unavailable };
// Continues a command once decided and (if it changed the room) stored. Runs under the room's lock.
using Then = std::function<void(RoomEntry&, const DecideResult&)>;

// One room replica, its connections and the commands waiting for its storage. Everything in it
// is guarded by `mutex`, which is never held across storage I/O.
struct RoomEntry : std::enable_shared_from_this<RoomEntry> {
  explicit RoomEntry(std::string room_id) : id(std::move(room_id)) { state.id = id; }
  std::mutex mutex;
  const std::string id;
  RoomState state;
  bool loaded = false; // the replica holds the room (not a placeholder while loading)
  std::vector<std::function<void(RoomEntry&, Lookup)>> on_loaded;
  std::unordered_map<std::string, std::shared_ptr<Connection>> attached; // member id -> connection
  struct Waiting {
    Command command;
    Then then;
    int attempt = 0; // times decided already (another instance appended first)
  };
  std::deque<Waiting> waiting; // commands decided once the append in flight completes
  bool appending = false;      // an append (or its catch-up) is in flight: one at a time
  bool pumping = false;
  bool watched = false;  // shared log: notifications of other instances' appends flow
  std::size_t busy = 0;  // storage operations in flight (a shared log keeps the replica while > 0)
  bool released = false; // no longer in the hub's map (a late completion finds it so)
  std::map<std::pair<std::string, EphemeralKind>, json> ephemeral; // (member, kind) -> the latest data
  bool ephemeral_due = false;
  std::int64_t last_change_ms = 0; // the time of its last event, for the idle limit
  std::vector<std::string> removed; // members removed by the events just applied: their connections close
};

// What the hub knows of one connection. Guarded by its own mutex.
struct ConnectionInfo {
  std::mutex mutex;
  std::weak_ptr<Connection> connection;
  RoomPtr room; // set once joined
  std::string member_id;
  bool joining = false;
  TokenBucket ephemeral_bucket; // starts full
  TokenBucket command_bucket;   // starts full
};

// A token bucket: `rate` a second, up to `burst` at once. True if one token was taken.
using InfoPtr = std::shared_ptr<ConnectionInfo>;

struct RoomHub::Impl final : RoomLogObserver {
  HubOptions options;
  std::shared_ptr<RoomLog> log_owner;
  RoomLog& log;
  HubRestore restore_stats;
  std::atomic<bool> draining{false};
  ShardedMap<std::string, RoomPtr> rooms;
  std::atomic<std::size_t> room_count{0};
  ShardedMap<const Connection*, InfoPtr> connections;

  mutable std::mutex executor_mutex;
  Executor executor;

  mutable std::mutex idle_mutex;
  mutable std::condition_variable idle_wake;
  std::size_t in_flight = 0;

  explicit Impl(HubOptions o)
      : options(std::move(o)),
        log_owner(options.log ? options.log : std::make_shared<MemoryRoomLog>()),
        log(*log_owner) {
    if (!options.now_ms) options.now_ms = system_now_ms;
    if (!options.random_bytes) options.random_bytes = system_random_bytes;
  }

  void start() {
    restore();
    if (log.shared()) log.set_observer(this);
    if (options.run_timers) ticker = std::thread([this] { ticker_loop(); });
  }

  // The heartbeat a restart pauses from (RoomLog::mark_alive): every 2 s, and once more at a stop.
  static constexpr std::int64_t alive_every_ms = 2000;
  std::int64_t alive_at = 0;
  void mark_alive() {
    const std::int64_t now = options.now_ms();
    if (now - alive_at < alive_every_ms) return;
    alive_at = now;
    log.mark_alive(now);
  }

  void stop() {
    if (log.shared()) log.set_observer(nullptr); // waits for a notification in progress
    {
      std::lock_guard lock(ticker_mutex);
      ticker_stopping = true;
    }
    ticker_wake.notify_all();
    if (ticker.joinable()) ticker.join();
    alive_at = 0;
    mark_alive();
    // Completions still on their way touch the hub: wait for them (a frozen storage answers
    // within its command timeout).
    if (!wait_idle(std::chrono::seconds(30))) logger::error("stopping the hub with storage operations still in flight");
  }

  // ---- work in flight, and where completions run

  void begin() {
    std::lock_guard lock(idle_mutex);
    ++in_flight;
  }
  void end() {
    std::lock_guard lock(idle_mutex);
    if (--in_flight == 0) idle_wake.notify_all();
  }
  bool wait_idle(std::chrono::milliseconds limit) const {
    std::unique_lock lock(idle_mutex);
    return idle_wake.wait_for(lock, limit, [&] { return in_flight == 0; });
  }

  // Runs `task` on the I/O pool, or here when none is set (start-up, tests).
  void post(std::function<void()> task) {
    Executor ex;
    {
      std::lock_guard lock(executor_mutex);
      ex = executor;
    }
    if (ex) {
      ex(std::move(task));
    } else {
      task();
    }
  }

  // Counts a posted task as in flight from posting until it ran, or was dropped unrun (an
  // executor that stopped): the hub is not destroyed while one may still touch it.
  struct InFlight {
    explicit InFlight(Impl& i) : impl(i) { impl.begin(); }
    ~InFlight() { impl.end(); }
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;
    Impl& impl;
  };

  // Runs `then` with the room's lock held, on the I/O pool. For continuations from storage threads.
  void locked(const RoomPtr& room, std::function<void(RoomEntry&)> then) {
    post([token = std::make_shared<InFlight>(*this), room, then = std::move(then)] {
      std::lock_guard lock(room->mutex);
      then(*room);
    });
  }

  // Runs `op` where the storage may block (inline for an in-memory log), then `then(room, outcome)`
  // under the room's lock. Called with the room's lock held.
  template <typename Op, typename Next>
  void storage(const RoomPtr& room, Op op, Next then) {
    using T = decltype(op());
    if (!log.remote()) {
      StoreResult<T> out = attempt(op);
      then(*room, std::move(out));
      return;
    }
    ++room->busy;
    log.run(room->id, [this, token = std::make_shared<InFlight>(*this), room, op = std::move(op),
                       then = std::move(then)]() mutable {
      auto out = std::make_shared<StoreResult<T>>(attempt(op));
      locked(room, [this, out, then = std::move(then)](RoomEntry& r) mutable {
        --r.busy;
        then(r, std::move(*out));
        release_if_unused(r);
      });
    });
  }

  // ---- loading rooms (a shared log loads replicas on demand)

  // Finds the room, loading it from a shared log if this instance does not hold it, and calls
  // `then(room, lookup)` under the room's lock.
  void with_room(const std::string& room_id, std::function<void(RoomEntry&, Lookup)> then) {
    RoomPtr room = rooms.find(room_id);
    if (!room && !log.shared()) {
      // Nothing to lock: report "not found" on a throwaway entry.
      RoomEntry none(room_id);
      return then(none, Lookup::missing);
    }
    bool inserted = false;
    if (!room) {
      std::tie(room, inserted) = rooms.insert(room_id, std::make_shared<RoomEntry>(room_id));
      if (inserted) room_count.fetch_add(1);
    }
    std::lock_guard lock(room->mutex);
    if (room->released) return with_room(room_id, std::move(then)); // lost a race with its release
    if (room->loaded) return then(*room, Lookup::found);
    room->on_loaded.push_back(std::move(then));
    if (!inserted) return; // another join is loading it
    storage(room, [this, room_id] { return log.history(room_id); },
            [this](RoomEntry& r, StoreResult<std::optional<RoomHistory>> out) {
              const bool found = out.value && *out.value;
              if (found) {
                r.state = std::move((*out.value)->base);
                r.state.id = r.id;
                for (const auto& event : (*out.value)->events) evolve(r.state, event);
                r.loaded = true;
                log.watch(r.id); // the confirmation catches up once more, closing the gap since the read
                r.watched = true;
                schedule(r);
              } else if (!out.error.empty()) {
                logger::warn("room {}: loading failed: {}", r.id, out.error);
              }
              auto waiting = std::move(r.on_loaded);
              r.on_loaded.clear();
              const Lookup lookup = found ? Lookup::found : out.error.empty() ? Lookup::missing : Lookup::unavailable;
              for (auto& w : waiting) w(r, lookup);
              if (!found) remove(r, out.error.empty() ? "" : out.error);
            });
  }

  // Takes a room nobody is in out of the map (shared log: followed only while used here).
  void release_if_unused(RoomEntry& room) {
    if (!log.shared() || room.released || !room.attached.empty() || room.busy > 0 || room.appending ||
        !room.waiting.empty() || !room.on_loaded.empty()) {
      return;
    }
    remove(room, "");
  }

  void remove(RoomEntry& room, const std::string& /*why*/) {
    if (room.released) return;
    room.released = true;
    if (room.watched) log.unwatch(room.id);
    room.watched = false;
    RoomPtr current = rooms.find(room.id);
    if (current.get() == &room && rooms.erase(room.id, current)) room_count.fetch_sub(1);
    unschedule(room.id);
  }

  // ---- shared log: following other instances' appends

  // Reads what other instances appended since the replica's seq and applies it, then `then(ok)`.
  // Under the room's lock.
  void catch_up(RoomEntry& room, std::function<void(RoomEntry&, bool)> then) {
    RoomPtr self_room = room.shared_from_this();
    const std::uint64_t from = room.state.seq;
    storage(self_room, [this, id = room.id, from] { return log.read(id, from); },
            [this, then = std::move(then)](RoomEntry& r, StoreResult<std::optional<std::vector<Event>>> out) {
              if (!out.value) {
                logger::warn("room {}: catching up failed: {}", r.id, out.error);
                return then(r, false);
              }
              if (!*out.value) return rebuild(r, then); // folded into a snapshot already
              for (const auto& event : **out.value) apply(r, event);
              settle(r);
              then(r, true);
            });
  }

  // The replica from the log's snapshot and events: members' clients notice the jump by seq on
  // the next event and catch up themselves.
  void rebuild(RoomEntry& room, std::function<void(RoomEntry&, bool)> then) {
    RoomPtr self_room = room.shared_from_this();
    storage(self_room, [this, id = room.id] { return log.history(id); },
            [this, then = std::move(then)](RoomEntry& r, StoreResult<std::optional<RoomHistory>> out) {
              if (!out.value || !*out.value) return then(r, false);
              RoomState state = std::move((*out.value)->base);
              state.id = r.id;
              for (const auto& event : (*out.value)->events) evolve(state, event);
              r.state = std::move(state);
              schedule(r);
              settle(r);
              then(r, true);
            });
  }

  // Applies one event in order (skipping ones already applied) and fans it out. Under the lock.
  void apply(RoomEntry& room, const Event& event) {
    if (event.seq != room.state.seq + 1) return;
    evolve(room.state, event);
    room.last_change_ms = event.time_ms;
    broadcast(room, event);
    if (const auto* removed = std::get_if<MemberRemoved>(&event.body)) room.removed.push_back(removed->member_id);
    if (std::holds_alternative<TimerSet>(event.body) || std::holds_alternative<TimerExpired>(event.body) ||
        std::holds_alternative<TurnHeld>(event.body) || std::holds_alternative<GroupsOpened>(event.body) ||
        std::holds_alternative<GroupsExtended>(event.body) || std::holds_alternative<GroupsRecalled>(event.body) ||
        std::holds_alternative<GroupsClosed>(event.body)) {
      schedule(room);
    }
  }

  // Takes a connection out of its room (it is about to be closed by the hub).
  void unbind(const std::shared_ptr<Connection>& connection) {
    if (InfoPtr info = info_of(connection.get())) {
      std::lock_guard lock(info->mutex);
      info->room.reset();
      info->member_id.clear();
    }
  }

  // After events were applied (and the command's reply sent): removed members' connections close
  // with 4003; a closed room closes every connection with 4004 and is removed like the sweeper
  // removes a room (the journal's `removed` record; the Redis keys deleted). Every instance that
  // holds the room does this when the event reaches it. While an append of this instance is in
  // flight, it waits for its completion (pump), so that the command's sender gets its reply
  // first even when the event came back through the subscription sooner. Under the room's lock.
  void settle(RoomEntry& room) {
    if (room.appending) return;
    for (const auto& member_id : std::exchange(room.removed, {})) {
      auto it = room.attached.find(member_id);
      if (it == room.attached.end()) continue;
      unbind(it->second);
      it->second->close(4003, "removed");
      room.attached.erase(it);
    }
    if (!room.state.closed || room.released) return;
    for (auto& [member_id, connection] : room.attached) {
      unbind(connection);
      connection->close(4004, "room_closed");
    }
    room.attached.clear();
    logger::info("room {} removed: closed by the facilitator", room.id);
    remove(room, "");
    log.remove_async(room.id, [id = room.id](std::string error) {
      if (!error.empty()) logger::error("room {}: removing it from storage failed: {}", id, error);
    });
  }

  void on_remote_events(const std::string& room_id, std::vector<Event> events) override {
    RoomPtr room = rooms.find(room_id);
    if (!room) return;
    // Never wait on a room on the subscriber's thread.
    locked(room, [this, events = std::move(events)](RoomEntry& r) {
      if (!r.released && r.loaded) {
        for (const auto& event : events) {
          if (event.seq <= r.state.seq) continue; // ours, or seen already
          if (event.seq != r.state.seq + 1) {      // a notification was lost: read the gap
            catch_up(r, [](RoomEntry&, bool) {});
            break;
          }
          apply(r, event);
        }
        settle(r);
      }
    });
  }

  void on_watch_confirmed(const std::string& room_id) override {
    RoomPtr room = rooms.find(room_id);
    if (!room) return;
    locked(room, [this](RoomEntry& r) {
      if (!r.released && r.loaded) catch_up(r, [](RoomEntry&, bool) {});
    });
  }

  void on_pending_changed(const std::string& room_id) override {
    RoomPtr room = rooms.find(room_id);
    if (!room) return;
    locked(room, [this](RoomEntry& r) {
      if (!r.released) push_pending(r);
    });
  }

  void on_ephemeral(const std::string& room_id, const std::string& from, std::string frame) override {
    RoomPtr room = rooms.find(room_id);
    if (!room) return;
    post([room, from, frame = make_frame(std::move(frame))] {
      std::lock_guard lock(room->mutex);
      for (auto& [member_id, connection] : room->attached) {
        if (member_id != from) connection->send_ephemeral(frame);
      }
    });
  }

  // ---- start-up

  // Rebuilds every room from the log. Nobody is connected to a fresh process, so members who
  // were online are recorded as away (they come back with their resume token): one append per
  // room, all submitted together so that they share the journal's syncs. A room whose round, turn
  // or timer was running is paused first in the same append (PauseForRestart), counted from the
  // last moment the server was known alive: nobody is skipped, no timer runs and no airtime is
  // credited for the outage, until a facilitator resumes.
  void restore() {
    const std::int64_t alive_ms = log.last_alive_ms();
    std::mutex mutex;
    std::condition_variable all_stored;
    std::size_t outstanding = 0;
    for (const auto& id : log.room_ids()) {
      auto history = log.history(id);
      if (!history) continue;
      auto room = std::make_shared<RoomEntry>(id);
      room->state = std::move(history->base);
      room->state.id = id;
      for (const auto& event : history->events) evolve(room->state, event);
      if (room->state.closed) {
        // Closed, but the process stopped before the room was removed: remove it now.
        log.remove_async(id, [id](std::string error) {
          if (!error.empty()) logger::error("room {}: removing a closed room failed: {}", id, error);
        });
        continue;
      }
      // A data directory from before rooms had an idle clock starts it now.
      room->last_change_ms = history->last_change_ms != 0 ? history->last_change_ms : options.now_ms();
      room->loaded = true;
      ++restore_stats.rooms;
      std::vector<std::string> online;
      for (const auto& m : room->state.members) {
        if (m.presence == Presence::online) online.push_back(m.id);
      }
      const auto& st = room->state;
      const bool running = st.speaking.round || st.speaking.turn || st.timers.phase.state == TimerState::running ||
                           st.timers.turn.state == TimerState::running;
      RoomState next = online.empty() && !running ? RoomState{} : room->state;
      std::vector<Event> events;
      std::size_t away = 0;
      bool paused = false;
      if (running) {
        // The heartbeat or the room's last event, whichever is later; never after now.
        const std::int64_t since = std::min(options.now_ms(), std::max(alive_ms, room->last_change_ms));
        auto result = decide(next, PauseForRestart{since}, options.now_ms(), limits());
        if (auto* decision = std::get_if<Decision>(&result); decision && !decision->events.empty()) {
          for (auto& event : decision->events) {
            evolve(next, event);
            events.push_back(std::move(event));
          }
          paused = true;
        }
      }
      for (const auto& member_id : online) {
        auto result = decide(next, LoseConnection{member_id}, options.now_ms(), limits());
        auto* decision = std::get_if<Decision>(&result);
        if (!decision || decision->events.empty()) continue;
        for (auto& event : decision->events) {
          evolve(next, event);
          events.push_back(std::move(event));
        }
        ++away;
      }
      if (!events.empty()) {
        {
          std::lock_guard lock(mutex);
          ++outstanding;
        }
        const std::uint64_t expected = room->state.seq;
        log.append_async(id, expected, std::move(events), [&, room, next, away, paused](AppendResult result) {
          std::lock_guard lock(mutex);
          if (result.status == AppendStatus::ok) {
            room->state = next;
            restore_stats.members_marked_away += away;
            restore_stats.rooms_paused += paused ? 1 : 0;
          } else {
            logger::error("room {}: marking members away at start failed: {}", room->id, result.error);
          }
          if (--outstanding == 0) all_stored.notify_all();
        });
      }
      rooms.insert(id, room);
      room_count.fetch_add(1);
    }
    std::unique_lock lock(mutex);
    all_stored.wait(lock, [&] { return outstanding == 0; });
    rooms.for_each([&](const RoomPtr& room) { schedule(*room); });
  }

  // ---- randomness

  std::string random_secret() {
    std::array<std::uint8_t, 16> bytes{};
    options.random_bytes(bytes);
    return base64url(bytes);
  }

  std::string random_room_id() {
    std::array<std::uint8_t, 10> bytes{};
    options.random_bytes(bytes);
    return base32(bytes);
  }

  std::uint64_t random_seed() {
    std::array<std::uint8_t, 8> bytes{};
    options.random_bytes(bytes);
    std::uint64_t seed = 0;
    for (auto b : bytes) seed = (seed << 8) | b;
    return seed;
  }

  std::string random_prompt_id() {
    std::array<std::uint8_t, 10> bytes{};
    options.random_bytes(bytes);
    return "p" + base32(bytes);
  }

  template <typename T>
  void shuffle(std::vector<T>& items) {
    // One draw of 64 random bits seeds an unbiased Fisher–Yates (tests inject the bytes).
    std::array<std::uint8_t, 8> bytes{};
    options.random_bytes(bytes);
    std::uint64_t seed = 0;
    for (auto b : bytes) seed = (seed << 8) | b;
    SeededRandom random(seed);
    colloquy::shuffle(items, random);
  }

  Limits limits() const {
    const std::size_t frame = options.max_frame_bytes;
    return Limits{options.max_members_per_room, std::min(options.max_room_state_bytes, frame - frame / 8), options.speaker_grace_ms};
  }

  // ---- replies

  static void send_error(Connection& c, const std::optional<std::string>& id, ErrorCode code, std::string_view message) {
    c.send(make_frame(protocol::encode_error(id, code, message)));
  }
  static void send_ok(Connection& c, const std::string& id) {
    c.send(make_frame(protocol::encode_reply(id, json::object())));
  }

  // ---- deciding and storing

  // Decides the command against the room as stored, appends its events, applies and fans them
  // out, then calls `then`. One append per room at a time: a command that arrives meanwhile waits
  // (bounded) and is decided afterwards, against the room as it is then. Under the room's lock.
  void commit(RoomEntry& room, Command command, Then then) {
    if (room.waiting.size() >= options.max_waiting_commands) {
      return then(room, Error{ErrorCode::busy, "the room is busy; nothing was changed, try again shortly"});
    }
    room.waiting.push_back({std::move(command), std::move(then)});
    pump(room);
  }

  // Decides the waiting commands while no append is in flight: every command waiting (up to
  // max_batch) goes into one append, decided one after another on a scratch copy of the room that
  // includes the events of the commands before it. One append, one sync, one round trip for all.
  void pump(RoomEntry& room) {
    if (room.pumping) return;
    room.pumping = true;
    while (!room.appending && !room.waiting.empty()) start_batch(room);
    room.pumping = false;
    settle(room);
  }

  static constexpr std::size_t max_batch = 64; // commands in one append

  struct Decided {
    Command command;
    Then then;
    DecideResult result; // a decision (perhaps without events) or an error
    int attempt = 0;
  };

  struct AppendCall {
    RoomPtr room;
    std::vector<Decided> batch;
    std::vector<Event> events; // of the whole batch, in order
    AppendResult result;
    std::atomic<bool> handed{false}; // the second of caller and callback to see it continues
    std::shared_ptr<InFlight> token;
  };

  void start_batch(RoomEntry& room) {
    std::vector<Decided> batch;
    std::vector<Event> events;
    std::optional<RoomState> scratch; // made when a second command is decided after one with events
    while (!room.waiting.empty() && batch.size() < max_batch) {
      auto next = std::move(room.waiting.front());
      room.waiting.pop_front();
      DecideResult result = decide(scratch ? *scratch : room.state, next.command, options.now_ms(), limits());
      if (const auto* decision = std::get_if<Decision>(&result); decision && !decision->events.empty()) {
        // Commands after this one must see its events: on a copy, made once per batch.
        if (!scratch && !room.waiting.empty()) scratch.emplace(room.state);
        if (scratch) {
          for (const auto& event : decision->events) evolve(*scratch, event);
        }
        events.insert(events.end(), decision->events.begin(), decision->events.end());
      }
      const bool join = std::holds_alternative<Join>(next.command);
      batch.push_back({std::move(next.command), std::move(next.then), std::move(result), next.attempt});
      // A join ends its batch: its answer (a snapshot, or a replay read from the log after the
      // append) must not include events of commands decided after it.
      if (join) break;
    }
    if (events.empty()) {
      // Nothing to store: every command was refused or changed nothing; answer them now.
      for (auto& d : batch) d.then(room, d.result);
      return;
    }
    RoomPtr self_room = room.shared_from_this();
    room.appending = true;
    auto call = std::make_shared<AppendCall>();
    call->token = std::make_shared<InFlight>(*this);
    call->room = self_room;
    call->batch = std::move(batch);
    call->events = std::move(events);
    log.append_async(room.id, room.state.seq, call->events, [this, call](AppendResult r) {
      call->result = std::move(r);
      if (!call->handed.exchange(true)) return; // completed inline: the caller continues
      locked(call->room, [this, call](RoomEntry& room_entry) { appended(room_entry, call); });
    });
    if (call->handed.exchange(true)) appended(room, call);
  }

  // Puts a batch's commands back at the head of the queue, in order, to be decided again.
  static void requeue(RoomEntry& room, std::vector<Decided>& batch) {
    for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
      room.waiting.push_front({std::move(it->command), std::move(it->then), it->attempt + 1});
    }
  }

  // Every command of a batch that could not be stored gets the same error.
  static void refuse_all(RoomEntry& room, std::vector<Decided>& batch, const Error& error) {
    for (auto& d : batch) d.then(room, error);
  }

  // An append completed. Under the room's lock.
  void appended(RoomEntry& room, const std::shared_ptr<AppendCall>& call) {
    auto& batch = call->batch;
    switch (call->result.status) {
    case AppendStatus::ok:
      // Command by command, as if each had been stored alone: its events, then its answer (a
      // join's answer sees the room as of its own events). Nothing else is decided meanwhile.
      for (auto& d : batch) {
        if (const auto* decision = std::get_if<Decision>(&d.result)) {
          for (const auto& event : decision->events) apply(room, event);
        }
        d.then(room, d.result);
      }
      room.appending = false;
      settle(room);
      break;
    case AppendStatus::conflict:
      // Another instance appended first: catch up and decide the batch again on the newer state
      // (so every command is judged against the room as it really is).
      if (log.shared() && batch.front().attempt < 16) {
        requeue(room, batch); // appending stays true: nothing else is decided before the retry
        catch_up(room, [this](RoomEntry& r, bool ok) {
          r.appending = false;
          if (!ok) {
            // The retries would fail alike: answer every command waiting from this batch.
            while (!r.waiting.empty() && r.waiting.front().attempt > 0) {
              auto w = std::move(r.waiting.front());
              r.waiting.pop_front();
              w.then(r, Error{ErrorCode::unavailable, storage_unreachable});
            }
          }
          pump(r);
        });
        call->token.reset();
        return;
      }
      room.appending = false;
      refuse_all(room, batch, Error{ErrorCode::unavailable, "the room is changing too fast right now; nothing was changed, try again"});
      break;
    case AppendStatus::full:
      room.appending = false;
      refuse_all(room, batch, Error{ErrorCode::server_full, "the service holds its maximum number of rooms"});
      break;
    case AppendStatus::failed:
      room.appending = false;
      logger::error("room {}: storing a change failed: {}", room.id, call->result.error);
      refuse_all(room, batch, Error{ErrorCode::unavailable, storage_unreachable});
      break;
    case AppendStatus::unknown:
      room.appending = false;
      logger::error("room {}: a change may or may not have been stored: {}", room.id, call->result.error);
      refuse_all(room, batch,
                 Error{ErrorCode::outcome_unknown,
                       "the room's storage did not confirm the change; it may have been made: the room's "
                       "next events will show it"});
      if (log.shared()) {
        room.appending = true;
        catch_up(room, [this](RoomEntry& r, bool) {
          r.appending = false;
          pump(r);
        });
      }
      break;
    }
    pump(room);
    release_if_unused(room);
    call->token.reset();
  }

  // ---- fan-out

  static bool visible_to(const RoomEntry& room, const Audience& audience, const std::string& member_id) {
    switch (audience.kind) {
    case Audience::Kind::everyone: return true;
    case Audience::Kind::member: return audience.member_id == member_id;
    case Audience::Kind::leads: {
      const Member* m = room.state.find_member(member_id);
      return m && leads(m->role);
    }
    case Audience::Kind::group: {
      // The group's members and the facilitators (who watch every group).
      const Member* m = room.state.find_member(member_id);
      if (m && leads(m->role)) return true;
      const BreakoutGroup* g = room.state.groups.group_of(member_id);
      return g && g->id == audience.group_id;
    }
    }
    return false;
  }

  // Encoded once for its audience; every recipient gets the same buffer.
  void broadcast(RoomEntry& room, const Event& event) {
    Frame frame;
    for (auto& [member_id, connection] : room.attached) {
      if (!visible_to(room, event.audience, member_id)) continue;
      if (!frame) frame = make_frame(protocol::encode_event_push(room.id, event));
      connection->send(frame);
    }
  }

  // ---- connections

  InfoPtr info_of(const Connection* c) const { return connections.find(c); }

  // The joined room and member of a connection, or nothing (after sending not_joined).
  struct Joined {
    RoomPtr room;
    std::string member_id;
  };
  std::optional<Joined> joined(const std::shared_ptr<Connection>& c, const std::optional<std::string>& id) {
    if (InfoPtr info = info_of(c.get())) {
      std::lock_guard lock(info->mutex);
      if (info->room) return Joined{info->room, info->member_id};
    }
    send_error(*c, id, ErrorCode::not_joined, "join a room first");
    return std::nullopt;
  }

  // Runs `f(room, member_id)` under the room's lock for a joined connection that is still its
  // member's live one; otherwise answers not_joined.
  template <typename F>
  void in_room(const std::shared_ptr<Connection>& c, const std::string& id, F f) {
    auto who = joined(c, id);
    if (!who) return;
    std::lock_guard lock(who->room->mutex);
    if (!still_attached(*who->room, who->member_id, c.get())) return send_error(*c, id, ErrorCode::not_joined, "join a room first");
    f(*who->room, who->member_id);
  }

  // Under the room's lock: whether `c` is still the member's live connection here.
  static bool still_attached(const RoomEntry& room, const std::string& member_id, const Connection* c) {
    auto it = room.attached.find(member_id);
    return it != room.attached.end() && it->second.get() == c;
  }

  void handle_join(const std::shared_ptr<Connection>& c, const std::string& id, protocol::JoinCommand join) {
    InfoPtr info = info_of(c.get());
    if (!info) return; // closing
    {
      std::lock_guard lock(info->mutex);
      if (info->room || info->joining) {
        return send_error(*c, id, ErrorCode::already_joined, "this connection is in a room already; leave first");
      }
      info->joining = true;
    }
    auto cancel = [info] {
      std::lock_guard lock(info->mutex);
      info->joining = false;
    };
    const std::string room_id = join.room; // not join.room below: the lambda takes `join` first
    with_room(room_id, [this, c, id, join = std::move(join), info, cancel](RoomEntry& room, Lookup lookup) mutable {
      if (lookup == Lookup::unavailable) {
        cancel();
        return send_error(*c, id, ErrorCode::unavailable, "the room's storage cannot be reached; try again");
      }
      if (lookup == Lookup::missing) {
        cancel();
        return send_error(*c, id, ErrorCode::room_not_found, "no room with that id");
      }
      const bool resuming = join.credential == Credential::resume_token;
      std::string token = resuming ? join.secret : random_secret();
      Join command{join.credential, join.secret, join.name, secret_hash(token)};
      commit(room, std::move(command),
             [this, c, id, after = join.after, token, info, cancel, resuming](RoomEntry& r, const DecideResult& result) {
               if (const auto* error = std::get_if<Error>(&result)) {
                 cancel();
                 send_error(*c, id, error->code, error->message);
                 return release_if_unused(r);
               }
               const std::string member_id = std::get<Decision>(result).member_id;
               {
                 std::lock_guard lock(info->mutex);
                 if (info->connection.expired() || !connections.find(c.get())) {
                   // Closed while joining: the member is there but not connected.
                   info->joining = false;
                   return lose(r, member_id);
                 }
               }
               send_join_reply(r, c, id, member_id, token, after, info, resuming, 0);
             });
    });
  }

  // Sends the join reply with a snapshot or the events the client missed, then attaches the
  // connection, all under the room's lock so no push can come before the reply.
  void send_join_reply(RoomEntry& room, const std::shared_ptr<Connection>& c, const std::string& id,
                       const std::string& member_id, const std::string& token, std::optional<std::uint64_t> after,
                       const InfoPtr& info, bool resuming, int attempt) {
    const bool wants_replay = after && *after <= room.state.seq;
    if (wants_replay && log.remote() && attempt < 3) {
      // Read where it may block, then check that the replica has not moved on meanwhile.
      {
        RoomPtr self_room = room.shared_from_this();
        storage(self_room, [this, rid = room.id, from = *after] { return log.read(rid, from); },
                [this, c, id, member_id, token, after, info, resuming, attempt](
                    RoomEntry& r, StoreResult<std::optional<std::vector<Event>>> out) {
                  std::optional<std::vector<Event>> missed;
                  if (out.value && *out.value) {
                    missed = std::move(**out.value);
                    std::erase_if(*missed, [&](const Event& e) { return e.seq > r.state.seq; });
                    const std::uint64_t last = missed->empty() ? *after : missed->back().seq;
                    if (last != r.state.seq) {
                      return send_join_reply(r, c, id, member_id, token, after, info, resuming, attempt + 1);
                    }
                  }
                  finish_join(r, c, id, member_id, token, after, std::move(missed), info, resuming);
                });
        return;
      }
    }
    std::optional<std::vector<Event>> missed;
    if (wants_replay && !log.remote()) {
      try {
        missed = log.read(room.id, *after);
      } catch (const std::exception& e) {
        logger::warn("room log read failed; sending a snapshot: {}", e.what());
      }
    }
    finish_join(room, c, id, member_id, token, after, std::move(missed), info, resuming);
  }

  void finish_join(RoomEntry& room, const std::shared_ptr<Connection>& c, const std::string& id,
                   const std::string& member_id, const std::string& token, std::optional<std::uint64_t> after,
                   std::optional<std::vector<Event>> missed, const InfoPtr& info, bool resuming) {
    RoomPtr self_room = room.shared_from_this();
    {
      std::lock_guard lock(info->mutex);
      info->joining = false;
      if (info->connection.expired() || !connections.find(c.get()) || room.released) {
        lose(room, member_id);
        return;
      }
      info->room = self_room;
      info->member_id = member_id;
    }
    // A member is present once: a second connection replaces the first.
    if (auto old = room.attached.find(member_id); old != room.attached.end() && old->second != c) {
      if (InfoPtr old_info = info_of(old->second.get())) {
        std::lock_guard lock(old_info->mutex);
        old_info->room.reset();
        old_info->member_id.clear();
      }
      old->second->close(4000, "replaced");
      room.attached.erase(old);
    }
    room.attached[member_id] = c;

    // The missed events this member may see, unless they would not fit: then a snapshot.
    std::vector<Frame> replay;
    if (missed) {
      std::size_t bytes = 0;
      for (const auto& event : *missed) {
        if (!visible_to(room, event.audience, member_id)) continue;
        replay.push_back(make_frame(protocol::encode_event_push(room.id, event)));
        bytes += replay.back()->size();
        if (bytes > options.max_replay_bytes) {
          missed.reset();
          replay.clear();
          break;
        }
      }
    }
    const Member* member = room.state.find_member(member_id);
    json result_json{{"member", protocol::member_to_wire(*member, false)}, {"resume_token", token}};
    if (missed) {
      result_json["replay"] = {{"after", *after}, {"events", replay.size()}};
    } else {
      result_json["snapshot"] = protocol::snapshot_to_wire(room.state, member_id);
    }
    c->send(make_frame(protocol::encode_reply(id, result_json)));
    for (auto& frame : replay) c->send(std::move(frame));
    if (leads(member->role)) push_pending(room, c);
    logger::debug("member {} {} room {}", member_id, resuming ? "resumed in" : "joined", room.id);
  }

  // Records that a member's connection is gone (it closed while joining).
  void lose(RoomEntry& room, const std::string& member_id) {
    if (room.attached.contains(member_id)) return;
    commit(room, LoseConnection{member_id}, [this](RoomEntry& r, const DecideResult&) { release_if_unused(r); });
  }

  // A room command from a joined member: the core checks the role and the rules.
  void handle_room_command(const std::shared_ptr<Connection>& c, const std::string& id, protocol::RoomCommand command) {
    in_room(c, id, [&](RoomEntry& room, const std::string& member_id) {
      // Random choices are drawn here and recorded in the events, so the core stays deterministic.
      Command core = protocol::to_core(std::move(command), member_id, random_seed());
      if (const auto* vote = std::get_if<UpvotePrompt>(&core)) return upvote(room, c, id, *vote);
      commit(room, std::move(core), [c, id](RoomEntry&, const DecideResult& result) {
        if (const auto* error = std::get_if<Error>(&result)) return send_error(*c, id, error->code, error->message);
        send_ok(*c, id);
      });
    });
  }

  // One vote per member and prompt: recorded before the vote counts, taken back if it does not.
  void upvote(RoomEntry& room, const std::shared_ptr<Connection>& c, const std::string& id, const UpvotePrompt& vote) {
    auto check = decide(room.state, vote, options.now_ms(), limits());
    if (const auto* error = std::get_if<Error>(&check)) return send_error(*c, id, error->code, error->message);
    RoomPtr self_room = room.shared_from_this();
    storage(self_room, [this, rid = room.id, vote] { return log.prompts().add_vote(rid, vote.prompt, vote.actor); },
            [this, c, id, vote](RoomEntry& r, StoreResult<bool> added) {
              if (!added.value) return send_error(*c, id, ErrorCode::unavailable, storage_unreachable);
              if (!*added.value) return send_error(*c, id, ErrorCode::already_voted, "you voted for this prompt already");
              commit(r, vote, [this, c, id, vote](RoomEntry& r2, const DecideResult& result) {
                if (const auto* error = std::get_if<Error>(&result)) {
                  {
                    RoomPtr p = r2.shared_from_this();
                    storage(p, [this, rid = r2.id, vote] {
                      log.prompts().remove_vote(rid, vote.prompt, vote.actor);
                      return true;
                    }, [](RoomEntry&, StoreResult<bool>) {});
                  }
                  return send_error(*c, id, error->code, error->message);
                }
                send_ok(*c, id);
              });
            });
  }

  // ---- anonymous prompts: nothing here logs, stores or sends who wrote a prompt

  std::mutex submissions_mutex;
  std::unordered_map<std::string, std::deque<std::int64_t>> submissions; // "room member" -> times, last minute
  static constexpr std::size_t max_prompts_per_minute = 5;
  static constexpr std::size_t auto_release_at = 3;

  bool over_rate_limit(const std::string& room_id, const std::string& member_id) {
    const std::int64_t now = options.now_ms();
    std::lock_guard lock(submissions_mutex);
    auto& times = submissions[room_id + " " + member_id];
    while (!times.empty() && now - times.front() >= 60'000) times.pop_front();
    if (times.size() >= max_prompts_per_minute) return true;
    times.push_back(now);
    // Forget members with nothing in the last minute, so the map holds only recent activity.
    if (submissions.size() > 4096) {
      std::erase_if(submissions, [&](const auto& entry) { return entry.second.empty() || now - entry.second.back() >= 60'000; });
    }
    return false;
  }

  // Sends the pending list, in random order, to the room's facilitators here (or to one connection).
  void push_pending(RoomEntry& room, const std::shared_ptr<Connection>& only = nullptr) {
    RoomPtr self_room = room.shared_from_this();
    storage(self_room, [this, rid = room.id] { return log.prompts().pending(rid); },
            [this, only](RoomEntry& r, StoreResult<std::vector<PendingPrompt>> out) {
              if (!out.value) return logger::warn("room {}: reading pending prompts failed: {}", r.id, out.error);
              auto list = std::move(*out.value);
              shuffle(list);
              std::vector<protocol::PendingView> view;
              for (auto& p : list) view.push_back(protocol::PendingView{std::move(p.id), std::move(p.text), p.held});
              const Frame frame = make_frame(protocol::encode_prompts_pending(r.id, view));
              for (auto& [member_id, connection] : r.attached) {
                const Member* m = r.state.find_member(member_id);
                if (!m || !leads(m->role)) continue;
                if (!only || only == connection) connection->send(frame);
              }
            });
  }

  // Every instance holding the room (this one included, through its own subscription) pushes
  // the new list to its facilitators; without a shared log, this one does it now.
  void pending_changed(RoomEntry& room) {
    if (!log.shared()) return push_pending(room);
    RoomPtr self_room = room.shared_from_this();
    storage(self_room, [this, rid = room.id] {
      log.prompts().announce(rid);
      return true;
    }, [this](RoomEntry& r, StoreResult<bool> out) {
      if (out.value) return;
      logger::warn("room {}: announcing pending prompts failed: {}", r.id, out.error);
      push_pending(r);
    });
  }

  // Releases a shuffled batch: the chosen ids, or every pending prompt not held. `actor` empty:
  // the server itself (three pending, or the phase's end). Under the room's lock.
  void release(RoomEntry& room, std::vector<std::string> ids, std::string actor,
               std::function<void(RoomEntry&, std::optional<Error>)> then) {
    RoomPtr self_room = room.shared_from_this();
    storage(self_room, [this, rid = room.id, ids] { return log.prompts().take(rid, ids); },
            [this, ids, actor = std::move(actor), then = std::move(then)](RoomEntry& r, StoreResult<std::vector<PendingPrompt>> out) {
              if (!out.value) return then(r, Error{ErrorCode::unavailable, "the room's storage cannot be reached; try again"});
              auto taken = std::move(*out.value);
              if (taken.empty()) {
                if (!ids.empty()) return then(r, Error{ErrorCode::unknown_prompt, "no pending prompt with that id"});
                return then(r, std::nullopt);
              }
              shuffle(taken);
              std::vector<PromptText> batch;
              for (const auto& p : taken) batch.push_back(PromptText{p.id, p.text});
              commit(r, ReleasePrompts{actor, std::move(batch)},
                     [this, taken, then](RoomEntry& r2, const DecideResult& result) {
                       if (const auto* error = std::get_if<Error>(&result)) {
                         {
                           RoomPtr p = r2.shared_from_this();
                           storage(p, [this, rid = r2.id, taken] {
                             log.prompts().restore(rid, taken);
                             return true;
                           }, [n = taken.size()](RoomEntry& r3, StoreResult<bool> restored) {
                             if (!restored.value) {
                               logger::error("room {}: {} pending prompts could not be put back: {}", r3.id, n, restored.error);
                             }
                           });
                         }
                         return then(r2, *error);
                       }
                       pending_changed(r2);
                       then(r2, std::nullopt);
                     });
            });
  }

  void handle_prompt(const std::shared_ptr<Connection>& c, const std::string& id, protocol::PromptCommand command) {
    in_room(c, id, [&](RoomEntry& room, const std::string& member_id) { prompt(room, member_id, c, id, std::move(command)); });
  }

  void prompt(RoomEntry& room, const std::string& member_id, const std::shared_ptr<Connection>& c, const std::string& id,
              protocol::PromptCommand command) {
    using Kind = protocol::PromptCommand::Kind;
    const auto action = command.kind == Kind::submit ? PromptAction::submit : PromptAction::manage;
    auto allowed = decide(room.state, CheckPrompt{member_id, action}, options.now_ms(), limits());
    if (const auto* error = std::get_if<Error>(&allowed)) return send_error(*c, id, error->code, error->message);
    const RoomPtr self_room = room.shared_from_this();
    auto reply = [c, id](RoomEntry&, std::optional<Error> error) {
      if (error) return send_error(*c, id, error->code, error->message);
      send_ok(*c, id);
    };
    switch (command.kind) {
    case Kind::submit: {
      if (over_rate_limit(room.id, member_id)) {
        return send_error(*c, id, ErrorCode::rate_limited, "at most 5 prompts a minute; try again shortly");
      }
      PendingPrompt prompt{random_prompt_id(), std::move(command.text), false};
      // Nothing: the room has its maximum of pending prompts (the prompt is not added).
      storage(self_room, [this, rid = room.id, prompt]() -> std::optional<std::size_t> {
        if (!log.prompts().add(rid, prompt, max_pending_prompts)) return std::nullopt;
        std::size_t waiting = 0;
        for (const auto& p : log.prompts().pending(rid)) waiting += p.held ? 0 : 1;
        return waiting;
      }, [this, c, id](RoomEntry& r, StoreResult<std::optional<std::size_t>> waiting) {
        if (!waiting.value) return send_error(*c, id, ErrorCode::unavailable, "the room's storage cannot be reached; try again");
        if (!*waiting.value) {
          return send_error(*c, id, ErrorCode::too_many_prompts,
                            "25 prompts are waiting for release; try again once the facilitator has released some");
        }
        send_ok(*c, id); // to the author only
        pending_changed(r);
        if (**waiting.value >= auto_release_at) release(r, {}, "", [](RoomEntry&, std::optional<Error>) {});
      });
      return;
    }
    case Kind::release:
      return release(room, std::move(command.prompts), member_id, reply);
    case Kind::hold:
    case Kind::discard:
      storage(self_room, [this, rid = room.id, kind = command.kind, prompt = command.prompt] {
        return kind == Kind::hold ? log.prompts().hold(rid, prompt) : log.prompts().discard(rid, prompt);
      }, [this, reply](RoomEntry& r, StoreResult<bool> found) {
        if (!found.value) return reply(r, Error{ErrorCode::unavailable, "the room's storage cannot be reached; try again"});
        if (!*found.value) return reply(r, Error{ErrorCode::unknown_prompt, "no pending prompt with that id"});
        pending_changed(r);
        reply(r, std::nullopt);
      });
      return;
    }
  }

  // The climate-for-learning audit: answers go to the store as counts; nothing per answer is
  // logged, stored with its member, or sent to anyone but the member who answered.
  void handle_audit(const std::shared_ptr<Connection>& c, const std::string& id, protocol::AuditCommand command) {
    in_room(c, id, [&](RoomEntry& room, const std::string& member_id) { audit(room, member_id, c, id, std::move(command)); });
  }

  void audit(RoomEntry& room, const std::string& member_id, const std::shared_ptr<Connection>& c, const std::string& id,
             protocol::AuditCommand command) {
    const RoomPtr self_room = room.shared_from_this();
    auto reply = [c, id](RoomEntry&, const DecideResult& result) {
      if (const auto* error = std::get_if<Error>(&result)) return send_error(*c, id, error->code, error->message);
      send_ok(*c, id);
    };
    using Kind = protocol::AuditCommand::Kind;
    if (command.kind == Kind::open) return commit(room, OpenAudit{member_id, command.k}, reply);
    if (command.kind == Kind::answer) {
      const CheckAuditAnswer answer{member_id, command.answers};
      auto check = decide(room.state, answer, options.now_ms(), limits());
      if (const auto* error = std::get_if<Error>(&check)) return send_error(*c, id, error->code, error->message);
      const Audit& audit = *room.state.audit.current;
      storage(self_room, [this, rid = room.id, audit_id = audit.id, member_id, values = audit_values(audit, answer),
                          comment = std::move(command.comment)] {
        return log.prompts().add_audit_answer(rid, audit_id, member_id, values, comment, max_audit_comment_bytes);
      }, [c, id](RoomEntry&, StoreResult<AuditAdd> added) {
        if (!added.value) return send_error(*c, id, ErrorCode::unavailable, "the room's storage cannot be reached; try again");
        if (*added.value == AuditAdd::already_answered) {
          return send_error(*c, id, ErrorCode::already_answered, "you answered this audit already");
        }
        if (*added.value == AuditAdd::comments_full) {
          return send_error(*c, id, ErrorCode::audit_full,
                            "the audit's comments are full; nothing was recorded: answer without the comment, or a shorter one");
        }
        send_ok(*c, id);
      });
      return;
    }
    // Closing, or asking how many answered: who may first (the core decides closing again on
    // commit), then whether an audit is open.
    if (!presence::lead(room.state, member_id)) {
      return send_error(*c, id, ErrorCode::forbidden,
                        command.kind == Kind::status ? "only facilitators see how many answered" : "only facilitators close an audit");
    }
    if (!room.state.audit.current || !room.state.audit.current->open) return send_error(*c, id, ErrorCode::no_audit, "no audit is open");
    const Audit audit = *room.state.audit.current;
    if (command.kind == Kind::status) {
      // A count only, on request: no push, nothing per answer, never who.
      storage(self_room, [this, rid = room.id, audit] { return log.prompts().audit_tally(rid, audit.id, audit.items.size()).responses; },
              [c, id, k = audit.k](RoomEntry&, StoreResult<std::int64_t> responses) {
                if (!responses.value) return send_error(*c, id, ErrorCode::unavailable, "the room's storage cannot be reached; try again");
                c->send(make_frame(protocol::encode_reply(id, {{"k", k}, {"responses", *responses.value}})));
              });
      return;
    }
    storage(self_room, [this, rid = room.id, audit] { return log.prompts().audit_tally(rid, audit.id, audit.items.size()); },
            [this, c, id, audit, member_id, reply](RoomEntry& r, StoreResult<AuditTally> out) {
              if (!out.value) return send_error(*c, id, ErrorCode::unavailable, "the room's storage cannot be reached; try again");
              AuditTally tally = std::move(*out.value);
              shuffle(tally.comments);
              AuditResults results;
              for (std::size_t i = 0; i < audit.items.size(); ++i) {
                results.items.push_back(AuditItemResult{audit.items[i].id, tally.counts[i]});
              }
              results.comments = std::move(tally.comments);
              commit(r, CloseAudit{member_id, tally.responses, std::move(results)},
                     [this, reply, audit_id = audit.id](RoomEntry& r2, const DecideResult& result) {
                       if (std::holds_alternative<Decision>(result)) {
                         if (RoomPtr p = r2.shared_from_this()) {
                           storage(p, [this, rid = r2.id, audit_id] {
                             log.prompts().forget_audit(rid, audit_id);
                             return true;
                           }, [](RoomEntry&, StoreResult<bool>) {});
                         }
                       }
                       reply(r2, result);
                     });
            });
  }

  // ---- the ephemeral channel: relayed, never logged; the latest per member and kind every 50 ms

  void handle_ephemeral(const std::shared_ptr<Connection>& c, const std::string& id, protocol::EphemeralCommand command) {
    InfoPtr info = info_of(c.get());
    if (!info) return;
    RoomPtr room;
    std::string member_id;
    {
      std::lock_guard lock(info->mutex);
      if (!info->room) return send_error(*c, id, ErrorCode::not_joined, "join a room first");
      if (info->ephemeral_bucket.take(options.now_ms(), options.max_ephemeral_per_second, options.max_ephemeral_per_second)) {
        return send_error(*c, id, ErrorCode::rate_limited, "too many ephemeral updates; some were not relayed");
      }
      room = info->room;
      member_id = info->member_id;
    }
    std::lock_guard lock(room->mutex);
    if (!still_attached(*room, member_id, c.get())) return;
    room->ephemeral[{member_id, command.kind}] = std::move(command.data);
    if (!room->ephemeral_due) {
      room->ephemeral_due = true;
      schedule_ephemeral(room->id);
    }
  }

  // Relays the room's latest ephemeral updates to everyone else here, and to other instances.
  void flush_ephemeral(RoomEntry& room) {
    room.ephemeral_due = false;
    for (auto& [key, data] : room.ephemeral) {
      const auto& [from, kind] = key;
      std::string text = protocol::encode_ephemeral(room.id, from, kind, data);
      if (log.shared()) log.publish_ephemeral(room.id, text);
      const Frame frame = make_frame(std::move(text));
      for (auto& [member_id, connection] : room.attached) {
        if (member_id != from) connection->send_ephemeral(frame);
      }
    }
    room.ephemeral.clear();
  }

  // ---- timers: expiry is a command like any other, submitted when a deadline passes

  std::mutex ticker_mutex;
  std::condition_variable ticker_wake;
  std::set<std::pair<std::int64_t, std::string>> deadline_order; // (ends_at, room)
  std::unordered_map<std::string, std::int64_t> deadlines;        // room -> earliest running timer's ends_at
  std::vector<std::string> ephemeral_due;                         // rooms to flush at the next tick
  std::int64_t ephemeral_at = 0;
  // Connections in the order they opened, each with the time by which it must have joined: the
  // timeout is the same for all, so the queue is in deadline order.
  // In order of deadline: one queue per timeout (each is then ordered by opening time).
  std::deque<std::pair<std::int64_t, std::weak_ptr<ConnectionInfo>>> join_deadlines;
  std::deque<std::pair<std::int64_t, std::weak_ptr<ConnectionInfo>>> reserve_join_deadlines;
  bool ticker_stopping = false;
  std::thread ticker;

  void set_deadline(const std::string& room_id, std::optional<std::int64_t> at) {
    std::lock_guard lock(ticker_mutex);
    if (auto it = deadlines.find(room_id); it != deadlines.end()) {
      deadline_order.erase({it->second, room_id});
      deadlines.erase(it);
    }
    if (at) {
      deadlines[room_id] = *at;
      deadline_order.insert({*at, room_id});
    }
    ticker_wake.notify_one();
  }

  void schedule(const RoomEntry& room) {
    const auto next = next_deadline(room.state);
    set_deadline(room.id, next ? std::optional<std::int64_t>(next->ends_at_ms) : std::nullopt);
  }

  void unschedule(const std::string& room_id) { set_deadline(room_id, std::nullopt); }

  void schedule_ephemeral(const std::string& room_id) {
    std::lock_guard lock(ticker_mutex);
    if (ephemeral_due.empty()) {
      ephemeral_at = options.now_ms() + options.ephemeral_flush_ms;
      ticker_wake.notify_one();
    }
    ephemeral_due.push_back(room_id);
  }

  // How often rooms are checked against their limits: often enough to be within a quarter of the
  // shorter one, at most every minute.
  std::int64_t sweep_every_ms() const {
    return std::clamp<std::int64_t>(std::min(options.unjoined_room_ms, options.idle_room_ms) / 4, 100, 60'000);
  }
  std::int64_t next_sweep_at = 0;

  // Removes the rooms past their limits (the embedded log; Redis keys expire by themselves).
  void sweep() {
    if (log.shared()) return;
    const std::int64_t now = options.now_ms();
    std::vector<RoomPtr> all;
    rooms.for_each([&](const RoomPtr& room) { all.push_back(room); });
    for (const auto& room : all) {
      std::lock_guard lock(room->mutex);
      if (room->released || !room->attached.empty() || room->appending || room->busy > 0 || !room->waiting.empty()) continue;
      const bool never_joined = room->state.members.empty() && room->state.created_at_ms + options.unjoined_room_ms <= now;
      const bool idle = room->last_change_ms + options.idle_room_ms <= now;
      if (!never_joined && !idle) continue;
      logger::info("room {} removed: {}", room->id, never_joined ? "nobody joined it" : "idle past its limit");
      remove(*room, "");
      log.remove_async(room->id, [id = room->id](std::string error) {
        if (!error.empty()) logger::error("room {}: removing it from storage failed: {}", id, error);
      });
    }
  }

  void ticker_loop() {
    std::unique_lock lock(ticker_mutex);
    next_sweep_at = options.now_ms() + sweep_every_ms();
    while (!ticker_stopping) {
      lock.unlock();
      mark_alive(); // a small write at most every 2 s, never under the ticker's lock
      lock.lock();
      std::int64_t earliest = deadline_order.empty() ? INT64_MAX : deadline_order.begin()->first;
      if (!ephemeral_due.empty()) earliest = std::min(earliest, ephemeral_at);
      earliest = std::min(earliest, next_sweep_at);
      if (!join_deadlines.empty()) earliest = std::min(earliest, join_deadlines.front().first);
      if (!reserve_join_deadlines.empty()) earliest = std::min(earliest, reserve_join_deadlines.front().first);
      const std::int64_t now = options.now_ms();
      if (earliest > now) {
        const auto wait = std::chrono::milliseconds(std::min<std::int64_t>(earliest - now, 1000));
        ticker_wake.wait_for(lock, wait);
        continue;
      }
      lock.unlock();
      fire_due();
      lock.lock();
    }
  }

  // Submits Expire for every room whose timer is due and relays ephemeral updates. Called by the
  // ticker thread (and tests). Never waits for storage: appends complete asynchronously.
  void fire_due() {
    std::vector<std::string> due;
    std::vector<std::string> flush;
    std::vector<std::weak_ptr<ConnectionInfo>> late;
    bool sweep_now = false;
    {
      std::lock_guard lock(ticker_mutex);
      const std::int64_t now = options.now_ms();
      for (auto it = deadline_order.begin(); it != deadline_order.end() && it->first <= now; ++it) due.push_back(it->second);
      for (const auto& room_id : due) {
        // Re-armed when the expiry lands (or retried shortly if storage fails).
        deadline_order.erase({deadlines[room_id], room_id});
        deadlines.erase(room_id);
      }
      if (!ephemeral_due.empty() && ephemeral_at <= now) flush.swap(ephemeral_due);
      sweep_now = next_sweep_at <= now;
      if (sweep_now) next_sweep_at = now + sweep_every_ms();
      for (auto* queue : {&join_deadlines, &reserve_join_deadlines}) {
        while (!queue->empty() && queue->front().first <= now) {
          late.push_back(std::move(queue->front().second));
          queue->pop_front();
        }
      }
    }
    for (const auto& weak : late) {
      InfoPtr info = weak.lock();
      if (!info) continue;
      std::shared_ptr<Connection> connection;
      {
        std::lock_guard lock(info->mutex);
        if (info->room || info->joining) continue;
        connection = info->connection.lock();
      }
      if (connection) connection->close(4002, "join_timeout");
    }
    if (sweep_now) sweep();
    for (const auto& room_id : flush) {
      if (RoomPtr room = rooms.find(room_id)) {
        std::lock_guard lock(room->mutex);
        flush_ephemeral(*room);
      }
    }
    for (const auto& room_id : due) {
      RoomPtr room = rooms.find(room_id);
      if (!room) continue;
      std::lock_guard lock(room->mutex);
      expire_due(*room, 0);
    }
  }

  // Expires the room's earliest due timer; again for the next one once that has landed.
  void expire_due(RoomEntry& room, int round) {
    const auto next = next_deadline(room.state);
    if (!next || next->ends_at_ms > options.now_ms() || round >= 4) return schedule(room);
    const std::uint64_t before = room.state.seq;
    const bool phase = next->timer == TimerId::phase && !next->speaker_hold && !next->groups;
    commit(room, Expire{next->timer, next->ends_at_ms, next->speaker_hold, next->groups}, [this, phase, before, round](RoomEntry& r, const DecideResult& result) {
      if (std::holds_alternative<Error>(result)) {
        // Storage unreachable: try again shortly rather than spin.
        set_deadline(r.id, options.now_ms() + 250);
        return;
      }
      if (r.state.seq == before) return schedule(r); // someone else's expiry landed first, or nothing to do
      if (phase) release(r, {}, "", [](RoomEntry&, std::optional<Error>) {}); // prompts pending at the phase's end
      expire_due(r, round + 1);
    });
  }

  // ---- leaving

  // Detaches the connection from its member; if it was the member's live connection, records
  // leave or connection lost, then `done(result)` under the room's lock (or at once, unlocked).
  void detach(const std::shared_ptr<Connection>& c, bool leaving, std::function<void(const DecideResult&)> done) {
    InfoPtr info = info_of(c.get());
    RoomPtr room;
    std::string member_id;
    if (info) {
      std::lock_guard lock(info->mutex);
      room = std::move(info->room);
      member_id = std::move(info->member_id);
      info->room.reset();
      info->member_id.clear();
    }
    if (!room) return done(Error{ErrorCode::not_joined, "you have not joined a room"});
    std::lock_guard lock(room->mutex);
    if (!still_attached(*room, member_id, c.get())) return done(Decision{});
    room->attached.erase(member_id);
    // Stopping the embedded server: the next start records every absence, after pausing what ran
    // (restore), so a round loses no hand and no turn to the stop. Scale-out records them now:
    // the room lives on in the other instances, where members return within the speaker grace.
    if (!leaving && draining.load() && !log.shared()) return done(Decision{});
    Command command = leaving ? Command{Leave{member_id}} : Command{LoseConnection{member_id}};
    commit(*room, std::move(command), [this, done](RoomEntry& r, const DecideResult& result) {
      done(result);
      release_if_unused(r);
    });
  }
};

RoomHub::RoomHub(HubOptions options) : impl_(std::make_shared<Impl>(std::move(options))) { impl_->start(); }

RoomHub::~RoomHub() { impl_->stop(); }

void RoomHub::set_executor(Executor executor) {
  std::lock_guard lock(impl_->executor_mutex);
  impl_->executor = std::move(executor);
}

void RoomHub::create_room(std::string_view title, std::function<void(CreateResult)> done) {
  auto cleaned = clean_display_text(title, max_title_chars);
  if (!cleaned) {
    return done(HubError{ErrorCode::invalid_title, "title must be 1 to 120 characters, without control characters"});
  }
  Impl& impl = *impl_;
  CreatedRoom created{impl.random_room_id(), *cleaned, impl.random_secret(), impl.random_secret()};
  if (impl.room_count.load() >= impl.options.max_rooms) {
    return done(HubError{ErrorCode::server_full, "this server holds its maximum number of rooms"});
  }
  auto room = std::make_shared<RoomEntry>(created.room_id);
  room->loaded = true;
  room->last_change_ms = impl.options.now_ms();
  const bool shared = impl.log.shared();
  // Shared log: not in the map; whichever instance the members reach loads it from the log.
  if (!shared) {
    auto [there, inserted] = impl.rooms.insert(created.room_id, room);
    if (!inserted) return done(HubError{ErrorCode::internal, "room id collision; try again"});
    impl.room_count.fetch_add(1);
  }
  std::lock_guard lock(room->mutex);
  impl.commit(*room, CreateRoom{created.title, secret_hash(created.facilitator_key), secret_hash(created.join_code)},
              [&impl, room, created, done = std::move(done), shared](RoomEntry&, const DecideResult& result) {
                if (const auto* error = std::get_if<Error>(&result)) {
                  if (!shared) {
                    room->released = true;
                    if (impl.rooms.erase(room->id, room)) impl.room_count.fetch_sub(1);
                  }
                  return done(HubError{error->code, std::string(error->message)});
                }
                logger::info("room {} created", created.room_id);
                done(created);
              });
}

void RoomHub::check_invitation(const std::string& room_id, Credential credential, std::string_view secret,
                               std::function<void(InvitationResult)> done) {
  Impl& impl = *impl_;
  impl.with_room(room_id, [&impl, credential, secret = std::string(secret), done = std::move(done)](RoomEntry& room, Lookup lookup) {
    if (lookup == Lookup::unavailable) {
      return done(HubError{ErrorCode::unavailable, "the room's storage cannot be reached; try again"});
    }
    if (lookup == Lookup::missing) return done(HubError{ErrorCode::room_not_found, "no room with that id"});
    const auto refused = presence::check_invitation(room.state, credential, secret);
    InvitationResult out = refused ? InvitationResult{HubError{refused->code, std::string(refused->message)}}
                                   : InvitationResult{Invitation{room.state.title, credential == Credential::facilitator_key
                                                                                        ? Role::facilitator
                                                                                        : Role::participant}};
    impl.release_if_unused(room); // a shared log loaded it only for this
    done(std::move(out));
  });
}

RoomHub::CreateResult RoomHub::create_room(std::string_view title) {
  std::promise<CreateResult> promise;
  auto result = promise.get_future();
  create_room(title, [&promise](CreateResult r) { promise.set_value(std::move(r)); });
  return result.get();
}

void RoomHub::on_open(const std::shared_ptr<Connection>& connection, bool in_reserve) {
  const std::int64_t now = impl_->options.now_ms();
  auto info = std::make_shared<ConnectionInfo>();
  info->connection = connection;
  impl_->connections.insert(connection.get(), info);
  {
    std::lock_guard lock(impl_->ticker_mutex);
    if (in_reserve) {
      const auto timeout = std::min(impl_->options.reserve_join_timeout_ms, impl_->options.join_timeout_ms);
      impl_->reserve_join_deadlines.emplace_back(now + timeout, info);
    } else {
      impl_->join_deadlines.emplace_back(now + impl_->options.join_timeout_ms, info);
    }
    impl_->ticker_wake.notify_one();
  }
  connection->send(make_frame(protocol::encode_welcome(impl_->options.server_name, impl_->options.now_ms(),
                                                       impl_->options.max_frame_bytes)));
}

void RoomHub::on_text(const std::shared_ptr<Connection>& connection, std::string_view frame) {
  auto decoded = protocol::decode_command(frame);
  if (auto* error = std::get_if<protocol::DecodeError>(&decoded)) {
    return Impl::send_error(*connection, error->id, error->code, error->message);
  }
  auto& [id, command] = std::get<protocol::DecodedCommand>(decoded);
  // Health of the connection itself: never touches a room or the storage.
  if (std::holds_alternative<protocol::PingCommand>(command)) {
    connection->send(make_frame(protocol::encode_reply(id, {{"server_time", impl_->options.now_ms()}})));
    return;
  }
  InfoPtr info = impl_->connections.find(connection.get());
  if (!info) return; // replaced or closing
  if (!std::holds_alternative<protocol::EphemeralCommand>(command)) {
    std::lock_guard lock(info->mutex);
    const double rate = impl_->options.max_commands_per_second;
    if (const auto retry_ms = info->command_bucket.take(impl_->options.now_ms(), rate, 2 * rate)) {
      connection->send(make_frame(protocol::encode_error(
          id, ErrorCode::rate_limited, "too many commands from this connection; nothing was changed, try again in a second",
          *retry_ms)));
      return;
    }
  }
  if (auto* join = std::get_if<protocol::JoinCommand>(&command)) return impl_->handle_join(connection, id, std::move(*join));
  if (auto* room_command = std::get_if<protocol::RoomCommand>(&command)) {
    return impl_->handle_room_command(connection, id, std::move(*room_command));
  }
  if (auto* prompt = std::get_if<protocol::PromptCommand>(&command)) return impl_->handle_prompt(connection, id, std::move(*prompt));
  if (auto* audit = std::get_if<protocol::AuditCommand>(&command)) return impl_->handle_audit(connection, id, std::move(*audit));
  if (auto* ephemeral = std::get_if<protocol::EphemeralCommand>(&command)) {
    return impl_->handle_ephemeral(connection, id, std::move(*ephemeral));
  }
  impl_->detach(connection, /*leaving=*/true, [connection, id](const DecideResult& result) {
    if (const auto* error = std::get_if<Error>(&result)) return Impl::send_error(*connection, id, error->code, error->message);
    Impl::send_ok(*connection, id);
  });
}

void RoomHub::on_binary(const std::shared_ptr<Connection>& connection) {
  Impl::send_error(*connection, std::nullopt, ErrorCode::bad_frame, "binary frames are not supported; send JSON text");
}

void RoomHub::on_close(const std::shared_ptr<Connection>& connection) {
  impl_->detach(connection, /*leaving=*/false, [](const DecideResult&) {});
  if (InfoPtr info = impl_->info_of(connection.get())) impl_->connections.erase(connection.get(), info);
}

Readiness RoomHub::readiness() const {
  if (impl_->draining.load()) return Readiness::draining;
  return impl_->log.healthy() ? Readiness::ready : Readiness::storage_unavailable;
}

void RoomHub::shutdown() {
  impl_->draining = true;
  std::vector<std::shared_ptr<Connection>> open;
  impl_->connections.for_each([&](const InfoPtr& info) {
    std::lock_guard lock(info->mutex);
    if (auto connection = info->connection.lock()) open.push_back(std::move(connection));
  });
  for (auto& connection : open) connection->close(1001, "server_shutdown");
}

void RoomHub::fire_due_timers() { impl_->fire_due(); }

const HubRestore& RoomHub::restored() const { return impl_->restore_stats; }

bool RoomHub::wait_idle(std::chrono::milliseconds limit) const { return impl_->wait_idle(limit); }

HubStats RoomHub::stats() const { return HubStats{impl_->room_count.load(), impl_->connections.size()}; }

} // namespace colloquy
