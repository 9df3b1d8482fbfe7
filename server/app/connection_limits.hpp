#pragma once
// Counts open connections, in all and per client address, so that one client cannot take every
// socket: a connection over a cap is still accepted (to answer it), but only to be refused. The
// last tenth of the total (the reserve) is kept for people coming to rooms that exist: there no
// room is created, HTTP connections close after one answer and a WebSocket must join quickly.
// Pure bookkeeping, no I/O; thread-safe.
#include <algorithm>
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
  // The places at the top of max_total kept for members of existing rooms: a tenth, at least one.
  std::size_t reserve() const { return max_total < 2 ? 0 : std::max<std::size_t>(1, max_total / 10); }
};

// Where a connection's place is, counted when it opened.
enum class ConnectionTier {
  normal,      // below the reserve: everything
  reserved,    // in the reserve: no room creation, no keep-alive, a WebSocket joins within seconds
  health_only, // past the total: /healthz and /readyz only
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
    ConnectionTier tier() const { return tier_; }
    bool over_total() const { return tier_ == ConnectionTier::health_only; }
    bool in_reserve() const { return tier_ == ConnectionTier::reserved; }
    // Counts the connection as a WebSocket of `client` (the socket's address, or behind a trusted
    // proxy the forwarded one); false (and not counted) past the cap.
    bool admit_websocket(const std::string& client);
    bool admit_websocket() { return admit_websocket(address_); }
    const std::string& address() const { return address_; }

  private:
    friend class ConnectionLimits;
    Slot(std::shared_ptr<ConnectionLimits> owner, std::string address, ConnectionTier tier)
        : owner_(std::move(owner)), address_(std::move(address)), tier_(tier) {}
    std::shared_ptr<ConnectionLimits> owner_;
    std::string address_;
    ConnectionTier tier_;
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
