#pragma once
// Redis pub/sub for the room log's notifications: hiredis async over Asio (hiredis 0.14 ships no
// Asio adapter; this is ours), one subscriber connection per shard on its own I/O thread, so it
// is drained promptly however slow the WebSocket clients are (Redis drops a subscriber whose
// output buffer passes its limit). Plain SUBSCRIBE: hiredis 0.14 aborts on SSUBSCRIBE.
#include "log/redis_room_log.hpp"

#include <memory>
#include <vector>

namespace colloquy::net {

// Reconnects by itself with jittered backoff (0.1 s doubling to 5 s) and resubscribes every
// channel in batches of 500, reporting each confirmed subscription so callers can re-check.
std::shared_ptr<PubSub> make_redis_pubsub(std::vector<RedisEndpoint> shards);

} // namespace colloquy::net
