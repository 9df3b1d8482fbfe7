// The seeded generator behind decide's random choices: splitmix64, unbiased bounded draws
// (Lemire), and a Fisher–Yates shuffle that reaches every order.
#include "core/random.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <numeric>
#include <set>
#include <vector>

namespace colloquy {
namespace {

TEST(SeededRandom, IsSplitmix64) {
  // The reference sequence of splitmix64 for seed 0 (the generator the room used before).
  SeededRandom random(0);
  EXPECT_EQ(random.next(), 0xE220A8397B1DCDAFull);
  EXPECT_EQ(random.next(), 0x6E789E6AA1B965F4ull);
  EXPECT_EQ(random.next(), 0x06C45D188009454Full);
}

TEST(SeededRandom, TheSameSeedGivesTheSameDraws) {
  SeededRandom a(12345);
  SeededRandom b(12345);
  SeededRandom c(12346);
  std::vector<std::uint64_t> from_a, from_b, from_c;
  for (int i = 0; i < 100; ++i) {
    from_a.push_back(a.below(1000));
    from_b.push_back(b.below(1000));
    from_c.push_back(c.below(1000));
  }
  EXPECT_EQ(from_a, from_b);
  EXPECT_NE(from_a, from_c);

  std::vector<int> one(20), two(20);
  std::iota(one.begin(), one.end(), 0);
  std::iota(two.begin(), two.end(), 0);
  SeededRandom s1(99), s2(99);
  shuffle(one, s1);
  shuffle(two, s2);
  EXPECT_EQ(one, two);
}

TEST(SeededRandom, BelowStaysInRange) {
  SeededRandom random(7);
  EXPECT_EQ(random.below(1), 0u);
  EXPECT_EQ(random.below(0), 0u);
  for (int i = 0; i < 10000; ++i) EXPECT_LT(random.below(3), 3u);
  const std::uint64_t huge = (1ull << 63) + 12345;
  for (int i = 0; i < 1000; ++i) EXPECT_LT(random.below(huge), huge);
}

// Pearson's chi-square statistic of observed counts against equal expected counts.
double chi_square(const std::vector<std::uint64_t>& counts, double total) {
  const double expected = total / static_cast<double>(counts.size());
  double sum = 0;
  for (auto c : counts) sum += (static_cast<double>(c) - expected) * (static_cast<double>(c) - expected) / expected;
  return sum;
}

TEST(SeededRandom, BelowIsUniformByChiSquare) {
  // Critical values at p = 0.001 for n - 1 degrees of freedom; the seed is fixed, so this is not flaky.
  const std::map<std::uint64_t, double> critical = {{3, 13.82}, {7, 22.46}, {10, 27.88}};
  for (const auto& [n, limit] : critical) {
    SeededRandom random(20240601 + n);
    std::vector<std::uint64_t> counts(n);
    constexpr int draws = 200000;
    for (int i = 0; i < draws; ++i) ++counts[random.below(n)];
    EXPECT_LT(chi_square(counts, draws), limit) << "n = " << n;
  }
}

// Exhaustive proof of the method on 8-bit words, where modulo bias would be plain to see:
// over all 256 words, every result in [0, n) is accepted equally often for every n.
TEST(SeededRandom, LemireMethodIsExactlyUniformOnSmallWords) {
  for (unsigned n = 1; n <= 255; ++n) {
    std::vector<unsigned> accepted(n);
    for (unsigned word = 0; word < 256; ++word) {
      bool first = true;
      bool rejected = false;
      const auto result = detail::uniform_below<std::uint8_t, std::uint16_t>(static_cast<std::uint8_t>(n), [&] {
        if (first) {
          first = false;
          return static_cast<std::uint8_t>(word);
        }
        rejected = true;
        return std::uint8_t{255}; // a second draw: always accepted (255 * n mod 256 >= 256 mod n)
      });
      ASSERT_LT(result, n);
      if (!rejected) ++accepted[result];
    }
    for (unsigned r = 0; r < n; ++r) ASSERT_EQ(accepted[r], 256 / n) << "n = " << n << ", result " << r;
  }
}

TEST(Shuffle, ReachesEveryPermutationOfThreeAboutEquallyOften) {
  std::map<std::vector<int>, std::uint64_t> seen;
  constexpr int runs = 60000;
  for (int seed = 0; seed < runs; ++seed) {
    std::vector<int> items = {0, 1, 2};
    SeededRandom random(static_cast<std::uint64_t>(seed));
    shuffle(items, random);
    ++seen[items];
  }
  ASSERT_EQ(seen.size(), 6u) << "every one of the 3! orders";
  std::vector<std::uint64_t> counts;
  for (const auto& [order, count] : seen) counts.push_back(count);
  EXPECT_LT(chi_square(counts, runs), 20.52) << "p = 0.001, 5 degrees of freedom";
}

TEST(Shuffle, KeepsEveryItemAndLeavesShortListsAlone) {
  std::vector<int> empty;
  std::vector<int> single = {42};
  SeededRandom random(1);
  shuffle(empty, random);
  shuffle(single, random);
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(single, std::vector<int>{42});
  std::vector<int> items(50);
  std::iota(items.begin(), items.end(), 0);
  shuffle(items, random);
  auto sorted = items;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int> expected(50);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(sorted, expected);
  EXPECT_NE(items, expected) << "50 items left in order by chance: 1 in 50!";
}

} // namespace
} // namespace colloquy
