#pragma once
// Counts open connections, in all and per client address, so that one client cannot take every
// socket: a connection over a cap is still accepted (to answer it), but only to be refused. Pure
// bookkeeping, no I/O; thread-safe.
#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace colloquy {

struct ConnectionCaps {
  std::size_t max_total = 10'000;      // sockets open at once; past it only /healthz and /readyz
  std::size_t max_per_address = 100;   // WebSockets from one address; past it 429
};

class ConnectionLimits : public std::enable_shared_from_this<ConnectionLimits> {
public:
  explicit ConnectionLimits(ConnectionCaps caps) : caps_(caps) {}

  // Held by a connection while it is open; releasing it frees its place.
  class Slot {
  public:
    ~Slot();
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    bool over_total() const { return over_total_; }
    // Counts the connection as a WebSocket of `client` (the socket's address, or behind a trusted
    // proxy the forwarded one); false (and not counted) past the cap.
    bool admit_websocket(const std::string& client);
    bool admit_websocket() { return admit_websocket(address_); }
    const std::string& address() const { return address_; }

  private:
    friend class ConnectionLimits;
    Slot(std::shared_ptr<ConnectionLimits> owner, std::string address, bool over_total)
        : owner_(std::move(owner)), address_(std::move(address)), over_total_(over_total) {}
    std::shared_ptr<ConnectionLimits> owner_;
    std::string address_;
    bool over_total_;
    bool websocket_ = false;
    std::string counted_as_; // the address the WebSocket is counted under
  };

  std::unique_ptr<Slot> open(std::string address);

  std::size_t open_connections() const { return total_.load(); }
  std::size_t websockets_from(const std::string& address) const;
  const ConnectionCaps& caps() const { return caps_; }

private:
  ConnectionCaps caps_;
  std::atomic<std::size_t> total_{0};
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::size_t> websockets_; // per address, only those > 0
};

} // namespace colloquy
