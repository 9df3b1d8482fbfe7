#include "app/http_api.hpp"

#include "app/logger.hpp"
#include "app/room_hub.hpp"
#include "core/secret.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <future>
#include <optional>

#include <nlohmann/json.hpp>

#include <cctype>

namespace colloquy {
namespace {

using json = nlohmann::json;

std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find('?'));
}

int status_for(ErrorCode code) {
  switch (code) {
  case ErrorCode::room_not_found: return 404;
  case ErrorCode::bad_credentials: return 403;
  case ErrorCode::server_full: return 503;
  case ErrorCode::unavailable: return 503;
  case ErrorCode::internal: return 500;
  default: return 400;
  }
}

bool is_json_media_type(std::string_view content_type) {
  const auto semicolon = content_type.find(';');
  std::string_view media = content_type.substr(0, semicolon);
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  if (media.size() != 16) return false;
  constexpr std::string_view expected = "application/json";
  for (std::size_t i = 0; i < media.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(media[i])) != expected[i]) return false;
  }
  return true;
}

std::string base_url(const HttpRequest& request) {
  const std::string_view scheme = request.forwarded_proto == "https" ? "https" : "http";
  return std::string(scheme) + "://" + std::string(request.host.empty() ? "localhost" : request.host);
}

// Answers through `done`, once the room is stored (maybe on another thread).
// The token after "Bearer " (scheme case-insensitive), or empty.
std::string_view bearer_token(std::string_view authorization) {
  constexpr std::string_view scheme = "bearer ";
  if (authorization.size() <= scheme.size()) return {};
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != scheme[i]) return {};
  }
  std::string_view token = authorization.substr(scheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return token;
}

// The checks every JSON body of the API gets: the media type, valid JSON, an object with only
// the `allowed` fields. Nothing when it passes, else the error response.
std::optional<HttpResponse> check_json_body(const HttpRequest& request, std::initializer_list<std::string_view> allowed, json& body) {
  if (!is_json_media_type(request.content_type)) {
    return error_response(415, ErrorCode::unsupported_media_type, "send the body as application/json");
  }
  body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return error_response(400, ErrorCode::bad_json, "the body is not valid JSON");
  if (!body.is_object()) return error_response(400, ErrorCode::bad_json, "the body must be a JSON object");
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
      return error_response(400, ErrorCode::unknown_field, "unknown field '" + it.key() + "'");
    }
  }
  return std::nullopt;
}

void create_room(RoomHub& hub, const HttpRequest& request, std::function<void(HttpResponse)> done, const ApiAccess* access) {
  if (access && !access->create_token.empty() && !constant_time_equal(bearer_token(request.authorization), access->create_token)) {
    return done(error_response(401, ErrorCode::create_token_required,
                               "this server creates rooms for its staff only: send the creation token your operator gave you"));
  }
  json body;
  if (auto refused = check_json_body(request, {"title"}, body)) return done(std::move(*refused));
  auto title = body.find("title");
  if (title == body.end()) return done(error_response(400, ErrorCode::missing_field, "missing field 'title'"));
  if (!title->is_string()) return done(error_response(400, ErrorCode::invalid_title, "field 'title' must be a string"));
  if (access && access->creations) {
    if (const auto wait = access->creations->take(request.client_address, access->now_ms())) {
      return done(rate_limited_response("too many rooms created from your address; nothing was created, try again later", *wait));
    }
  }

  hub.create_room(title->get_ref<const std::string&>(), [base = base_url(request), done](RoomHub::CreateResult result) {
    if (auto* error = std::get_if<HubError>(&result)) {
      return done(error_response(status_for(error->code), error->code, error->message));
    }
    const auto& room = std::get<CreatedRoom>(result);
    const std::string room_url = base + "/room/" + room.room_id;
    json out{{"room", room.room_id},
             {"title", room.title},
             {"facilitator_key", room.facilitator_key},
             {"join_code", room.join_code},
             {"facilitator_url", room_url + "#key=" + room.facilitator_key},
             {"invite_url", room_url + "#code=" + room.join_code}};
    done(HttpResponse{201, "application/json", out.dump()});
  });
}

HttpResponse method_not_allowed(std::string_view message, std::string_view allow) {
  HttpResponse out = error_response(405, ErrorCode::method_not_allowed, message);
  out.allow = allow;
  return out;
}

// The room id of "/api/rooms/{id}/invite-check", or nothing for another path.
std::optional<std::string_view> invite_check_room(std::string_view path) {
  constexpr std::string_view prefix = "/api/rooms/";
  constexpr std::string_view suffix = "/invite-check";
  if (!path.starts_with(prefix) || !path.ends_with(suffix) || path.size() <= prefix.size() + suffix.size()) return std::nullopt;
  const std::string_view id = path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
  if (id.find('/') != std::string_view::npos) return std::nullopt;
  return id;
}

// Whether an invite link's secret opens the room, before its page asks for a name. Answers as
// `join` would refuse; the secret comes in the body, never in the URL (access logs).
void invite_check(RoomHub& hub, const HttpRequest& request, std::string_view room_id, std::function<void(HttpResponse)> done) {
  json body;
  if (auto refused = check_json_body(request, {"code", "key"}, body)) return done(std::move(*refused));
  if (body.size() != 1) {
    return body.empty() ? done(error_response(400, ErrorCode::missing_field, "send the invitation as 'code' or 'key'"))
                        : done(error_response(400, ErrorCode::invalid_field, "send 'code' or 'key', not both"));
  }
  const bool key = body.contains("key");
  const json& secret = key ? body["key"] : body["code"];
  const char* field = key ? "key" : "code";
  const auto length = secret.is_string() ? utf8_length(secret.get_ref<const std::string&>()) : std::nullopt;
  if (!length || *length == 0 || *length > max_secret_chars) {
    return done(error_response(400, ErrorCode::invalid_field, std::string("field '") + field + "' must be a string of 1 to 128 characters"));
  }
  if (room_id.size() > 4 * max_room_chars) return done(error_response(404, ErrorCode::room_not_found, "no room with that id"));
  hub.check_invitation(std::string(room_id), key ? Credential::facilitator_key : Credential::join_code,
                       secret.get_ref<const std::string&>(), [room = std::string(room_id), done](RoomHub::InvitationResult result) {
                         if (auto* error = std::get_if<HubError>(&result)) {
                           return done(error_response(status_for(error->code), error->code, error->message));
                         }
                         const auto& invitation = std::get<RoomHub::Invitation>(result);
                         json out{{"room", room}, {"title", invitation.title}, {"role", to_string(invitation.role)}};
                         done(HttpResponse{200, "application/json", out.dump()});
                       });
}

HttpResponse health(RoomHub& hub) {
  const HubStats stats = hub.stats();
  json out{{"status", "ok"}, {"version", COLLOQUY_VERSION}, {"rooms", stats.rooms}, {"connections", stats.connections}};
  return HttpResponse{200, "application/json", out.dump()};
}

} // namespace

HttpResponse error_response(int status, ErrorCode code, std::string_view message) {
  return HttpResponse{status, "application/json",
                      json{{"error", {{"code", to_string(code)}, {"message", message}}}}.dump()};
}

HttpResponse rate_limited_response(std::string_view message, std::int64_t retry_after_ms) {
  HttpResponse out{429, "application/json",
                   json{{"error", {{"code", to_string(ErrorCode::rate_limited)}, {"message", message}, {"retry_after_ms", retry_after_ms}}}}.dump()};
  out.retry_after_ms = retry_after_ms;
  return out;
}

std::optional<std::string> normalize_origin(std::string_view origin) {
  const auto lower = [](std::string_view text) {
    std::string out(text);
    for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return out;
  };
  const auto scheme_end = origin.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  const std::string scheme = lower(origin.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https") return std::nullopt;
  std::string_view rest = origin.substr(scheme_end + 3);
  std::string_view host;
  std::string_view port;
  bool has_port = false;
  if (rest.starts_with('[')) { // an IPv6 literal
    const auto close = rest.find(']');
    if (close == std::string_view::npos || close == 1) return std::nullopt;
    host = rest.substr(0, close + 1);
    for (char ch : host.substr(1, host.size() - 2)) {
      if (!std::isxdigit(static_cast<unsigned char>(ch)) && ch != ':' && ch != '.') return std::nullopt;
    }
    rest = rest.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) return std::nullopt;
    has_port = !rest.empty();
    if (has_port) port = rest.substr(1);
  } else {
    const auto colon = rest.find(':');
    host = rest.substr(0, colon);
    has_port = colon != std::string_view::npos;
    if (has_port) port = rest.substr(colon + 1);
    if (host.empty()) return std::nullopt;
    for (char ch : host) {
      if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '.' && ch != '_') return std::nullopt;
    }
  }
  unsigned long number = scheme == "https" ? 443 : 80;
  if (has_port) { // written: 1 to 65535, digits only
    if (port.empty() || port.size() > 5) return std::nullopt;
    number = 0;
    for (char ch : port) {
      if (!std::isdigit(static_cast<unsigned char>(ch))) return std::nullopt;
      number = number * 10 + static_cast<unsigned long>(ch - '0');
    }
    if (number == 0 || number > 65535) return std::nullopt;
  }
  return scheme + "://" + lower(host) + ":" + std::to_string(number);
}

OriginPolicy origin_policy(const std::vector<std::string>& public_origins, std::uint16_t port) {
  OriginPolicy policy;
  for (const auto& origin : public_origins) {
    if (auto normal = normalize_origin(origin)) policy.allowed.push_back(std::move(*normal));
  }
  if (!public_origins.empty()) return policy;
  const std::string p = std::to_string(port);
  policy.allowed = {"http://localhost:" + p, "http://127.0.0.1:" + p, "http://[::1]:" + p};
  return policy;
}

bool websocket_origin_allowed(std::string_view origin, const OriginPolicy& policy) {
  if (origin.empty()) return true; // not a browser: no cross-site page can be behind it
  const auto normal = normalize_origin(origin);
  return normal && std::find(policy.allowed.begin(), policy.allowed.end(), *normal) != policy.allowed.end();
}

bool is_api_path(std::string_view target) {
  const std::string_view path = path_of(target);
  return path == "/healthz" || path == "/readyz" || path == "/api" || path.starts_with("/api/");
}

HttpResponse payload_too_large() {
  return error_response(413, ErrorCode::payload_too_large, "the request body is over 64 KiB");
}

void handle_api(RoomHub& hub, const HttpRequest& request, std::function<void(HttpResponse)> done, const ApiAccess* access) {
  try {
    const std::string_view path = path_of(request.target);
    if (request.body.size() > max_api_body_bytes) return done(payload_too_large());
    if (path == "/healthz") {
      if (request.method != "GET" && request.method != "HEAD") {
        return done(method_not_allowed("use GET for /healthz", "GET, HEAD"));
      }
      return done(health(hub));
    }
    if (path == "/readyz") {
      if (request.method != "GET" && request.method != "HEAD") {
        return done(method_not_allowed("use GET for /readyz", "GET, HEAD"));
      }
      switch (hub.readiness()) {
      case Readiness::ready: return done(HttpResponse{200, "application/json", R"({"status":"ready"})"});
      case Readiness::draining: return done(HttpResponse{503, "application/json", R"({"status":"draining"})"});
      case Readiness::storage_unavailable: return done(HttpResponse{503, "application/json", R"({"status":"redis_unavailable"})"});
      }
    }
    if (path == "/api/rooms") {
      if (request.method != "POST") return done(method_not_allowed("use POST to create a room", "POST"));
      return create_room(hub, request, std::move(done), access);
    }
    if (const auto room = invite_check_room(path)) {
      if (request.method != "POST") return done(method_not_allowed("use POST, with the code in the body", "POST"));
      return invite_check(hub, request, *room, std::move(done));
    }
    return done(error_response(404, ErrorCode::not_found, "no such API path"));
  } catch (const std::exception& e) {
    logger::error("API request failed: {}", e.what());
    return done(error_response(500, ErrorCode::internal, "the server failed; nothing was changed"));
  }
}

HttpResponse handle_api(RoomHub& hub, const HttpRequest& request, const ApiAccess* access) {
  std::promise<HttpResponse> promise;
  auto response = promise.get_future();
  handle_api(hub, request, [&promise](HttpResponse r) { promise.set_value(std::move(r)); }, access);
  return response.get();
}

} // namespace colloquy
