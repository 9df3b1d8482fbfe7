#pragma once
// The random choices decide makes (a shuffled speaking order, a card drawn): a deterministic
// generator seeded by the caller, so decide stays pure and the outcome is written into the event.
#include <concepts>
#include <cstdint>
#include <utility>
#include <vector>

namespace colloquy {

namespace detail {

// Uniform in [0, n) from a source of uniform words (Lemire, "Fast random integer generation in an
// interval", 2019): the high half of word * n, drawing again for the few low halves below
// 2^bits mod n that would otherwise make some results more likely. Wide holds twice U's bits.
template <std::unsigned_integral U, typename Wide, typename Source>
U uniform_below(U n, Source&& next) {
  static_assert(sizeof(Wide) == 2 * sizeof(U));
  constexpr int bits = 8 * sizeof(U);
  if (n == 0) return 0;
  Wide product = static_cast<Wide>(static_cast<Wide>(next()) * n);
  U low = static_cast<U>(product);
  if (low < n) {
    const U threshold = static_cast<U>(static_cast<U>(0u - n) % n); // 2^bits mod n
    while (low < threshold) {
      product = static_cast<Wide>(static_cast<Wide>(next()) * n);
      low = static_cast<U>(product);
    }
  }
  return static_cast<U>(product >> bits);
}

__extension__ typedef unsigned __int128 uint128;

} // namespace detail

// splitmix64 (Steele, Lea and Flood, 2014): small, fast, and every seed gives a good sequence.
class SeededRandom {
public:
  explicit SeededRandom(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  // Uniform in [0, n) without modulo bias; 0 when n is 0.
  std::uint64_t below(std::uint64_t n) {
    return detail::uniform_below<std::uint64_t, detail::uint128>(n, [this] { return next(); });
  }

private:
  std::uint64_t state_;
};

// Fisher–Yates: every order equally likely (as far as the seed's 64 bits reach).
template <class T>
void shuffle(std::vector<T>& items, SeededRandom& random) {
  for (std::size_t i = items.size(); i > 1; --i) {
    using std::swap;
    swap(items[i - 1], items[static_cast<std::size_t>(random.below(i))]);
  }
}

} // namespace colloquy
