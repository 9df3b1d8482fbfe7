#pragma once
// The HTTP and WebSocket server. This header is free of Beast and Asio on purpose: only the files
// in server/net/ pay their compile time.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace colloquy {
class RoomHub;
}

namespace colloquy::net {

struct ServerOptions {
  std::string bind = "127.0.0.1";
  std::uint16_t port = 8080;                 // 0 picks a free port; listen() returns it
  std::filesystem::path static_dir;          // the built web client
  std::size_t max_frame_bytes = 64 * 1024;   // larger WebSocket messages close with 1009
  std::size_t max_send_queue_bytes = 1 << 20; // past it a connection closes with 4001
  // SO_SNDBUF of each WebSocket: caps what the kernel holds for a peer that stops reading (Linux
  // reserves twice this, for its bookkeeping), so the 4001 limit above is most of what a slow
  // consumer can cost. 0 leaves the kernel's autotuning (up to megabytes).
  std::size_t send_buffer_bytes = 256 * 1024;
  // A connection must deliver each complete HTTP request (the WebSocket upgrade included) this
  // long after it connects or after its previous response, or it is closed.
  std::chrono::seconds request_timeout{10};
  // Open sockets at most (past it only /healthz and /readyz are answered; the rest get 503
  // server_full), and WebSockets from one client address (past it the upgrade gets 429
  // too_many_connections). The total is also held below the process's file-descriptor limit
  // minus a reserve (fd_reserve) for the journal, Redis and the listener.
  std::size_t max_connections = 10'000;
  std::size_t max_connections_per_address = 100;
  std::size_t fd_reserve = 64;
  // Per client address: HTTP requests a second (bursts of twice; /healthz and /readyz exempt) and
  // rooms created an hour (bursts of 10); past them 429 rate_limited with Retry-After. 0: no limit.
  unsigned max_http_requests_per_second = 100;
  unsigned room_creations_per_hour = 30;
  // Balancers whose X-Forwarded-For names the client (for the per-address limits).
  std::vector<std::string> trusted_proxies;
  // Non-empty: POST /api/rooms needs "Authorization: Bearer <create_token>".
  std::string create_token;
  unsigned threads = 2;
  std::string server_name = "colloquy";      // Server header
  // Origins a browser may open a WebSocket from (--public-origin); empty: loopback origins on
  // the bound port only. A WebSocket upgrade with another Origin gets 403 forbidden_origin.
  std::vector<std::string> public_origins;
};

class Server {
public:
  Server(ServerOptions options, RoomHub& hub);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens. Returns the port. Throws std::runtime_error with a readable message.
  std::uint16_t listen();

  // Serves on `threads` threads until SIGINT or SIGTERM (or stop()), then shuts down gracefully:
  // stops accepting, closes every WebSocket with 1001 server_shutdown, waits up to 3 s for the
  // close handshakes, and returns.
  void run();

  // Starts the graceful shutdown from any thread.
  void stop();

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace colloquy::net
