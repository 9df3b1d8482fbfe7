#include "log/redis_url.hpp"

#include "core/text.hpp"

#include <boost/url/parse.hpp>

#include <charconv>

namespace colloquy {
namespace {

constexpr std::string_view prefix = "redis://";

// The text as it is quoted in a message (it may come from the environment: no raw controls).
std::string quoted(std::string_view text) { return "'" + escape_control_characters(text) + "'"; }

std::variant<RedisEndpoint, std::string> parse_one(std::string_view item) {
  const auto parsed = boost::urls::parse_uri(item);
  if (!item.starts_with(prefix) || !parsed) return quoted(item) + " is not a redis://HOST:PORT URL";
  const boost::urls::url_view& url = *parsed;
  std::string_view rest = item.substr(prefix.size()); // as the messages below quote it
  if (rest.ends_with('/')) rest.remove_suffix(1);

  const bool plain_host = url.host_type() == boost::urls::host_type::name ||
                          url.host_type() == boost::urls::host_type::ipv4 ||
                          url.host_type() == boost::urls::host_type::ipv6;
  const auto encoded_host = url.encoded_host_address();
  const bool path_ok = url.encoded_path().empty() || url.encoded_path() == "/";
  if (!plain_host || encoded_host.empty() || encoded_host.find('%') != std::string_view::npos || url.has_userinfo() ||
      !path_ok || url.has_query() || url.has_fragment()) {
    return quoted(rest) + " has no valid host (user, password and database are not supported)";
  }
  RedisEndpoint endpoint;
  endpoint.host = std::string(encoded_host); // brackets of an IPv6 address removed
  if (url.has_port()) {
    const std::string_view digits = url.port();
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || port == 0 || port > 65535) {
      return quoted(rest) + " has no valid port";
    }
    endpoint.port = static_cast<std::uint16_t>(port);
  }
  return endpoint;
}

} // namespace

std::variant<std::vector<RedisEndpoint>, std::string> parse_redis_urls(std::string_view text) {
  std::vector<RedisEndpoint> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    std::string_view item = text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    auto endpoint = parse_one(item);
    if (auto* message = std::get_if<std::string>(&endpoint)) return std::move(*message);
    out.push_back(std::move(std::get<RedisEndpoint>(endpoint)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (out.empty()) return std::string("no Redis URL given");
  return out;
}

} // namespace colloquy
