#include "net/redis_pubsub.hpp"

#include "app/logger.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <chrono>
#include <cstring>
#include <random>
#include <set>
#include <thread>

namespace colloquy::net {
namespace {

namespace asio = boost::asio;

constexpr std::size_t subscribe_batch = 500;
constexpr auto backoff_min = std::chrono::milliseconds(100);
constexpr auto backoff_max = std::chrono::milliseconds(5000);

// Drives one redisAsyncContext from Asio: hiredis asks for read/write interest through the ev
// hooks; we wait for readiness on its socket and hand control back. Shared with pending waits,
// so a context freed inside a callback (disconnect) leaves nothing dangling.
struct Watch : std::enable_shared_from_this<Watch> {
  Watch(asio::io_context& io, redisAsyncContext* context) : descriptor(io, context->c.fd), ac(context) {}
  ~Watch() { release(); }

  asio::posix::stream_descriptor descriptor;
  redisAsyncContext* ac;
  bool want_read = false;
  bool want_write = false;
  bool reading = false;
  bool writing = false;

  void release() {
    if (!descriptor.is_open()) return;
    boost::system::error_code ignored;
    descriptor.cancel(ignored);
    (void)descriptor.release(); // hiredis owns the file descriptor and closes it
  }

  void arm_read() {
    if (reading || !ac) return;
    reading = true;
    descriptor.async_wait(asio::posix::stream_descriptor::wait_read, [self = shared_from_this()](boost::system::error_code ec) {
      self->reading = false;
      if (ec || !self->ac || !self->want_read) return;
      redisAsyncHandleRead(self->ac); // may free the context (cleanup sets ac = nullptr)
      if (self->ac && self->want_read) self->arm_read();
    });
  }

  void arm_write() {
    if (writing || !ac) return;
    writing = true;
    descriptor.async_wait(asio::posix::stream_descriptor::wait_write, [self = shared_from_this()](boost::system::error_code ec) {
      self->writing = false;
      if (ec || !self->ac || !self->want_write) return;
      redisAsyncHandleWrite(self->ac);
      if (self->ac && self->want_write) self->arm_write();
    });
  }

  static Watch* of(void* data) { return static_cast<Watch*>(data); }

  void attach() {
    ac->ev.data = this;
    ac->ev.addRead = [](void* d) { of(d)->want_read = true, of(d)->arm_read(); };
    ac->ev.delRead = [](void* d) { of(d)->want_read = false; };
    ac->ev.addWrite = [](void* d) { of(d)->want_write = true, of(d)->arm_write(); };
    ac->ev.delWrite = [](void* d) { of(d)->want_write = false; };
    ac->ev.cleanup = [](void* d) {
      Watch* w = of(d);
      w->ac = nullptr;
      w->want_read = w->want_write = false;
      w->release();
    };
  }
};

class RedisPubSub;

// One shard's subscriber connection.
struct Link {
  RedisPubSub* owner = nullptr;
  std::size_t index = 0;
  RedisEndpoint endpoint;
  redisAsyncContext* ac = nullptr;
  std::shared_ptr<Watch> watch;
  bool connected = false;
  std::set<std::string> channels; // wanted, whether or not connected
  std::chrono::milliseconds backoff = backoff_min;
  std::unique_ptr<asio::steady_timer> retry;
};

class RedisPubSub final : public PubSub {
public:
  explicit RedisPubSub(std::vector<RedisEndpoint> shards) : work_(asio::make_work_guard(io_)) {
    for (std::size_t i = 0; i < shards.size(); ++i) {
      auto link = std::make_unique<Link>();
      link->owner = this;
      link->index = i;
      link->endpoint = std::move(shards[i]);
      link->retry = std::make_unique<asio::steady_timer>(io_);
      links_.push_back(std::move(link));
    }
    thread_ = std::thread([this] { io_.run(); });
    asio::post(io_, [this] {
      for (auto& link : links_) connect(*link);
    });
  }

  ~RedisPubSub() override {
    asio::post(io_, [this] {
      stopping_ = true;
      for (auto& link : links_) {
        link->retry->cancel();
        if (link->ac) redisAsyncFree(link->ac); // calls the disconnect callback, which sees stopping_
        link->ac = nullptr;
      }
      work_.reset();
    });
    thread_.join();
  }

  void set_handlers(MessageHandler on_message, SubscribedHandler on_subscribed) override {
    // On the I/O thread, like every use of them; subscriptions posted later come after this.
    asio::post(io_, [this, m = std::move(on_message), s = std::move(on_subscribed)]() mutable {
      on_message_ = std::move(m);
      on_subscribed_ = std::move(s);
    });
  }

  void subscribe(std::size_t shard, std::string channel) override {
    asio::post(io_, [this, shard, channel = std::move(channel)]() mutable {
      Link& link = *links_.at(shard);
      if (!link.channels.insert(channel).second) return;
      if (link.connected) send(link, "SUBSCRIBE", {channel});
    });
  }

  void unsubscribe(std::size_t shard, std::string channel) override {
    asio::post(io_, [this, shard, channel = std::move(channel)]() mutable {
      Link& link = *links_.at(shard);
      if (link.channels.erase(channel) == 0) return;
      if (link.connected) send(link, "UNSUBSCRIBE", {channel});
    });
  }

private:
  static Link& link_of(const redisAsyncContext* ac) { return *static_cast<Link*>(ac->data); }

  void connect(Link& link) {
    if (stopping_) return;
    redisAsyncContext* ac = redisAsyncConnect(link.endpoint.host.c_str(), link.endpoint.port);
    if (!ac || ac->err) {
      logger::warn("Redis subscriber: cannot connect to {}: {}", link.endpoint.text(), (ac ? ac->errstr : "out of memory"));
      if (ac) redisAsyncFree(ac);
      return schedule_reconnect(link);
    }
    ac->data = &link;
    link.ac = ac;
    link.watch = std::make_shared<Watch>(io_, ac);
    link.watch->attach();
    redisAsyncSetConnectCallback(ac, [](const redisAsyncContext* c, int status) {
      Link& l = link_of(c);
      l.owner->on_connect(l, status, c->errstr);
    });
    redisAsyncSetDisconnectCallback(ac, [](const redisAsyncContext* c, int status) {
      Link& l = link_of(c);
      l.owner->on_disconnect(l, status, c->errstr);
    });
  }

  void on_connect(Link& link, int status, const char* error) {
    if (status != REDIS_OK) {
      logger::warn("Redis subscriber: cannot connect to {}: {}", link.endpoint.text(), error);
      link.ac = nullptr; // hiredis frees the context after this callback
      return schedule_reconnect(link);
    }
    redisEnableKeepAlive(&link.ac->c);
    link.connected = true;
    link.backoff = backoff_min;
    logger::info("Redis subscriber connected to {}; subscribing {} rooms", link.endpoint.text(), link.channels.size());
    std::vector<std::string> batch;
    for (const auto& channel : link.channels) {
      batch.push_back(channel);
      if (batch.size() == subscribe_batch) {
        send(link, "SUBSCRIBE", batch);
        batch.clear();
      }
    }
    if (!batch.empty()) send(link, "SUBSCRIBE", batch);
  }

  void on_disconnect(Link& link, int status, const char* error) {
    link.connected = false;
    link.ac = nullptr; // freed by hiredis after this callback
    if (stopping_) return;
    logger::warn("Redis subscriber lost {}{}; reconnecting", link.endpoint.text(), (status == REDIS_OK ? std::string() : ": " + std::string(error)));
    schedule_reconnect(link);
  }

  void schedule_reconnect(Link& link) {
    if (stopping_) return;
    std::uniform_real_distribution<double> jitter(0.7, 1.3);
    const auto delay = std::chrono::milliseconds(static_cast<long>(static_cast<double>(link.backoff.count()) * jitter(random_)));
    link.backoff = std::min(link.backoff * 2, backoff_max);
    link.retry->expires_after(delay);
    link.retry->async_wait([this, &link](boost::system::error_code ec) {
      if (!ec) connect(link);
    });
  }

  void send(Link& link, const char* verb, const std::vector<std::string>& channels) {
    std::vector<const char*> argv{verb};
    std::vector<std::size_t> lengths{std::strlen(verb)};
    for (const auto& c : channels) {
      argv.push_back(c.data());
      lengths.push_back(c.size());
    }
    const bool subscribing = verb[0] == 'S';
    redisAsyncCommandArgv(link.ac, subscribing ? &RedisPubSub::on_reply : nullptr, subscribing ? this : nullptr,
                          static_cast<int>(argv.size()), argv.data(), lengths.data());
  }

  // Every reply on a subscribed channel: its subscribe confirmation, then each message.
  static void on_reply(redisAsyncContext* ac, void* r, void* privdata) {
    auto* self = static_cast<RedisPubSub*>(privdata);
    auto* reply = static_cast<redisReply*>(r);
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3) return;
    const redisReply* kind = reply->element[0];
    const redisReply* channel = reply->element[1];
    if (kind->type != REDIS_REPLY_STRING || channel->type != REDIS_REPLY_STRING) return;
    const std::string_view k(kind->str, kind->len);
    const std::string_view ch(channel->str, channel->len);
    Link& link = link_of(ac);
    if (k == "message" && reply->element[2]->type == REDIS_REPLY_STRING) {
      if (self->on_message_) self->on_message_(link.index, ch, {reply->element[2]->str, reply->element[2]->len});
    } else if (k == "subscribe") {
      if (self->on_subscribed_ && link.channels.contains(std::string(ch))) self->on_subscribed_(link.index, ch);
    }
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::vector<std::unique_ptr<Link>> links_;
  std::thread thread_;
  bool stopping_ = false;
  std::minstd_rand random_{std::random_device{}()};
  MessageHandler on_message_;
  SubscribedHandler on_subscribed_;
};

} // namespace

std::shared_ptr<PubSub> make_redis_pubsub(std::vector<RedisEndpoint> shards) {
  return std::make_shared<RedisPubSub>(std::move(shards));
}

} // namespace colloquy::net
