#include "map_test_util.hpp"
#include "test_util.hpp"

// The maps under concurrency (their API and reclamation tests are in sync_map_test.cpp):
//
//   * Linearizability-style concurrent checks: per-key monotonic versions, CAS counters, swap
//     chains, load_or_store agreement, with several goroutines on all Ps.
//   * The race boundaries of the two lock-free maps, under both reclamation modes: for Map a
//     load racing a promotion, a store to an expunged entry racing dirty creation; for
//     ConcurrentMap the same workloads race bucket moves (resizes); for both, delete during
//     range and clear during everything. Versions stay monotonic across resizes (all maps).

#include <gocxx/concurrent_map.hpp>
#include <gocxx/rwmutex_map.hpp>
#include <gocxx/sharded_map.hpp>
#include <gocxx/sync_map.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace {

using gocxx::go;
using gocxx::sync::ConcurrentMap;
using gocxx::sync::Map;
using gocxx::sync::NodeEntries;
using gocxx::sync::RWMutexMap;
using gocxx::sync::ShardedMap;
using gocxx::sync::WaitGroup;
using gocxx::sync::detail::EpochDomain;
using gocxx::test::parallel;
using gocxx::test::Rng;
using gocxx::test::run_with;
using gocxx::test::scaled;
using gocxx::test::stress_procs;

template <class M>
class MapConcurrent : public ::testing::Test {};
// ConcurrentMap twice: int64 entries are inline by default; NodeEntries forces the node layout.
using Int64Maps = ::testing::Types<
    Map<std::int64_t, std::int64_t>, ShardedMap<std::int64_t, std::int64_t>,
    RWMutexMap<std::int64_t, std::int64_t>, ConcurrentMap<std::int64_t, std::int64_t>,
    ConcurrentMap<std::int64_t, std::int64_t, std::hash<std::int64_t>,
                  std::equal_to<std::int64_t>, NodeEntries>>;
TYPED_TEST_SUITE(MapConcurrent, Int64Maps);

// Writers increment per-key counters with CAS; readers see each key's value never decrease;
// at the end every key holds exactly the number of successful CASes on it.
TYPED_TEST(MapConcurrent, CasCountersAreMonotonicAndExact) {
  constexpr int kKeys = 32, kWriters = 4, kReaders = 3;
  const int kOps = scaled(50000);
  std::atomic<long> violations{0};
  std::array<std::atomic<long>, kKeys> successes{};
  run_with(stress_procs(), [&] {
    TypeParam m;
    parallel(kWriters + kReaders, [&](int g) {
      Rng rng(g + 7);
      std::array<std::int64_t, kKeys> last{};
      for (int i = 0; i < kOps; ++i) {
        const int k = int(rng.below(kKeys));
        if (g < kWriters) {
          auto [cur, loaded] = m.load_or_store(k, 0);
          if (cur < last[k]) violations.fetch_add(1);
          last[k] = cur;
          if (m.compare_and_swap(k, cur, cur + 1)) {
            successes[k].fetch_add(1, std::memory_order_relaxed);
            last[k] = cur + 1;
          }
        } else {
          auto v = m.load(k);
          if (v) {
            if (*v < last[k]) violations.fetch_add(1);
            last[k] = *v;
          } else if (last[k] != 0) {
            violations.fetch_add(1);  // keys are never deleted once created
          }
        }
      }
    });
    for (int k = 0; k < kKeys; ++k) {
      EXPECT_EQ(m.load(k).value_or(0), successes[k].load()) << "key " << k;
    }
  });
  EXPECT_EQ(violations.load(), 0);
}

// Each key has one owner that stores versions 1, 2, 3, ... with swap (which must return the
// previous version), sometimes deleting the key in between. Readers see versions never go
// backwards per key; a reader's range sees them never go backwards either.
TYPED_TEST(MapConcurrent, OwnedKeysHaveMonotonicVersions) {
  constexpr int kOwners = 4, kKeysPerOwner = 16, kReaders = 3;
  const int kOps = scaled(50000);
  std::atomic<long> violations{0};
  std::atomic<int> owners_left{kOwners};
  run_with(stress_procs(), [&] {
    TypeParam m;
    parallel(kOwners + kReaders, [&](int g) {
      Rng rng(g + 99);
      if (g < kOwners) {
        std::array<std::int64_t, kKeysPerOwner> ver{};
        std::array<bool, kKeysPerOwner> present{};
        for (int i = 0; i < kOps; ++i) {
          const int j = int(rng.below(kKeysPerOwner));
          const std::int64_t k = g * kKeysPerOwner + j;
          if (rng.below(8) == 0) {
            auto old = m.load_and_delete(k);
            if (present[j] ? old != ver[j] : old.has_value()) violations.fetch_add(1);
            present[j] = false;
          } else {
            auto old = m.swap(k, ver[j] + 1);
            if (present[j] ? old != ver[j] : old.has_value()) violations.fetch_add(1);
            ++ver[j];
            present[j] = true;
          }
        }
        owners_left.fetch_sub(1);
      } else {
        std::array<std::int64_t, kOwners * kKeysPerOwner> last{};
        while (owners_left.load(std::memory_order_relaxed) > 0) {
          for (int i = 0; i < 256; ++i) {
            const int k = int(rng.below(kOwners * kKeysPerOwner));
            auto v = m.load(k);
            if (v) {
              if (*v < last[k]) violations.fetch_add(1);
              last[k] = *v;
            }
          }
          if (rng.below(4) == 0) {
            m.range([&](const std::int64_t& k, const std::int64_t& v) {
              if (v < last[k]) violations.fetch_add(1);
              last[k] = v;
              return true;
            });
          }
          gocxx::yield();
        }
      }
    });
  });
  EXPECT_EQ(violations.load(), 0);
}

// Owned keys with monotonic versions while another goroutine keeps adding keys, so that
// ConcurrentMap doubles its table (about 13 times) and Map keeps promoting and re-creating
// dirty while the versions change: readers (loads and ranges) must never see a version go
// backwards, every owner's swap must return its previous version, and nothing added is lost.
TYPED_TEST(MapConcurrent, VersionsStayMonotonicWhileTheMapGrows) {
  constexpr int kOwners = 2, kKeysPerOwner = 32, kReaders = 2;
  constexpr std::int64_t kGrowBase = 1 << 20;
  const int kGrowKeys = scaled(200000);
  std::atomic<long> violations{0};
  std::atomic<int> writers_left{kOwners + 1};
  run_with(stress_procs(), [&] {
    TypeParam m;
    parallel(kOwners + 1 + kReaders, [&](int g) {
      if (g == kOwners) {  // the grower
        for (int i = 0; i < kGrowKeys; ++i) {
          m.store(kGrowBase + i, i);
          if (i % 256 == 0) gocxx::yield();
        }
        writers_left.fetch_sub(1);
        return;
      }
      if (g < kOwners) {
        std::array<std::int64_t, kKeysPerOwner> ver{};
        for (int round = 0; writers_left.load(std::memory_order_relaxed) > kOwners || round < 2;
             ++round) {
          for (int j = 0; j < kKeysPerOwner; ++j) {
            const std::int64_t k = g * kKeysPerOwner + j;
            auto old = m.swap(k, ver[j] + 1);
            if (ver[j] == 0 ? old.has_value() : old != ver[j]) violations.fetch_add(1);
            ++ver[j];
          }
          gocxx::yield();
        }
        writers_left.fetch_sub(1);
        return;
      }
      Rng rng(g);
      std::array<std::int64_t, kOwners * kKeysPerOwner> last{};
      while (writers_left.load(std::memory_order_relaxed) > 0) {
        for (int i = 0; i < 128; ++i) {
          const int k = int(rng.below(kOwners * kKeysPerOwner));
          auto v = m.load(k);
          if (v.has_value() ? *v < last[k] : last[k] != 0) violations.fetch_add(1);
          if (v) last[k] = *v;
        }
        if (rng.below(8) == 0) {
          m.range([&](const std::int64_t& k, const std::int64_t& v) {
            if (k < kOwners * kKeysPerOwner) {
              if (v < last[k]) violations.fetch_add(1);
              last[k] = v;
            } else if (v != k - kGrowBase) {
              violations.fetch_add(1);
            }
            return true;
          });
        }
        gocxx::yield();
      }
    });
    for (int i = 0; i < kGrowKeys; ++i) {
      ASSERT_EQ(m.load(kGrowBase + i), i) << "grown key " << i;
    }
    std::int64_t n = 0;
    m.range([&](const std::int64_t&, const std::int64_t&) { return ++n, true; });
    EXPECT_EQ(n, kGrowKeys + kOwners * kKeysPerOwner);
  });
  EXPECT_EQ(violations.load(), 0);
}

// Many goroutines load_or_store the same fresh keys: all agree on one winner per key, and
// exactly one of them stored.
TYPED_TEST(MapConcurrent, LoadOrStoreHasOneWinner) {
  constexpr int kGoroutines = 6;
  const int kKeys = scaled(5000);
  run_with(stress_procs(), [&] {
    TypeParam m;
    std::vector<std::array<std::int64_t, kGoroutines>> seen;
    seen.resize(std::size_t(kKeys));
    std::unique_ptr<std::atomic<int>[]> stores(new std::atomic<int>[std::size_t(kKeys)]());
    parallel(kGoroutines, [&](int g) {
      for (int k = 0; k < kKeys; ++k) {
        auto [v, loaded] = m.load_or_store(k, g);
        seen[std::size_t(k)][std::size_t(g)] = v;
        if (!loaded) {
          stores[std::size_t(k)].fetch_add(1);
          if (v != g) ADD_FAILURE() << "stored value is not ours";
        }
      }
    });
    for (int k = 0; k < kKeys; ++k) {
      ASSERT_EQ(stores[std::size_t(k)].load(), 1) << "key " << k;
      for (int g = 1; g < kGoroutines; ++g) {
        ASSERT_EQ(seen[std::size_t(k)][std::size_t(g)], seen[std::size_t(k)][0]) << "key " << k;
      }
      ASSERT_EQ(m.load(k), seen[std::size_t(k)][0]);
    }
  });
}

// ---- the race boundaries of the lock-free maps (Map, ConcurrentMap) --------------------------

// The two lock-free maps, each under both reclamation modes.
struct MapKind {
  template <class K, class V>
  using M = Map<K, V>;
  static constexpr const char* kName = "Map";
};
struct ConcurrentMapKind {  // inline entries (int keys and values)
  template <class K, class V>
  using M = ConcurrentMap<K, V>;
  static constexpr const char* kName = "ConcurrentMap";
};
struct ConcurrentMapNodesKind {
  template <class K, class V>
  using M = ConcurrentMap<K, V, std::hash<K>, std::equal_to<K>, NodeEntries>;
  static constexpr const char* kName = "ConcurrentMapNodes";
};
template <class Kind, bool kMembarrier>
struct Raced {
  template <class K, class V>
  using M = typename Kind::template M<K, V>;
  static EpochDomain& domain() {
    return kMembarrier ? EpochDomain::global() : EpochDomain::fenced();
  }
  static std::string name() {
    return std::string(Kind::kName) + (kMembarrier ? "_membarrier" : "_fenced");
  }
};
struct RacedName {
  template <class T>
  static std::string GetName(int) {
    return T::name();
  }
};

template <class P>
class MapRaces : public ::testing::Test {};
using RacedMaps =
    ::testing::Types<Raced<MapKind, true>, Raced<MapKind, false>, Raced<ConcurrentMapKind, true>,
                     Raced<ConcurrentMapKind, false>, Raced<ConcurrentMapNodesKind, true>,
                     Raced<ConcurrentMapNodesKind, false>>;
TYPED_TEST_SUITE(MapRaces, RacedMaps, RacedName);

// A load racing a promotion: a writer keeps adding keys (each lands in dirty, and the readers'
// misses keep promoting dirty to read); a key published as stored must always be found, with
// its value, whether the reader sees the old read table, the new one, or goes to dirty. For
// ConcurrentMap the same writer keeps doubling the table: loads race bucket moves and follow
// MOVED buckets into the table being filled.
TYPED_TEST(MapRaces, LoadRacingPromotion) {
  const int kKeys = scaled(150000);
  std::atomic<int> stored{0};
  std::atomic<long> lost{0}, wrong{0};
  run_with(stress_procs(), [&] {
    typename TypeParam::template M<std::int64_t, std::int64_t> m(TypeParam::domain());
    parallel(5, [&](int g) {
      if (g == 0) {
        for (int k = 0; k < kKeys; ++k) {
          m.store(k, 3 * std::int64_t(k));
          stored.store(k + 1, std::memory_order_release);
          if (k % 512 == 0) gocxx::yield();
        }
        return;
      }
      Rng rng(g);
      int n;
      while ((n = stored.load(std::memory_order_acquire)) < kKeys) {
        if (n == 0) {
          gocxx::yield();  // no preemption: let the writer run
          continue;
        }
        for (int i = 0; i < 64; ++i) {
          // Recent keys are the ones that may still be only in dirty.
          const std::int64_t k = rng.below(2) ? n - 1 - std::int64_t(rng.below(std::min(n, 64)))
                                              : std::int64_t(rng.below(n));
          auto v = m.load(k);
          if (!v) lost.fetch_add(1);
          else if (*v != 3 * k) wrong.fetch_add(1);
          // Keys not stored yet: absent, or stored meanwhile with the right value.
          auto f = m.load(n + std::int64_t(rng.below(8)));
          if (f && *f % 3 != 0) wrong.fetch_add(1);
        }
        if (g == 1 && rng.below(16) == 0) {
          std::int64_t count = 0;
          m.range([&](const std::int64_t& k, const std::int64_t& v) {  // promotes if amended
            if (v != 3 * k) wrong.fetch_add(1);
            ++count;
            return true;
          });
          if (count < n) lost.fetch_add(1);
        }
        gocxx::yield();
      }
    });
  });
  EXPECT_EQ(lost.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
}

// A store to a deleted key racing the creation of dirty: the deleted entries are nil in read;
// the first new-key store expunges them while it copies read into dirty, and concurrent stores
// to the deleted keys either CAS nil -> value first (and are copied into dirty) or find the
// entry expunged and unexpunge it under the lock. No store may be lost, before or after the
// next promotion. (ConcurrentMap: stores to deleted keys racing the insert of a new key into
// the same small table, and the overflow buckets it adds.)
TYPED_TEST(MapRaces, StoreToExpungedEntryRacingDirtyCreation) {
  constexpr int kKeys = 64, kStorers = 3;
  const int kRounds = scaled(3000);
  std::atomic<long> lost{0};
  run_with(stress_procs(), [&] {
    for (int round = 0; round < kRounds; ++round) {
      typename TypeParam::template M<int, int> m(TypeParam::domain());
      for (int k = 0; k < kKeys; ++k) m.store(k, -1);
      m.range([](const int&, const int&) { return true; });  // promote: read complete
      for (int k = 0; k < kKeys; ++k) m.erase(k);              // nil in read
      std::atomic<int> ready{0};
      parallel(kStorers + 1, [&](int g) {
        ready.fetch_add(1);
        while (ready.load() < kStorers + 1) gocxx::yield();
        if (g == kStorers) {
          m.store(1000 + round, round);  // creates dirty, expunging the nil entries
          m.load(5000);                  // a miss
          return;
        }
        for (int k = g; k < kKeys; k += kStorers) {
          if (k % 2 == 0) m.store(k, round); else m.load_or_store(k, round);
        }
      });
      auto check = [&] {
        for (int k = 0; k < kKeys; ++k) {
          if (m.load(k) != round) lost.fetch_add(1);
        }
        if (m.load(1000 + round) != round) lost.fetch_add(1);
      };
      check();
      int n = 0;
      m.range([&](const int&, const int&) { return ++n, true; });  // promotes
      if (n != kKeys + 1) lost.fetch_add(1);
      check();
      for (int i = 0; i < 3 * kKeys; ++i) m.load(2000 + i);  // misses: more promotions
      check();
    }
  });
  EXPECT_EQ(lost.load(), 0);
}

// Delete during range (Go's TestConcurrentRange, plus deletes): stable keys are never deleted
// and must be visited exactly once; volatile keys are deleted and re-stored constantly and
// must be visited at most once; every value is a multiple of its key. Some ranges delete the
// key they are visiting and store others from inside f.
TYPED_TEST(MapRaces, DeleteDuringRange) {
  constexpr std::int64_t kStable = 200, kVolatile = 200;
  const int kRanges = scaled(1000);
  std::atomic<long> bad{0};
  std::atomic<bool> stop{false};
  run_with(stress_procs(), [&] {
    typename TypeParam::template M<std::int64_t, std::int64_t> m(TypeParam::domain());
    for (std::int64_t k = 1; k <= kStable + kVolatile; ++k) m.store(k, k);
    WaitGroup writers;
    writers.add(3);
    for (int w = 0; w < 3; ++w) {
      go([&, w] {
        Rng rng(w + 1);
        for (std::int64_t n = 1; !stop.load(std::memory_order_relaxed); ++n) {
          const std::int64_t k = kStable + 1 + std::int64_t(rng.below(kVolatile));
          switch (rng.below(4)) {
            case 0: m.erase(k); break;
            case 1: m.store(k, k * n); break;
            case 2: m.load_or_store(k, k * (n + 1)); break;
            default: m.store(-k, -k); m.erase(-k); break;  // dirty churn
          }
          if (n % 64 == 0) gocxx::yield();
        }
        writers.done();
      });
    }
    parallel(2, [&](int g) {
      for (int i = 0; i < kRanges; ++i) {
        std::set<std::int64_t> seen;
        const bool mutate = (i + g) % 3 == 0;
        m.range([&](const std::int64_t& k, const std::int64_t& v) {
          if (!seen.insert(k).second) bad.fetch_add(1);  // visited twice
          if (k > 0 && v % k != 0) bad.fetch_add(1);
          if (mutate && k > kStable) {
            m.erase(k);          // delete the key being visited
            m.store(k, 2 * k);   // and bring it back
          }
          return true;
        });
        for (std::int64_t k = 1; k <= kStable; ++k) {
          if (seen.count(k) != 1) bad.fetch_add(1);
        }
      }
    });
    stop = true;
    writers.wait();
  });
  EXPECT_EQ(bad.load(), 0);
}

// clear() racing loads, stores, deletes and ranges: whole tables are retired while readers
// and rangers still hold them. Values are always multiples of their keys.
TYPED_TEST(MapRaces, ClearDuringEverything) {
  const int kOps = scaled(60000);
  std::atomic<long> bad{0};
  run_with(stress_procs(), [&] {
    typename TypeParam::template M<std::int64_t, std::int64_t> m(TypeParam::domain());
    parallel(6, [&](int g) {
      Rng rng(g + 31);
      for (int i = 0; i < kOps; ++i) {
        const std::int64_t k = 1 + std::int64_t(rng.below(300));
        switch (rng.below(16)) {
          case 0:
            if (g == 0) m.clear();
            break;
          case 1:
            m.range([&](const std::int64_t& key, const std::int64_t& v) {
              if (v % key != 0) bad.fetch_add(1);
              return rng.below(64) != 0;
            });
            break;
          case 2: case 3: m.erase(k); break;
          case 4: case 5: case 6: m.store(k, k * i); break;
          case 7: m.load_or_store(k, k * 3); break;
          case 8: {
            auto v = m.swap(k, k * 5);
            if (v && *v % k != 0) bad.fetch_add(1);
            break;
          }
          default: {
            auto v = m.load(k);
            if (v && *v % k != 0) bad.fetch_add(1);
            break;
          }
        }
      }
    });
  });
  EXPECT_EQ(bad.load(), 0);
}

// The misses counter: a key only dirty has is found through the lock until len(dirty) misses
// promote dirty; afterwards the key is in read (observable through range not needing to
// promote: the map keeps working either way, so this checks the values along the way).
}  // namespace
