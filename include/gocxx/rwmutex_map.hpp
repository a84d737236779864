// gocxx::sync::RWMutexMap<K, V, Hash, Eq>: a std::unordered_map behind one gocxx::sync::RWMutex
// (Go's map + sync.RWMutex), with the API of sync::Map (sync_map.hpp lists it).
//
// Every operation may be called concurrently from goroutines and from plain threads; a blocked
// operation parks the goroutine, never the P. K and V must be copy-constructible. docs/maps.md
// compares it with the other maps.
#pragma once

#include <concepts>
#include <cstddef>
#include <functional>
#include <optional>
#include <utility>

#include "gocxx/detail/map_common.hpp"

namespace gocxx::sync {

// A std::unordered_map behind one gocxx::sync::RWMutex (Go's map + sync.RWMutex).
// range() copies the pairs under the read lock and calls f on the copy, so f may use the map.
template <class K, class V, class Hash = std::hash<K>, class Eq = std::equal_to<K>>
class RWMutexMap {
 public:
  RWMutexMap() = default;
  RWMutexMap(const RWMutexMap&) = delete;
  RWMutexMap& operator=(const RWMutexMap&) = delete;

  std::optional<V> load(const K& key) const { return m_.load(key); }
  void store(const K& key, V value) { m_.store(key, std::move(value)); }
  std::optional<V> swap(const K& key, V value) { return m_.swap(key, std::move(value)); }
  std::pair<V, bool> load_or_store(const K& key, V value) {
    return m_.load_or_store(key, std::move(value));
  }
  std::optional<V> load_and_delete(const K& key) { return m_.load_and_delete(key); }
  void erase(const K& key) { m_.erase(key); }
  bool compare_and_swap(const K& key, const V& expected, V desired)
    requires std::equality_comparable<V>
  {
    return m_.compare_and_swap(key, expected, std::move(desired));
  }
  bool compare_and_delete(const K& key, const V& expected)
    requires std::equality_comparable<V>
  {
    return m_.compare_and_delete(key, expected);
  }
  template <class F>
  void range(F&& f) const {
    for (const auto& [k, v] : m_.snapshot()) {
      if (!f(static_cast<const K&>(k), static_cast<const V&>(v))) break;
    }
  }
  void clear() { m_.clear(); }

 private:
  detail::LockedMap<K, V, Hash, Eq> m_;
};

}  // namespace gocxx::sync
