// Simulated candidates for the IRT tests: answers drawn from the 2PL with a seeded generator,
// and synthetic banks shaped like ours (five levels, b = level − 3 plus jitter).
#pragma once

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "engine/cat.hpp"
#include "engine/irt.hpp"

namespace irt_sim {

using assess::irt::ItemParams;
using assess::irt::Rng;

inline double normal(Rng& rng) {         // Box–Muller
  const double u = 1.0 - rng.uniform();  // (0, 1]
  return std::sqrt(-2.0 * std::log(u)) * std::cos(2 * std::numbers::pi * rng.uniform());
}

inline bool answer(Rng& rng, ItemParams item, double theta) {
  return rng.uniform() < assess::irt::probability(item, theta);
}

inline double uniform(Rng& rng, double lo, double hi) { return lo + (hi - lo) * rng.uniform(); }

// per_level items at each level 1–5: a ~ U(a_lo, a_hi), b = level − 3 + U(−jitter, jitter).
inline std::vector<assess::cat::Item> synthetic_bank(const std::string& dimension, int per_level,
                                                     double a_lo, double a_hi, double jitter,
                                                     Rng& rng) {
  std::vector<assess::cat::Item> bank;
  for (int level = 1; level <= 5; ++level) {
    for (int k = 0; k < per_level; ++k) {
      const ItemParams p{uniform(rng, a_lo, a_hi), level - 3 + uniform(rng, -jitter, jitter)};
      bank.push_back(
          {dimension + "-l" + std::to_string(level) + "-" + std::to_string(k), dimension, {}, p});
    }
  }
  return bank;
}

}  // namespace irt_sim
