#pragma once
// What the room hub needs from one client connection; implemented by net/websocket_session.
#include <cstdint>
#include <memory>
#include <string>

namespace colloquy {

// An immutable encoded frame, shared by every connection it is sent to (serialize once, send many).
using Frame = std::shared_ptr<const std::string>;

class Connection {
public:
  virtual ~Connection() = default;
  // Queue one text frame. Thread-safe, never blocks. A connection whose queued bytes pass its
  // limit closes itself with close code 4001 slow_consumer instead of growing.
  virtual void send(Frame frame) = 0;
  // Queue one frame of the ephemeral channel (cursors, a stroke being drawn): never logged, and
  // dropped, not queued, when the connection is behind (anything waiting to be written), so
  // backpressure sheds ephemeral traffic first and never closes the connection. Thread-safe.
  virtual void send_ephemeral(Frame frame) = 0;
  // Send what is queued, then close with a WebSocket close code and reason. Thread-safe, idempotent.
  virtual void close(std::uint16_t code, std::string reason) = 0;
};

} // namespace colloquy
