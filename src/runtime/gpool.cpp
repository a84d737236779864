// The dead-G pool: the process-wide free list behind each P's cache of dead Gs (g_get and
// g_put in scheduler.cpp), and making new Gs.
//
// Gs are small heap objects (dense, so queue and pool walks stay in cache); each owns an
// mmap'd stack. Free Gs are kept in arrays, never linked through the Gs themselves.

#include "gpool.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "registry.hpp"
#include "scheduler.hpp"

namespace gocxx::detail {

namespace {

struct GPool {
  RankedMutex<LockRank::kGFree> lock;
  std::vector<std::pair<std::size_t, std::vector<G*>>> by_size;  // one list per stack size

  std::vector<G*>& list_for(std::size_t size) {
    for (auto& [s, list] : by_size) {
      if (s == size) return list;
    }
    return by_size.emplace_back(size, std::vector<G*>{}).second;
  }
};
GPool& g_pool() {
  static GPool* pool = new GPool;  // outlives every thread; Gs are never freed
  return *pool;
}

}  // namespace

void pool_put(G* const* gs, int n) {
  if (n == 0) return;
  auto& pool = g_pool();
  std::lock_guard lk(pool.lock);
  auto& list = pool.list_for(gs[0]->stack.size);
  list.insert(list.end(), gs, gs + n);
}

// Moves up to `max` free Gs with the given stack size into `out`; returns how many.
int pool_take(std::size_t size, G** out, int max) {
  auto& pool = g_pool();
  std::lock_guard lk(pool.lock);
  auto& list = pool.list_for(size);
  int n = std::min<int>(max, static_cast<int>(list.size()));
  std::copy(list.end() - n, list.end(), out);
  list.resize(list.size() - n);
  return n;
}

G* new_g(std::size_t stack_size) {
  auto* g = new G();
  g->stack = stack_map(stack_size);
#ifdef GOCXX_ASAN
  // LeakSanitizer scans thread stacks, not our mappings: what a parked or abandoned goroutine
  // references from its stack is still reachable.
  __lsan_register_root_region(g->stack.bottom, g->stack.size);
#endif
  registry_add(g);
  return g;
}

}  // namespace gocxx::detail
