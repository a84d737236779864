#include "map_test_util.hpp"
#include "test_util.hpp"

// Tests for gocxx's four maps: sync::Map (include/gocxx/sync_map.hpp), ConcurrentMap
// (concurrent_map.hpp), ShardedMap (sharded_map.hpp) and RWMutexMap (rwmutex_map.hpp). Their
// concurrent checks and race boundaries are in map_race_test.cpp.
//
//   * API semantics, for all four maps (typed tests), from plain threads and goroutines.
//   * Go's map_reference_test idea: random operation sequences applied to each map and to a
//     mutex-protected std::map must give identical results (>= 10^5 sequences per map in a
//     release build).
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
using gocxx::test::parallel;
using gocxx::test::Rng;
using gocxx::test::run_with;
using gocxx::test::scaled;
using gocxx::test::stress_procs;

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
