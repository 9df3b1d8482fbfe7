// The listener, the I/O threads, signals and the graceful shutdown.
#include "net/server.hpp"

#include "app/logger.hpp"
#include "app/room_hub.hpp"
#include "net/sessions.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <stdexcept>
#include <thread>
#include <vector>

namespace colloquy::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
constexpr auto drain_limit = std::chrono::seconds(3);

// The connection cap, held below the file-descriptor limit minus the reserve (after raising the
// soft limit to the hard one), so that running out of descriptors cannot stop health checks.
std::size_t effective_max_connections(const ServerOptions& options) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return options.max_connections;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_cur == RLIM_INFINITY) return options.max_connections;
  const auto usable = limit.rlim_cur > options.fd_reserve ? static_cast<std::size_t>(limit.rlim_cur) - options.fd_reserve : 1;
  if (usable < options.max_connections) {
    logger::warn("at most {} connections: the open-file limit is {} (raise it with ulimit -n for more)", usable,
                 static_cast<std::uint64_t>(limit.rlim_cur));
  }
  return std::min(options.max_connections, usable);
}
constexpr auto drain_poll = std::chrono::milliseconds(20);

// Bursts of 10 (fewer if the hourly allowance is smaller), or a minute's worth when that is more.
double creation_burst(unsigned per_hour) { return std::max(std::min(10.0, double(per_hour)), per_hour / 60.0); }

std::shared_ptr<SessionContext> make_context(RoomHub& hub, ServerOptions o) {
  auto context = std::make_shared<SessionContext>(SessionContext{hub, std::move(o), nullptr, {}, {}});
  const auto& options = context->options;
  if (options.max_http_requests_per_second > 0) {
    const double rate = options.max_http_requests_per_second;
    context->http_rates = std::make_shared<AddressRates>(rate, 2 * rate);
  }
  context->access.create_token = options.create_token;
  if (options.room_creations_per_hour > 0) {
    context->access.creations =
        std::make_shared<AddressRates>(options.room_creations_per_hour / 3600.0, creation_burst(options.room_creations_per_hour));
  }
  context->access.now_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  };
  return context;
}
} // namespace

struct Server::Impl {
  Impl(ServerOptions o, RoomHub& hub)
      : context(make_context(hub, std::move(o))),
        limits(std::make_shared<ConnectionLimits>(ConnectionCaps{effective_max_connections(context->options),
                                                                 context->options.max_connections_per_address})),
        io(static_cast<int>(context->options.threads)),
        acceptor(io),
        signals(io, SIGINT, SIGTERM),
        accept_retry(io),
        drain_timer(io) {
    // Storage completions continue on the I/O threads.
    hub.set_executor([this](std::function<void()> task) { asio::post(io, std::move(task)); });
  }
  ~Impl() { context->hub.set_executor(nullptr); }

  std::shared_ptr<SessionContext> context; // sessions see it const; listen() sets the origins

  std::shared_ptr<ConnectionLimits> limits;
  asio::io_context io;
  tcp::acceptor acceptor;
  asio::signal_set signals;
  asio::steady_timer accept_retry;
  asio::steady_timer drain_timer;
  std::atomic<bool> stopping{false};
  std::chrono::steady_clock::time_point drain_started;

  void accept() {
    acceptor.async_accept(asio::make_strand(io), [this](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (ec) {
        // Out of file descriptors, typically: back off briefly instead of spinning.
        logger::warn("accept failed: {}", ec.message());
        accept_retry.expires_after(std::chrono::milliseconds(100));
        accept_retry.async_wait([this](boost::system::error_code e) {
          if (!e) accept();
        });
        return;
      }
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      boost::system::error_code peer_error;
      const auto peer = socket.remote_endpoint(peer_error);
      auto slot = limits->open(peer_error ? std::string() : peer.address().to_string());
      start_http_session(std::move(socket), context, std::move(slot));
      accept();
    });
  }

  void begin_shutdown(std::string_view why) {
    if (stopping.exchange(true)) return;
    logger::info("shutting down ({}): closing connections", std::string(why));
    boost::system::error_code ignored;
    acceptor.close(ignored);
    accept_retry.cancel();
    signals.cancel();
    context->hub.shutdown();
    drain_started = std::chrono::steady_clock::now();
    wait_for_drain();
  }

  void wait_for_drain() {
    const auto open = context->hub.stats().connections;
    if (open == 0 || std::chrono::steady_clock::now() - drain_started > drain_limit) {
      if (open > 0) logger::warn("{} connections did not close in time", open);
      io.stop();
      return;
    }
    drain_timer.expires_after(drain_poll);
    drain_timer.async_wait([this](boost::system::error_code ec) {
      if (!ec) wait_for_drain();
    });
  }
};

Server::Server(ServerOptions options, RoomHub& hub) : impl_(std::make_unique<Impl>(std::move(options), hub)) {}

Server::~Server() = default;

std::uint16_t Server::listen() {
  const auto& options = impl_->context->options;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(options.bind, ec);
  if (ec) throw std::runtime_error("'" + options.bind + "' is not an IP address");
  const tcp::endpoint endpoint{address, options.port};
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error("cannot listen on " + options.bind + ":" + std::to_string(options.port) + ": " + ec.message());
  }
  const std::uint16_t port = acceptor.local_endpoint().port();
  // With port 0 the bound port is the one browsers use: the loopback origins name it.
  impl_->context->origins = origin_policy(options.public_origins, port);
  return port;
}

void Server::run() {
  Impl& impl = *impl_;
  impl.signals.async_wait([&impl](boost::system::error_code ec, int signal) {
    if (!ec) impl.begin_shutdown(signal == SIGINT ? "SIGINT" : "SIGTERM");
  });
  impl.accept();

  std::vector<std::thread> threads;
  const unsigned extra = impl.context->options.threads > 1 ? impl.context->options.threads - 1 : 0;
  threads.reserve(extra);
  for (unsigned i = 0; i < extra; ++i) threads.emplace_back([&impl] { impl.io.run(); });
  impl.io.run();
  for (auto& t : threads) t.join();
}

void Server::stop() {
  asio::post(impl_->io, [this] { impl_->begin_shutdown("stop requested"); });
}

} // namespace colloquy::net
