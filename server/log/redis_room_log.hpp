#pragma once
// The scale-out room log: one Redis stream per room, appended only through a Lua script that
// compares the room's last sequence and epoch, XADDs the events and PUBLISHes them, so the
// stream's order and the channel's order are the same. Rooms are sharded over independent Redis
// servers by room id. Commands use blocking hiredis connections with timeouts (one per shard);
// notifications come through a PubSub (hiredis async on Asio, net/redis_pubsub).
//
// Keys for room R (hash-tagged, so one room's keys stay on one node of a Redis Cluster too):
//   colloquy:room:{R}:meta   hash: seq (last), epoch (random, set at creation), snapshot (room
//                            state as JSON), snapshot_seq
//   colloquy:room:{R}:log    stream; entry id "<seq>-1", field "e" = the event as JSON
//   colloquy:room:{R}        channel; message = {"room","epoch","events":[...]} per append
#include "log/redis_url.hpp"
#include "log/room_log.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

struct redisContext;

namespace colloquy {

// Which shard holds a room: jump consistent hash of the room id's FNV-1a hash, so adding a
// shard moves only about 1/n of the rooms.
std::size_t shard_for(std::string_view room_id, std::size_t shards);

// Subscriptions over the shards' Redis servers. Thread-safe. Implemented in net/.
class PubSub {
public:
  using MessageHandler = std::function<void(std::size_t shard, std::string_view channel, std::string_view payload)>;
  // A subscription is in effect (first time, or again after a reconnect).
  using SubscribedHandler = std::function<void(std::size_t shard, std::string_view channel)>;
  virtual ~PubSub() = default;
  // Handlers are set once, before the first subscribe; called on the PubSub's own thread.
  virtual void set_handlers(MessageHandler on_message, SubscribedHandler on_subscribed) = 0;
  virtual void subscribe(std::size_t shard, std::string channel) = 0;
  virtual void unsubscribe(std::size_t shard, std::string channel) = 0;
};

struct RedisLogOptions {
  int command_timeout_ms = 2000;
  std::size_t keep_events = 1024; // per room in the stream; older ones are folded into the snapshot
};

class RedisRoomLog final : public RoomLog {
public:
  // Connects lazily; a shard that is down makes its rooms' operations throw RoomLogError.
  RedisRoomLog(std::vector<RedisEndpoint> shards, std::shared_ptr<PubSub> pubsub, RedisLogOptions options = {});
  ~RedisRoomLog() override;

  bool shared() const override { return true; }
  void set_observer(RoomLogObserver* observer) override;
  void watch(std::string_view room_id) override;
  void unwatch(std::string_view room_id) override;

  bool append(std::string_view room_id, std::uint64_t expected_seq, const std::vector<Event>& events) override;
  std::optional<std::vector<Event>> read(std::string_view room_id, std::uint64_t after_seq) const override;
  std::uint64_t last_seq(std::string_view room_id) const override;
  std::vector<std::string> room_ids() const override { return {}; } // loaded on demand, never all at once
  std::optional<RoomHistory> history(std::string_view room_id) const override;

  // True when every shard answers PING (readiness).
  bool healthy() const override;

  // Pending prompts: a hash colloquy:room:{R}:pending (random id -> {"text","held"}); votes: a
  // set colloquy:room:{R}:votes:{prompt id} of member ids (voters, never authors).
  PromptStore& prompts() override;

  static std::string channel_of(std::string_view room_id);

private:
  struct Shard;
  struct Reply;
  Shard& shard(std::string_view room_id) const;
  Reply command_once(Shard& shard, const std::vector<std::string>& args) const;
  // retry: reconnect and send again once after a connection failure (safe for reads and
  // idempotent writes; appends check whether the first attempt landed instead).
  Reply command(Shard& shard, const std::vector<std::string>& args, bool retry = true) const;
  std::string epoch_of(std::string_view room_id) const; // cached; "" if the room does not exist
  void remember_epoch(std::string_view room_id, std::string epoch) const;
  void compact(std::string_view room_id) const;
  void on_message(std::string_view channel, std::string_view payload);

  class Prompts;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::unique_ptr<Prompts> prompts_;
  std::shared_ptr<PubSub> pubsub_;
  RedisLogOptions options_;
  mutable std::mutex mutex_; // epochs_
  mutable std::unordered_map<std::string, std::string> epochs_;
  // Held while calling the observer, so set_observer(nullptr) waits for a call in progress.
  // Never taken by a thread that holds the observer's own lock (the hub's): no lock-order cycle.
  std::mutex observer_mutex_;
  RoomLogObserver* observer_ = nullptr;
};

} // namespace colloquy
