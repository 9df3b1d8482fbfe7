#pragma once
// The HTTP API (/api/*, /healthz) as pure request -> response logic; net/http_session does the I/O.
#include "core/error_code.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace colloquy {

class RoomHub;

struct HttpRequest {
  std::string_view method;        // "GET", "POST", ...
  std::string_view target;        // path and query, e.g. "/api/rooms"
  std::string_view content_type;  // Content-Type header, may be empty
  std::string_view host;          // Host header, may be empty
  std::string_view forwarded_proto; // X-Forwarded-Proto header, may be empty
  std::string_view body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// True when the path belongs to the API (so the caller does not look for a static file).
bool is_api_path(std::string_view target);

// Handles an API request; `done` gets the response, at once or (creating a room) once storage
// has answered, maybe on another thread. The request's views need only live until this returns.
// Never throws; faults become 500 {"error":{"code":"internal"}}.
void handle_api(RoomHub& hub, const HttpRequest& request, std::function<void(HttpResponse)> done);
// The same, waiting for the response (tests; not on a thread that serves sockets).
HttpResponse handle_api(RoomHub& hub, const HttpRequest& request);

// The largest request body the API accepts; larger gets 413 payload_too_large (the caller
// checks Content-Length / body size before reading it whole, and may call payload_too_large()).
inline constexpr std::size_t max_api_body_bytes = 64 * 1024;
HttpResponse payload_too_large();

// {"error": {"code": ..., "message": ...}} with the given status.
HttpResponse error_response(int status, ErrorCode code, std::string_view message);

// Cross-site WebSocket hijacking guard: a browser always sends Origin; it must name this host.
// No Origin (a non-browser client) is allowed.
bool websocket_origin_allowed(std::string_view origin, std::string_view host);

} // namespace colloquy
