#pragma once
// The HTTP API (/api/*, /healthz) as pure request -> response logic; net/http_session does the I/O.
#include "core/error_code.hpp"

#include "app/rate_limit.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
  std::string_view allow = {};     // with 405: the methods the path takes (the Allow header)
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

// An origin (RFC 6454) as it is compared: scheme and host in lower case, the port always written,
// defaults filled in ("https://colloquy.example.org:443"). Nothing if it is not an http or https
// origin with a host (a path, a query, user info, "null" or a bad port are not origins).
std::optional<std::string> normalize_origin(std::string_view origin);

// The origins a browser may open a WebSocket from (cross-site WebSocket hijacking and DNS
// rebinding guard). Never compared with the request's Host header, which the page's attacker
// chooses once a name of theirs resolves to this server.
struct OriginPolicy {
  std::vector<std::string> allowed; // normalised
};
// `public_origins` (--public-origin) when given; otherwise the loopback origins on the server's
// own (bound) port: http://localhost:PORT, http://127.0.0.1:PORT, http://[::1]:PORT.
OriginPolicy origin_policy(const std::vector<std::string>& public_origins, std::uint16_t port);

// Whether an upgrade with this Origin header is accepted. No Origin (a client that is not a
// browser, so no page of another site is behind it) is accepted.
bool websocket_origin_allowed(std::string_view origin, const OriginPolicy& policy);

} // namespace colloquy
