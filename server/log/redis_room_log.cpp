#include "log/redis_room_log.hpp"

#include "app/logger.hpp"
#include "core/secret.hpp"
#include "log/storage_codec.hpp"

#include <hiredis/hiredis.h>

#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <thread>

namespace colloquy {
namespace {

using json = nlohmann::json;

constexpr std::size_t max_queued_ephemeral = 256; // worker jobs past which ephemeral relays are dropped

// Compare-and-append. KEYS: meta, stream, cancelled, the shard's room registry. ARGV: expected
// seq, epoch, channel, publish payload, nonce, seconds the room lives on without changes, the room
// id, the shard's room cap, then one JSON event per argument. The registry (a sorted set, room ->
// when its keys expire, in seconds of Redis's clock) counts the shard's rooms for --max-rooms.
// Returns {status, last seq, epoch}; status "ok", "conflict" (the room moved on, or exists already
// when creating), "epoch" (the log was lost or reset), "cancelled" (settled as not stored after
// its connection broke) or "full" (creating: the shard holds its share of --max-rooms).
constexpr std::string_view append_script = R"lua(
if redis.call('SISMEMBER', KEYS[3], ARGV[5]) == 1 then return {'cancelled', 0, ''} end
local seq = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
local epoch = redis.call('HGET', KEYS[1], 'epoch')
local expected = tonumber(ARGV[1])
local now = tonumber(redis.call('TIME')[1])
if expected == 0 then
  if epoch then return {'conflict', seq, epoch} end
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
  if redis.call('ZCARD', KEYS[4]) >= tonumber(ARGV[8]) then return {'full', 0, ''} end
  redis.call('HSET', KEYS[1], 'epoch', ARGV[2])
elseif epoch ~= ARGV[2] then
  return {'epoch', seq, epoch or ''}
elseif seq ~= expected then
  return {'conflict', seq, epoch}
end
local n = #ARGV - 8
redis.call('XADD', KEYS[2], (expected + 1) .. '-1', 'e', ARGV[9], 'n', ARGV[5])
for i = 2, n do
  redis.call('XADD', KEYS[2], (expected + i) .. '-1', 'e', ARGV[8 + i])
end
redis.call('HSET', KEYS[1], 'seq', expected + n)
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('EXPIRE', KEYS[2], ARGV[6])
redis.call('ZADD', KEYS[4], now + tonumber(ARGV[6]), ARGV[7])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return {'ok', expected + n, ARGV[2]}
)lua";

// Settles an append whose reply was lost. KEYS: meta, stream, cancelled. ARGV: its first entry id,
// its nonce. 1: it was stored; 0: it was not, and now never will be (cancelled, atomically);
// 2: cannot tell (the entry was folded into the snapshot already).
constexpr std::string_view settle_script = R"lua(
local e = redis.call('XRANGE', KEYS[2], ARGV[1], ARGV[1])
if #e == 1 then
  local f = e[1][2]
  for i = 1, #f, 2 do
    if f[i] == 'n' and f[i + 1] == ARGV[2] then return 1 end
  end
end
local folded = tonumber(redis.call('HGET', KEYS[1], 'snapshot_seq') or '0')
if folded >= tonumber((string.gsub(ARGV[1], '-1$', ''))) then return 2 end
redis.call('SADD', KEYS[3], ARGV[2])
redis.call('EXPIRE', KEYS[3], 3600)
return 0
)lua";

// Snapshot-and-trim. KEYS: meta, stream. ARGV: epoch, snapshot seq, snapshot JSON. Keeps the
// newest snapshot only, then drops the stream entries it covers.
constexpr std::string_view snapshot_script = R"lua(
if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[1] then return 0 end
local current = tonumber(redis.call('HGET', KEYS[1], 'snapshot_seq') or '0')
local new = tonumber(ARGV[2])
if new <= current then return 0 end
redis.call('HSET', KEYS[1], 'snapshot', ARGV[3], 'snapshot_seq', new)
redis.call('XTRIM', KEYS[2], 'MINID', (new + 1) .. '-0')
return 1
)lua";

// A consistent read of a room: meta and the stream entries after its snapshot, in one step (an
// append or a trim between two separate reads would tear it). KEYS: meta, stream. ARGV: the
// first stream id wanted, or "" for "after the snapshot". nil when the room does not exist.
constexpr std::string_view read_script = R"lua(
local m = redis.call('HMGET', KEYS[1], 'epoch', 'seq', 'snapshot', 'snapshot_seq')
if not m[1] then return false end
local from = ARGV[1]
if from == '' then from = (tonumber(m[4] or '0') + 1) .. '-0' end
return {m[1], m[2] or '0', m[3] or '', m[4] or '0', redis.call('XRANGE', KEYS[2], from, '+')}
)lua";

// Parses the stream entries of a read_script reply into events numbered from first_seq on.
std::vector<Event> parse_entries(const redisReply* entries, std::uint64_t first_seq, std::string_view room_id) {
  std::vector<Event> events;
  for (std::size_t i = 0; i < entries->elements; ++i) {
    const redisReply* entry = entries->element[i];
    const redisReply* value = nullptr;
    if (entry->type == REDIS_REPLY_ARRAY && entry->elements == 2 && entry->element[1]->type == REDIS_REPLY_ARRAY) {
      const redisReply* fields = entry->element[1];
      for (std::size_t f = 0; f + 1 < fields->elements; f += 2) {
        if (std::string_view(fields->element[f]->str, fields->element[f]->len) == "e") value = fields->element[f + 1];
      }
    }
    auto event = value ? storage::event_from_json(json::parse(std::string_view(value->str, value->len), nullptr, false))
                       : std::nullopt;
    if (!event || event->seq != first_seq + events.size()) {
      throw RoomLogError("the log of room " + std::string(room_id) + " in Redis has a gap or a damaged entry");
    }
    events.push_back(std::move(*event));
  }
  return events;
}

// Takes pending prompts: ARGV = the ids wanted, or none for every prompt not held.
constexpr std::string_view take_script = R"lua(
local all = redis.call('HGETALL', KEYS[1])
local out = {}
for i = 1, #all, 2 do
  local id, v = all[i], all[i + 1]
  local chosen = false
  if #ARGV == 0 then
    chosen = not string.find(v, '"held":true', 1, true)
  else
    for j = 1, #ARGV do if ARGV[j] == id then chosen = true end end
  end
  if chosen then
    table.insert(out, id)
    table.insert(out, v)
    redis.call('HDEL', KEYS[1], id)
  end
end
return out
)lua";

// Adds a pending prompt unless the room has ARGV[3] already; 1 added, 0 at the cap. The TTL
// (ARGV[4] seconds) is the idle lifetime of the room.
constexpr std::string_view add_pending_script = R"lua(
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
)lua";

// Marks a pending prompt held, if it is still pending (atomically, so a release in between wins).
constexpr std::string_view hold_script = R"lua(
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
local held = string.gsub(v, '"held":false', '"held":true', 1)
redis.call('HSET', KEYS[1], ARGV[1], held)
return 1
)lua";

// Records one audit answer atomically. KEYS: answered set, counts hash, comments set.
// ARGV: member id, comment ("" = none), the comment's cost and the audit's comment budget in
// bytes, then one value 1..5 per item in order. 1: added; 0: answered already; 2: the comments
// would pass the budget (nothing recorded).
constexpr std::string_view audit_answer_script = R"lua(
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 0 end
if ARGV[2] ~= '' then
  local used = tonumber(redis.call('HGET', KEYS[2], 'comment_bytes') or '0')
  if used + tonumber(ARGV[3]) > tonumber(ARGV[4]) then return 2 end
  redis.call('HINCRBY', KEYS[2], 'comment_bytes', tonumber(ARGV[3]))
  redis.call('SADD', KEYS[3], ARGV[2])
end
redis.call('SADD', KEYS[1], ARGV[1])
for i = 5, #ARGV do redis.call('HINCRBY', KEYS[2], (i - 5) .. ':' .. ARGV[i], 1) end
redis.call('HINCRBY', KEYS[2], 'responses', 1)
return 1
)lua";

std::string audit_key(std::string_view room, std::string_view audit, std::string_view what) {
  return "colloquy:room:{" + std::string(room) + "}:audit:" + std::string(audit) + ":" + std::string(what);
}

std::string pending_key(std::string_view room) { return "colloquy:room:{" + std::string(room) + "}:pending"; }
std::string votes_key(std::string_view room, std::string_view prompt) {
  return "colloquy:room:{" + std::string(room) + "}:votes:" + std::string(prompt);
}
std::string pending_json(const PendingPrompt& p) { return json{{"text", p.text}, {"held", p.held}}.dump(); }
std::optional<PendingPrompt> pending_from(std::string_view id, std::string_view value) {
  const json j = json::parse(value, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("text") || !j["text"].is_string()) return std::nullopt;
  return PendingPrompt{std::string(id), j["text"].get<std::string>(), j.value("held", false)};
}
std::vector<PendingPrompt> pending_pairs(const redisReply* r) {
  std::vector<PendingPrompt> out;
  if (r->type != REDIS_REPLY_ARRAY) return out;
  for (std::size_t i = 0; i + 1 < r->elements; i += 2) {
    auto p = pending_from({r->element[i]->str, r->element[i]->len}, {r->element[i + 1]->str, r->element[i + 1]->len});
    if (p) out.push_back(std::move(*p));
  }
  return out;
}

// Per shard: every room on it, scored by when its keys expire (the --max-rooms count).
constexpr std::string_view rooms_key_text = "colloquy:rooms";
const std::string rooms_key(rooms_key_text);
std::string meta_key(std::string_view room) { return "colloquy:room:{" + std::string(room) + "}:meta"; }
std::string cancelled_key(std::string_view room) { return "colloquy:room:{" + std::string(room) + "}:cancelled"; }
std::string log_key(std::string_view room) { return "colloquy:room:{" + std::string(room) + "}:log"; }

std::string random_epoch() { return random_hex(12); }

// The connection failed while a command was on it: it may or may not have run.
class RedisIoError : public RoomLogError {
public:
  using RoomLogError::RoomLogError;
};

std::uint64_t to_u64(std::string_view text) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size()) return 0;
  return v;
}

} // namespace

std::size_t shard_for(std::string_view room_id, std::size_t shards) {
  if (shards <= 1) return 0;
  std::uint64_t key = 14695981039346656037ull; // FNV-1a
  for (unsigned char c : room_id) key = (key ^ c) * 1099511628211ull;
  // Jump consistent hash (Lamping and Veach, 2014).
  std::int64_t b = -1;
  std::int64_t j = 0;
  while (j < static_cast<std::int64_t>(shards)) {
    b = j;
    key = key * 2862933555777941757ull + 1;
    j = static_cast<std::int64_t>(static_cast<double>(b + 1) *
                                  (static_cast<double>(1ll << 31) / static_cast<double>((key >> 33) + 1)));
  }
  return static_cast<std::size_t>(b);
}

struct RedisRoomLog::Reply {
  std::unique_ptr<redisReply, void (*)(void*)> ptr{nullptr, freeReplyObject};
  const redisReply* operator->() const { return ptr.get(); }
  std::string_view str() const { return {ptr->str, ptr->len}; }
};

struct RedisRoomLog::AppendRequest {
  std::string room;
  std::uint64_t expected_seq = 0;
  std::vector<Event> events;
  AppendDone done;
  std::string nonce;
  std::string epoch;
  std::vector<std::string> args; // the EVALSHA, once prepared
  bool finished = false;
  bool resent = false;    // sent once more after being settled as not stored
  bool not_stored = false; // settled as not stored: may be sent again
  void finish(AppendStatus status, std::string error = {}) {
    if (finished) return;
    finished = true;
    done(AppendResult{status, std::move(error)});
  }
};

struct RedisRoomLog::Shard {
  RedisEndpoint endpoint;
  std::size_t index = 0;
  std::mutex mutex;               // the worker's connection (command_once)
  redisContext* context = nullptr; // the worker's
  redisContext* append_context = nullptr; // the appender's; its thread only
  std::string append_sha;          // the append script's SHA1 on the appender's connection

  std::mutex queue_mutex;
  std::condition_variable appender_wake;
  std::condition_variable worker_wake;
  std::deque<AppendRequest> appends;
  std::deque<std::function<void()>> jobs;
  bool stopping = false;
  std::atomic<bool> up{true};
  std::thread appender;
  std::thread worker;

  ~Shard() {
    if (context) redisFree(context);
    if (append_context) redisFree(append_context);
  }
};

RedisRoomLog::RedisRoomLog(std::vector<RedisEndpoint> shards, std::shared_ptr<PubSub> pubsub, RedisLogOptions options)
    : prompts_(std::make_unique<Prompts>(*this)), pubsub_(std::move(pubsub)), options_(options),
      instance_id_(random_epoch()) {
  for (std::size_t i = 0; i < shards.size(); ++i) {
    auto s = std::make_unique<Shard>();
    s->endpoint = std::move(shards[i]);
    s->index = i;
    shards_.push_back(std::move(s));
  }
  if (shards_.empty()) throw RoomLogError("no Redis server configured");
  if (pubsub_) {
    pubsub_->set_handlers(
        [this](std::size_t, std::string_view channel, std::string_view payload) { on_message(channel, payload); },
        [this](std::size_t, std::string_view channel) {
          // "colloquy:room:{R}" -> R
          if (!channel.starts_with("colloquy:room:{") || !channel.ends_with("}")) return;
          const std::string room(channel.substr(15, channel.size() - 16));
          std::lock_guard lock(observer_mutex_);
          if (observer_) observer_->on_watch_confirmed(room);
        });
  }
  for (auto& s : shards_) s->up = probe(*s);
  for (auto& s : shards_) {
    Shard* shard = s.get();
    s->appender = std::thread([this, shard] { appender_loop(*shard); });
    s->worker = std::thread([this, shard] { worker_loop(*shard); });
  }
  prober_ = std::thread([this] { prober_loop(); });
}

RedisRoomLog::~RedisRoomLog() {
  {
    std::lock_guard lock(prober_mutex_);
    stopping_ = true;
  }
  prober_wake_.notify_all();
  if (prober_.joinable()) prober_.join();
  for (auto& s : shards_) {
    {
      std::lock_guard lock(s->queue_mutex);
      s->stopping = true;
    }
    s->appender_wake.notify_all();
    s->worker_wake.notify_all();
  }
  for (auto& s : shards_) {
    if (s->appender.joinable()) s->appender.join();
    if (s->worker.joinable()) s->worker.join();
  }
}

void RedisRoomLog::run(std::string_view room_id, std::function<void()> op) {
  Shard& s = shard(room_id);
  {
    std::lock_guard lock(s.queue_mutex);
    if (!s.stopping) {
      s.jobs.push_back(std::move(op));
      s.worker_wake.notify_one();
      return;
    }
  }
  // Stopping: run it here rather than drop it (its continuation expects to be called).
  op();
}

void RedisRoomLog::worker_loop(Shard& s) {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(s.queue_mutex);
      s.worker_wake.wait(lock, [&] { return !s.jobs.empty() || s.stopping; });
      if (s.jobs.empty()) return;
      job = std::move(s.jobs.front());
      s.jobs.pop_front();
    }
    try {
      job();
    } catch (const std::exception& e) {
      logger::error("a Redis job failed: {}", e.what());
    }
  }
}

bool RedisRoomLog::probe(Shard& s) const {
  const timeval timeout{0, 500 * 1000};
  redisContext* c = redisConnectWithTimeout(s.endpoint.host.c_str(), s.endpoint.port, timeout);
  bool ok = c && !c->err && redisSetTimeout(c, timeout) == REDIS_OK;
  if (ok) {
    auto* reply = static_cast<redisReply*>(redisCommand(c, "PING"));
    ok = reply && reply->type == REDIS_REPLY_STATUS;
    if (reply) freeReplyObject(reply);
  }
  if (c) redisFree(c);
  return ok;
}

void RedisRoomLog::prober_loop() {
  std::unique_lock lock(prober_mutex_);
  while (!stopping_) {
    prober_wake_.wait_for(lock, std::chrono::seconds(1));
    if (stopping_) break;
    lock.unlock();
    for (auto& s : shards_) s->up = probe(*s);
    lock.lock();
  }
}

// A probe result at most a second old; never a round trip of its own (readiness must not block).
bool RedisRoomLog::healthy() const {
  for (const auto& s : shards_) {
    if (!s->up) return false;
  }
  return true;
}

void RedisRoomLog::set_observer(RoomLogObserver* observer) {
  std::lock_guard lock(observer_mutex_);
  observer_ = observer;
}

std::string RedisRoomLog::channel_of(std::string_view room_id) { return "colloquy:room:{" + std::string(room_id) + "}"; }

RedisRoomLog::Shard& RedisRoomLog::shard(std::string_view room_id) const {
  return *shards_[shard_for(room_id, shards_.size())];
}

void RedisRoomLog::watch(std::string_view room_id) {
  if (pubsub_) pubsub_->subscribe(shard_for(room_id, shards_.size()), channel_of(room_id));
}

void RedisRoomLog::unwatch(std::string_view room_id) {
  if (pubsub_) pubsub_->unsubscribe(shard_for(room_id, shards_.size()), channel_of(room_id));
  std::lock_guard lock(mutex_);
  epochs_.erase(std::string(room_id));
}

// One command on the shard's blocking connection, (re)connecting first if needed. A connection
// that broke since its last use (Redis restarted) is only found out by using it, so `retry`
// sends once more on a fresh connection.
RedisRoomLog::Reply RedisRoomLog::command(Shard& s, const std::vector<std::string>& args, bool retry) const {
  try {
    return command_once(s, args);
  } catch (const RedisIoError&) {
    if (!retry) throw;
    return command_once(s, args);
  }
}

RedisRoomLog::Reply RedisRoomLog::command_once(Shard& s, const std::vector<std::string>& args) const {
  std::lock_guard lock(s.mutex);
  const timeval timeout{options_.command_timeout_ms / 1000, (options_.command_timeout_ms % 1000) * 1000};
  if (!s.context || s.context->err) {
    if (s.context) redisFree(s.context);
    s.context = redisConnectWithTimeout(s.endpoint.host.c_str(), s.endpoint.port, timeout);
    if (!s.context || s.context->err) {
      const std::string why = s.context ? s.context->errstr : "out of memory";
      if (s.context) redisFree(s.context);
      s.context = nullptr;
      throw RoomLogError("cannot reach Redis at " + s.endpoint.text() + ": " + why);
    }
    redisSetTimeout(s.context, timeout);
  }
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  Reply reply;
  reply.ptr.reset(static_cast<redisReply*>(
      redisCommandArgv(s.context, static_cast<int>(argv.size()), argv.data(), lengths.data())));
  if (!reply.ptr) {
    const std::string why = s.context->errstr;
    redisFree(s.context);
    s.context = nullptr;
    throw RedisIoError("Redis at " + s.endpoint.text() + " failed: " + why);
  }
  if (reply->type == REDIS_REPLY_ERROR) throw RoomLogError("Redis error: " + std::string(reply.str()));
  return reply;
}

void RedisRoomLog::remember_epoch(std::string_view room_id, std::string epoch) const {
  std::lock_guard lock(mutex_);
  epochs_[std::string(room_id)] = std::move(epoch);
}

std::string RedisRoomLog::epoch_of(std::string_view room_id) const {
  {
    std::lock_guard lock(mutex_);
    if (auto it = epochs_.find(std::string(room_id)); it != epochs_.end()) return it->second;
  }
  Reply r = command(shard(room_id), {"HGET", meta_key(room_id), "epoch"});
  if (r->type != REDIS_REPLY_STRING) return {};
  std::string epoch(r.str());
  remember_epoch(room_id, epoch);
  return epoch;
}

void RedisRoomLog::append_async(std::string_view room_id, std::uint64_t expected_seq, std::vector<Event> events,
                                AppendDone done) {
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].seq != expected_seq + 1 + i) return done(AppendResult{AppendStatus::conflict, {}});
  }
  if (events.empty()) return done(AppendResult{AppendStatus::ok, {}});
  Shard& s = shard(room_id);
  {
    std::lock_guard lock(s.queue_mutex);
    if (!s.stopping) {
      AppendRequest r;
      r.room = std::string(room_id);
      r.expected_seq = expected_seq;
      r.events = std::move(events);
      r.done = std::move(done);
      s.appends.push_back(std::move(r));
      s.appender_wake.notify_one();
      return;
    }
  }
  done(AppendResult{AppendStatus::failed, "the server is stopping"});
}

void RedisRoomLog::appender_loop(Shard& s) {
  std::vector<AppendRequest> batch;
  for (;;) {
    {
      std::unique_lock lock(s.queue_mutex);
      s.appender_wake.wait(lock, [&] { return !s.appends.empty() || s.stopping; });
      if (s.appends.empty()) return;
      while (!s.appends.empty() && batch.size() < options_.max_pipeline) {
        batch.push_back(std::move(s.appends.front()));
        s.appends.pop_front();
      }
    }
    send_appends(s, batch);
    for (auto& r : batch) r.finish(AppendStatus::failed, "not stored"); // none left unanswered
    batch.clear();
  }
}

namespace {

timeval timeval_of(int ms) { return timeval{ms / 1000, (ms % 1000) * 1000}; }

// Connects (if needed) the appender's connection and loads the append script on it.
bool connect_appender(redisContext*& c, std::string& sha, const RedisEndpoint& endpoint, int timeout_ms, std::string& why) {
  if (c && !c->err) return true;
  if (c) redisFree(c);
  c = redisConnectWithTimeout(endpoint.host.c_str(), endpoint.port, timeval_of(timeout_ms));
  if (!c || c->err) {
    why = c ? c->errstr : "out of memory";
    if (c) redisFree(c);
    c = nullptr;
    return false;
  }
  redisSetTimeout(c, timeval_of(timeout_ms));
  auto* reply = static_cast<redisReply*>(redisCommand(c, "SCRIPT LOAD %b", append_script.data(), append_script.size()));
  const bool ok = reply && reply->type == REDIS_REPLY_STRING;
  if (ok) sha.assign(reply->str, reply->len);
  if (!ok) why = reply ? std::string(reply->str ? reply->str : "unexpected reply", reply->str ? reply->len : 16) : c->errstr;
  if (reply) freeReplyObject(reply);
  if (!ok) {
    redisFree(c);
    c = nullptr;
  }
  return ok;
}

void append_argv(redisContext* c, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (const auto& a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  redisAppendCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lengths.data());
}

} // namespace

// Sends the whole batch in one go, then reads every reply. Replies lost to a broken or frozen
// connection are settled, not guessed.
void RedisRoomLog::send_appends(Shard& s, std::vector<AppendRequest>& batch) {
  std::string why;
  if (!connect_appender(s.append_context, s.append_sha, s.endpoint, options_.command_timeout_ms, why)) {
    s.up = false;
    for (auto& r : batch) r.finish(AppendStatus::failed, "cannot reach Redis at " + s.endpoint.text() + ": " + why);
    return;
  }
  std::vector<AppendRequest*> sent;
  for (auto& r : batch) {
    try {
      r.epoch = r.expected_seq == 0 ? random_epoch() : epoch_of(r.room);
    } catch (const std::exception& e) {
      r.finish(AppendStatus::failed, e.what());
      continue;
    }
    if (r.epoch.empty()) {
      r.finish(AppendStatus::failed, "the log of room " + r.room + " is gone from Redis");
      continue;
    }
    r.nonce = random_epoch();
    json published = json::array();
    // A room nobody joined yet lives a day; one in use lives on for the idle limit after each change.
    const std::int64_t ttl = r.expected_seq == 0 ? options_.unjoined_room_seconds : options_.idle_room_seconds;
    r.args = {"EVALSHA", s.append_sha, "4", meta_key(r.room), log_key(r.room), cancelled_key(r.room), rooms_key,
              std::to_string(r.expected_seq), r.epoch, channel_of(r.room), "", r.nonce, std::to_string(ttl),
              r.room, std::to_string((options_.max_rooms + shards_.size() - 1) / shards_.size())};
    for (const auto& e : r.events) {
      json stored = storage::event_to_json(e);
      r.args.push_back(stored.dump());
      published.push_back(std::move(stored));
    }
    r.args[10] = json{{"room", r.room}, {"epoch", r.epoch}, {"events", std::move(published)}}.dump();
    append_argv(s.append_context, r.args);
    sent.push_back(&r);
  }
  std::vector<AppendRequest*> unsettled;
  std::vector<AppendRequest*> reload; // NOSCRIPT: the script cache was flushed
  for (std::size_t i = 0; i < sent.size(); ++i) {
    AppendRequest& r = *sent[i];
    void* raw = nullptr;
    if (redisGetReply(s.append_context, &raw) != REDIS_OK || !raw) {
      logger::warn("Redis at {} did not answer {} appends: {}", s.endpoint.text(), sent.size() - i, (s.append_context->errstr[0] ? s.append_context->errstr : "no reply"));
      unsettled.assign(sent.begin() + static_cast<std::ptrdiff_t>(i), sent.end());
      redisFree(s.append_context);
      s.append_context = nullptr;
      s.up = false;
      break;
    }
    Reply reply;
    reply.ptr.reset(static_cast<redisReply*>(raw));
    if (reply->type == REDIS_REPLY_ERROR) {
      if (reply.str().starts_with("NOSCRIPT")) {
        reload.push_back(&r);
      } else {
        r.finish(AppendStatus::failed, "Redis error: " + std::string(reply.str()));
      }
      continue;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 || reply->element[0]->type != REDIS_REPLY_STRING) {
      r.finish(AppendStatus::failed, "unexpected reply from the append script");
      continue;
    }
    s.up = true;
    const std::string_view status(reply->element[0]->str, reply->element[0]->len);
    if (status == "ok") {
      remember_epoch(r.room, r.epoch);
      const std::uint64_t last = r.expected_seq + r.events.size();
      if (last >= 2 * options_.keep_events && last / options_.keep_events != r.expected_seq / options_.keep_events) {
        run(r.room, [this, room = r.room] {
          try {
            compact(room);
          } catch (const std::exception& e) {
            logger::warn("room log compaction of {} failed: {}", room, e.what());
          }
        });
      }
      r.finish(AppendStatus::ok);
    } else if (status == "epoch") {
      {
        std::lock_guard lock(mutex_);
        epochs_.erase(r.room);
      }
      r.finish(AppendStatus::failed,
               "the log of room " + r.room + " was lost or reset in Redis (epoch changed); it is not replayed as if whole");
    } else if (status == "conflict") {
      r.finish(AppendStatus::conflict);
    } else if (status == "full") {
      r.finish(AppendStatus::full);
    } else {
      r.finish(AppendStatus::failed, "the append was cancelled");
    }
  }
  if (!unsettled.empty()) {
    settle(s, unsettled);
    // Certainly not stored (and never will be, under that nonce): typically a connection that
    // broke while idle (Redis restarted). Sent once more with a fresh nonce.
    std::vector<AppendRequest> again;
    for (AppendRequest* r : unsettled) {
      if (r->finished || !r->not_stored) continue;
      if (r->resent) {
        r->finish(AppendStatus::failed, "Redis did not answer in time; the change was not stored");
        continue;
      }
      AppendRequest copy = std::move(*r);
      r->finished = true;
      copy.not_stored = false;
      copy.resent = true;
      again.push_back(std::move(copy));
    }
    if (!again.empty()) {
      send_appends(s, again);
      for (auto& r : again) r.finish(AppendStatus::failed, "not stored");
    }
  }
  if (!reload.empty()) {
    // Sent again once on a fresh script load; rare (SCRIPT FLUSH), so one by one.
    std::vector<AppendRequest> again;
    for (AppendRequest* r : reload) {
      again.push_back(std::move(*r));
      r->finished = true;
    }
    if (s.append_context) {
      redisFree(s.append_context);
      s.append_context = nullptr;
    }
    send_appends(s, again);
    for (auto& r : again) r.finish(AppendStatus::failed, "not stored");
  }
}

// For each append whose reply was lost: stored (its nonce is at its entry), or not (and then
// cancelled in the same step, so a copy still queued in Redis cannot land later). Tries on a fresh
// connection until a deadline; what is still unknown then is answered as unknown.
void RedisRoomLog::settle(Shard& s, std::vector<AppendRequest*>& unsettled) {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(std::max(10'000, 3 * options_.command_timeout_ms));
  std::size_t next = 0;
  while (next < unsettled.size()) {
    AppendRequest& r = *unsettled[next];
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::string why;
    if (!connect_appender(s.append_context, s.append_sha, s.endpoint, options_.command_timeout_ms, why)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    const std::string first = std::to_string(r.expected_seq + 1) + "-1";
    const std::vector<std::string> args{"EVAL", std::string(settle_script), "3", meta_key(r.room), log_key(r.room),
                                        cancelled_key(r.room), first, r.nonce};
    append_argv(s.append_context, args);
    void* raw = nullptr;
    if (redisGetReply(s.append_context, &raw) != REDIS_OK || !raw) {
      redisFree(s.append_context);
      s.append_context = nullptr;
      continue;
    }
    Reply reply;
    reply.ptr.reset(static_cast<redisReply*>(raw));
    if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 1) {
      remember_epoch(r.room, r.epoch);
      r.finish(AppendStatus::ok);
    } else if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 0) {
      r.not_stored = true; // the caller sends it once more, on the fresh connection
    } else {
      r.finish(AppendStatus::unknown, "the change may or may not have been stored");
    }
    s.up = true;
    ++next;
  }
  for (; next < unsettled.size(); ++next) {
    unsettled[next]->finish(AppendStatus::unknown, "Redis at " + s.endpoint.text() +
                                                       " could not be asked whether the change was stored");
  }
}

std::optional<RoomHistory> RedisRoomLog::history(std::string_view room_id) const {
  Reply r = command(shard(room_id), {"EVAL", std::string(read_script), "2", meta_key(room_id), log_key(room_id), ""});
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 5) return std::nullopt; // no such room
  const std::string epoch(r->element[0]->str, r->element[0]->len);
  const std::uint64_t last = to_u64({r->element[1]->str, r->element[1]->len});
  RoomHistory history;
  if (r->element[2]->len > 0) {
    auto base = storage::room_from_json(json::parse(std::string_view(r->element[2]->str, r->element[2]->len), nullptr, false));
    if (!base) throw RoomLogError("the snapshot of room " + std::string(room_id) + " in Redis is damaged");
    history.base = std::move(*base);
  }
  history.base.id = std::string(room_id);
  history.events = parse_entries(r->element[4], history.base.seq + 1, room_id);
  if (history.base.seq + history.events.size() != last) {
    throw RoomLogError("the log of room " + std::string(room_id) + " in Redis is shorter than its sequence says");
  }
  remember_epoch(room_id, epoch);
  return history;
}

std::optional<std::vector<Event>> RedisRoomLog::read(std::string_view room_id, std::uint64_t after_seq) const {
  const std::string epoch = epoch_of(room_id);
  Reply r = command(shard(room_id), {"EVAL", std::string(read_script), "2", meta_key(room_id), log_key(room_id),
                                     std::to_string(after_seq + 1) + "-0"});
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 5 || std::string_view(r->element[0]->str, r->element[0]->len) != epoch) {
    throw RoomLogError("the log of room " + std::string(room_id) + " was lost or reset in Redis (epoch changed)");
  }
  if (after_seq < to_u64({r->element[3]->str, r->element[3]->len})) return std::nullopt; // folded into the snapshot
  return parse_entries(r->element[4], after_seq + 1, room_id);
}

std::uint64_t RedisRoomLog::last_seq(std::string_view room_id) const {
  Reply r = command(shard(room_id), {"HGET", meta_key(room_id), "seq"});
  return r->type == REDIS_REPLY_STRING ? to_u64(r.str()) : 0;
}

// Folds all but the newest keep_events events into the snapshot and trims the stream.
void RedisRoomLog::compact(std::string_view room_id) const {
  auto history = this->history(room_id);
  if (!history || history->events.size() <= options_.keep_events) return;
  const std::size_t fold = history->events.size() - options_.keep_events;
  RoomState base = std::move(history->base);
  for (std::size_t i = 0; i < fold; ++i) evolve(base, history->events[i]);
  command(shard(room_id), {"EVAL", std::string(snapshot_script), "2", meta_key(room_id), log_key(room_id),
                           epoch_of(room_id), std::to_string(base.seq), storage::room_to_json(base).dump()});
}

class RedisRoomLog::Prompts final : public PromptStore {
public:
  explicit Prompts(RedisRoomLog& log) : log_(log) {}

  bool add(std::string_view room_id, PendingPrompt prompt, std::size_t max_pending) override {
    return one(run(room_id, {"EVAL", std::string(add_pending_script), "1", pending_key(room_id), prompt.id,
                             pending_json(prompt), std::to_string(max_pending),
                             std::to_string(log_.options_.idle_room_seconds)}));
  }
  std::vector<PendingPrompt> pending(std::string_view room_id) const override {
    return pending_pairs(run(room_id, {"HGETALL", pending_key(room_id)}).ptr.get());
  }
  std::vector<PendingPrompt> take(std::string_view room_id, const std::vector<std::string>& ids) override {
    std::vector<std::string> args{"EVAL", std::string(take_script), "1", pending_key(room_id)};
    args.insert(args.end(), ids.begin(), ids.end());
    return pending_pairs(log_.command(log_.shard(room_id), args, /*retry=*/false).ptr.get());
  }
  void restore(std::string_view room_id, const std::vector<PendingPrompt>& prompts) override {
    if (prompts.empty()) return;
    std::vector<std::string> args{"HSET", pending_key(room_id)};
    for (const auto& p : prompts) {
      args.push_back(p.id);
      args.push_back(pending_json(p));
    }
    run(room_id, args);
  }
  bool hold(std::string_view room_id, std::string_view prompt_id) override {
    return one(run(room_id, {"EVAL", std::string(hold_script), "1", pending_key(room_id), std::string(prompt_id)}));
  }
  bool discard(std::string_view room_id, std::string_view prompt_id) override {
    return one(run(room_id, {"HDEL", pending_key(room_id), std::string(prompt_id)}));
  }
  bool add_vote(std::string_view room_id, std::string_view prompt_id, std::string_view member_id) override {
    const bool added = one(run(room_id, {"SADD", votes_key(room_id, prompt_id), std::string(member_id)}));
    expire(room_id, votes_key(room_id, prompt_id));
    return added;
  }
  void remove_vote(std::string_view room_id, std::string_view prompt_id, std::string_view member_id) override {
    run(room_id, {"SREM", votes_key(room_id, prompt_id), std::string(member_id)});
  }
  void announce(std::string_view room_id) override {
    run(room_id, {"PUBLISH", channel_of(room_id), json{{"room", room_id}, {"pending_changed", true}}.dump()});
  }
  AuditAdd add_audit_answer(std::string_view room_id, std::string_view audit_id, std::string_view member_id,
                            const std::vector<std::int64_t>& values, const std::string& comment,
                            std::size_t max_comment_bytes) override {
    std::vector<std::string> args{"EVAL", std::string(audit_answer_script), "3", audit_key(room_id, audit_id, "answered"),
                                  audit_key(room_id, audit_id, "counts"), audit_key(room_id, audit_id, "comments"),
                                  std::string(member_id),
                                  // A random prefix keeps equal comments apart in the set (stripped when tallied).
                                  comment.empty() ? std::string() : random_epoch() + ":" + comment,
                                  std::to_string(comment.empty() ? 0 : audit_comment_cost(comment)),
                                  std::to_string(max_comment_bytes)};
    for (auto v : values) args.push_back(std::to_string(v));
    const Reply reply = log_.command(log_.shard(room_id), args, /*retry=*/false);
    for (const char* what : {"answered", "counts", "comments"}) expire(room_id, audit_key(room_id, audit_id, what));
    if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 2) return AuditAdd::comments_full;
    return one(reply) ? AuditAdd::added : AuditAdd::already_answered;
  }
  AuditTally audit_tally(std::string_view room_id, std::string_view audit_id, std::size_t items) const override {
    AuditTally tally;
    tally.counts.resize(items);
    Reply counts = run(room_id, {"HGETALL", audit_key(room_id, audit_id, "counts")});
    for (std::size_t i = 0; i + 1 < counts->elements; i += 2) {
      const std::string field(counts->element[i]->str, counts->element[i]->len);
      const auto n = static_cast<std::int64_t>(to_u64({counts->element[i + 1]->str, counts->element[i + 1]->len}));
      if (field == "comment_bytes") continue;
      if (field == "responses") {
        tally.responses = n;
        continue;
      }
      const auto colon = field.find(':');
      const auto item = to_u64(field.substr(0, colon));
      const auto value = to_u64(field.substr(colon + 1));
      if (colon != std::string::npos && item < items && value >= 1 && value <= 5) tally.counts[item][value - 1] = n;
    }
    Reply comments = run(room_id, {"SMEMBERS", audit_key(room_id, audit_id, "comments")});
    for (std::size_t i = 0; i < comments->elements; ++i) {
      const std::string_view stored(comments->element[i]->str, comments->element[i]->len);
      const auto colon = stored.find(':');
      tally.comments.emplace_back(colon == std::string_view::npos ? stored : stored.substr(colon + 1));
    }
    return tally;
  }
  void forget_audit(std::string_view room_id, std::string_view audit_id) override {
    run(room_id, {"DEL", audit_key(room_id, audit_id, "answered"), audit_key(room_id, audit_id, "counts"),
                  audit_key(room_id, audit_id, "comments")});
  }

private:
  Reply run(std::string_view room_id, const std::vector<std::string>& args) const {
    return log_.command(log_.shard(room_id), args);
  }
  // Side keys live no longer than their room.
  void expire(std::string_view room_id, const std::string& key) const {
    run(room_id, {"EXPIRE", key, std::to_string(log_.options_.idle_room_seconds)});
  }
  static bool one(const Reply& r) { return r->type == REDIS_REPLY_INTEGER && r->integer == 1; }
  RedisRoomLog& log_;
};

PromptStore& RedisRoomLog::prompts() { return *prompts_; }

void RedisRoomLog::remove_async(std::string_view room_id, std::function<void(std::string)> done) {
  run(room_id, [this, room = std::string(room_id), done = std::move(done)] {
    try {
      command(shard(room), {"DEL", meta_key(room), log_key(room), cancelled_key(room), pending_key(room)});
      command(shard(room), {"ZREM", std::string(rooms_key), room});
      std::lock_guard lock(mutex_);
      epochs_.erase(room);
    } catch (const std::exception& e) {
      return done(e.what());
    }
    done({});
  });
}

void RedisRoomLog::publish_ephemeral(std::string_view room_id, std::string frame) {
  Shard& s = shard(room_id);
  {
    std::lock_guard lock(s.queue_mutex);
    // Ephemeral traffic is the first to go when the shard is behind.
    if (s.stopping || s.jobs.size() >= max_queued_ephemeral) return;
  }
  run(room_id, [this, room = std::string(room_id), frame = std::move(frame)] {
    try {
      // Wrapped with this process's id, so its own subscription can skip what it delivered itself.
      const json wrapped{{"ephemeral", frame}, {"room", room}, {"origin", instance_id_}};
      command(shard(room), {"PUBLISH", channel_of(room), wrapped.dump()}, /*retry=*/false);
    } catch (const std::exception&) {
      // Dropped: ephemeral updates are never retried.
    }
  });
}

void RedisRoomLog::on_message(std::string_view /*channel*/, std::string_view payload) {
  const json message = json::parse(payload, nullptr, false);
  if (!message.is_discarded() && message.is_object() && message.contains("ephemeral")) {
    if (!message["ephemeral"].is_string() || !message.contains("room") || !message["room"].is_string() ||
        message.value("origin", "") == instance_id_) {
      return;
    }
    const json frame = json::parse(message["ephemeral"].get<std::string>(), nullptr, false);
    if (frame.is_discarded() || !frame.is_object() || !frame.contains("from") || !frame["from"].is_string()) return;
    std::lock_guard lock(observer_mutex_);
    if (observer_) {
      observer_->on_ephemeral(message["room"].get<std::string>(), frame["from"].get<std::string>(),
                              message["ephemeral"].get<std::string>());
    }
    return;
  }
  if (!message.is_discarded() && message.is_object() && message.contains("pending_changed") && message.contains("room") &&
      message["room"].is_string()) {
    std::lock_guard lock(observer_mutex_);
    if (observer_) observer_->on_pending_changed(message["room"].get<std::string>());
    return;
  }
  if (message.is_discarded() || !message.is_object() || !message.contains("room") || !message["room"].is_string() ||
      !message.contains("epoch") || !message["epoch"].is_string() || !message.contains("events") ||
      !message["events"].is_array()) {
    logger::warn("ignored a malformed room notification from Redis");
    return;
  }
  const std::string room = message["room"].get<std::string>();
  {
    std::lock_guard lock(mutex_);
    auto it = epochs_.find(room);
    // A notification of another epoch belongs to a log this replica does not follow.
    if (it != epochs_.end() && it->second != message["epoch"].get<std::string>()) return;
  }
  std::vector<Event> events;
  for (const auto& e : message["events"]) {
    auto event = storage::event_from_json(e);
    if (!event) {
      logger::warn("ignored a room notification with a damaged event");
      return;
    }
    events.push_back(std::move(*event));
  }
  std::lock_guard lock(observer_mutex_);
  if (observer_) observer_->on_remote_events(room, std::move(events));
}

} // namespace colloquy
