// HTTP/1.1: the API (/api/*, /healthz), the built web client, and the WebSocket upgrade at /ws.
#include "net/sessions.hpp"

#include "app/http_api.hpp"
#include "app/logger.hpp"
#include "app/static_files.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <chrono>
#include <optional>

namespace colloquy::net {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;

constexpr auto write_timeout = std::chrono::seconds(30);
constexpr std::size_t max_header_bytes = 16 * 1024;

// The client is built to need nothing else: no inline script or style, same-origin WebSocket.
constexpr std::string_view content_security_policy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

class HttpSession : public std::enable_shared_from_this<HttpSession> {
public:
  HttpSession(asio::ip::tcp::socket socket, std::shared_ptr<const SessionContext> context,
              std::unique_ptr<ConnectionLimits::Slot> slot)
      : stream_(std::move(socket)), context_(std::move(context)), slot_(std::move(slot)) {}

  void run() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_request(); });
  }

private:
  void read_request() {
    parser_.emplace();
    parser_->header_limit(max_header_bytes);
    parser_->body_limit(max_api_body_bytes);
    stream_.expires_after(context_->options.request_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset) {
      return close();
    }
    if (ec == http::error::body_limit) return send_error(payload_too_large(), /*keep_alive=*/false);
    if (ec == http::error::header_limit) {
      return send_error(error_response(431, ErrorCode::bad_request, "the request headers are too large"), false);
    }
    if (ec) return send_error(error_response(400, ErrorCode::bad_request, "the request is not valid HTTP/1.1"), false);

    Request request = parser_->release();
    const std::string_view target{request.target().data(), request.target().size()};

    // Past the total cap only health and readiness are answered (operators and balancers must
    // still see the server); everything else is refused and the socket closed.
    const std::string_view path = path_of(target);
    const bool health_check = path == "/healthz" || path == "/readyz";
    if (slot_ && slot_->over_total() && !health_check) {
      return send_error(error_response(503, ErrorCode::server_full, "this server holds its maximum number of connections; try again shortly"),
                        false);
    }
    // In the reserve (the last tenth of the places) people come to rooms that exist: no room is
    // created there, and each HTTP connection closes after its answer so that its place frees at once.
    if (slot_ && slot_->in_reserve() && !health_check) {
      request.keep_alive(false);
      if (path == "/api/rooms" && request.method() == http::verb::post) {
        return send_error(error_response(503, ErrorCode::server_full,
                                         "this server is nearly full and keeps its last places for members of existing "
                                         "rooms; try creating a room later"),
                          false);
      }
    }
    {
      const auto forwarded = request["X-Forwarded-For"];
      client_ = client_address(slot_ ? std::string_view(slot_->address()) : std::string_view(),
                               {forwarded.data(), forwarded.size()}, context_->options.trusted_proxies);
      static std::atomic<bool> warned{false};
      if (!forwarded.empty() && context_->options.trusted_proxies.empty() && !warned.exchange(true)) {
        logger::warn("requests from {} carry X-Forwarded-For but --trusted-proxy is not set: the per-address limits "
                     "count every client of that proxy as one; name it with --trusted-proxy",
                     client_);
      }
    }
    // Health checks come from balancers and probes, often many a second from one address: never limited.
    if (!health_check && context_->http_rates) {
      if (const auto wait = context_->http_rates->take(client_, context_->access.now_ms())) {
        return send_error(rate_limited_response("too many requests from your address; try again shortly", *wait),
                          request.keep_alive());
      }
    }
    if (path == "/ws") {
      if (!is_websocket_upgrade(request)) {
        return send_error(error_response(400, ErrorCode::bad_request, "/ws accepts WebSocket upgrades only"),
                          request.keep_alive());
      }
      // Compared with the configured origins, never with Host (a DNS-rebinding page sets both).
      const auto origin = request[http::field::origin];
      if (!websocket_origin_allowed({origin.data(), origin.size()}, context_->origins)) {
        return send_error(error_response(403, ErrorCode::forbidden_origin, "WebSocket connections must come from this site"),
                          false);
      }
      if (const auto refusal = check_websocket_handshake(request)) {
        return send_error(error_response(static_cast<int>(refusal->status), ErrorCode::bad_request, refusal->message),
                          false);
      }
      if (slot_ && !slot_->admit_websocket(client_)) {
        return send_error(error_response(429, ErrorCode::too_many_connections,
                                         "too many connections from your address; close one and try again"),
                          false);
      }
      stream_.expires_never();
      std::string early_bytes = beast::buffers_to_string(buffer_.data());
      return start_websocket_session(stream_.release_socket(), request, std::move(early_bytes), context_, std::move(slot_));
    }

    if (is_api_path(target)) return send_api(request);
    return send_static(request);
  }

  void send_api(const Request& request) {
    const auto field = [&](auto f) {
      const auto value = request[f];
      return std::string_view{value.data(), value.size()};
    };
    struct Shape {
      unsigned version;
      bool keep_alive;
      bool head;
    };
    const Shape shape{request.version(), request.keep_alive(), request.method() == http::verb::head};
    // Creating a room answers once storage has: continue on this session's strand then.
    handle_api(context_->hub,
               HttpRequest{
                   {request.method_string().data(), request.method_string().size()},
                   {request.target().data(), request.target().size()},
                   field(http::field::content_type),
                   field(http::field::host),
                   field("X-Forwarded-Proto"),
                   request.body(),
                   client_,
                   field(http::field::authorization),
               },
               [self = shared_from_this(), shape](HttpResponse out) {
                 asio::dispatch(self->stream_.get_executor(), [self, shape, out = std::move(out)] {
                   http::response<http::string_body> response{static_cast<http::status>(out.status), shape.version};
                   set_common_headers(response.base(), *self->context_);
                   response.set(http::field::content_type, out.content_type);
                   response.set(http::field::cache_control, "no-store");
                   if (!out.allow.empty()) response.set(http::field::allow, out.allow);
                   if (out.retry_after_ms > 0) response.set(http::field::retry_after, std::to_string((out.retry_after_ms + 999) / 1000));
                   response.keep_alive(shape.keep_alive);
                   response.body() = shape.head ? std::string() : out.body;
                   response.prepare_payload();
                   if (shape.head) response.content_length(out.body.size());
                   self->write(http::message_generator(std::move(response)));
                 });
               },
               &context_->access);
  }

  void send_static(const Request& request) {
    const bool head = request.method() == http::verb::head;
    if (request.method() != http::verb::get && !head) {
      HttpResponse error = error_response(405, ErrorCode::method_not_allowed, "use GET for pages and files");
      return send_error(std::move(error), request.keep_alive(), "GET, HEAD");
    }
    const auto file = resolve_static(context_->options.static_dir, {request.target().data(), request.target().size()});
    if (file && send_file(request, *file, http::status::ok)) return;
    // A person's browser gets the client's page (its "Page not found" view) with the 404; other
    // clients, and a missing client build, get the JSON error.
    const auto accept = request[http::field::accept];
    if (accepts_html({accept.data(), accept.size()})) {
      if (const auto page = resolve_static(context_->options.static_dir, "/index.html");
          page && send_file(request, *page, http::status::not_found)) {
        return;
      }
    }
    send_error(error_response(404, ErrorCode::not_found, "no such page or file"), request.keep_alive());
  }

  // Sends the file with `status`; false (nothing sent) if it cannot be opened.
  bool send_file(const Request& request, const StaticFile& file, http::status status) {
    const bool head = request.method() == http::verb::head;
    http::file_body::value_type body;
    beast::error_code ec;
    body.open(file.path.c_str(), beast::file_mode::scan, ec);
    if (ec) return false;
    const auto size = body.size();

    const auto prepare = [&](auto& response) {
      set_common_headers(response.base(), *context_);
      response.set(http::field::content_type, file.content_type);
      response.set(http::field::cache_control, file.immutable ? "public, max-age=31536000, immutable" : "no-cache");
      response.keep_alive(request.keep_alive());
    };
    if (head) {
      http::response<http::empty_body> response{status, request.version()};
      prepare(response);
      response.content_length(size);
      write(http::message_generator(std::move(response)));
      return true;
    }
    http::response<http::file_body> response{std::piecewise_construct, std::make_tuple(std::move(body)),
                                             std::make_tuple(status, request.version())};
    prepare(response);
    response.content_length(size);
    write(http::message_generator(std::move(response)));
    return true;
  }

  void send_error(HttpResponse out, bool keep_alive, std::string_view allow = {}) {
    http::response<http::string_body> response{static_cast<http::status>(out.status), 11};
    set_common_headers(response.base(), *context_);
    response.set(http::field::content_type, out.content_type);
    response.set(http::field::cache_control, "no-store");
    if (!allow.empty()) response.set(http::field::allow, allow);
    if (out.status == 426) response.set(http::field::sec_websocket_version, "13"); // the one we speak
    if (out.retry_after_ms > 0) response.set(http::field::retry_after, std::to_string((out.retry_after_ms + 999) / 1000));
    response.keep_alive(keep_alive);
    response.body() = std::move(out.body);
    response.prepare_payload();
    write(http::message_generator(std::move(response)));
  }

  void write(http::message_generator message) {
    const bool keep_alive = message.keep_alive();
    stream_.expires_after(write_timeout);
    beast::async_write(stream_, std::move(message),
                       [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                         if (ec) return self->close();
                         if (!keep_alive) return self->close();
                         self->read_request();
                       });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::shared_ptr<const SessionContext> context_;
  std::unique_ptr<ConnectionLimits::Slot> slot_; // handed on to the WebSocket session
  std::string client_;                           // the client's address, for per-address limits
  std::optional<http::request_parser<http::string_body>> parser_;
};

} // namespace

void set_common_headers(http::fields& fields, const SessionContext& context) {
  fields.set(http::field::server, context.options.server_name);
  fields.set("Content-Security-Policy", content_security_policy);
  fields.set("X-Content-Type-Options", "nosniff");
  fields.set("Referrer-Policy", "no-referrer");
  fields.set("X-Frame-Options", "DENY");
  fields.set("Cross-Origin-Opener-Policy", "same-origin");
  fields.set("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
}

void start_http_session(asio::ip::tcp::socket socket, std::shared_ptr<const SessionContext> context,
                        std::unique_ptr<ConnectionLimits::Slot> slot) {
  std::make_shared<HttpSession>(std::move(socket), std::move(context), std::move(slot))->run();
}

} // namespace colloquy::net
