#include "core/activities/grouping.hpp"

namespace colloquy::grouping {

std::vector<std::size_t> sizes(std::size_t n, std::size_t size) {
  if (size < 2 || n < size) return {};
  const std::size_t count = n / size;
  std::vector<std::size_t> out(count, size);
  for (std::size_t i = 0; i < n % size; ++i) ++out[i % count];
  return out;
}

std::vector<std::vector<std::string>> cut(const std::vector<std::string>& members, std::size_t size) {
  std::vector<std::vector<std::string>> groups;
  std::size_t at = 0;
  for (std::size_t s : sizes(members.size(), size)) {
    groups.emplace_back(members.begin() + static_cast<std::ptrdiff_t>(at), members.begin() + static_cast<std::ptrdiff_t>(at + s));
    at += s;
  }
  return groups;
}

std::vector<std::vector<std::string>> random_split(std::vector<std::string> members, std::size_t size, SeededRandom& random) {
  shuffle(members, random);
  return cut(members, size);
}

std::uint64_t repeats(const std::vector<std::vector<std::string>>& groups, const TimesTogether& together) {
  std::uint64_t total = 0;
  for (const auto& g : groups) {
    for (std::size_t i = 0; i < g.size(); ++i) {
      for (std::size_t j = i + 1; j < g.size(); ++j) total += together(g[i], g[j]);
    }
  }
  return total;
}

namespace {

constexpr int restarts = 64;
// Swaps weighed in one split at most (about 20 ms here): a large room gets fewer restarts, and a
// search cut short keeps the best split found so far.
constexpr std::uint64_t max_swaps_weighed = 4'000'000;

// The search works on indexes into the members and a dense table of times together.
struct Search {
  std::size_t n;
  std::vector<std::uint32_t> table; // n × n
  mutable std::uint64_t weighed = 0;
  bool spent() const { return weighed > max_swaps_weighed; }

  std::uint32_t at(std::size_t a, std::size_t b) const { return table[a * n + b]; }

  // What member `a` adds to group `g` (leaving out `skip`, the member it would replace).
  std::int64_t cost_in(std::size_t a, const std::vector<std::size_t>& g, std::size_t skip) const {
    std::int64_t c = 0;
    for (std::size_t b : g) {
      if (b != a && b != skip) c += at(a, b);
    }
    return c;
  }

  std::uint64_t total(const std::vector<std::vector<std::size_t>>& groups) const {
    std::uint64_t t = 0;
    for (const auto& g : groups) {
      for (std::size_t i = 0; i < g.size(); ++i) {
        for (std::size_t j = i + 1; j < g.size(); ++j) t += at(g[i], g[j]);
      }
    }
    return t;
  }

  // Swaps members between groups while a swap lowers the repeats (the best swap each pass).
  void improve(std::vector<std::vector<std::size_t>>& groups) const {
    while (!spent()) {
      std::int64_t best = 0;
      std::size_t bg = 0, bi = 0, hg = 0, hi = 0;
      for (std::size_t g = 0; g < groups.size(); ++g) {
        for (std::size_t i = 0; i < groups[g].size(); ++i) {
          const std::size_t a = groups[g][i];
          const std::int64_t a_here = cost_in(a, groups[g], a);
          for (std::size_t h = g + 1; h < groups.size(); ++h) {
            for (std::size_t j = 0; j < groups[h].size(); ++j) {
              const std::size_t b = groups[h][j];
              const std::int64_t before = a_here + cost_in(b, groups[h], b);
              const std::int64_t after = cost_in(a, groups[h], b) + cost_in(b, groups[g], a);
              ++weighed;
              if (after - before < best) {
                best = after - before;
                bg = g, bi = i, hg = h, hi = j;
              }
            }
          }
        }
      }
      if (best >= 0) return;
      std::swap(groups[bg][bi], groups[hg][hi]);
    }
  }
};

} // namespace

std::vector<std::vector<std::string>> fresh_split(const std::vector<std::string>& members, std::size_t size,
                                                  const TimesTogether& together, SeededRandom& random) {
  const std::vector<std::size_t> shape = sizes(members.size(), size);
  if (shape.empty()) return {};
  Search search{members.size(), std::vector<std::uint32_t>(members.size() * members.size(), 0)};
  bool any = false;
  for (std::size_t a = 0; a < members.size(); ++a) {
    for (std::size_t b = a + 1; b < members.size(); ++b) {
      const std::uint32_t t = together(members[a], members[b]);
      search.table[a * members.size() + b] = search.table[b * members.size() + a] = t;
      any = any || t > 0;
    }
  }
  std::vector<std::size_t> order(members.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::vector<std::vector<std::size_t>> best;
  std::uint64_t best_total = 0;
  for (int attempt = 0; attempt < (any ? restarts : 1) && (attempt == 0 || !search.spent()); ++attempt) {
    shuffle(order, random);
    std::vector<std::vector<std::size_t>> groups;
    std::size_t at = 0;
    for (std::size_t s : shape) {
      groups.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(at), order.begin() + static_cast<std::ptrdiff_t>(at + s));
      at += s;
    }
    search.improve(groups);
    const std::uint64_t t = search.total(groups);
    if (best.empty() || t < best_total) {
      best = std::move(groups);
      best_total = t;
      if (t == 0) break;
    }
  }
  std::vector<std::vector<std::string>> out;
  for (const auto& g : best) {
    auto& group = out.emplace_back();
    for (std::size_t i : g) group.push_back(members[i]);
  }
  return out;
}

} // namespace colloquy::grouping
