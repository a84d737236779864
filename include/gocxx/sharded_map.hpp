// gocxx::sync::ShardedMap<K, V, Shards, Hash, Eq>: Shards × (gocxx::sync::RWMutex +
// std::unordered_map), each shard on its own cache lines, with the API of sync::Map
// (sync_map.hpp lists it). The Go twin in bench/go/maps shards the same way (32 shards,
// FNV-1a), so the two can be compared.
//
// Every operation may be called concurrently from goroutines and from plain threads; a blocked
// operation parks the goroutine, never the P. K and V must be copy-constructible. docs/maps.md
// compares it with the other maps.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include "gocxx/detail/map_common.hpp"

namespace gocxx::sync {
namespace detail {

// FNV-1a, 32 bits, over a key's bytes: the characters of string-like keys, the object bytes of
// keys with unique object representations (integers, pointers, enums), else the bytes of the
// key's std::hash value.
inline std::uint32_t fnv1a32(const void* data, std::size_t n) {
  auto* p = static_cast<const unsigned char*>(data);
  std::uint32_t h = 2166136261u;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 16777619u;
  }
  return h;
}

template <class K, class Hash>
std::uint32_t fnv1a_key(const K& key, const Hash& hash) {
  if constexpr (std::is_convertible_v<const K&, std::string_view>) {
    std::string_view s = key;
    return fnv1a32(s.data(), s.size());
  } else if constexpr (std::has_unique_object_representations_v<K>) {
    return fnv1a32(&key, sizeof(K));
  } else {
    const std::size_t h = hash(key);
    return fnv1a32(&h, sizeof(h));
  }
}

}  // namespace detail

// The sharded map: Shards independent RWMutex maps, each on its own cache lines, selected by
// FNV-1a (32-bit) of the key modulo Shards. range() visits shard by shard, copying
// each shard's pairs under its read lock.
template <class K, class V, std::size_t Shards = 32, class Hash = std::hash<K>,
          class Eq = std::equal_to<K>>
class ShardedMap {
  static_assert(Shards > 0, "ShardedMap needs at least one shard");

 public:
  ShardedMap() = default;
  ShardedMap(const ShardedMap&) = delete;
  ShardedMap& operator=(const ShardedMap&) = delete;

  static constexpr std::size_t shard_count() { return Shards; }
  std::size_t shard_of(const K& key) const {
    return std::size_t(detail::fnv1a_key(key, Hash()) % Shards);
  }

  std::optional<V> load(const K& key) const { return shard(key).load(key); }
  void store(const K& key, V value) { shard(key).store(key, std::move(value)); }
  std::optional<V> swap(const K& key, V value) { return shard(key).swap(key, std::move(value)); }
  std::pair<V, bool> load_or_store(const K& key, V value) {
    return shard(key).load_or_store(key, std::move(value));
  }
  std::optional<V> load_and_delete(const K& key) { return shard(key).load_and_delete(key); }
  void erase(const K& key) { shard(key).erase(key); }
  bool compare_and_swap(const K& key, const V& expected, V desired)
    requires std::equality_comparable<V>
  {
    return shard(key).compare_and_swap(key, expected, std::move(desired));
  }
  bool compare_and_delete(const K& key, const V& expected)
    requires std::equality_comparable<V>
  {
    return shard(key).compare_and_delete(key, expected);
  }
  template <class F>
  void range(F&& f) const {
    for (const Shard& s : shards_) {
      for (const auto& [k, v] : s.snapshot()) {
        if (!f(static_cast<const K&>(k), static_cast<const V&>(v))) return;
      }
    }
  }
  void clear() {
    for (Shard& s : shards_) s.clear();
  }

 private:
  struct alignas(64) Shard : detail::LockedMap<K, V, Hash, Eq> {};
  Shard& shard(const K& key) { return shards_[shard_of(key)]; }
  const Shard& shard(const K& key) const { return shards_[shard_of(key)]; }

  Shard shards_[Shards];
};

}  // namespace gocxx::sync
