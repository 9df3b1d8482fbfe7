#pragma once
// Redis server addresses as given by --redis / COLLOQUY_REDIS: "redis://HOST[:PORT]", several
// separated by commas (rooms are sharded over them). Parsed with Boost.URL.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace colloquy {

struct RedisEndpoint {
  std::string host;
  std::uint16_t port = 6379;
  // As a URL again, for messages: an IPv6 address in brackets.
  std::string text() const {
    const bool v6 = host.find(':') != std::string::npos;
    return "redis://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  }
};

// "redis://host:port,redis://host2:port" -> endpoints, or a message saying what is wrong.
// Spaces around each URL are ignored; an IPv6 host is written in brackets ("redis://[::1]:6380");
// a user, password, database (path), query or fragment is refused.
std::variant<std::vector<RedisEndpoint>, std::string> parse_redis_urls(std::string_view text);

} // namespace colloquy
