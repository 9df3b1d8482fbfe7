#pragma once
// Internal to server/net: the HTTP and WebSocket sessions the listener starts.
#include "net/server.hpp"

#include "app/connection_limits.hpp"
#include "app/http_api.hpp"
#include "app/rate_limit.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace colloquy {
class RoomHub;
}

namespace colloquy::net {

// What every session of one server shares; immutable once the server runs.
struct SessionContext {
  RoomHub& hub;
  ServerOptions options;
  std::shared_ptr<AddressRates> http_rates; // per client address; null: no limit
  ApiAccess access;                         // who may create rooms, how often
  OriginPolicy origins; // set by listen(), once the port is known, before any session starts
};

using Request = boost::beast::http::request<boost::beast::http::string_body>;

// Serves HTTP/1.1 on the socket (keep-alive), and hands WebSocket upgrades of /ws on.
// `slot`: the connection's place among the open ones (connection caps), held while it is open.
void start_http_session(boost::asio::ip::tcp::socket socket, std::shared_ptr<const SessionContext> context,
                        std::unique_ptr<ConnectionLimits::Slot> slot);

// Whether the request asks for a WebSocket upgrade (GET, HTTP/1.1, Connection: upgrade,
// Upgrade: websocket); whether it may have one is check_websocket_handshake's and the Origin's.
bool is_websocket_upgrade(const Request& request);

// Why an upgrade request's handshake fields (Host, Sec-WebSocket-Key, Sec-WebSocket-Version) are
// refused (RFC 6455 4.2.1), or nothing when they are fine. 426 asks for version 13.
struct HandshakeRefusal {
  unsigned status;
  std::string_view message;
};
std::optional<HandshakeRefusal> check_websocket_handshake(const Request& request);

// Answers a checked upgrade request with 101 and serves the connection to the room hub.
// `early_bytes`: what the client sent after the request and was read with it.
void start_websocket_session(boost::asio::ip::tcp::socket socket, const Request& request, std::string early_bytes,
                             std::shared_ptr<const SessionContext> context, std::unique_ptr<ConnectionLimits::Slot> slot);

// Headers every response carries (Server, CSP, nosniff, ...).
void set_common_headers(boost::beast::http::fields& fields, const SessionContext& context);

} // namespace colloquy::net
