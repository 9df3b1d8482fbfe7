// One WebSocket connection: reads frames into the room hub, writes the hub's frames from a bounded
// queue. Everything below runs on the connection's strand; send() and close() post onto it.
#include "net/sessions.hpp"

#include "app/connection.hpp"
#include "app/logger.hpp"
#include "app/room_hub.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <chrono>
#include <deque>

namespace colloquy::net {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace asio = boost::asio;

// A peer that has not finished the close handshake this long after we started it is cut off.
constexpr auto close_deadline = std::chrono::seconds(5);

class WebSocketSession final : public Connection, public std::enable_shared_from_this<WebSocketSession> {
public:
  WebSocketSession(beast::tcp_stream stream, std::shared_ptr<const SessionContext> context)
      : ws_(std::move(stream)),
        context_(std::move(context)),
        close_timer_(ws_.get_executor()) {}

  void start(Request request) {
    // Pings after 60 s of silence from the peer; closes after 120 s without anything.
    websocket::stream_base::timeout timeout{};
    timeout.handshake_timeout = std::chrono::seconds(30);
    timeout.idle_timeout = std::chrono::seconds(120);
    timeout.keep_alive_pings = true;
    ws_.set_option(timeout);
    ws_.set_option(websocket::stream_base::decorator([context = context_](websocket::response_type& response) {
      set_common_headers(response.base(), *context);
    }));
    // Beast's own read_message_max would fail the stream with a bare 1009 and no reason; read()
    // enforces the limit itself and closes with 1009 "frame_too_large". This is a backstop only.
    ws_.read_message_max(context_->options.max_frame_bytes * 2 + 1024);
    ws_.auto_fragment(false);
    ws_.async_accept(request, [self = shared_from_this()](beast::error_code ec) { self->on_accept(ec); });
  }

  void send(Frame frame) override {
    asio::post(ws_.get_executor(), [self = shared_from_this(), frame = std::move(frame)]() mutable {
      self->enqueue(std::move(frame));
    });
  }

  void send_ephemeral(Frame frame) override {
    asio::post(ws_.get_executor(), [self = shared_from_this(), frame = std::move(frame)]() mutable {
      if (!self->queue_.empty()) return; // behind: ephemeral frames are the first to go
      self->enqueue(std::move(frame));
    });
  }

  void close(std::uint16_t code, std::string reason) override {
    asio::post(ws_.get_executor(), [self = shared_from_this(), code, reason = std::move(reason)]() mutable {
      self->request_close(code, std::move(reason));
    });
  }

private:
  void on_accept(beast::error_code ec) {
    if (ec) {
      logger::debug("WebSocket handshake failed: " + ec.message());
      return;
    }
    accepted_ = true;
    context_->hub.on_open(shared_from_this());
    read();
  }

  // Reads one message piece by piece, so a message over the limit is noticed after at most
  // max_frame_bytes + 1 bytes and closed with our own code and reason while the stream is healthy.
  void read() {
    buffer_.consume(buffer_.size());
    read_some();
  }

  void read_some() {
    const std::size_t room = context_->options.max_frame_bytes + 1 - buffer_.size();
    ws_.async_read_some(buffer_, room, [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec) {
      logger::debug("WebSocket read ended: " + ec.message());
      return finish();
    }
    if (close_requested_) return; // the hub no longer wants to hear from this connection
    if (buffer_.size() > context_->options.max_frame_bytes) {
      logger::debug("WebSocket message over the frame limit; closing with 1009");
      request_close(websocket::close_code::too_big, "frame_too_large");
      return; // no further reads: the close handshake reads and discards the rest
    }
    if (!ws_.is_message_done()) return read_some();
    const auto data = buffer_.cdata();
    if (ws_.got_text()) {
      context_->hub.on_text(shared_from_this(), {static_cast<const char*>(data.data()), data.size()});
    } else {
      context_->hub.on_binary(shared_from_this());
    }
    read();
  }

  void enqueue(Frame frame) {
    if (close_requested_ || finished_) return;
    queued_bytes_ += frame->size();
    if (queued_bytes_ > context_->options.max_send_queue_bytes) {
      logger::warn("a client fell too far behind; closing it with 4001 slow_consumer");
      // Drop what it has not started to receive; it resumes from the room log on reconnect.
      while (queue_.size() > (writing_ ? 1u : 0u)) {
        queued_bytes_ -= queue_.back()->size();
        queue_.pop_back();
      }
      queued_bytes_ -= frame->size();
      request_close(4001, "slow_consumer");
      return;
    }
    queue_.push_back(std::move(frame));
    if (!writing_) write_next();
  }

  void write_next() {
    writing_ = true;
    ws_.text(true);
    ws_.async_write(asio::buffer(*queue_.front()),
                    [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(beast::error_code ec) {
    writing_ = false;
    if (ec) return finish();
    queued_bytes_ -= queue_.front()->size();
    queue_.pop_front();
    if (!queue_.empty() && !close_started_) return write_next();
    if (close_requested_ && !close_started_) start_close();
  }

  void request_close(std::uint16_t code, std::string reason) {
    if (close_requested_ || finished_) return;
    close_requested_ = true;
    close_reason_.code = code;
    close_reason_.reason = std::move(reason);
    close_timer_.expires_after(close_deadline);
    close_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->abort();
    });
    if (!accepted_) return abort();
    if (!writing_) start_close();
  }

  void start_close() {
    close_started_ = true;
    ws_.async_close(close_reason_, [self = shared_from_this()](beast::error_code ec) {
      if (ec) logger::debug("WebSocket close ended: " + ec.message());
      self->finish();
    });
  }

  // The peer would not finish closing: drop the TCP connection.
  void abort() {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    finish();
  }

  // Called once the connection is over, whichever way it ended. Tells the hub once.
  void finish() {
    if (finished_) return;
    finished_ = true;
    close_timer_.cancel();
    queue_.clear();
    queued_bytes_ = 0;
    if (accepted_) context_->hub.on_close(shared_from_this());
  }

  websocket::stream<beast::tcp_stream> ws_;
  std::shared_ptr<const SessionContext> context_;
  beast::flat_buffer buffer_;
  asio::steady_timer close_timer_;
  std::deque<Frame> queue_;
  std::size_t queued_bytes_ = 0;
  websocket::close_reason close_reason_;
  bool accepted_ = false;
  bool writing_ = false;
  bool close_requested_ = false;
  bool close_started_ = false;
  bool finished_ = false;
};

} // namespace

void start_websocket_session(beast::tcp_stream stream, Request request, std::shared_ptr<const SessionContext> context) {
  std::make_shared<WebSocketSession>(std::move(stream), std::move(context))->start(std::move(request));
}

} // namespace colloquy::net
