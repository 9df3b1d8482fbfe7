// One WebSocket connection on our own framing (net/ws_frame.hpp): reads frames into the room hub;
// writes the hub's frames from a bounded outbox, every frame waiting for the socket in one
// gathered write. Beast parsed the upgrade request; the 101 response is written here.
// Everything runs on the connection's strand except send(), send_ephemeral() and close(), which
// any thread may call.
#include "net/sessions.hpp"

#include "app/connection.hpp"
#include "app/logger.hpp"
#include "app/room_hub.hpp"
#include "net/ws_frame.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>

#include <openssl/evp.h>

#include <array>
#include <chrono>
#include <iterator>
#include <mutex>
#include <vector>

namespace colloquy::net {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr auto ping_after = std::chrono::seconds(60);   // of silence from the peer: we ping it
constexpr auto silence_limit = std::chrono::seconds(120); // of silence: the peer is gone
constexpr auto close_deadline = std::chrono::seconds(5);  // for the peer's close frame, after ours
constexpr std::size_t small_read = 512;          // what an idle connection keeps for reading
constexpr std::size_t max_batch_frames = 32;     // two buffers each: Asio's 64 iovecs per sendmsg
constexpr std::size_t max_batch_bytes = 256 * 1024;
constexpr std::size_t kept_outbox_capacity = 8;  // frames; larger outboxes are given back when empty

// The base64 SHA-1 of the key and the RFC's GUID (4.2.2), or nothing if libcrypto fails.
std::optional<std::string> accept_key(std::string_view key) {
  constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string input;
  input.reserve(key.size() + guid.size());
  input.append(key).append(guid);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &digest_size, EVP_sha1(), nullptr) != 1) return std::nullopt;
  unsigned char encoded[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  const int size = EVP_EncodeBlock(encoded, digest, static_cast<int>(digest_size));
  return std::string(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(size));
}

std::string_view field(const Request& request, http::field name) {
  const auto value = request[name];
  return {value.data(), value.size()};
}

// One frame waiting to be written: its header here, its payload shared with every recipient.
struct Outgoing {
  Frame payload;
  std::array<char, ws::max_server_header> header{};
  std::uint8_t header_size = 0; // 0 for the 101 response, which is written as it is
  bool closes = false;          // our close frame: nothing is written after it

  std::size_t bytes() const { return header_size + payload->size(); }
};

// The frames of one write as one buffer sequence (each frame's header, then its payload), so a
// batch goes out in one sendmsg without an array of buffers kept per connection.
class Gathered {
public:
  class const_iterator {
  public:
    using iterator_category = std::bidirectional_iterator_tag;
    using value_type = asio::const_buffer;
    using difference_type = std::ptrdiff_t;
    using pointer = const asio::const_buffer*;
    using reference = asio::const_buffer;

    const_iterator() = default;
    const_iterator(const Outgoing* item, bool payload) : item_(item), payload_(payload) {}
    asio::const_buffer operator*() const {
      return payload_ ? asio::buffer(*item_->payload) : asio::buffer(item_->header.data(), item_->header_size);
    }
    const_iterator& operator++() {
      if (payload_) ++item_;
      payload_ = !payload_;
      return *this;
    }
    const_iterator operator++(int) {
      auto before = *this;
      ++*this;
      return before;
    }
    const_iterator& operator--() {
      if (!payload_) --item_;
      payload_ = !payload_;
      return *this;
    }
    const_iterator operator--(int) {
      auto before = *this;
      --*this;
      return before;
    }
    bool operator==(const const_iterator&) const = default;

  private:
    const Outgoing* item_ = nullptr;
    bool payload_ = false;
  };
  using value_type = asio::const_buffer;

  explicit Gathered(const std::vector<Outgoing>& items) : begin_(items.data()), end_(items.data() + items.size()) {}
  const_iterator begin() const { return {begin_, false}; }
  const_iterator end() const { return {end_, false}; }

private:
  const Outgoing* begin_;
  const Outgoing* end_;
};

Frame control_payload(std::string_view payload) {
  static const Frame empty = std::make_shared<const std::string>();
  return payload.empty() ? empty : std::make_shared<const std::string>(payload);
}

class WebSocketSession final : public Connection, public std::enable_shared_from_this<WebSocketSession> {
public:
  WebSocketSession(tcp::socket socket, std::shared_ptr<const SessionContext> context,
                   std::unique_ptr<ConnectionLimits::Slot> slot)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        context_(std::move(context)),
        slot_(std::move(slot)),
        parser_(context_->options.max_frame_bytes) {}

  void start(const Request& request, std::string early_bytes) {
    const auto accept = accept_key(field(request, http::field::sec_websocket_key));
    if (!accept) {
      logger::error("WebSocket handshake: SHA-1 from libcrypto failed");
      return finish(Ending::reset);
    }
    boost::system::error_code ignored;
    if (const auto bytes = context_->options.send_buffer_bytes; bytes > 0) {
      socket_.set_option(asio::socket_base::send_buffer_size(static_cast<int>(bytes)), ignored);
    }
    // The 101 goes first in the outbox; the welcome the hub sends on open joins it in one write.
    enqueue(std::make_shared<const std::string>(switching_protocols(*accept)), std::nullopt, Queue::always);
    opened_ = true;
    context_->hub.on_open(shared_from_this(), slot_ && slot_->in_reserve());
    heard_from_peer();
    arm_timer();
    if (!early_bytes.empty()) {
      std::span<char> bytes(early_bytes.data(), early_bytes.size());
      if (!consume(bytes)) return;
    }
    read();
  }

  void send(Frame frame) override { enqueue(std::move(frame), ws::Opcode::text, Queue::bounded); }

  void send_ephemeral(Frame frame) override { enqueue(std::move(frame), ws::Opcode::text, Queue::when_idle); }

  void close(std::uint16_t code, std::string reason) override {
    asio::post(socket_.get_executor(), [self = shared_from_this(), code, reason = std::move(reason)] {
      self->request_close(code, reason);
    });
  }

private:
  enum class Queue : std::uint8_t { bounded, when_idle, always };
  enum class Ending : std::uint8_t { graceful, reset };

  std::string switching_protocols(std::string_view accept) const {
    std::string response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
    response.append("Sec-WebSocket-Accept: ").append(accept).append("\r\n");
    http::fields common;
    set_common_headers(common, *context_);
    for (const auto& f : common) response.append(f.name_string()).append(": ").append(f.value()).append("\r\n");
    return response.append("\r\n");
  }

  // ---- reading

  void read() {
    // Small unless a frame in progress needs more; a big buffer is given back once it is done.
    const std::size_t wanted = std::min(parser_.bytes_wanted(), context_->options.max_frame_bytes + 16);
    read_big_ = wanted > small_read;
    if (read_big_ && big_read_size_ < wanted) {
      big_read_ = std::make_unique_for_overwrite<char[]>(wanted);
      big_read_size_ = wanted;
    } else if (!read_big_ && big_read_) {
      big_read_.reset();
      big_read_size_ = 0;
    }
    const auto buffer = read_big_ ? asio::buffer(big_read_.get(), big_read_size_) : asio::buffer(small_read_);
    socket_.async_read_some(buffer, [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
      self->on_read(ec, n);
    });
  }

  void on_read(boost::system::error_code ec, std::size_t n) {
    if (finished_) return;
    if (ec) {
      if (ec != asio::error::eof && ec != asio::error::operation_aborted) logger::debug("WebSocket read ended: " + ec.message());
      return finish(ec == asio::error::eof ? Ending::graceful : Ending::reset);
    }
    heard_from_peer();
    std::span<char> bytes(read_big_ ? big_read_.get() : small_read_.data(), n);
    if (consume(bytes)) read();
  }

  // Hands what the parser finds to the hub; false once reading should stop (the peer closed).
  bool consume(std::span<char>& bytes) {
    for (;;) {
      const ws::Item item = parser_.next(bytes);
      switch (item.kind) {
      case ws::Item::Kind::need_more:
        return true;
      case ws::Item::Kind::text:
        if (!close_requested_) context_->hub.on_text(shared_from_this(), item.payload);
        break;
      case ws::Item::Kind::binary:
        if (!close_requested_) context_->hub.on_binary(shared_from_this());
        break;
      case ws::Item::Kind::ping:
        if (!close_requested_) enqueue(control_payload(item.payload), ws::Opcode::pong, Queue::bounded);
        break;
      case ws::Item::Kind::pong:
        break; // heard from: that is all a pong is for
      case ws::Item::Kind::fail:
        logger::debug("WebSocket client broke the protocol; closing with " + std::to_string(item.code) + " " +
                      std::string(item.reason));
        request_close(item.code, item.reason);
        break;
      case ws::Item::Kind::close:
        on_peer_close(item);
        return false;
      }
      if (finished_) return false;
    }
  }

  void on_peer_close(const ws::Item& item) {
    peer_closed_ = true;
    // Answered with its own code (7.1.5), or with ours when its close frame was malformed.
    if (!close_requested_) request_close(item.code, item.reason);
    if (close_sent_) finish(Ending::graceful);
  }

  void heard_from_peer() {
    last_heard_ = Clock::now();
    ping_sent_ = false;
  }

  // ---- writing

  // Thread-safe. `always`: the 101 and our close frame; `when_idle`: dropped unless nothing waits.
  void enqueue(Frame payload, std::optional<ws::Opcode> opcode, Queue queue) {
    Outgoing item{std::move(payload)};
    if (opcode) item.header_size = static_cast<std::uint8_t>(ws::encode_header(*opcode, item.payload->size(), item.header));
    item.closes = opcode == ws::Opcode::close;
    bool post_flush = false;
    bool slow = false;
    {
      std::lock_guard lock(mutex_);
      if (!accepting_ && queue != Queue::always) return;
      if (queue == Queue::when_idle && queued_bytes_ > 0) return; // behind: ephemeral frames go first
      if (queue == Queue::bounded && queued_bytes_ + item.bytes() > context_->options.max_send_queue_bytes) {
        // Drop what has not started to be written; the client resumes from the room log.
        for (std::size_t i = outbox_head_; i < outbox_.size(); ++i) queued_bytes_ -= outbox_[i].bytes();
        outbox_.resize(outbox_head_);
        accepting_ = false;
        slow = true;
      } else {
        queued_bytes_ += item.bytes();
        outbox_.push_back(std::move(item));
        post_flush = !flush_scheduled_;
        flush_scheduled_ = true;
      }
    }
    if (slow) {
      logger::warn("a client fell too far behind; closing it with 4001 slow_consumer");
      asio::post(socket_.get_executor(), [self = shared_from_this()] { self->request_close(4001, "slow_consumer"); });
    } else if (post_flush) {
      // One post per burst: frames sent before the flush runs all go out with it.
      asio::post(socket_.get_executor(), [self = shared_from_this()] { self->flush(); });
    }
  }

  // Writes every waiting frame (up to the batch limits) with one async_write.
  void flush() {
    if (finished_) return;
    {
      std::lock_guard lock(mutex_);
      std::size_t bytes = 0;
      while (outbox_head_ < outbox_.size() && writing_.size() < max_batch_frames &&
             (writing_.empty() || bytes + outbox_[outbox_head_].bytes() <= max_batch_bytes)) {
        bytes += outbox_[outbox_head_].bytes();
        writing_.push_back(std::move(outbox_[outbox_head_++]));
      }
      if (outbox_head_ == outbox_.size()) {
        outbox_.clear();
        outbox_head_ = 0;
        if (outbox_.capacity() > kept_outbox_capacity) std::vector<Outgoing>().swap(outbox_);
      }
      if (writing_.empty()) {
        flush_scheduled_ = false;
        if (writing_.capacity() > kept_outbox_capacity) std::vector<Outgoing>().swap(writing_);
        return;
      }
    }
    asio::async_write(socket_, Gathered(writing_), [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
      self->on_write(ec);
    });
  }

  void on_write(boost::system::error_code ec) {
    if (finished_) return;
    if (ec) {
      logger::debug("WebSocket write failed: " + ec.message());
      return finish(Ending::reset);
    }
    const bool wrote_close = writing_.back().closes;
    {
      std::lock_guard lock(mutex_);
      for (const auto& item : writing_) queued_bytes_ -= item.bytes();
    }
    writing_.clear();
    if (!wrote_close) return flush();
    close_sent_ = true; // nothing is written after it; the flush stays "scheduled" for good
    if (peer_closed_) finish(Ending::graceful);
  }

  // ---- closing

  void request_close(std::uint16_t code, std::string_view reason) {
    if (close_requested_ || finished_) return;
    close_requested_ = true;
    parser_.discard_data();
    {
      std::lock_guard lock(mutex_);
      accepting_ = false;
    }
    enqueue(code == ws::close_code::no_status ? control_payload({}) : control_payload(ws::close_payload(code, reason)),
            ws::Opcode::close, Queue::always);
    deadline_ = Clock::now() + close_deadline;
    arm_timer();
  }

  // One timer serves the keepalive and the close deadline. It is not moved on every read: when it
  // fires early (the peer spoke since), it is set again from the time last heard.
  void arm_timer() {
    timer_.expires_at(close_requested_ ? deadline_ : last_heard_ + (ping_sent_ ? silence_limit : ping_after));
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->on_timer();
    });
  }

  void on_timer() {
    if (finished_) return;
    const auto now = Clock::now();
    if (close_requested_) {
      if (now < deadline_) return arm_timer();
      logger::debug("WebSocket peer did not finish the close handshake in time; resetting");
      return finish(Ending::reset);
    }
    const auto silent = now - last_heard_;
    if (silent >= silence_limit) {
      logger::debug("WebSocket peer silent for 120 s; resetting");
      return finish(Ending::reset);
    }
    if (silent >= ping_after && !ping_sent_) {
      ping_sent_ = true;
      enqueue(control_payload({}), ws::Opcode::ping, Queue::bounded);
    }
    arm_timer();
  }

  // The connection is over, whichever way it ended; tells the hub once. A reset (SO_LINGER 0)
  // drops whatever the kernel still holds, so no socket lingers with a slow reader's backlog.
  void finish(Ending ending) {
    if (finished_) return;
    finished_ = true;
    timer_.cancel();
    boost::system::error_code ignored;
    if (ending == Ending::reset) {
      socket_.set_option(asio::socket_base::linger(true, 0), ignored);
    } else {
      socket_.shutdown(tcp::socket::shutdown_both, ignored);
    }
    socket_.close(ignored);
    {
      std::lock_guard lock(mutex_);
      accepting_ = false;
      outbox_ = {};
      outbox_head_ = 0;
      queued_bytes_ = 0;
    }
    if (opened_) context_->hub.on_close(shared_from_this());
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  std::shared_ptr<const SessionContext> context_;
  std::unique_ptr<ConnectionLimits::Slot> slot_; // this connection's place among the open ones
  ws::FrameParser parser_;
  Clock::time_point last_heard_;
  Clock::time_point deadline_; // of the close handshake
  std::unique_ptr<char[]> big_read_;
  std::size_t big_read_size_ = 0;
  std::vector<Outgoing> writing_; // the batch in flight (strand only)

  std::mutex mutex_; // guards the four below: the hub's threads append to the outbox
  std::vector<Outgoing> outbox_;  // waiting; the first outbox_head_ were taken by flushes
  std::size_t outbox_head_ = 0;
  std::size_t queued_bytes_ = 0;  // of the outbox and of the write in flight
  bool flush_scheduled_ = false;  // a flush is posted or a write is in flight: it takes new frames
  bool accepting_ = true;         // false once closing: the hub's frames are dropped

  bool opened_ = false; // the hub knows this connection
  bool read_big_ = false;
  bool ping_sent_ = false;
  bool close_requested_ = false;
  bool close_sent_ = false;
  bool peer_closed_ = false;
  bool finished_ = false;
  std::array<char, small_read> small_read_;
};

} // namespace

bool is_websocket_upgrade(const Request& request) {
  return request.version() == 11 && request.method() == http::verb::get &&
         http::token_list{request[http::field::connection]}.exists("upgrade") &&
         http::token_list{request[http::field::upgrade]}.exists("websocket");
}

std::optional<HandshakeRefusal> check_websocket_handshake(const Request& request) {
  if (field(request, http::field::host).empty()) return HandshakeRefusal{400, "a WebSocket upgrade needs a Host header"};
  if (field(request, http::field::sec_websocket_version) != "13") {
    return HandshakeRefusal{426, "this server speaks WebSocket version 13"};
  }
  // A nonce of 16 bytes in base64 (4.1): 24 characters ending in "==" (libcrypto counts the padding).
  const auto key = field(request, http::field::sec_websocket_key);
  unsigned char decoded[18];
  if (key.size() != 24 || !key.ends_with("==") ||
      EVP_DecodeBlock(decoded, reinterpret_cast<const unsigned char*>(key.data()), 24) != 18) {
    return HandshakeRefusal{400, "Sec-WebSocket-Key must be 16 bytes in base64"};
  }
  return std::nullopt;
}

void start_websocket_session(tcp::socket socket, const Request& request, std::string early_bytes,
                             std::shared_ptr<const SessionContext> context, std::unique_ptr<ConnectionLimits::Slot> slot) {
  std::make_shared<WebSocketSession>(std::move(socket), std::move(context), std::move(slot))
      ->start(request, std::move(early_bytes));
}

} // namespace colloquy::net
