// Redis URLs and the sharding of rooms over several Redis servers.
#include "app/config.hpp"
#include "log/redis_room_log.hpp"
#include "log/redis_url.hpp"

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

std::string error_of(std::string_view text) {
  auto result = parse_redis_urls(text);
  EXPECT_TRUE(std::holds_alternative<std::string>(result)) << text;
  return std::holds_alternative<std::string>(result) ? std::get<std::string>(result) : "";
}

TEST(RedisUrls, MessagesNameTheUrlAndTheProblem) {
  EXPECT_EQ(error_of("http://a:1"), "'http://a:1' is not a redis://HOST:PORT URL");
  EXPECT_EQ(error_of("redis://a:1,"), "'' is not a redis://HOST:PORT URL");
  EXPECT_EQ(error_of("redis://a:70000"), "'a:70000' has no valid port");
  EXPECT_EQ(error_of("redis://a:0/"), "'a:0' has no valid port");
  EXPECT_EQ(error_of("redis://a:"), "'a:' has no valid port");
  EXPECT_EQ(error_of("redis://user:pw@a:1"), "'user:pw@a:1' has no valid host (user, password and database are not supported)");
  EXPECT_EQ(error_of("redis://:6379"), "':6379' has no valid host (user, password and database are not supported)");
}

TEST(RedisUrls, RefusesWhatRedisUrlsMayCarryButWeDoNotUse) {
  const std::string not_supported = "has no valid host (user, password and database are not supported)";
  for (const char* bad : {"redis://user@a:1", "redis://:secret@a:1", "redis://a:1/0", "redis://a/2", "redis://a:1//",
                          "redis://a:1?db=1", "redis://a:1/?password=x", "redis://a:1#frag", "redis://a%2db:1"}) {
    EXPECT_NE(error_of(bad).find(not_supported), std::string::npos) << bad;
  }
}

TEST(RedisUrls, ALineFeedOrOtherControlNeverGetsThroughOrIntoTheMessage) {
  for (const char* bad : {"redis://a\n:1", "redis://a:1\n", "redis://a\nb:1", "redis://a\r:1", "redis://a b:1", "redis://\x1b[2Ja:1"}) {
    const auto message = error_of(bad);
    EXPECT_FALSE(message.empty()) << bad;
    EXPECT_EQ(message.find_first_of("\n\r\x1b"), std::string::npos) << message;
  }
  EXPECT_EQ(error_of("redis://a\n:1"), "'redis://a\\n:1' is not a redis://HOST:PORT URL");
}

TEST(RedisUrls, HostForms) {
  auto v6 = parse_redis_urls(" redis://[::1] ,redis://[2001:db8::7]:6380/");
  ASSERT_TRUE(std::holds_alternative<std::vector<RedisEndpoint>>(v6));
  EXPECT_EQ(std::get<0>(v6).at(0).host, "::1");
  EXPECT_EQ(std::get<0>(v6).at(0).port, 6379);
  EXPECT_EQ(std::get<0>(v6).at(1).host, "2001:db8::7");
  EXPECT_EQ(std::get<0>(v6).at(1).port, 6380);
  EXPECT_EQ(std::get<0>(v6).at(1).text(), "redis://[2001:db8::7]:6380");
  auto names = parse_redis_urls("redis://redis-0.redis.default.svc:6379,redis://10.0.0.7");
  ASSERT_TRUE(std::holds_alternative<std::vector<RedisEndpoint>>(names));
  EXPECT_EQ(std::get<0>(names).at(0).host, "redis-0.redis.default.svc");
  EXPECT_EQ(std::get<0>(names).at(1).host, "10.0.0.7");
  EXPECT_EQ(std::get<0>(names).at(1).port, 6379);
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
