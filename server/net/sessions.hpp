#pragma once
// Internal to server/net: the HTTP and WebSocket sessions the listener starts.
#include "net/server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <memory>
#include <string>

namespace colloquy {
class RoomHub;
}

namespace colloquy::net {

// What every session of one server shares; immutable once the server runs.
struct SessionContext {
  RoomHub& hub;
  ServerOptions options;
};

using Request = boost::beast::http::request<boost::beast::http::string_body>;

// Serves HTTP/1.1 on the socket (keep-alive), and hands WebSocket upgrades of /ws on.
void start_http_session(boost::asio::ip::tcp::socket socket, std::shared_ptr<const SessionContext> context);

// Completes the WebSocket handshake for `request` and serves the connection to the room hub.
void start_websocket_session(boost::beast::tcp_stream stream, Request request,
                             std::shared_ptr<const SessionContext> context);

// Headers every response carries (Server, CSP, nosniff, ...).
void set_common_headers(boost::beast::http::fields& fields, const SessionContext& context);

} // namespace colloquy::net
