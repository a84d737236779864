// Code shared by gocxx's maps, kept here once: the hash mixer of the two lock-free maps
// (sync::Map in sync_map.hpp, ConcurrentMap in concurrent_map.hpp) and LockedMap, the
// RWMutex-protected std::unordered_map that both lock-based maps (RWMutexMap in
// rwmutex_map.hpp, ShardedMap in sharded_map.hpp) are built from. Not part of the API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "gocxx/sync.hpp"

namespace gocxx::sync::detail {

// 64-bit mixer applied to the user's hash by sync::Map and ConcurrentMap (Fibonacci hashing:
// the high bits index the table, so even identity hashes such as std::hash of integers spread).
inline std::uint64_t mix_hash(std::size_t h) {
  return std::uint64_t(h) * 0x9E3779B97F4A7C15ull;
}

// One RWMutex-protected std::unordered_map: the building block of both lock-based maps.
template <class K, class V, class Hash, class Eq>
struct LockedMap {
  mutable RWMutex mu;
  std::unordered_map<K, V, Hash, Eq> m;

  std::optional<V> load(const K& key) const {
    std::shared_lock lock(mu);
    auto it = m.find(key);
    if (it == m.end()) return std::nullopt;
    return it->second;
  }
  void store(const K& key, V value) {
    std::lock_guard lock(mu);
    m.insert_or_assign(key, std::move(value));
  }
  std::optional<V> swap(const K& key, V value) {
    std::lock_guard lock(mu);
    auto [it, inserted] = m.try_emplace(key, std::move(value));
    if (inserted) return std::nullopt;
    std::optional<V> prev(std::move(it->second));
    it->second = std::move(value);
    return prev;
  }
  std::pair<V, bool> load_or_store(const K& key, V value) {
    {
      std::shared_lock lock(mu);
      auto it = m.find(key);
      if (it != m.end()) return {it->second, true};
    }
    std::lock_guard lock(mu);
    auto [it, inserted] = m.try_emplace(key, std::move(value));
    return {it->second, !inserted};
  }
  std::optional<V> load_and_delete(const K& key) {
    std::lock_guard lock(mu);
    auto it = m.find(key);
    if (it == m.end()) return std::nullopt;
    std::optional<V> v(std::move(it->second));
    m.erase(it);
    return v;
  }
  void erase(const K& key) {
    std::lock_guard lock(mu);
    m.erase(key);
  }
  bool compare_and_swap(const K& key, const V& expected, V desired) {
    std::lock_guard lock(mu);
    auto it = m.find(key);
    if (it == m.end() || !(it->second == expected)) return false;
    it->second = std::move(desired);
    return true;
  }
  bool compare_and_delete(const K& key, const V& expected) {
    std::lock_guard lock(mu);
    auto it = m.find(key);
    if (it == m.end() || !(it->second == expected)) return false;
    m.erase(it);
    return true;
  }
  // Copies the pairs under the read lock; the caller calls f on the copy with no lock held.
  std::vector<std::pair<K, V>> snapshot() const {
    std::shared_lock lock(mu);
    return std::vector<std::pair<K, V>>(m.begin(), m.end());
  }
  void clear() {
    std::lock_guard lock(mu);
    m.clear();
  }
};

}  // namespace gocxx::sync::detail
