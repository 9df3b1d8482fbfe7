// One client cannot take every socket: caps in all and per address, freed when a connection ends.
#include "app/connection_limits.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace colloquy {
namespace {

TEST(ConnectionLimits, PastTheTotalCapConnectionsAreMarkedAndPlacesComeBack) {
  auto limits = std::make_shared<ConnectionLimits>(ConnectionCaps{3, 100});
  std::vector<std::unique_ptr<ConnectionLimits::Slot>> open;
  for (int i = 0; i < 3; ++i) open.push_back(limits->open("10.0.0." + std::to_string(i)));
  for (const auto& s : open) EXPECT_FALSE(s->over_total());
  EXPECT_TRUE(open.back()->in_reserve()) << "the third of three is the reserve";
  auto fourth = limits->open("10.0.0.9");
  EXPECT_TRUE(fourth->over_total()) << "the fourth socket is only answered, to be refused";
  EXPECT_EQ(limits->open_connections(), 4u);
  fourth.reset();
  open.pop_back();
  EXPECT_EQ(limits->open_connections(), 2u);
  EXPECT_FALSE(limits->open("10.0.0.9")->over_total()) << "a place freed is a place again";
}

TEST(ConnectionLimits, TheLastTenthOfTheTotalIsTheReserveForMembersOfExistingRooms) {
  auto limits = std::make_shared<ConnectionLimits>(ConnectionCaps{20, 100});
  EXPECT_EQ(limits->caps().reserve(), 2u);
  std::vector<std::unique_ptr<ConnectionLimits::Slot>> open;
  for (int i = 0; i < 18; ++i) open.push_back(limits->open("10.0.0.1"));
  for (const auto& s : open) EXPECT_EQ(s->tier(), ConnectionTier::normal);
  auto r1 = limits->open("10.0.0.2");
  auto r2 = limits->open("10.0.0.2");
  EXPECT_TRUE(r1->in_reserve());
  EXPECT_TRUE(r2->in_reserve());
  EXPECT_FALSE(r2->over_total());
  EXPECT_TRUE(limits->open("10.0.0.2")->over_total());
  open.pop_back();
  EXPECT_TRUE(limits->open("10.0.0.3")->in_reserve()) << "19 open: the next is still in the reserve";
  r1.reset();
  r2.reset();
  EXPECT_EQ(limits->open("10.0.0.3")->tier(), ConnectionTier::normal) << "17 open: the next is below the reserve";
  EXPECT_EQ((ConnectionCaps{5, 1}.reserve()), 1u) << "a small server still keeps one place";
  EXPECT_EQ((ConnectionCaps{1, 1}.reserve()), 0u) << "one place is never a reserve";
}

TEST(ConnectionLimits, WebSocketsPerAddressStopAtTheCapAndOtherAddressesAreUntouched) {
  auto limits = std::make_shared<ConnectionLimits>(ConnectionCaps{100, 2});
  auto a1 = limits->open("192.0.2.1");
  auto a2 = limits->open("192.0.2.1");
  auto a3 = limits->open("192.0.2.1");
  EXPECT_TRUE(a1->admit_websocket());
  EXPECT_TRUE(a1->admit_websocket()) << "admitting twice counts once";
  EXPECT_TRUE(a2->admit_websocket());
  EXPECT_FALSE(a3->admit_websocket());
  EXPECT_EQ(limits->websockets_from("192.0.2.1"), 2u);
  auto b = limits->open("192.0.2.2");
  EXPECT_TRUE(b->admit_websocket());
  a1.reset();
  EXPECT_EQ(limits->websockets_from("192.0.2.1"), 1u);
  EXPECT_TRUE(a3->admit_websocket()) << "the address may open one again";
  a2.reset();
  a3.reset();
  EXPECT_EQ(limits->websockets_from("192.0.2.1"), 0u);
}

} // namespace
} // namespace colloquy
