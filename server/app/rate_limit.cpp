#include "app/rate_limit.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <utility>

namespace colloquy {

std::optional<std::int64_t> TokenBucket::take(std::int64_t now_ms, double rate, double burst) {
  if (tokens < 0) {
    tokens = burst;
  } else {
    tokens = std::min(burst, tokens + static_cast<double>(std::max<std::int64_t>(0, now_ms - at_ms)) * rate / 1000.0);
  }
  at_ms = now_ms;
  if (tokens >= 1) {
    tokens -= 1;
    return std::nullopt;
  }
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil((1 - tokens) * 1000.0 / rate)));
}

bool TokenBucket::full_at(std::int64_t now_ms, double rate, double burst) const {
  if (tokens < 0) return true;
  return tokens + static_cast<double>(std::max<std::int64_t>(0, now_ms - at_ms)) * rate / 1000.0 >= burst;
}

bool is_ip_address(std::string_view text) {
  if (text.empty() || text.size() > 64) return false;
  const std::string s(text);
  in6_addr v6{};
  in_addr v4{};
  return ::inet_pton(AF_INET, s.c_str(), &v4) == 1 || ::inet_pton(AF_INET6, s.c_str(), &v6) == 1;
}

namespace {
// The canonical text of an address (IPv4 for a v4-mapped IPv6 one), and whether it is IPv6.
std::pair<std::string, bool> canonical(std::string_view address, in6_addr* v6_out = nullptr) {
  std::string s(address);
  if (s.size() > 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  in6_addr v6{};
  if (::inet_pton(AF_INET6, s.c_str(), &v6) != 1) {
    in_addr v4{};
    char out[INET_ADDRSTRLEN];
    if (::inet_pton(AF_INET, s.c_str(), &v4) == 1 && ::inet_ntop(AF_INET, &v4, out, sizeof out)) return {out, false};
    return {s, false};
  }
  static constexpr unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(std::begin(mapped), std::end(mapped), v6.s6_addr)) {
    char out[INET_ADDRSTRLEN];
    in_addr v4{};
    std::copy(v6.s6_addr + 12, v6.s6_addr + 16, reinterpret_cast<unsigned char*>(&v4.s_addr));
    return {::inet_ntop(AF_INET, &v4, out, sizeof out) ? std::string(out) : s, false};
  }
  if (v6_out) *v6_out = v6;
  char out[INET6_ADDRSTRLEN];
  return {::inet_ntop(AF_INET6, &v6, out, sizeof out) ? std::string(out) : s, true};
}
} // namespace

std::string rate_key(std::string_view address) {
  in6_addr v6{};
  auto [text, is_v6] = canonical(address, &v6);
  if (!is_v6) return text;
  std::fill(v6.s6_addr + 8, v6.s6_addr + 16, 0);
  char out[INET6_ADDRSTRLEN];
  if (!::inet_ntop(AF_INET6, &v6, out, sizeof out)) return text;
  return std::string(out) + "/64";
}

std::optional<std::int64_t> AddressRates::take(std::string_view address, std::int64_t now_ms) {
  const std::string key = rate_key(address);
  std::lock_guard lock(mutex_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_addresses_) forget_some(now_ms);
    it = buckets_.emplace(key, Entry{TokenBucket{}, next_order_++}).first;
  }
  return it->second.bucket.take(now_ms, rate_, burst_);
}

void AddressRates::forget_some(std::int64_t now_ms) {
  std::erase_if(buckets_, [&](const auto& kv) { return kv.second.bucket.full_at(now_ms, rate_, burst_); });
  if (buckets_.size() < max_addresses_) return;
  // Every remembered address is busy: forget the oldest quarter.
  std::vector<std::uint64_t> orders;
  orders.reserve(buckets_.size());
  for (const auto& [key, entry] : buckets_) orders.push_back(entry.order);
  auto cut = orders.begin() + static_cast<std::ptrdiff_t>(orders.size() / 4);
  std::nth_element(orders.begin(), cut, orders.end());
  const std::uint64_t below = *cut;
  std::erase_if(buckets_, [&](const auto& kv) { return kv.second.order <= below; });
}

std::size_t AddressRates::remembered() const {
  std::lock_guard lock(mutex_);
  return buckets_.size();
}

namespace {
bool to_bytes(std::string_view text, unsigned char (&out)[16], unsigned& bits);
// Whether the 16-byte address lies in `spec`: an address, or a network ADDR/LEN.
bool in_network(const unsigned char (&address)[16], std::string_view spec) {
  const auto slash = spec.find('/');
  unsigned char net[16];
  unsigned bits = 0;
  if (!to_bytes(spec.substr(0, slash), net, bits)) return false;
  unsigned prefix = 128;
  if (slash != std::string_view::npos) {
    unsigned len = 0;
    const auto digits = spec.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return false;
    for (char c : digits) {
      if (c < '0' || c > '9') return false;
      len = len * 10 + static_cast<unsigned>(c - '0');
    }
    if (len > bits) return false;
    prefix = 128 - bits + len;
  }
  for (unsigned i = 0; i < prefix; ++i) {
    const unsigned char mask = static_cast<unsigned char>(0x80u >> (i % 8));
    if ((address[i / 8] & mask) != (net[i / 8] & mask)) return false;
  }
  return true;
}
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}
// The address as 16 bytes (IPv4 as v4-mapped) and the prefix length that covers it whole.
bool to_bytes(std::string_view text, unsigned char (&out)[16], unsigned& bits) {
  std::string s(text);
  if (s.size() > 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  in_addr v4{};
  in6_addr v6{};
  if (::inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    static constexpr unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    std::copy(std::begin(mapped), std::end(mapped), out);
    std::copy_n(reinterpret_cast<const unsigned char*>(&v4.s_addr), 4, out + 12);
    bits = 32;
    return true;
  }
  if (::inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    std::copy_n(v6.s6_addr, 16, out);
    bits = 128;
    return true;
  }
  return false;
}

bool trusted(std::string_view address, const std::vector<std::string>& proxies) {
  unsigned char peer[16];
  unsigned peer_bits = 0;
  if (!to_bytes(address, peer, peer_bits)) return false;
  return std::any_of(proxies.begin(), proxies.end(), [&](const std::string& p) { return in_network(peer, p); });
}
} // namespace

std::string client_address(std::string_view peer, std::string_view forwarded_for, const std::vector<std::string>& trusted_proxies) {
  std::string address(peer);
  if (trusted_proxies.empty() || !trusted(peer, trusted_proxies)) return address;
  // Walk X-Forwarded-For from the right: each hop appended by a proxy we trust names the one before.
  while (!forwarded_for.empty()) {
    const auto comma = forwarded_for.rfind(',');
    const std::string_view entry = trim(comma == std::string_view::npos ? forwarded_for : forwarded_for.substr(comma + 1));
    forwarded_for = comma == std::string_view::npos ? std::string_view{} : forwarded_for.substr(0, comma);
    if (!is_ip_address(entry)) break;
    address = std::string(entry);
    if (!trusted(entry, trusted_proxies)) break;
  }
  return address;
}

bool is_proxy_spec(std::string_view text) {
  unsigned char address[16];
  unsigned bits = 0;
  if (!to_bytes(text.substr(0, text.find('/')), address, bits)) return false;
  return in_network(address, text); // the network contains its own address when its length is valid
}

} // namespace colloquy
