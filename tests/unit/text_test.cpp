// Display-text rules and secret helpers.
#include "core/secret.hpp"
#include "core/text.hpp"

#include <gtest/gtest.h>

#include <array>
#include <span>
#include <string>

namespace colloquy {
namespace {

TEST(Utf8Length, CountsCodePointsNotBytes) {
  EXPECT_EQ(utf8_length("Ada"), 3u);
  EXPECT_EQ(utf8_length("Zoë"), 3u);
  EXPECT_EQ(utf8_length("\xF0\x9F\x98\x80"), 1u); // one emoji, four bytes
  EXPECT_EQ(utf8_length(""), 0u);
}

TEST(Utf8Length, RejectsMalformedUtf8) {
  EXPECT_FALSE(utf8_length("\xC3"));             // truncated
  EXPECT_FALSE(utf8_length("\xC0\xAF"));         // overlong '/'
  EXPECT_FALSE(utf8_length("\xED\xA0\x80"));     // UTF-16 surrogate
  EXPECT_FALSE(utf8_length("\xF4\x90\x80\x80")); // above U+10FFFF
  EXPECT_FALSE(utf8_length("\xFF"));
}

TEST(CleanDisplayText, TrimsSurroundingWhiteSpace) {
  EXPECT_EQ(clean_display_text("  Lin \t", 60), "Lin");
  EXPECT_EQ(clean_display_text("Mary Ann", 60), "Mary Ann");
}

TEST(CleanDisplayText, EnforcesLengthInCodePoints) {
  std::string sixty;
  for (int i = 0; i < 60; ++i) sixty += "é";
  EXPECT_EQ(clean_display_text(sixty, 60), sixty);
  EXPECT_FALSE(clean_display_text(sixty + "é", 60));
  EXPECT_FALSE(clean_display_text(std::string(61, 'a'), 60));
}

TEST(CleanDisplayText, RejectsEmptyAndControlCharacters) {
  EXPECT_FALSE(clean_display_text("", 60));
  EXPECT_FALSE(clean_display_text("   ", 60));
  EXPECT_FALSE(clean_display_text("Ada\x07", 60));
  EXPECT_FALSE(clean_display_text("Ada\nLovelace", 60));
  EXPECT_FALSE(clean_display_text("Ada\xC2\x85", 60));      // C1 control U+0085
  EXPECT_FALSE(clean_display_text("Ada\xE2\x80\xA8x", 60)); // U+2028 line separator
}

TEST(Sha256, MatchesPublishedTestVectors) {
  EXPECT_EQ(to_hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(to_hex(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(to_hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(to_hex(sha256(std::string(1000000, 'a'))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Secret, HashIsStableAndDiffersPerSecret) {
  EXPECT_EQ(secret_hash("k"), secret_hash("k"));
  EXPECT_NE(secret_hash("k"), secret_hash("K"));
  EXPECT_EQ(secret_hash("k").size(), 64u);
}

TEST(Secret, ConstantTimeEqualComparesWholeStrings) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
  EXPECT_TRUE(constant_time_equal("", ""));
}

TEST(Secret, Base64UrlAndBase32UseUrlSafeAlphabets) {
  const std::array<std::uint8_t, 3> bytes = {0xFB, 0xFF, 0xBF};
  EXPECT_EQ(base64url(bytes), "-_-_");
  const std::array<std::uint8_t, 16> sixteen{};
  EXPECT_EQ(base64url(sixteen).size(), 22u); // 128-bit secrets are 22 characters
  const std::array<std::uint8_t, 5> five = {'f', 'o', 'o', 'b', 'a'};
  EXPECT_EQ(base32(five), "mzxw6ytb"); // RFC 4648 test vector, lower case
  const std::array<std::uint8_t, 10> ten{};
  EXPECT_EQ(base32(ten).size(), 16u);
}

TEST(Secret, HashesStoredByEarlierServersStillVerify) {
  // From a journal written before libsodium did the hashing (see journal_test's pinned line).
  EXPECT_EQ(secret_hash("UJG_ArNaFtt5yWV0TlCZYA"), "42168cf5a133e9500b53c07f57b17d540f53dd0d082ceb75cfe7d4b6f0d4e1c9");
  EXPECT_EQ(secret_hash("WK9do7rUFQCpeftnK3d6uw"), "56bc3cc73439a9f28c18401e9ecb9dc62573f2a968e995ed49b93acc2fb25db3");
  EXPECT_TRUE(constant_time_equal(secret_hash("UJG_ArNaFtt5yWV0TlCZYA"),
                                  "42168cf5a133e9500b53c07f57b17d540f53dd0d082ceb75cfe7d4b6f0d4e1c9"));
}

TEST(Secret, HexAndBase64UrlMatchRfc4648) {
  const std::array<std::uint8_t, 5> bytes = {0x00, 0x0F, 0xA5, 0xF0, 0xFF};
  EXPECT_EQ(to_hex(bytes), "000fa5f0ff");
  EXPECT_EQ(to_hex(std::span<const std::uint8_t>{}), "");
  const std::string_view text = "foobar";
  const auto* p = reinterpret_cast<const std::uint8_t*>(text.data());
  const char* expected[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
  for (std::size_t n = 0; n <= text.size(); ++n) EXPECT_EQ(base64url({p, n}), expected[n]) << n;
  const std::array<std::uint8_t, 2> high = {0xFF, 0xEF};
  EXPECT_EQ(base64url(high), "_-8"); // '+' and '/' of plain base64 are '-' and '_'
}

TEST(Secret, RandomBytesAndHexAreFreshEachTime) {
  std::array<std::uint8_t, 32> a{}, b{};
  random_bytes(a);
  random_bytes(b);
  EXPECT_NE(a, b);
  EXPECT_NE(a, (std::array<std::uint8_t, 32>{}));
  const std::string hex = random_hex(12);
  EXPECT_EQ(hex.size(), 24u);
  EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos) << hex;
  EXPECT_NE(hex, random_hex(12));
  EXPECT_EQ(random_hex(0), "");
}

} // namespace
} // namespace colloquy
