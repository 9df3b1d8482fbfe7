#include "log/redis_room_log.hpp"

#include "app/logger.hpp"
#include "core/secret.hpp"
#include "log/storage_codec.hpp"

#include <hiredis/hiredis.h>

#include <array>
#include <charconv>

namespace colloquy {
namespace {

using json = nlohmann::json;

// Compare-and-append. KEYS: meta, stream. ARGV: expected seq, epoch, channel, publish payload,
// then one JSON event per argument. Returns {status, last seq, epoch}; status "ok", "conflict"
// (the room moved on, or exists already when creating) or "epoch" (the log was lost or reset).
constexpr std::string_view append_script = R"lua(
local seq = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
local epoch = redis.call('HGET', KEYS[1], 'epoch')
local expected = tonumber(ARGV[1])
if expected == 0 then
  if epoch then return {'conflict', seq, epoch} end
  redis.call('HSET', KEYS[1], 'epoch', ARGV[2])
elseif epoch ~= ARGV[2] then
  return {'epoch', seq, epoch or ''}
elseif seq ~= expected then
  return {'conflict', seq, epoch}
end
local n = #ARGV - 4
for i = 1, n do
  redis.call('XADD', KEYS[2], (expected + i) .. '-1', 'e', ARGV[4 + i])
end
redis.call('HSET', KEYS[1], 'seq', expected + n)
redis.call('PUBLISH', ARGV[3], ARGV[4])
return {'ok', expected + n, ARGV[2]}
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
    if (entry->type == REDIS_REPLY_ARRAY && entry->elements == 2 && entry->element[1]->type == REDIS_REPLY_ARRAY &&
        entry->element[1]->elements == 2) {
      value = entry->element[1]->element[1];
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

// Marks a pending prompt held, if it is still pending (atomically, so a release in between wins).
constexpr std::string_view hold_script = R"lua(
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
local held = string.gsub(v, '"held":false', '"held":true', 1)
redis.call('HSET', KEYS[1], ARGV[1], held)
return 1
)lua";

// Records one audit answer atomically. KEYS: answered set, counts hash, comments set.
// ARGV: member id, comment ("" = none), then one value 1..5 per item in order.
constexpr std::string_view audit_answer_script = R"lua(
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
for i = 3, #ARGV do redis.call('HINCRBY', KEYS[2], (i - 3) .. ':' .. ARGV[i], 1) end
redis.call('HINCRBY', KEYS[2], 'responses', 1)
if ARGV[2] ~= '' then redis.call('SADD', KEYS[3], ARGV[2]) end
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

std::string meta_key(std::string_view room) { return "colloquy:room:{" + std::string(room) + "}:meta"; }
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

struct RedisRoomLog::Shard {
  RedisEndpoint endpoint;
  std::size_t index = 0;
  std::mutex mutex;
  redisContext* context = nullptr;
  ~Shard() {
    if (context) redisFree(context);
  }
};

RedisRoomLog::RedisRoomLog(std::vector<RedisEndpoint> shards, std::shared_ptr<PubSub> pubsub, RedisLogOptions options)
    : prompts_(std::make_unique<Prompts>(*this)), pubsub_(std::move(pubsub)), options_(options) {
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
}

RedisRoomLog::~RedisRoomLog() = default;

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

bool RedisRoomLog::append(std::string_view room_id, std::uint64_t expected_seq, const std::vector<Event>& events) {
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].seq != expected_seq + 1 + i) return false;
  }
  if (events.empty()) return true;
  std::string epoch = expected_seq == 0 ? random_epoch() : epoch_of(room_id);
  if (epoch.empty()) throw RoomLogError("the log of room " + std::string(room_id) + " is gone from Redis");

  json published = json::array();
  std::vector<std::string> args{"EVAL", std::string(append_script), "2", meta_key(room_id), log_key(room_id),
                                std::to_string(expected_seq), epoch, channel_of(room_id), ""};
  for (const auto& e : events) {
    json stored = storage::event_to_json(e);
    args.push_back(stored.dump());
    published.push_back(std::move(stored));
  }
  args[8] = json{{"room", room_id}, {"epoch", epoch}, {"events", std::move(published)}}.dump();

  Reply r;
  try {
    r = command(shard(room_id), args, /*retry=*/false);
  } catch (const RedisIoError&) {
    // Did it land before the connection broke? The entry at expected+1 tells: ours, or not.
    Reply check = command(shard(room_id), {"XRANGE", log_key(room_id), std::to_string(expected_seq + 1) + "-1",
                                           std::to_string(expected_seq + 1) + "-1"});
    if (check->type == REDIS_REPLY_ARRAY && check->elements == 1 && check->element[0]->elements == 2 &&
        check->element[0]->element[1]->elements == 2) {
      const redisReply* value = check->element[0]->element[1]->element[1];
      if (std::string_view(value->str, value->len) == args[9]) {
        remember_epoch(room_id, epoch);
        return true;
      }
    }
    r = command(shard(room_id), args, /*retry=*/false);
  }
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 || r->element[0]->type != REDIS_REPLY_STRING) {
    throw RoomLogError("unexpected reply from the append script");
  }
  const std::string_view status(r->element[0]->str, r->element[0]->len);
  if (status == "epoch") {
    std::lock_guard lock(mutex_);
    epochs_.erase(std::string(room_id));
    throw RoomLogError("the log of room " + std::string(room_id) +
                       " was lost or reset in Redis (epoch changed); it is not replayed as if whole");
  }
  if (status != "ok") return false;
  remember_epoch(room_id, epoch);
  const std::uint64_t last = expected_seq + events.size();
  if (last >= 2 * options_.keep_events && last / options_.keep_events != expected_seq / options_.keep_events) {
    try {
      compact(room_id);
    } catch (const std::exception& e) {
      logger::warn("room log compaction of " + std::string(room_id) + " failed: " + e.what());
    }
  }
  return true;
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

// A probe on its own short-lived connection with a short timeout, so a frozen Redis makes
// /readyz answer 503 quickly instead of waiting out the command timeout.
bool RedisRoomLog::healthy() const {
  const timeval timeout{0, 500 * 1000};
  for (const auto& s : shards_) {
    redisContext* c = redisConnectWithTimeout(s->endpoint.host.c_str(), s->endpoint.port, timeout);
    bool ok = c && !c->err && redisSetTimeout(c, timeout) == REDIS_OK;
    if (ok) {
      auto* reply = static_cast<redisReply*>(redisCommand(c, "PING"));
      ok = reply && reply->type == REDIS_REPLY_STATUS;
      if (reply) freeReplyObject(reply);
    }
    if (c) redisFree(c);
    if (!ok) return false;
  }
  return true;
}

class RedisRoomLog::Prompts final : public PromptStore {
public:
  explicit Prompts(RedisRoomLog& log) : log_(log) {}

  void add(std::string_view room_id, PendingPrompt prompt) override {
    run(room_id, {"HSET", pending_key(room_id), prompt.id, pending_json(prompt)});
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
    return one(run(room_id, {"SADD", votes_key(room_id, prompt_id), std::string(member_id)}));
  }
  void remove_vote(std::string_view room_id, std::string_view prompt_id, std::string_view member_id) override {
    run(room_id, {"SREM", votes_key(room_id, prompt_id), std::string(member_id)});
  }
  void announce(std::string_view room_id) override {
    run(room_id, {"PUBLISH", channel_of(room_id), json{{"room", room_id}, {"pending_changed", true}}.dump()});
  }
  bool add_audit_answer(std::string_view room_id, std::string_view audit_id, std::string_view member_id,
                        const std::vector<std::int64_t>& values, const std::string& comment) override {
    std::vector<std::string> args{"EVAL", std::string(audit_answer_script), "3", audit_key(room_id, audit_id, "answered"),
                                  audit_key(room_id, audit_id, "counts"), audit_key(room_id, audit_id, "comments"),
                                  std::string(member_id),
                                  // A random prefix keeps equal comments apart in the set (stripped when tallied).
                                  comment.empty() ? std::string() : random_epoch() + ":" + comment};
    for (auto v : values) args.push_back(std::to_string(v));
    return one(log_.command(log_.shard(room_id), args, /*retry=*/false));
  }
  AuditTally audit_tally(std::string_view room_id, std::string_view audit_id, std::size_t items) const override {
    AuditTally tally;
    tally.counts.resize(items);
    Reply counts = run(room_id, {"HGETALL", audit_key(room_id, audit_id, "counts")});
    for (std::size_t i = 0; i + 1 < counts->elements; i += 2) {
      const std::string field(counts->element[i]->str, counts->element[i]->len);
      const auto n = static_cast<std::int64_t>(to_u64({counts->element[i + 1]->str, counts->element[i + 1]->len}));
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
  static bool one(const Reply& r) { return r->type == REDIS_REPLY_INTEGER && r->integer == 1; }
  RedisRoomLog& log_;
};

PromptStore& RedisRoomLog::prompts() { return *prompts_; }

void RedisRoomLog::on_message(std::string_view /*channel*/, std::string_view payload) {
  const json message = json::parse(payload, nullptr, false);
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
