#pragma once
// The HTTP API (/api/*, /healthz) as pure request -> response logic; net/http_session does the I/O.
#include "core/error_code.hpp"

#include "app/rate_limit.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
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
  std::string_view client_address = {}; // the client's address (behind a trusted proxy, its X-Forwarded-For)
  std::string_view authorization = {};  // Authorization header, may be empty
};

// Who may create rooms, and how often (per client address).
struct ApiAccess {
  std::string create_token;                 // empty: anyone; else "Authorization: Bearer <token>"
  std::shared_ptr<AddressRates> creations;  // null: no limit
  std::function<std::int64_t()> now_ms;     // the clock of `creations`
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::int64_t retry_after_ms = 0; // > 0 with 429: also sent as Retry-After (whole seconds, rounded up)
};

// True when the path belongs to the API (so the caller does not look for a static file).
bool is_api_path(std::string_view target);

// Handles an API request; `done` gets the response, at once or (creating a room) once storage
// has answered, maybe on another thread. The request's views need only live until this returns.
// Never throws; faults become 500 {"error":{"code":"internal"}}.
void handle_api(RoomHub& hub, const HttpRequest& request, std::function<void(HttpResponse)> done,
                const ApiAccess* access = nullptr);
// The same, waiting for the response (tests; not on a thread that serves sockets).
HttpResponse handle_api(RoomHub& hub, const HttpRequest& request, const ApiAccess* access = nullptr);

// 429 rate_limited, saying when to come back.
HttpResponse rate_limited_response(std::string_view message, std::int64_t retry_after_ms);

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
