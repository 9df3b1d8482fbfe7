// The logger: the line shape scripts read, levels, lazy formatting, and escaping that keeps text
// from outside from forging a line.
#include "app/logger.hpp"
#include "core/text.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <string>

namespace colloquy {
namespace {

// Counts how often it is formatted.
struct Probe {
  int* formatted;
};

} // namespace
} // namespace colloquy

template <>
struct fmt::formatter<colloquy::Probe> : fmt::formatter<std::string_view> {
  auto format(const colloquy::Probe& p, format_context& ctx) const {
    ++*p.formatted;
    return fmt::formatter<std::string_view>::format("probe", ctx);
  }
};

namespace colloquy {
namespace {

class LoggerTest : public ::testing::Test {
protected:
  void SetUp() override {
    logger::set_output(&out);
    logger::set_level(logger::Level::info);
  }
  void TearDown() override {
    logger::set_output(nullptr);
    logger::set_level(logger::Level::info);
  }
  std::string text() const { return out.str(); }
  std::ostringstream out;
};

TEST_F(LoggerTest, OneLinePerRecordWithUtcTimeAndLevel) {
  logger::info("room {} created", "r1");
  logger::warn("plain message with {braces}");
  logger::error("{} of {}", 3, 4);
  const std::regex shape(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z (debug|info|warn|error) .+)");
  std::istringstream lines(text());
  std::vector<std::string> all;
  for (std::string line; std::getline(lines, line);) {
    EXPECT_TRUE(std::regex_match(line, shape)) << line;
    all.push_back(line);
  }
  ASSERT_EQ(all.size(), 3u);
  EXPECT_TRUE(all[0].ends_with(" info room r1 created")) << all[0];
  EXPECT_TRUE(all[1].ends_with(" warn plain message with {braces}")) << all[1];
  EXPECT_TRUE(all[2].ends_with(" error 3 of 4")) << all[2];
}

TEST_F(LoggerTest, LevelsBelowTheThresholdWriteNothing) {
  logger::debug("hidden");
  logger::set_level(logger::Level::error);
  logger::warn("hidden {}", 1);
  EXPECT_EQ(text(), "");
  EXPECT_FALSE(logger::enabled(logger::Level::warn));
  EXPECT_TRUE(logger::enabled(logger::Level::error));
  logger::set_level(logger::Level::debug);
  logger::debug("shown {}", 2);
  EXPECT_NE(text().find(" debug shown 2"), std::string::npos) << text();
}

TEST_F(LoggerTest, ArgumentsAreFormattedOnlyWhenTheLevelIsOn) {
  int formatted = 0;
  logger::debug("value {}", Probe{&formatted});
  EXPECT_EQ(formatted, 0) << "debug is off: the argument must not be formatted";
  logger::set_level(logger::Level::error);
  logger::info("value {}", Probe{&formatted});
  logger::warn("value {}", Probe{&formatted});
  EXPECT_EQ(formatted, 0);
  logger::error("value {}", Probe{&formatted});
  EXPECT_EQ(formatted, 1);
  EXPECT_NE(text().find(" error value probe"), std::string::npos) << text();
}

TEST_F(LoggerTest, AForgedLineInAnArgumentStaysOnItsOwnLine) {
  const std::string room_id = "r1\n2030-01-01T00:00:00.000Z info fake record\r";
  logger::info("room {} created", room_id);
  logger::info(std::string("room ") + room_id + " created"); // the plain form is escaped too
  std::istringstream lines(text());
  int count = 0;
  for (std::string line; std::getline(lines, line);) {
    ++count;
    EXPECT_TRUE(line.ends_with(" info room r1\\n2030-01-01T00:00:00.000Z info fake record\\x0d created")) << line;
  }
  EXPECT_EQ(count, 2);
}

TEST(EscapeControlCharacters, MakesEveryControlCharacterVisible) {
  EXPECT_EQ(escape_control_characters("plain text, Zoë Ó Briain, 😀"), "plain text, Zoë Ó Briain, 😀");
  EXPECT_EQ(escape_control_characters("a\nb"), "a\\nb");
  EXPECT_EQ(escape_control_characters(std::string("\0\x01\t\r\x1b[31m\x1f", 10)), "\\x00\\x01\\x09\\x0d\\x1b[31m\\x1f");
  EXPECT_EQ(escape_control_characters("del\x7f"), "del\\x7f");
  EXPECT_EQ(escape_control_characters("nel\xC2\x85 csi\xC2\x9B end\xC2\xA0"), "nel\\x85 csi\\x9b end\xC2\xA0")
      << "C1 code points are escaped; U+00A0 is not a control";
  EXPECT_EQ(escape_control_characters("ls\xE2\x80\xA8ps\xE2\x80\xA9"), "ls\\u2028ps\\u2029");
  EXPECT_EQ(escape_control_characters("bad\xFF\xC3"), "bad\\xff\\xc3") << "bytes that are not UTF-8";
  EXPECT_EQ(escape_control_characters("\x85"), "\\x85") << "a lone C1 byte (Latin-1 NEL)";
  EXPECT_EQ(escape_control_characters("back\\slash"), "back\\slash");
  EXPECT_EQ(escape_control_characters(""), "");
}

} // namespace
} // namespace colloquy
