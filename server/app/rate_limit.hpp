#pragma once
// Token buckets: per connection (commands) and per client address (HTTP requests, room creation).
// Pure bookkeeping on a caller-supplied clock, no I/O; AddressRates is thread-safe and bounded.
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace colloquy {

// `rate` tokens a second up to `burst`; starts full.
struct TokenBucket {
  double tokens = -1; // < 0: not used yet (full)
  std::int64_t at_ms = 0;

  // Takes one token, or says how long (ms, at least 1) until one is there.
  std::optional<std::int64_t> take(std::int64_t now_ms, double rate, double burst);
  // True when, at now_ms, the bucket would be full again (forgetting it changes nothing).
  bool full_at(std::int64_t now_ms, double rate, double burst) const;
};

// One bucket per client address. An IPv6 address counts by its /64 (one subscriber's block), a
// v4-mapped address as the IPv4 one. At most `max_addresses` are remembered: past it full buckets
// are forgotten first, then the oldest (a flood of addresses cannot grow memory, and at worst lets
// an address start afresh — it never locks anyone out).
class AddressRates {
public:
  AddressRates(double per_second, double burst, std::size_t max_addresses = 65'536)
      : rate_(per_second), burst_(burst), max_addresses_(max_addresses) {}

  // Nothing when the request may go ahead; else the milliseconds until it may.
  std::optional<std::int64_t> take(std::string_view address, std::int64_t now_ms);
  std::size_t remembered() const;
  double rate() const { return rate_; }

private:
  double rate_;
  double burst_;
  std::size_t max_addresses_;
  mutable std::mutex mutex_;
  struct Entry {
    TokenBucket bucket;
    std::uint64_t order; // insertion order, to forget the oldest first
  };
  std::unordered_map<std::string, Entry> buckets_;
  std::uint64_t next_order_ = 0;
  void forget_some(std::int64_t now_ms);
};

// The key an address is counted under (see AddressRates).
std::string rate_key(std::string_view address);

// The client's address: the socket's peer, unless the peer is one of `trusted_proxies` (addresses
// or networks ADDR/LEN) — then the
// rightmost X-Forwarded-For entry that is not a trusted proxy (entries left of it could be
// forged by the client). A malformed entry stops the walk at the last good address.
std::string client_address(std::string_view peer, std::string_view forwarded_for, const std::vector<std::string>& trusted_proxies);

// Whether `text` is an IPv4 or IPv6 address, in any textual form.
bool is_ip_address(std::string_view text);
// Whether `text` names trusted proxies: an address, or a network ADDR/LEN (10.0.0.0/8, fd00::/8).
bool is_proxy_spec(std::string_view text);

} // namespace colloquy
