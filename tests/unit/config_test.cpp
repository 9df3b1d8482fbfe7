// Settings: defaults, environment, flags, and clear refusals of bad values.
#include "app/config.hpp"

#include <gtest/gtest.h>

namespace colloquy {
namespace {

Config parse_ok(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
  auto result = parse_config(args, env);
  if (auto* e = std::get_if<ConfigError>(&result)) ADD_FAILURE() << e->message;
  return std::holds_alternative<Config>(result) ? std::get<Config>(result) : Config{};
}

std::string parse_error(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
  auto result = parse_config(args, env);
  EXPECT_TRUE(std::holds_alternative<ConfigError>(result));
  return std::holds_alternative<ConfigError>(result) ? std::get<ConfigError>(result).message : "";
}

TEST(Config, DefaultsServeLocalhost8080) {
  Config c = parse_ok({});
  EXPECT_EQ(c.port, 8080);
  EXPECT_EQ(c.bind, "127.0.0.1");
  EXPECT_EQ(c.max_frame_bytes, 65536u);
  EXPECT_EQ(c.max_members_per_room, 50u);
  EXPECT_FALSE(c.static_dir.empty());
}

TEST(Config, FlagsOverrideEnvironment) {
  Config c = parse_ok({"--port", "9000"}, {{"COLLOQUY_PORT", "7000"}, {"COLLOQUY_BIND", "0.0.0.0"}});
  EXPECT_EQ(c.port, 9000);
  EXPECT_EQ(c.bind, "0.0.0.0");
  EXPECT_EQ(parse_ok({}, {{"COLLOQUY_PORT", "7000"}}).port, 7000);
  EXPECT_EQ(parse_ok({"--port=0"}).port, 0);
  EXPECT_EQ(parse_ok({"--static-dir", "/srv/www", "--threads", "4"}).static_dir, "/srv/www");
}

TEST(Config, PublicOriginsAddUpAndAFlagReplacesTheEnvironment) {
  EXPECT_TRUE(parse_ok({}).public_origins.empty());
  EXPECT_EQ(parse_ok({"--public-origin", "https://Colloquy.Example.org/"}).public_origins,
            (std::vector<std::string>{"https://colloquy.example.org:443"}));
  EXPECT_EQ(parse_ok({"--public-origin", "https://a.example", "--public-origin=http://b.example:8080, https://c.example"}).public_origins,
            (std::vector<std::string>{"https://a.example:443", "http://b.example:8080", "https://c.example:443"}));
  const std::map<std::string, std::string> env{{"COLLOQUY_PUBLIC_ORIGIN", "https://a.example,https://b.example"}};
  EXPECT_EQ(parse_ok({}, env).public_origins, (std::vector<std::string>{"https://a.example:443", "https://b.example:443"}));
  EXPECT_EQ(parse_ok({"--public-origin", "https://c.example"}, env).public_origins, (std::vector<std::string>{"https://c.example:443"}));
  for (const char* bad : {"colloquy.example.org", "https://colloquy.example.org/room", "ftp://x.example", "https://a.example,,https://b",
                          "https://x.example:99999"}) {
    const std::string message = parse_error({"--public-origin", bad});
    EXPECT_NE(message.find("--public-origin"), std::string::npos) << bad;
    EXPECT_NE(message.find("https://colloquy.example.org"), std::string::npos) << "says what it expects: " << message;
  }
  EXPECT_NE(parse_error({}, {{"COLLOQUY_PUBLIC_ORIGIN", "nope"}}).find("COLLOQUY_PUBLIC_ORIGIN"), std::string::npos);
}

TEST(Config, BadValuesAreRefusedWithTheReason) {
  EXPECT_NE(parse_error({"--port", "80a"}).find("--port"), std::string::npos);
  EXPECT_NE(parse_error({"--port", "70000"}).find("0-65535"), std::string::npos);
  EXPECT_NE(parse_error({}, {{"COLLOQUY_PORT", "x"}}).find("COLLOQUY_PORT"), std::string::npos);
  EXPECT_NE(parse_error({"--threads", "0"}).find("1-64"), std::string::npos);
  EXPECT_NE(parse_error({"--max-frame-bytes", "10"}).find("--max-frame-bytes"), std::string::npos);
  EXPECT_NE(parse_error({"--log-level", "loud"}).find("debug"), std::string::npos);
  EXPECT_NE(parse_error({"--nope"}).find("unknown option"), std::string::npos);
  EXPECT_NE(parse_error({"--port"}).find("needs a value"), std::string::npos);
}

TEST(Config, MessagesSayWhichSettingAndWhatItExpects) {
  EXPECT_EQ(parse_error({"--port", "80a"}), "--port 80a is not valid: expected a port number 0-65535");
  EXPECT_EQ(parse_error({"--fsync=sometimes"}), "--fsync sometimes is not valid: expected always or everysec");
  EXPECT_EQ(parse_error({}, {{"COLLOQUY_PORT", "x"}}), "COLLOQUY_PORT=x is not valid: expected a port number 0-65535");
  EXPECT_EQ(parse_error({"--nope"}), "unknown option '--nope' (see --help)");
  EXPECT_EQ(parse_error({"--port", "1", "2"}), "unknown option '2' (see --help)");
  EXPECT_EQ(parse_error({"--port"}), "--port needs a value: a port number 0-65535");
  EXPECT_EQ(parse_error({"--max-rooms", "--threads", "4"}), "--max-rooms needs a value: a number 1-10000000");
  EXPECT_EQ(parse_error({"--threads", "0", "--port", "x"}), "--threads 0 is not valid: expected a number 1-64")
      << "the first mistake, in the order given";
  EXPECT_EQ(parse_error({}, {{"COLLOQUY_THREADS", "0"}, {"COLLOQUY_PORT", "1"}}),
            "COLLOQUY_THREADS=0 is not valid: expected a number 1-64");
  EXPECT_EQ(parse_error({"--threads", "4"}, {{"COLLOQUY_THREADS", "0"}}), "COLLOQUY_THREADS=0 is not valid: expected a number 1-64")
      << "a bad variable is refused even when a flag overrides it";
}

TEST(Config, AValueWithALineFeedIsQuotedEscaped) {
  const auto message = parse_error({"--port", "1\n2026-01-01T00:00:00.000Z info forged"});
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_NE(message.find("1\\n2026"), std::string::npos) << message;
  EXPECT_EQ(parse_error({}, {{"COLLOQUY_LOG_LEVEL", "info\n"}}), "COLLOQUY_LOG_LEVEL=info\\n is not valid: expected debug, info, warn or error");
}

TEST(Config, EveryFlagAndTheLastOneWins) {
  Config c = parse_ok({"--bind", "::1", "--port", "1", "--port", "2", "--static-dir=/srv", "--threads", "3",
                       "--max-frame-bytes", "2048", "--max-send-queue-bytes", "65536", "--max-members", "7",
                       "--max-rooms", "9", "--data-dir", "/var/lib/c", "--fsync", "everysec", "--redis",
                       "redis://r:1", "--log-level", "warn"});
  EXPECT_EQ(c.bind, "::1");
  EXPECT_EQ(c.port, 2);
  EXPECT_EQ(c.static_dir, "/srv");
  EXPECT_EQ(c.threads, 3u);
  EXPECT_EQ(c.max_frame_bytes, 2048u);
  EXPECT_EQ(c.max_send_queue_bytes, 65536u);
  EXPECT_EQ(c.max_members_per_room, 7u);
  EXPECT_EQ(c.max_rooms, 9u);
  EXPECT_EQ(c.data_dir, "/var/lib/c");
  EXPECT_EQ(c.fsync, "everysec");
  EXPECT_EQ(c.redis, "redis://r:1");
  EXPECT_EQ(c.log_level, "warn");
}

TEST(Config, HelpNamesEveryFlagAndVariableWhereverItIsAsked) {
  const std::vector<std::pair<std::string, std::string>> all = {
      {"--bind", "COLLOQUY_BIND"}, {"--port", "COLLOQUY_PORT"}, {"--static-dir", "COLLOQUY_STATIC_DIR"},
      {"--threads", "COLLOQUY_THREADS"}, {"--max-frame-bytes", "COLLOQUY_MAX_FRAME_BYTES"},
      {"--max-send-queue-bytes", "COLLOQUY_MAX_SEND_QUEUE_BYTES"}, {"--max-members", "COLLOQUY_MAX_MEMBERS"},
      {"--max-rooms", "COLLOQUY_MAX_ROOMS"}, {"--data-dir", "COLLOQUY_DATA_DIR"}, {"--fsync", "COLLOQUY_FSYNC"},
      {"--redis", "COLLOQUY_REDIS"}, {"--log-level", "COLLOQUY_LOG_LEVEL"}};
  auto help = parse_config({"--port", "9000", "--help"}, {});
  ASSERT_TRUE(std::holds_alternative<ConfigHelp>(help));
  const std::string& text = std::get<ConfigHelp>(help).text;
  EXPECT_TRUE(text.starts_with("colloquy: live session server")) << text;
  for (const auto& [flag, env] : all) {
    EXPECT_NE(text.find("  " + flag + " "), std::string::npos) << flag;
    EXPECT_NE(text.find(env), std::string::npos) << env;
    std::map<std::string, std::string> environment = {{env, ""}};
    EXPECT_NE(parse_error({}, environment).find(env + "= is not valid"), std::string::npos) << env << " is read";
  }
  EXPECT_NE(text.find("--version"), std::string::npos);
  EXPECT_TRUE(text.ends_with("show the version\n")) << text;
  EXPECT_TRUE(std::holds_alternative<ConfigHelp>(parse_config({"-h"}, {})));
  EXPECT_TRUE(std::holds_alternative<ConfigVersion>(parse_config({"--version", "--port", "x"}, {})));
}

TEST(Config, HelpAndVersion) {
  auto help = parse_config({"--help"}, {});
  ASSERT_TRUE(std::holds_alternative<ConfigHelp>(help));
  EXPECT_NE(std::get<ConfigHelp>(help).text.find("COLLOQUY_PORT"), std::string::npos);
  auto version = parse_config({"--version"}, {});
  ASSERT_TRUE(std::holds_alternative<ConfigVersion>(version));
  EXPECT_NE(std::get<ConfigVersion>(version).text.find("colloquy"), std::string::npos);
}

} // namespace
} // namespace colloquy

namespace colloquy {
namespace {

TEST(Config, PerAddressLimitsProxiesAndTheCreationToken) {
  const Config defaults = parse_ok({});
  EXPECT_EQ(defaults.room_creations_per_hour, 30u);
  EXPECT_EQ(defaults.max_http_requests_per_second, 100u);
  EXPECT_TRUE(defaults.trusted_proxies.empty());
  EXPECT_TRUE(defaults.create_token.empty()) << "anyone may create rooms unless the operator says otherwise";
  const Config c = parse_ok({"--trusted-proxy", "10.0.0.2, fd00::/8"}, {{"COLLOQUY_CREATE_TOKEN", "a-long-staff-token-42"}});
  EXPECT_EQ(c.trusted_proxies, (std::vector<std::string>{"10.0.0.2", "fd00::/8"}));
  EXPECT_EQ(c.create_token, "a-long-staff-token-42");
  EXPECT_NE(parse_error({"--trusted-proxy", "proxy.internal"}).find("IP addresses"), std::string::npos);
  EXPECT_NE(parse_error({"--create-token", "short"}).find("16-256"), std::string::npos);
  // A refused token is a secret all the same (a typo of the real one): never quoted back.
  const std::string typo = "a-long-staff-token with a space";
  for (const auto& message : {parse_error({"--create-token", typo}), parse_error({}, {{"COLLOQUY_CREATE_TOKEN", typo}})}) {
    EXPECT_EQ(message.find("staff-token"), std::string::npos) << message;
    EXPECT_NE(message.find("not shown"), std::string::npos) << message;
  }
  EXPECT_NE(parse_error({"--room-creations-per-hour", "0"}).find("1-1000000"), std::string::npos);
}

} // namespace
} // namespace colloquy
