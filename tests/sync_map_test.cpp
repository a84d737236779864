#include "test_util.hpp"

// Tests for gocxx's four maps: sync::Map (include/gocxx/sync_map.hpp), ConcurrentMap
// (concurrent_map.hpp), ShardedMap (sharded_map.hpp) and RWMutexMap (rwmutex_map.hpp).
//
//   * API semantics, for all four maps (typed tests), from plain threads and goroutines.
//   * Go's map_reference_test idea: random operation sequences applied to each map and to a
//     mutex-protected std::map must give identical results (>= 10^5 sequences per map in a
//     release build).
//   * Linearizability-style concurrent checks: per-key monotonic versions, CAS counters, swap
//     chains, load_or_store agreement, with several goroutines on all Ps.
//   * The race boundaries of the two lock-free maps, under both reclamation modes: for Map a
//     load racing a promotion, a store to an expunged entry racing dirty creation; for
//     ConcurrentMap the same workloads race bucket moves (resizes); for both, delete during
//     range and clear during everything. Versions stay monotonic across resizes (all maps).
//   * Reclamation: every value is destroyed exactly once, never while a reader holds it
//     (ASan), including values retired by threads that exited.

#include <gocxx/concurrent_map.hpp>
#include <gocxx/rwmutex_map.hpp>
#include <gocxx/sharded_map.hpp>
#include <gocxx/sync_map.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <type_traits>
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
using gocxx::test::run_with;
using gocxx::test::scaled;

// Ps for the concurrent tests: at least 4, so that goroutines interleave on a 2-core machine.
int stress_procs() { return std::max(4, int(std::thread::hardware_concurrency())); }

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
  WaitGroup wg;
  wg.add(n);
  for (int i = 0; i < n; ++i) {
    go([&wg, &body, i] {
      body(i);
      wg.done();
    });
  }
  wg.wait();
}

// ---- typed API tests -----------------------------------------------------------------------

template <class M>
class MapApi : public ::testing::Test {};

using StringMaps = ::testing::Types<Map<std::string, int>, ShardedMap<std::string, int>,
                                    RWMutexMap<std::string, int>, ShardedMap<std::string, int, 7>,
                                    ConcurrentMap<std::string, int>>;
TYPED_TEST_SUITE(MapApi, StringMaps);

template <class M>
std::map<std::string, int> contents(M& m) {
  std::map<std::string, int> out;
  m.range([&](const std::string& k, const int& v) {
    EXPECT_TRUE(out.emplace(k, v).second) << "range visited " << k << " twice";
    return true;
  });
  return out;
}

TYPED_TEST(MapApi, LoadStoreDelete) {
  TypeParam m;
  EXPECT_EQ(m.load("a"), std::nullopt);
  m.store("a", 1);
  EXPECT_EQ(m.load("a"), 1);
  m.store("a", 2);
  EXPECT_EQ(m.load("a"), 2);
  m.store("b", 3);
  EXPECT_EQ(m.load("b"), 3);
  m.erase("a");
  EXPECT_EQ(m.load("a"), std::nullopt);
  m.erase("a");  // deleting an absent key is fine
  EXPECT_EQ(m.load_and_delete("b"), 3);
  EXPECT_EQ(m.load_and_delete("b"), std::nullopt);
  EXPECT_TRUE(contents(m).empty());
}

TYPED_TEST(MapApi, LoadOrStoreAndSwap) {
  TypeParam m;
  EXPECT_EQ(m.load_or_store("k", 1), std::make_pair(1, false));
  EXPECT_EQ(m.load_or_store("k", 2), std::make_pair(1, true));
  EXPECT_EQ(m.swap("k", 5), 1);
  EXPECT_EQ(m.swap("new", 7), std::nullopt);
  EXPECT_EQ(m.load("k"), 5);
  EXPECT_EQ(m.load("new"), 7);
  m.erase("k");
  EXPECT_EQ(m.swap("k", 9), std::nullopt);
  EXPECT_EQ(m.load_or_store("k", 10), std::make_pair(9, true));
}

TYPED_TEST(MapApi, CompareAndSwapAndDelete) {
  TypeParam m;
  EXPECT_FALSE(m.compare_and_swap("x", 0, 1));  // absent key: no insert (Go 1.20 semantics)
  EXPECT_EQ(m.load("x"), std::nullopt);
  m.store("x", 1);
  EXPECT_FALSE(m.compare_and_swap("x", 2, 3));
  EXPECT_EQ(m.load("x"), 1);
  EXPECT_TRUE(m.compare_and_swap("x", 1, 4));
  EXPECT_EQ(m.load("x"), 4);
  EXPECT_FALSE(m.compare_and_delete("x", 1));
  EXPECT_EQ(m.load("x"), 4);
  EXPECT_TRUE(m.compare_and_delete("x", 4));
  EXPECT_EQ(m.load("x"), std::nullopt);
  EXPECT_FALSE(m.compare_and_delete("x", 4));
  EXPECT_FALSE(m.compare_and_delete("never", 0));
}

TYPED_TEST(MapApi, RangeVisitsEachKeyOnceAndStopsEarly) {
  TypeParam m;
  std::map<std::string, int> want;
  for (int i = 0; i < 500; ++i) {
    m.store(std::to_string(i), i * 3);
    want[std::to_string(i)] = i * 3;
  }
  for (int i = 0; i < 500; i += 5) {
    m.erase(std::to_string(i));
    want.erase(std::to_string(i));
  }
  EXPECT_EQ(contents(m), want);
  int calls = 0;
  m.range([&](const std::string&, const int&) { return ++calls < 3; });
  EXPECT_EQ(calls, 3);
}

TYPED_TEST(MapApi, ClearEmptiesTheMapAndItStaysUsable) {
  TypeParam m;
  m.clear();
  for (int i = 0; i < 100; ++i) m.store(std::to_string(i), i);
  m.load("1");
  m.clear();
  EXPECT_TRUE(contents(m).empty());
  EXPECT_EQ(m.load("1"), std::nullopt);
  m.store("1", 11);
  EXPECT_EQ(m.load("1"), 11);
  EXPECT_EQ(contents(m).size(), 1u);
}

// Go's TestMapRangeNestedCall (#46399): f may use the map it is ranging over.
TYPED_TEST(MapApi, RangeCallbackMayUseTheMap) {
  TypeParam m;
  for (int i = 0; i < 5; ++i) m.store(std::to_string(i), i);
  m.range([&](const std::string& k, const int& v) {
    m.range([&](const std::string& k2, const int& v2) {
      EXPECT_EQ(m.load(k2), v2);
      m.store("nested" + k2, v2);
      m.erase("nested" + k2);
      return true;
    });
    EXPECT_EQ(m.load_and_delete(k), v);
    m.store(k, v + 100);
    return true;
  });
  for (int i = 0; i < 5; ++i) EXPECT_EQ(m.load(std::to_string(i)), i + 100);
  EXPECT_EQ(contents(m).size(), 5u);
}

// API misuse the compiler must reject, checked for every map: compare_and_swap and
// compare_and_delete need a V with ==, and a map cannot be copied (no copy could be atomic).
// Every other operation works with such a V.
struct NoEq {
  int v;
};

template <class M, class V2>
struct WithValue;
template <class K, class V, class H, class E, class V2>
struct WithValue<Map<K, V, H, E>, V2> {
  using type = Map<K, V2, H, E>;
};
template <class K, class V, std::size_t S, class H, class E, class V2>
struct WithValue<ShardedMap<K, V, S, H, E>, V2> {
  using type = ShardedMap<K, V2, S, H, E>;
};
template <class K, class V, class H, class E, class V2>
struct WithValue<RWMutexMap<K, V, H, E>, V2> {
  using type = RWMutexMap<K, V2, H, E>;
};
template <class K, class V, class H, class E, class L, class V2>
struct WithValue<ConcurrentMap<K, V, H, E, L>, V2> {
  using type = ConcurrentMap<K, V2, H, E, L>;
};

template <class M, class V>
concept HasCompareOps = requires(M& m, const std::string& k, const V& v) {
  m.compare_and_swap(k, v, v);
  m.compare_and_delete(k, v);
};

TYPED_TEST(MapApi, MisuseIsRejectedAtCompileTime) {
  using NoEqMap = typename WithValue<TypeParam, NoEq>::type;
  static_assert(HasCompareOps<TypeParam, int>);
  static_assert(!HasCompareOps<NoEqMap, NoEq>, "compare ops must require V ==");
  static_assert(!std::is_copy_constructible_v<TypeParam> && !std::is_copy_assignable_v<TypeParam>);
  NoEqMap m;
  m.store("a", NoEq{1});
  EXPECT_EQ(m.load("a")->v, 1);
  EXPECT_EQ(m.swap("a", NoEq{2})->v, 1);
  EXPECT_TRUE(m.load_or_store("a", NoEq{3}).second);
  EXPECT_EQ(m.load_and_delete("a")->v, 2);
  EXPECT_FALSE(m.load("a").has_value());
  m.store("b", NoEq{4});
  m.erase("b");
  int n = 0;
  m.range([&](const std::string&, const NoEq&) { return ++n, true; });
  EXPECT_EQ(n, 0);
}

TYPED_TEST(MapApi, WorksInsideGoroutines) {
  run_with(2, [] {
    TypeParam m;
    parallel(8, [&](int g) {
      for (int i = 0; i < 200; ++i) m.store(std::to_string(g * 1000 + i), g);
      for (int i = 0; i < 200; ++i) EXPECT_EQ(m.load(std::to_string(g * 1000 + i)), g);
    });
    EXPECT_EQ(contents(m).size(), 1600u);
  });
}

TYPED_TEST(MapApi, WorksFromPlainThreads) {
  TypeParam m;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&m, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string k = std::to_string(i % 300);
        m.load_or_store(k, i % 300);
        m.store(std::to_string(t) + "/" + std::to_string(i % 50), i);
        EXPECT_EQ(m.load(k), i % 300);
        if (i % 7 == 0) m.erase(std::to_string(t) + "/" + std::to_string(i % 50));
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int i = 0; i < 300; ++i) EXPECT_EQ(m.load(std::to_string(i)), i);
}

TEST(ShardedMapTest, ShardSelectionIsFnv1aModShards) {
  // FNV-1a 32 of "a" is 0xe40c292c; of "foobar" 0xbf9cf968 (published test vectors).
  ShardedMap<std::string, int> m32;
  EXPECT_EQ(m32.shard_of("a"), 0xe40c292cu % 32);
  EXPECT_EQ(m32.shard_of("foobar"), 0xbf9cf968u % 32);
  ShardedMap<std::string, int, 7> m7;
  EXPECT_EQ(m7.shard_of("foobar"), 0xbf9cf968u % 7);
  // Integer keys hash their bytes; 10000 consecutive keys spread over every shard.
  ShardedMap<std::int64_t, int> mi;
  std::array<int, 32> per_shard{};
  for (std::int64_t k = 0; k < 10000; ++k) ++per_shard[mi.shard_of(k)];
  for (int n : per_shard) EXPECT_GT(n, 10000 / 32 / 2);
}

// ConcurrentMap keeps small trivially copyable keys and values in its buckets, anything else
// in nodes; both layouts must round-trip every bit of a key and a value, including keys and
// values narrower than the 8-byte words they are stored in.
TEST(ConcurrentMapTest, EntryLayoutFollowsTheTypes) {
  static_assert(ConcurrentMap<std::int64_t, std::int64_t>::stores_entries_inline());
  static_assert(ConcurrentMap<int, const char*>::stores_entries_inline());
  static_assert(!ConcurrentMap<std::string, int>::stores_entries_inline());
  static_assert(!ConcurrentMap<std::int64_t, std::array<char, 16>>::stores_entries_inline());
  static_assert(!ConcurrentMap<std::int64_t, std::int64_t, std::hash<std::int64_t>,
                               std::equal_to<std::int64_t>, NodeEntries>::stores_entries_inline());
  struct Small {
    std::int16_t a;
    std::uint8_t b;
    bool operator==(const Small&) const = default;
  };
  struct SmallHash {
    std::size_t operator()(const Small& s) const { return std::size_t(s.a) * 256 + s.b; }
  };
  ConcurrentMap<Small, float, SmallHash> m;
  static_assert(decltype(m)::stores_entries_inline());
  for (int i = 0; i < 3000; ++i) {
    m.store(Small{std::int16_t(i - 1500), std::uint8_t(i * 7)}, float(i) * -0.5f);
  }
  for (int i = 0; i < 3000; ++i) {
    ASSERT_EQ(m.load(Small{std::int16_t(i - 1500), std::uint8_t(i * 7)}), float(i) * -0.5f);
  }
  EXPECT_EQ(m.load(Small{std::int16_t(-1500), 1}), std::nullopt);
  int n = 0;
  m.range([&](const Small& k, const float& v) {
    EXPECT_EQ(v, float(k.a + 1500) * -0.5f);
    return ++n, true;
  });
  EXPECT_EQ(n, 3000);
}

// ---- values destroyed exactly once ---------------------------------------------------------

std::atomic<long> g_live{0};
std::atomic<long> g_bad{0};

// A value that counts live instances and detects use after destruction.
struct Tracked {
  static constexpr std::uint64_t kAlive = 0xA11CE5A11CE5ull, kDead = 0xDEADDEADDEADull;
  std::uint64_t canary = kAlive;
  int v = 0;
  Tracked(int x = 0) : v(x) { g_live.fetch_add(1); }  // NOLINT: implicit on purpose
  Tracked(const Tracked& o) : v(o.v) {
    if (o.canary != kAlive) g_bad.fetch_add(1);
    g_live.fetch_add(1);
  }
  Tracked& operator=(const Tracked& o) {
    if (o.canary != kAlive || canary != kAlive) g_bad.fetch_add(1);
    v = o.v;
    return *this;
  }
  ~Tracked() {
    if (canary != kAlive) g_bad.fetch_add(1);
    canary = kDead;
    g_live.fetch_sub(1);
  }
  bool operator==(const Tracked& o) const { return v == o.v; }
};

template <class M>
class MapReclamation : public ::testing::Test {};
using TrackedMaps = ::testing::Types<Map<int, Tracked>, ConcurrentMap<int, Tracked>,
                                     ShardedMap<int, Tracked>, RWMutexMap<int, Tracked>>;
static_assert(!ConcurrentMap<int, Tracked>::stores_entries_inline());
TYPED_TEST_SUITE(MapReclamation, TrackedMaps);

TYPED_TEST(MapReclamation, EveryValueIsDestroyedExactlyOnce) {
  g_live = 0;
  g_bad = 0;
  run_with(stress_procs(), [] {
    auto m = std::make_unique<TypeParam>();
    auto m2 = std::make_unique<TypeParam>();
    parallel(6, [&](int g) {
      Rng rng(g + 1);
      for (int i = 0; i < scaled(30000); ++i) {
        const int k = int(rng.below(200));
        switch (rng.below(9)) {
          case 0: m->store(k, Tracked(i)); break;
          case 1: m->load(k); break;
          case 2: m->load_or_store(k, Tracked(i)); break;
          case 3: m->load_and_delete(k); break;
          case 4: m->erase(k); break;
          case 5: m->swap(k, Tracked(i)); break;
          case 6: {
            auto v = m->load(k);
            if (v) m->compare_and_swap(k, *v, Tracked(i));
            break;
          }
          case 7: {
            auto v = m->load(k);
            if (v) m->compare_and_delete(k, *v);
            break;
          }
          case 8:
            if (rng.below(50) == 0) {
              m->clear();
            } else {
              m->range([&](const int&, const Tracked& t) {
                if (t.canary != Tracked::kAlive) g_bad.fetch_add(1);
                return rng.below(10) != 0;
              });
            }
            break;
        }
        m2->store(k + 1000 * g, Tracked(i));
      }
    });
    m.reset();
    m2.reset();
  });
  // The run is over and its threads have exited, handing their retirements to the orphan
  // list; drain frees them (and ours).
  EpochDomain::global().drain();
  EXPECT_EQ(g_bad.load(), 0);
  EXPECT_EQ(g_live.load(), 0) << "values leaked or destroyed twice";
  EXPECT_EQ(EpochDomain::global().pending(), 0u);
}

// The maps that retire values through the epoch domain.
template <class M>
class EpochMapReclamation : public ::testing::Test {};
using EpochTrackedMaps = ::testing::Types<Map<int, Tracked>, ConcurrentMap<int, Tracked>>;
TYPED_TEST_SUITE(EpochMapReclamation, EpochTrackedMaps);

TYPED_TEST(EpochMapReclamation, RetirementsOfExitedThreadsAreFreed) {
  g_live = 0;
  g_bad = 0;
  {
    TypeParam m;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&m, t] {
        for (int i = 0; i < 500; ++i) m.store(i % 10 + 10 * t, Tracked(i));  // each retires
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_GT(EpochDomain::global().pending(), 0u) << "exited threads left no orphans";
  }
  EpochDomain::global().drain();
  EXPECT_EQ(g_bad.load(), 0);
  EXPECT_EQ(g_live.load(), 0);
}

// Tables retired by growth are large: they must be freed after a few more writes even when
// nothing else is retired (inline entries update in place), not after 1024 more retirements.
TEST(EpochMapReclamationTest, RetiredTablesAreFreedWithoutMoreRetirements) {
  EpochDomain::global().drain();
  const std::uint64_t before = EpochDomain::global().epoch();
  std::thread([before] {
    ConcurrentMap<std::int64_t, std::int64_t> m;
    static_assert(decltype(m)::stores_entries_inline());
    for (std::int64_t k = 0; k < 20000; ++k) m.store(k, k);  // about 10 doublings
    for (int i = 0; i < 200; ++i) m.store(i, -i);  // updates in place: retire nothing
    // The epoch advances only while something is pending: tables were retired...
    EXPECT_GT(EpochDomain::global().epoch(), before);
    // ... and none is left (without the large-retirement retry, all 10 would be).
    EXPECT_EQ(EpochDomain::global().pending(), 0u) << "old tables still pending";
    for (int i = 0; i < 200; ++i) ASSERT_EQ(m.load(i), -i);
  }).join();
}

// The reclamation scheme on its own, in both modes: readers dereference a shared pointer that
// writers keep replacing and retiring. ASan reports any premature free; the canary catches it
// in a release build when the memory has been reused.
void reclamation_stress(EpochDomain& domain) {
  struct Obj {
    std::uint64_t canary = Tracked::kAlive;
    std::uint64_t payload;
    explicit Obj(std::uint64_t p) : payload(p) {}
    ~Obj() { canary = Tracked::kDead; }
  };
  std::atomic<Obj*> shared{new Obj(0)};
  std::atomic<long> bad{0};
  std::atomic<bool> stop{false};
  run_with(stress_procs(), [&] {
    WaitGroup readers;
    readers.add(3);
    for (int r = 0; r < 3; ++r) {
      go([&] {
        while (!stop.load(std::memory_order_relaxed)) {
          for (int i = 0; i < 64; ++i) {
            gocxx::sync::detail::PinGuard pin(domain);
            Obj* o = shared.load(std::memory_order_acquire);
            if (o->canary != Tracked::kAlive || o->payload == ~0ull) bad.fetch_add(1);
          }
          gocxx::yield();
        }
        readers.done();
      });
    }
    parallel(2, [&](int w) {
      for (int i = 0; i < scaled(300000); ++i) {
        Obj* fresh = new Obj(std::uint64_t(i) * 2 + std::uint64_t(w));
        Obj* old = nullptr;
        {
          gocxx::sync::detail::PinGuard pin(domain);
          old = shared.exchange(fresh, std::memory_order_acq_rel);
          pin.retire(old, &gocxx::sync::detail::delete_as<Obj>);
        }
        domain.maybe_collect();
        if (i % 256 == 0) gocxx::yield();
      }
    });
    stop = true;
    readers.wait();
  });
  delete shared.load();
  domain.drain();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(domain.pending(), 0u);
}

TEST(EpochReclamation, MembarrierDomain) { reclamation_stress(EpochDomain::global()); }
TEST(EpochReclamation, FencedDomain) { reclamation_stress(EpochDomain::fenced()); }

TEST(EpochReclamation, EpochWaitsForPinnedReaders) {
  EpochDomain& d = EpochDomain::fenced();
  d.drain();
  std::atomic<int> phase{0};
  std::uint64_t pinned_at = 0;
  std::thread reader([&] {
    gocxx::sync::detail::PinGuard pin(d);
    pinned_at = d.epoch();
    phase = 1;
    while (phase.load() != 2) std::this_thread::yield();
  });
  while (phase.load() != 1) std::this_thread::yield();
  // The reader is pinned at pinned_at: the epoch can move at most one step past it.
  for (int i = 0; i < 10; ++i) d.try_advance();
  EXPECT_LE(d.epoch(), pinned_at + 1);
  phase = 2;
  reader.join();
  const std::uint64_t before = d.epoch();
  for (int i = 0; i < 3; ++i) d.try_advance();
  EXPECT_EQ(d.epoch(), before + 3);
}

// ---- Go's map_reference_test: random sequences against std::map -----------------------------

// The reference: a std::map behind a std::mutex.
class ReferenceMap {
 public:
  std::optional<int> load(const std::string& k) {
    std::lock_guard l(mu_);
    auto it = m_.find(k);
    return it == m_.end() ? std::nullopt : std::optional<int>(it->second);
  }
  void store(const std::string& k, int v) {
    std::lock_guard l(mu_);
    m_[k] = v;
  }
  std::pair<int, bool> load_or_store(const std::string& k, int v) {
    std::lock_guard l(mu_);
    auto [it, inserted] = m_.emplace(k, v);
    return {it->second, !inserted};
  }
  std::optional<int> load_and_delete(const std::string& k) {
    std::lock_guard l(mu_);
    auto it = m_.find(k);
    if (it == m_.end()) return std::nullopt;
    int v = it->second;
    m_.erase(it);
    return v;
  }
  void erase(const std::string& k) {
    std::lock_guard l(mu_);
    m_.erase(k);
  }
  std::optional<int> swap(const std::string& k, int v) {
    std::lock_guard l(mu_);
    auto it = m_.find(k);
    std::optional<int> prev;
    if (it != m_.end()) prev = it->second;
    m_[k] = v;
    return prev;
  }
  bool compare_and_swap(const std::string& k, int old, int v) {
    std::lock_guard l(mu_);
    auto it = m_.find(k);
    if (it == m_.end() || it->second != old) return false;
    it->second = v;
    return true;
  }
  bool compare_and_delete(const std::string& k, int old) {
    std::lock_guard l(mu_);
    auto it = m_.find(k);
    if (it == m_.end() || it->second != old) return false;
    m_.erase(it);
    return true;
  }
  template <class F>
  void range(F&& f) {
    std::map<std::string, int> copy;
    {
      std::lock_guard l(mu_);
      copy = m_;
    }
    for (const auto& [k, v] : copy) {
      if (!f(k, v)) break;
    }
  }
  void clear() {
    std::lock_guard l(mu_);
    m_.clear();
  }

 private:
  std::mutex mu_;
  std::map<std::string, int> m_;
};

struct Call {
  int op;
  std::string key;
  int value, other;
};

// Random calls over a small domain (keys "", "a".."c", "aa"...: 0-2 letters of {a,b,c}; values
// 0-3), so that hits, misses, CAS successes and failures, promotions and re-insertions of
// deleted keys are all frequent.
std::vector<Call> random_calls(Rng& rng) {
  static const char* const kKeys[] = {"", "a", "b", "c", "aa", "ab", "ac", "ba", "bb", "cc"};
  std::vector<Call> calls(rng.below(40));
  for (Call& c : calls) {
    c.op = int(rng.below(11));
    c.key = kKeys[rng.below(std::size(kKeys))];
    c.value = int(rng.below(4));
    c.other = int(rng.below(4));
  }
  return calls;
}

// Applies the calls and writes every result, then the final contents, to a string.
template <class M>
std::string apply_calls(M& m, const std::vector<Call>& calls) {
  std::ostringstream out;
  auto opt = [&](const std::optional<int>& v) {
    if (v) out << *v; else out << '-';
    out << ';';
  };
  auto sorted_range = [&](std::size_t limit) {
    std::vector<std::pair<std::string, int>> seen;
    m.range([&](const std::string& k, const int& v) {
      seen.emplace_back(k, v);
      return seen.size() < limit;
    });
    if (limit != SIZE_MAX) {
      out << seen.size() << ';';  // an early stop: only the count is determined
      return;
    }
    std::sort(seen.begin(), seen.end());
    for (auto& [k, v] : seen) out << k << '=' << v << ',';
    out << ';';
  };
  for (const Call& c : calls) {
    switch (c.op) {
      case 0: opt(m.load(c.key)); break;
      case 1: m.store(c.key, c.value); break;
      case 2: {
        auto [v, loaded] = m.load_or_store(c.key, c.value);
        out << v << loaded << ';';
        break;
      }
      case 3: opt(m.load_and_delete(c.key)); break;
      case 4: m.erase(c.key); break;
      case 5: opt(m.swap(c.key, c.value)); break;
      case 6: out << m.compare_and_swap(c.key, c.other, c.value) << ';'; break;
      case 7: out << m.compare_and_delete(c.key, c.other) << ';'; break;
      case 8: sorted_range(SIZE_MAX); break;
      case 9: sorted_range(std::size_t(c.value) + 1); break;
      case 10:
        if (c.value == 0) m.clear(); else opt(m.load(c.key));
        break;
    }
  }
  sorted_range(SIZE_MAX);
  return out.str();
}

template <class M>
class MapReference : public ::testing::Test {};
using IntValueMaps = ::testing::Types<Map<std::string, int>, ShardedMap<std::string, int>,
                                      RWMutexMap<std::string, int>,
                                      ConcurrentMap<std::string, int>>;
TYPED_TEST_SUITE(MapReference, IntValueMaps);

TYPED_TEST(MapReference, RandomSequencesMatchStdMap) {
  const int kSequences = scaled(100000);
  std::atomic<int> mismatches{0};
  run_with(2, [&] {
    // Two goroutines share the sequences, so the maps' memory moves between threads too.
    parallel(2, [&](int g) {
      Rng rng(0x5eed + g);
      for (int i = g; i < kSequences; i += 2) {
        std::vector<Call> calls = random_calls(rng);
        TypeParam m;
        ReferenceMap ref;
        std::string got = apply_calls(m, calls), want = apply_calls(ref, calls);
        if (got != want && mismatches.fetch_add(1) < 3) {
          ADD_FAILURE() << "sequence " << i << ": got " << got << "\nwant " << want;
        }
      }
    });
  });
  EXPECT_EQ(mismatches.load(), 0);
}

// One long-lived map (many promotions, dirty re-creations, expunges) against the reference.
TYPED_TEST(MapReference, LongSequenceMatchesStdMap) {
  TypeParam m;
  ReferenceMap ref;
  Rng rng(42);
  for (int round = 0; round < scaled(2000); ++round) {
    std::vector<Call> calls = random_calls(rng);
    ASSERT_EQ(apply_calls(m, calls), apply_calls(ref, calls)) << "round " << round;
  }
}

// ---- linearizability-style concurrent checks ------------------------------------------------

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
TEST(MapPromotion, MissesPromoteDirtyAndKeysSurvive) {
  Map<int, int> m;
  for (int round = 0; round < 50; ++round) {
    const int base = round * 100;
    for (int k = base; k < base + 100; ++k) m.store(k, k + 1);  // all new: dirty grows
    for (int i = 0; i < 300; ++i) {
      const int k = base + i % 100;
      ASSERT_EQ(m.load(k), k + 1);  // misses until promotion, hits after
    }
    for (int k = base; k < base + 100; k += 2) m.erase(k);
    for (int k = base; k < base + 100; ++k) {
      ASSERT_EQ(m.load(k), k % 2 ? std::optional<int>(k + 1) : std::nullopt);
    }
  }
  int n = 0;
  m.range([&](const int& k, const int& v) {
    EXPECT_EQ(v, k + 1);
    ++n;
    return true;
  });
  EXPECT_EQ(n, 50 * 50);
}

}  // namespace
