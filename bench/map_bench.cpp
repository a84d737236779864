// Concurrent map benchmarks (driven by bench/compare_maps; bench/go/maps is the Go twin).
//
//   map_bench <workload> [target-ms]     prints "<workload>/<map> <unit> <value>" lines
//   map_bench list                       prints the workload names
//
// Two families:
//
// * Go's src/sync/map_bench_test.go workloads (LoadMostlyHits ... Clear), ported with the same
//   harness semantics: a fresh map per run, the same setup, then testing.B.RunParallel: one
//   worker goroutine per P, each starting its counter at id * n, pulling iterations from a
//   shared counter in grains. Reported as ns/op = wall time / total operations, as Go does.
//   Workloads that go1.19 has are ported from go1.19 (the Go on the reference machine, whose
//   own benchmarks bench/compare_maps runs beside these); Swap*, CompareAnd*, Clear follow the
//   later Go versions that added those methods.
//
// * The "million QPS" comparison (mqps99, mqps90, mqps50) of the article this project started
//   from: 100,000 int64 keys, all present, uniform random keys, the given percentage of loads
//   and the rest stores (updates), one worker per P. churn90: 90% loads, the rest half deletes and half stores of random keys
//   (so about half the keys are present and stores keep inserting new ones). The map is
//   primed before timing (a range(), which promotes Map's dirty table, as Go's Range does).
//   Reported as ops/s. Besides the four gocxx maps: TBB's concurrent_hash_map and libcuckoo.
//
// The gocxx maps: Map (sync_map.hpp), ShardedMap (sharded_map.hpp), RWMutexMap
// (rwmutex_map.hpp) and ConcurrentMap (concurrent_map.hpp).
#include <gocxx/concurrent_map.hpp>
#include <gocxx/gocxx.hpp>
#include <gocxx/rwmutex_map.hpp>
#include <gocxx/sharded_map.hpp>
#include <gocxx/sync_map.hpp>

#include "sizing.hpp"

#ifdef GOCXX_BENCH_HAVE_TBB
#include <tbb/concurrent_hash_map.h>
#endif
#ifdef GOCXX_BENCH_HAVE_LIBCUCKOO
#include <libcuckoo/cuckoohash_map.hh>
#endif

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using bench::Nanos;
using i64 = std::int64_t;

using bench::measure;

// testing.PB: hands out iterations in grains from a shared counter.
class PB {
 public:
  PB(std::atomic<i64>& next, i64 n, i64 grain) : next_(next), n_(n), grain_(grain) {}
  bool next() {
    if (cache_ > 0) {
      --cache_;
      return true;
    }
    const i64 start = next_.fetch_add(grain_, std::memory_order_relaxed);
    if (start >= n_) return false;
    cache_ = std::min(grain_, n_ - start) - 1;
    return true;
  }

 private:
  std::atomic<i64>& next_;
  const i64 n_, grain_;
  i64 cache_ = 0;
};

// testing.B.RunParallel: procs() worker goroutines share n iterations. Returns the wall time.
template <class Body>
Nanos run_parallel(i64 n, Body body) {
  const int workers = gocxx::procs();
  // Go: grain ~ 100 us worth of iterations, at most 1e4; we assume ~ 10-100 ns per op.
  i64 grain = n / (i64(workers) * 100);
  grain = std::clamp<i64>(grain, 1, 10000);
  std::atomic<i64> next{0};
  gocxx::sync::WaitGroup wg;
  wg.add(workers);
  const auto start = Clock::now();
  for (int id = 0; id < workers; ++id) {
    gocxx::go([&, id] {
      PB pb(next, n, grain);
      body(id, pb);
      wg.done();
    });
  }
  wg.wait();
  return Clock::now() - start;
}

// ---- the maps, behind one interface --------------------------------------------------------

using GMap = gocxx::sync::Map<i64, i64>;
using GSharded = gocxx::sync::ShardedMap<i64, i64>;
using GRWMutex = gocxx::sync::RWMutexMap<i64, i64>;
using GConcurrent = gocxx::sync::ConcurrentMap<i64, i64>;

// ---- Go's map_bench_test.go ----------------------------------------------------------------

struct Bench {
  std::function<void(void*)> setup;  // unused when null
  std::function<void(void*, PB&, i64)> per_g;
};

template <class M>
Nanos run_bench(const std::function<void(M&)>& setup,
                const std::function<void(M&, PB&, i64, i64)>& per_g, i64 n) {
  auto m = std::make_unique<M>();
  if (setup) setup(*m);
  Nanos d = run_parallel(n, [&](int id, PB& pb) { per_g(*m, pb, i64(id) * n, n); });
  m.reset();  // outside the timed region
  return d;
}

// Each workload is a function template over the map type.
#define GO_BENCH(NAME) \
  template <class M>   \
  Nanos NAME(i64 n)

template <class M>
void prime_hits(M& m, i64 hits) {
  for (i64 i = 0; i < hits; ++i) m.load_or_store(i, i);
  for (i64 i = 0; i < hits * 2; ++i) m.load(i % hits);
}

template <class M>
Nanos load_mostly(i64 n, i64 hits, i64 misses) {
  return run_bench<M>([&](M& m) { prime_hits(m, hits); },
                      [&](M& m, PB& pb, i64 i, i64) {
                        for (; pb.next(); ++i) m.load(i % (hits + misses));
                      },
                      n);
}
GO_BENCH(LoadMostlyHits) { return load_mostly<M>(n, 1023, 1); }
GO_BENCH(LoadMostlyMisses) { return load_mostly<M>(n, 1, 1023); }

GO_BENCH(LoadOrStoreBalanced) {
  constexpr i64 hits = 128, misses = 128;
  return run_bench<M>([&](M& m) { prime_hits(m, hits); },
                      [&](M& m, PB& pb, i64 i, i64) {
                        for (; pb.next(); ++i) {
                          const i64 j = i % (hits + misses);
                          if (j < hits) {
                            if (!m.load_or_store(j, i).second) std::abort();
                          } else {
                            if (m.load_or_store(i, i).second) std::abort();
                          }
                        }
                      },
                      n);
}
GO_BENCH(LoadOrStoreUnique) {
  return run_bench<M>(nullptr,
                      [&](M& m, PB& pb, i64 i, i64) {
                        for (; pb.next(); ++i) m.load_or_store(i, i);
                      },
                      n);
}
GO_BENCH(LoadOrStoreCollision) {
  return run_bench<M>([](M& m) { m.load_or_store(0, 0); },
                      [&](M& m, PB& pb, i64, i64) {
                        while (pb.next()) m.load_or_store(0, 0);
                      },
                      n);
}
GO_BENCH(LoadAndDeleteBalanced) {
  constexpr i64 hits = 128, misses = 128;
  return run_bench<M>([&](M& m) { prime_hits(m, hits); },
                      [&](M& m, PB& pb, i64 i, i64) {
                        for (; pb.next(); ++i) {
                          const i64 j = i % (hits + misses);
                          if (j < hits) {
                            m.load_and_delete(j);
                          } else {
                            m.load_and_delete(i);
                          }
                        }
                      },
                      n);
}
GO_BENCH(LoadAndDeleteUnique) {
  return run_bench<M>(nullptr,
                      [&](M& m, PB& pb, i64 i, i64) {
                        for (; pb.next(); ++i) m.load_and_delete(i);
                      },
                      n);
}
GO_BENCH(LoadAndDeleteCollision) {  // go1.19's version
  return run_bench<M>([](M& m) { m.load_or_store(0, 0); },
                      [&](M& m, PB& pb, i64, i64) {
                        while (pb.next()) m.load_and_delete(0);
                      },
                      n);
}
GO_BENCH(Range) {
  constexpr i64 size = 1 << 10;
  return run_bench<M>(
      [&](M& m) {
        for (i64 i = 0; i < size; ++i) m.store(i, i);
      },
      [&](M& m, PB& pb, i64, i64) {
        while (pb.next()) m.range([](const i64&, const i64&) { return true; });
      },
      n);
}
GO_BENCH(AdversarialAlloc) {
  return run_bench<M>(nullptr,
                      [&](M& m, PB& pb, i64 i, i64) {
                        i64 stores = 0, loads_since_store = 0;
                        for (; pb.next(); ++i) {
                          m.load(i);
                          if (++loads_since_store > stores) {
                            m.load_or_store(i, stores);
                            loads_since_store = 0;
                            ++stores;
                          }
                        }
                      },
                      n);
}
GO_BENCH(AdversarialDelete) {
  constexpr i64 size = 1 << 10;
  return run_bench<M>(
      [&](M& m) {
        for (i64 i = 0; i < size; ++i) m.store(i, i);
      },
      [&](M& m, PB& pb, i64 i, i64) {
        for (; pb.next(); ++i) {
          m.load(i);
          if (i % size == 0) {
            m.range([&](const i64& k, const i64&) {
              m.erase(k);
              return false;
            });
            m.store(i, i);
          }
        }
      },
      n);
}
GO_BENCH(DeleteCollision) {
  return run_bench<M>([](M& m) { m.load_or_store(0, 0); },
                      [&](M& m, PB& pb, i64, i64) {
                        while (pb.next()) m.erase(0);
                      },
                      n);
}
GO_BENCH(SwapCollision) {
  return run_bench<M>([](M& m) { m.load_or_store(0, 0); },
                      [&](M& m, PB& pb, i64, i64) {
                        while (pb.next()) m.swap(0, 0);
                      },
                      n);
}
template <class M>
Nanos swap_mostly(i64 n, i64 hits, i64 misses) {
  return run_bench<M>([&](M& m) { prime_hits(m, hits); },
                      [&](M& m, PB& pb, i64 i, i64) {
                        for (; pb.next(); ++i) {
                          if (i % (hits + misses) < hits) {
                            const i64 v = i % (hits + misses);
                            m.swap(v, v);
                          } else {
                            m.swap(i, i);
                            m.erase(i);
                          }
                        }
                      },
                      n);
}
GO_BENCH(SwapMostlyHits) { return swap_mostly<M>(n, 1023, 1); }
GO_BENCH(SwapMostlyMisses) { return swap_mostly<M>(n, 1, 1023); }
GO_BENCH(CompareAndSwapCollision) {
  return run_bench<M>([](M& m) { m.load_or_store(0, 0); },
                      [&](M& m, PB& pb, i64, i64) {
                        while (pb.next()) {
                          if (m.compare_and_swap(0, 0, 42)) m.compare_and_swap(0, 42, 0);
                        }
                      },
                      n);
}
GO_BENCH(CompareAndSwapNoExistingKey) {
  return run_bench<M>(nullptr,
                      [&](M& m, PB& pb, i64 i, i64) {
                        for (; pb.next(); ++i) {
                          if (m.compare_and_swap(i, 0, 0)) m.erase(i);
                        }
                      },
                      n);
}
GO_BENCH(CompareAndSwapValueNotEqual) {
  return run_bench<M>([](M& m) { m.store(0, 0); },
                      [&](M& m, PB& pb, i64, i64) {
                        while (pb.next()) m.compare_and_swap(0, 1, 2);
                      },
                      n);
}
template <class M>
Nanos cas_mostly(i64 n, i64 hits, i64 misses) {
  return run_bench<M>([&](M& m) { prime_hits(m, hits); },
                      [&](M& m, PB& pb, i64 i, i64) {
                        for (; pb.next(); ++i) {
                          i64 v = i;
                          if (i % (hits + misses) < hits) v = i % (hits + misses);
                          m.compare_and_swap(v, v, v);
                        }
                      },
                      n);
}
GO_BENCH(CompareAndSwapMostlyHits) { return cas_mostly<M>(n, 1023, 1); }
GO_BENCH(CompareAndSwapMostlyMisses) { return cas_mostly<M>(n, 1, 1023); }
GO_BENCH(CompareAndDeleteCollision) {
  return run_bench<M>([](M& m) { m.load_or_store(0, 0); },
                      [&](M& m, PB& pb, i64, i64) {
                        while (pb.next()) {
                          if (m.compare_and_delete(0, 0)) m.store(0, 0);
                        }
                      },
                      n);
}
template <class M>
Nanos cad_mostly(i64 n, i64 hits, i64 misses) {
  return run_bench<M>([&](M& m) { prime_hits(m, hits); },
                      [&](M& m, PB& pb, i64 i, i64) {
                        for (; pb.next(); ++i) {
                          i64 v = i;
                          if (i % (hits + misses) < hits) v = i % (hits + misses);
                          if (m.compare_and_delete(v, v)) m.store(v, v);
                        }
                      },
                      n);
}
GO_BENCH(CompareAndDeleteMostlyHits) { return cad_mostly<M>(n, 1023, 1); }
GO_BENCH(CompareAndDeleteMostlyMisses) { return cad_mostly<M>(n, 1, 1023); }
GO_BENCH(Clear) {
  return run_bench<M>(nullptr,
                      [&](M& m, PB& pb, i64 i, i64) {
                        for (; pb.next(); ++i) {
                          m.clear();
                          m.store(i % 256, i % 256);
                        }
                      },
                      n);
}

// ---- million QPS ---------------------------------------------------------------------------

// MAP_BENCH_QPS_KEYS overrides the key count (for experiments; the tables use 100,000).
const i64 kQpsKeys = [] {
  const char* env = std::getenv("MAP_BENCH_QPS_KEYS");
  return env != nullptr ? std::atoll(env) : i64{100000};
}();

// MAP_BENCH_QPS_SCRAMBLE=1 (an experiment; the tables use plain keys) replaces key k by
// k * an odd constant, a bijection. libstdc++'s std::hash<int64_t> is the identity, so the
// plain keys 0..n-1 give std::unordered_map-based maps (RWMutexMap, ShardedMap) a locality
// that random keys do not have; Go's maps hash with a random seed either way.
const bool kQpsScramble = [] {
  const char* env = std::getenv("MAP_BENCH_QPS_SCRAMBLE");
  return env != nullptr && env[0] == '1';
}();
inline i64 qps_key(i64 k) {
  return kQpsScramble ? i64(std::uint64_t(k) * 0x9E3779B97F4A7C15ull) : k;
}

// xorshift64*, the same generator as bench/go/maps.
struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 2685821657736338717ull;
  }
};

// The operations a million-QPS run needs, for the gocxx maps and the external references.
template <class M>
struct Ops {
  static void load(M& m, i64 k) { benchmark_use(m.load(k)); }
  static void store(M& m, i64 k, i64 v) { m.store(k, v); }
  static void erase(M& m, i64 k) { m.erase(k); }
  // Steady state before timing: Map promotes its dirty table (Go's Range does the same).
  static void prime(M& m) {
    m.range([](const i64&, const i64&) { return true; });
  }
  template <class T>
  static void benchmark_use(const T& v) {
    asm volatile("" : : "r"(&v) : "memory");
  }
};

#ifdef GOCXX_BENCH_HAVE_TBB
using TbbMap = tbb::concurrent_hash_map<i64, i64>;
template <>
struct Ops<TbbMap> {
  static void load(TbbMap& m, i64 k) {
    TbbMap::const_accessor a;
    i64 v = m.find(a, k) ? a->second : -1;
    asm volatile("" : : "r"(v) : "memory");
  }
  static void store(TbbMap& m, i64 k, i64 v) {
    TbbMap::accessor a;
    m.insert(a, k);
    a->second = v;
  }
  static void erase(TbbMap& m, i64 k) { m.erase(k); }
  static void prime(TbbMap&) {}
};
#endif
#ifdef GOCXX_BENCH_HAVE_LIBCUCKOO
using CuckooMap = libcuckoo::cuckoohash_map<i64, i64>;
template <>
struct Ops<CuckooMap> {
  static void load(CuckooMap& m, i64 k) {
    i64 v = -1;
    m.find(k, v);
    asm volatile("" : : "r"(v) : "memory");
  }
  static void store(CuckooMap& m, i64 k, i64 v) { m.insert_or_assign(k, v); }
  static void erase(CuckooMap& m, i64 k) { m.erase(k); }
  static void prime(CuckooMap&) {}
};
#endif

// read_pct: percentage of loads. churn: writes are half deletes, half stores.
template <class M>
Nanos mqps(i64 n, int read_pct, bool churn) {
  auto m = std::make_unique<M>();
  for (i64 k = 0; k < kQpsKeys; ++k) {
    if (!churn || k % 2 == 0) Ops<M>::store(*m, qps_key(k), k);
  }
  Ops<M>::prime(*m);
  Nanos d = run_parallel(n, [&](int id, PB& pb) {
    Rng rng{0x9E3779B97F4A7C15ull * std::uint64_t(id + 1)};
    while (pb.next()) {
      const std::uint64_t r = rng.next();
      const i64 k = qps_key(i64(((r >> 32) * std::uint64_t(kQpsKeys)) >> 32));
      const int pct = int(((r & 0xffff) * 100) >> 16);
      if (pct < read_pct) {
        Ops<M>::load(*m, k);
      } else if (churn && ((r >> 16) & 1) != 0) {
        Ops<M>::erase(*m, k);
      } else {
        Ops<M>::store(*m, k, i64(r & 0x7fffffff));
      }
    }
  });
  m.reset();
  return d;
}

// ---- driver --------------------------------------------------------------------------------

struct Workload {
  const char* name;
  std::function<void()> run;
};

// MAP_BENCH_MAPS=Map,libcuckoo restricts a run to some maps (for profiling).
bool selected(const char* map) {
  const char* env = std::getenv("MAP_BENCH_MAPS");
  if (env == nullptr || *env == '\0') return true;
  const std::string list = std::string(",") + env + ",";
  return list.find(std::string(",") + map + ",") != std::string::npos;
}

void report_ns(const char* workload, const char* map, double ns) {
  std::printf("%s/%s ns/op %.2f\n", workload, map, ns);
  std::fflush(stdout);
}
void report_qps(const char* workload, const char* map, double ns) {
  std::printf("%s/%s ops/s %.0f\n", workload, map, 1e9 / ns);
  std::fflush(stdout);
}

#define GO_WORKLOAD(NAME)                                          \
  Workload {                                                       \
#NAME, [] {                                                    \
      if (selected("Map")) report_ns(#NAME, "Map", measure(NAME<GMap>)); \
      if (selected("ShardedMap"))                                  \
        report_ns(#NAME, "ShardedMap", measure(NAME<GSharded>));   \
      if (selected("RWMutexMap"))                                  \
        report_ns(#NAME, "RWMutexMap", measure(NAME<GRWMutex>));   \
      if (selected("ConcurrentMap"))                               \
        report_ns(#NAME, "ConcurrentMap", measure(NAME<GConcurrent>)); \
    }                                                              \
  }

template <class M>
std::function<Nanos(i64)> mqps_fn(int pct, bool churn) {
  return [pct, churn](i64 n) { return mqps<M>(n, pct, churn); };
}

std::function<void()> mqps_workload(const char* name, int pct, bool churn) {
  return [=] {
    auto one = [&](const char* map, std::function<Nanos(i64)> f) {
      if (selected(map)) report_qps(name, map, measure(f));
    };
    one("Map", mqps_fn<GMap>(pct, churn));
    one("ShardedMap", mqps_fn<GSharded>(pct, churn));
    one("RWMutexMap", mqps_fn<GRWMutex>(pct, churn));
    one("ConcurrentMap", mqps_fn<GConcurrent>(pct, churn));
#ifdef GOCXX_BENCH_HAVE_TBB
    one("tbb_concurrent_hash_map", mqps_fn<TbbMap>(pct, churn));
#endif
#ifdef GOCXX_BENCH_HAVE_LIBCUCKOO
    one("libcuckoo", mqps_fn<CuckooMap>(pct, churn));
#endif
  };
}

std::vector<Workload> workloads() {
  return {
      GO_WORKLOAD(LoadMostlyHits),
      GO_WORKLOAD(LoadMostlyMisses),
      GO_WORKLOAD(LoadOrStoreBalanced),
      GO_WORKLOAD(LoadOrStoreUnique),
      GO_WORKLOAD(LoadOrStoreCollision),
      GO_WORKLOAD(LoadAndDeleteBalanced),
      GO_WORKLOAD(LoadAndDeleteUnique),
      GO_WORKLOAD(LoadAndDeleteCollision),
      GO_WORKLOAD(Range),
      GO_WORKLOAD(AdversarialAlloc),
      GO_WORKLOAD(AdversarialDelete),
      GO_WORKLOAD(DeleteCollision),
      GO_WORKLOAD(SwapCollision),
      GO_WORKLOAD(SwapMostlyHits),
      GO_WORKLOAD(SwapMostlyMisses),
      GO_WORKLOAD(CompareAndSwapCollision),
      GO_WORKLOAD(CompareAndSwapNoExistingKey),
      GO_WORKLOAD(CompareAndSwapValueNotEqual),
      GO_WORKLOAD(CompareAndSwapMostlyHits),
      GO_WORKLOAD(CompareAndSwapMostlyMisses),
      GO_WORKLOAD(CompareAndDeleteCollision),
      GO_WORKLOAD(CompareAndDeleteMostlyHits),
      GO_WORKLOAD(CompareAndDeleteMostlyMisses),
      GO_WORKLOAD(Clear),
      Workload{"mqps99", mqps_workload("mqps99", 99, false)},
      Workload{"mqps90", mqps_workload("mqps90", 90, false)},
      Workload{"mqps50", mqps_workload("mqps50", 50, false)},
      Workload{"churn90", mqps_workload("churn90", 90, true)},
  };
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: map_bench <workload>|list [target-ms]\n");
    return 2;
  }
  if (argc >= 3) bench::set_target_from_arg(argv[2]);
  const std::vector<Workload> all = workloads();
  if (std::strcmp(argv[1], "list") == 0) {
    for (const Workload& w : all) std::printf("%s\n", w.name);
    return 0;
  }
  for (const Workload& w : all) {
    if (std::strcmp(argv[1], w.name) == 0) {
      gocxx::run([&] { w.run(); });
      return 0;
    }
  }
  std::fprintf(stderr, "map_bench: unknown workload '%s'\n", argv[1]);
  return 2;
}
