// Per-address limits: a client is slowed by its own requests only, is told when to come back, and
// cannot hide behind a proxy's address nor forge one.
#include "app/rate_limit.hpp"

#include <gtest/gtest.h>

namespace colloquy {
namespace {

TEST(TokenBucket, AllowsTheBurstThenSaysWhenTheNextTokenComes) {
  TokenBucket bucket;
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(bucket.take(1000, 2.0, 10.0)) << i;
  const auto wait = bucket.take(1000, 2.0, 10.0);
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, 500) << "two tokens a second: the next one in half a second";
  EXPECT_TRUE(bucket.take(1400, 2.0, 10.0));
  EXPECT_FALSE(bucket.take(1500, 2.0, 10.0));
  EXPECT_FALSE(bucket.full_at(1500, 2.0, 10.0));
  EXPECT_TRUE(bucket.full_at(6500, 2.0, 10.0));
}

TEST(AddressRates, EachAddressHasItsOwnBucket) {
  AddressRates rates(1.0, 3.0);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(rates.take("192.0.2.1", 0));
  EXPECT_TRUE(rates.take("192.0.2.1", 0));
  EXPECT_FALSE(rates.take("192.0.2.2", 0)) << "another address is untouched";
  EXPECT_TRUE(rates.take("::ffff:192.0.2.1", 0)) << "the v4-mapped form is the same client";
  EXPECT_FALSE(rates.take("192.0.2.1", 1000)) << "a second later one more";
}

TEST(AddressRates, AnIpv6ClientCountsByItsSlash64) {
  AddressRates rates(1.0, 2.0);
  EXPECT_FALSE(rates.take("2001:db8:1:2::1", 0));
  EXPECT_FALSE(rates.take("2001:db8:1:2:ffff::9", 0));
  EXPECT_TRUE(rates.take("2001:db8:1:2:aaaa:bbbb:cccc:dddd", 0)) << "rotating within a /64 does not help";
  EXPECT_FALSE(rates.take("2001:db8:1:3::1", 0));
  EXPECT_EQ(rate_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
}

TEST(AddressRates, RemembersABoundedNumberOfAddresses) {
  AddressRates rates(1.0, 1.0, 100);
  for (int i = 0; i < 1000; ++i) rates.take("10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250), 0);
  EXPECT_LE(rates.remembered(), 100u);
  // Idle (full) buckets go first: a busy address keeps its count while idle ones are forgotten.
  AddressRates idle(1.0, 1.0, 10);
  EXPECT_FALSE(idle.take("198.51.100.1", 0));
  for (int i = 0; i < 20; ++i) idle.take("203.0.113." + std::to_string(i), 10'000 + i * 0);
  EXPECT_LE(idle.remembered(), 10u);
}

TEST(ClientAddress, IsTheSocketPeerUnlessThePeerIsATrustedProxy) {
  EXPECT_EQ(client_address("198.51.100.7", "203.0.113.9", {}), "198.51.100.7") << "no proxy trusted: the header is ignored";
  EXPECT_EQ(client_address("198.51.100.7", "203.0.113.9", {"10.0.0.2"}), "198.51.100.7") << "not from the proxy";
  EXPECT_EQ(client_address("10.0.0.2", "203.0.113.9", {"10.0.0.2"}), "203.0.113.9");
  EXPECT_EQ(client_address("::ffff:10.0.0.2", "203.0.113.9", {"10.0.0.2"}), "203.0.113.9");
}

TEST(ClientAddress, TakesTheRightmostEntryNotAddedByATrustedProxy) {
  // The client wrote "1.2.3.4" itself; the first proxy appended the real peer, the second the first.
  EXPECT_EQ(client_address("10.0.0.2", "1.2.3.4, 203.0.113.9, 10.0.0.3", {"10.0.0.2", "10.0.0.3"}), "203.0.113.9");
  EXPECT_EQ(client_address("10.0.0.2", "garbage, 203.0.113.9", {"10.0.0.2"}), "203.0.113.9");
  EXPECT_EQ(client_address("10.0.0.2", "203.0.113.9, not-an-address", {"10.0.0.2"}), "10.0.0.2")
      << "a malformed last hop: the proxy itself is the client";
  EXPECT_EQ(client_address("10.0.0.2", "", {"10.0.0.2"}), "10.0.0.2");
  EXPECT_EQ(client_address("10.0.0.2", " 2001:db8::5 ", {"10.0.0.2"}), "2001:db8::5");
}

} // namespace
} // namespace colloquy

namespace colloquy {
namespace {

TEST(ClientAddress, TrustedProxiesMayBeNetworks) {
  EXPECT_EQ(client_address("10.1.2.3", "203.0.113.9", {"10.0.0.0/8"}), "203.0.113.9");
  EXPECT_EQ(client_address("11.1.2.3", "203.0.113.9", {"10.0.0.0/8"}), "11.1.2.3");
  EXPECT_EQ(client_address("fd00::7", "2001:db8::1", {"fd00::/8"}), "2001:db8::1");
  EXPECT_EQ(client_address("10.0.0.9", "203.0.113.9, 10.0.0.5", {"10.0.0.0/24"}), "203.0.113.9");
  EXPECT_TRUE(is_proxy_spec("10.0.0.0/8"));
  EXPECT_TRUE(is_proxy_spec("::1"));
  EXPECT_TRUE(is_proxy_spec("fd00::/8"));
  EXPECT_FALSE(is_proxy_spec("10.0.0.0/33"));
  EXPECT_FALSE(is_proxy_spec("10.0.0.0/"));
  EXPECT_FALSE(is_proxy_spec("proxy.internal"));
  EXPECT_FALSE(is_proxy_spec(""));
}

} // namespace
} // namespace colloquy
