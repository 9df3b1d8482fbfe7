// Redis URLs and the sharding of rooms over several Redis servers.
#include "app/config.hpp"
#include "log/redis_room_log.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace colloquy {
namespace {

TEST(RedisUrls, OneOrSeveralHostPortUrls) {
  auto one = parse_redis_urls("redis://127.0.0.1:6380");
  ASSERT_TRUE(std::holds_alternative<std::vector<RedisEndpoint>>(one));
  EXPECT_EQ(std::get<0>(one).at(0).host, "127.0.0.1");
  EXPECT_EQ(std::get<0>(one).at(0).port, 6380);

  auto several = parse_redis_urls("redis://a:6379, redis://b/,redis://[::1]:7000");
  ASSERT_TRUE(std::holds_alternative<std::vector<RedisEndpoint>>(several));
  const auto& list = std::get<0>(several);
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[1].host, "b");
  EXPECT_EQ(list[1].port, 6379) << "the default port";
  EXPECT_EQ(list[2].host, "::1");
  EXPECT_EQ(list[2].port, 7000);
}

TEST(RedisUrls, BadOnesSayWhatIsWrong) {
  for (const char* bad : {"", "127.0.0.1:6379", "http://a:1", "redis://a:0", "redis://a:70000", "redis://user:pw@a:1",
                          "redis://a:1,", "redis://:6379"}) {
    auto result = parse_redis_urls(bad);
    EXPECT_TRUE(std::holds_alternative<std::string>(result)) << bad;
  }
}

TEST(RedisUrls, ConfigAcceptsFlagAndEnvironmentAndRefusesBadValues) {
  auto from_flag = parse_config({"--redis", "redis://127.0.0.1:6379"}, {});
  ASSERT_TRUE(std::holds_alternative<Config>(from_flag));
  EXPECT_EQ(std::get<Config>(from_flag).redis, "redis://127.0.0.1:6379");
  auto from_env = parse_config({}, {{"COLLOQUY_REDIS", "redis://a:1,redis://b:2"}});
  ASSERT_TRUE(std::holds_alternative<Config>(from_env));
  EXPECT_EQ(std::get<Config>(from_env).redis, "redis://a:1,redis://b:2");
  auto bad = parse_config({"--redis", "localhost"}, {});
  ASSERT_TRUE(std::holds_alternative<ConfigError>(bad));
  EXPECT_NE(std::get<ConfigError>(bad).message.find("--redis"), std::string::npos);
  EXPECT_TRUE(std::get<Config>(parse_config({}, {})).redis.empty()) << "embedded by default";
}

TEST(Sharding, EveryRoomHasOneStableShardAndLoadIsEven) {
  std::map<std::size_t, int> counts;
  for (int i = 0; i < 10000; ++i) {
    const std::string room = "room" + std::to_string(i);
    const auto s = shard_for(room, 4);
    ASSERT_LT(s, 4u);
    EXPECT_EQ(s, shard_for(room, 4)) << "the same room always goes to the same shard";
    ++counts[s];
  }
  for (const auto& [shard, n] : counts) EXPECT_NEAR(n, 2500, 250) << "shard " << shard;
  EXPECT_EQ(shard_for("anything", 1), 0u);
}

TEST(Sharding, AddingAShardMovesOnlyItsShareOfRooms) {
  int moved = 0;
  for (int i = 0; i < 10000; ++i) {
    const std::string room = "room" + std::to_string(i);
    const auto before = shard_for(room, 4);
    const auto after = shard_for(room, 5);
    if (before != after) {
      ++moved;
      EXPECT_EQ(after, 4u) << "a room only ever moves to the new shard";
    }
  }
  EXPECT_NEAR(moved, 2000, 250) << "about 1/5 of the rooms move";
}

} // namespace
} // namespace colloquy
