#pragma once
// The scale-out room log: one Redis stream per room, appended only through a Lua script that
// compares the room's last sequence and epoch, XADDs the events and PUBLISHes them, so the
// stream's order and the channel's order are the same. Rooms are sharded over independent Redis
// servers by room id.
//
// Threads per shard, so a slow or frozen Redis stalls only its own rooms and never a thread that
// serves sockets: an appender with its own connection sends every queued append at once
// (EVALSHA, pipelined) and then reads the replies, each within the command timeout; a worker with
// another connection runs everything else (reads, pending prompts, compaction) in order. A prober
// pings every shard each second for readiness. Notifications come through a PubSub (hiredis async
// on Asio, net/redis_pubsub).
//
// An append whose connection broke before its reply is settled, not guessed: a script looks for
// its nonce at the entry it would have written and, if absent, records the nonce as cancelled in
// the same atomic step, so a copy of the append still waiting in Redis can never land later.
//
// Keys for room R (hash-tagged, so one room's keys stay on one node of a Redis Cluster too):
//   colloquy:room:{R}:meta       hash: seq (last), epoch (random, set at creation), snapshot (room
//                                state as JSON), snapshot_seq
//   colloquy:room:{R}:log        stream; entry id "<seq>-1", field "e" = the event as JSON (the
//                                first entry of an append also "n" = the append's nonce)
//   (meta and log expire after the room's idle limit, refreshed by every append; a day after its
//   creation until a first change after it; pending prompts, votes and audit answers likewise)
//   colloquy:room:{R}:cancelled  set of nonces of appends settled as not stored (expires after 1 h)
//   colloquy:room:{R}            channel; message = {"room","epoch","events":[...]} per append
#include "log/redis_url.hpp"
#include "log/room_log.hpp"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <thread>
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
  std::size_t max_pipeline = 512; // appends sent together at most
  // A room's keys expire this long after its last change (TTL refreshed by every append); a room
  // nobody joined after its creation.
  std::int64_t idle_room_seconds = 90 * 24 * 3600;
  std::int64_t unjoined_room_seconds = 24 * 3600;
  // --max-rooms for the whole service: each of S shards holds at most ceil(max_rooms / S) (rooms
  // are spread over shards by id), so every instance on the same shards keeps the same cap.
  std::size_t max_rooms = 10'000;
};

class RedisRoomLog final : public RoomLog {
public:
  // Connects lazily; a shard that is down makes its rooms' operations fail (RoomLogError).
  RedisRoomLog(std::vector<RedisEndpoint> shards, std::shared_ptr<PubSub> pubsub, RedisLogOptions options = {});
  ~RedisRoomLog() override;

  bool shared() const override { return true; }
  bool remote() const override { return true; }
  void run(std::string_view room_id, std::function<void()> op) override;
  void set_observer(RoomLogObserver* observer) override;
  void watch(std::string_view room_id) override;
  void unwatch(std::string_view room_id) override;

  void append_async(std::string_view room_id, std::uint64_t expected_seq, std::vector<Event> events,
                    AppendDone done) override;
  void publish_ephemeral(std::string_view room_id, std::string frame) override;
  void remove_async(std::string_view room_id, std::function<void(std::string error)> done) override;
  // Blocking: call inside run().
  std::optional<std::vector<Event>> read(std::string_view room_id, std::uint64_t after_seq) const override;
  std::uint64_t last_seq(std::string_view room_id) const override;
  std::vector<std::string> room_ids() const override { return {}; } // loaded on demand, never all at once
  std::optional<RoomHistory> history(std::string_view room_id) const override;

  // True when every shard answered the prober's last PING (or the last command on it worked).
  bool healthy() const override;

  // Pending prompts: a hash colloquy:room:{R}:pending (random id -> {"text","held"}); votes: a
  // set colloquy:room:{R}:votes:{prompt id} of member ids (voters, never authors). Blocking.
  PromptStore& prompts() override;

  static std::string channel_of(std::string_view room_id);

private:
  struct Shard;
  struct Reply;
  struct AppendRequest;
  Shard& shard(std::string_view room_id) const;
  Reply command_once(Shard& shard, const std::vector<std::string>& args) const;
  // retry: reconnect and send again once after a connection failure (safe for reads and
  // idempotent writes). The worker's connection.
  Reply command(Shard& shard, const std::vector<std::string>& args, bool retry = true) const;
  std::string epoch_of(std::string_view room_id) const; // cached; "" if the room does not exist
  void remember_epoch(std::string_view room_id, std::string epoch) const;
  void compact(std::string_view room_id) const;
  void on_message(std::string_view channel, std::string_view payload);
  void appender_loop(Shard& shard);
  void send_appends(Shard& shard, std::vector<AppendRequest>& batch);
  void settle(Shard& shard, std::vector<AppendRequest*>& unsettled);
  void worker_loop(Shard& shard);
  void prober_loop();
  bool probe(Shard& shard) const;

  class Prompts;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::unique_ptr<Prompts> prompts_;
  std::shared_ptr<PubSub> pubsub_;
  RedisLogOptions options_;
  std::string instance_id_; // random, tags this process's ephemeral relays
  mutable std::mutex mutex_; // epochs_
  mutable std::unordered_map<std::string, std::string> epochs_;
  // Held while calling the observer, so set_observer(nullptr) waits for a call in progress.
  // The observer only posts work (never takes a room's lock here): no lock-order cycle.
  std::mutex observer_mutex_;
  RoomLogObserver* observer_ = nullptr;
  std::mutex prober_mutex_;
  std::condition_variable prober_wake_;
  bool stopping_ = false;
  std::thread prober_;
};

} // namespace colloquy
