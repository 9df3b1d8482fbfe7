#pragma once
// How members are cut into breakout groups (pure: no room, no clock; the seed comes from the hub).
//
// Sizes: n members in groups of `size` make n / size groups (whole division, at least one); the
// n % size left over are spread one each over the groups, round and round, so no group is smaller
// than asked and sizes differ by at most one (7 in triads: 4 + 3; 7 in pairs: 3 + 2 + 2). Why not
// a smaller last group (3 + 3 + 1): nobody is left alone or in a pair where the method needs three
// (critical incidents have three roles; a fourth member observes too), and an appreciative-inquiry
// triad interviews round the ring.
//
// Fresh groups: the split with the fewest repeat pairings, where a repeat is two members who were
// in a group together before, counted as often as they were. Found by local search: from a random
// split, swap two members of different groups while that lowers the count, from several random
// starts (up to 64, fewer in a large room: a split weighs at most 4 million swaps, about 20 ms);
// the lowest wins (the first of equals). Deterministic for a seed.
#include "core/random.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace colloquy::grouping {

// The group sizes for n members in groups of `size` (empty when n < size or size < 2).
std::vector<std::size_t> sizes(std::size_t n, std::size_t size);

// Cuts `members`, in their order, into groups of those sizes.
std::vector<std::vector<std::string>> cut(const std::vector<std::string>& members, std::size_t size);

// A random split.
std::vector<std::vector<std::string>> random_split(std::vector<std::string> members, std::size_t size, SeededRandom& random);

// How many times two members were grouped together before.
using TimesTogether = std::function<std::uint32_t(const std::string&, const std::string&)>;

// The repeat pairings of a split: the sum, over every pair in a group, of its times together.
std::uint64_t repeats(const std::vector<std::vector<std::string>>& groups, const TimesTogether& together);

// The split with the fewest repeats found (see above).
std::vector<std::vector<std::string>> fresh_split(const std::vector<std::string>& members, std::size_t size,
                                                  const TimesTogether& together, SeededRandom& random);

} // namespace colloquy::grouping
