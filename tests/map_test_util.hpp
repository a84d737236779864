// Helpers shared by the map tests (sync_map_test.cpp and map_race_test.cpp).
#pragma once

#include <gocxx/gocxx.hpp>

#include <algorithm>
#include <cstdint>
#include <thread>

namespace gocxx::test {

// Ps for the concurrent tests: at least 4, so that goroutines interleave on a 2-core machine.
inline int stress_procs() { return std::max(4, int(std::thread::hardware_concurrency())); }

// xorshift64: cheap enough for the inner loops, and seeded per goroutine so runs repeat.
struct Rng {
  std::uint64_t s;
  explicit Rng(std::uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
  std::uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  std::uint64_t below(std::uint64_t n) { return next() % n; }
};

// Runs body(i) in n goroutines and waits for them.
template <class F>
void parallel(int n, F body) {
  gocxx::sync::WaitGroup wg;
  wg.add(n);
  for (int i = 0; i < n; ++i) {
    gocxx::go([&wg, &body, i] {
      body(i);
      wg.done();
    });
  }
  wg.wait();
}

}  // namespace gocxx::test
