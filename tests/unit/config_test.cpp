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
