// gocxx::sync::Map<K, V, Hash, Eq>: Go's sync.Map (the read + dirty design of Go 1.9-1.23).
//
// gocxx has four concurrent maps with this one API, so they can be swapped for one another:
//   Map<K, V, Hash, Eq>                  this header
//   ConcurrentMap<K, V, Hash, Eq, ...>   concurrent_map.hpp: lock-free reads, per-bucket locks
//   ShardedMap<K, V, Shards, ...>        sharded_map.hpp: FNV-1a shard selection, one RWMutex
//                                        per cache-line shard
//   RWMutexMap<K, V, ...>                rwmutex_map.hpp: one RWMutex around one hash map
//
// The API is Go's, with C++ types:
//
//   load(k)                      -> std::optional<V>
//   store(k, v)
//   load_or_store(k, v)          -> std::pair<V, bool>      (the actual value, true if loaded)
//   load_and_delete(k)           -> std::optional<V>
//   erase(k)                                                (Go's Delete)
//   swap(k, v)                   -> std::optional<V>        (the previous value)
//   compare_and_swap(k, old, new) -> bool                   (V must be ==-comparable)
//   compare_and_delete(k, old)   -> bool                    (V must be ==-comparable)
//   range(f)                     f(const K&, const V&) -> bool; false stops the iteration
//   clear()
//
// Every operation may be called concurrently from goroutines and from plain threads. A blocked
// operation parks the goroutine (the maps lock gocxx::sync mutexes), never the P. range() holds
// no lock while it calls f, so f may use the map (as in Go).
//
// Rules for the element types: K and V must be copy-constructible. Hash, Eq, operator== on V
// and the copy/move constructors and destructors of K and V must not block on gocxx operations
// (channels, mutexes, sleep): Map runs them inside its lock-free read sections, which must stay
// on one thread. Values and keys removed from a Map are destroyed later, on whichever thread
// reclaims them (as a garbage collector would), and never while a reader can still see them.
//
// docs/maps.md describes the designs, the memory orderings and the reclamation scheme
// (detail/epoch.hpp, shared with ConcurrentMap in concurrent_map.hpp), and gives measurements
// and a decision tree for choosing between the four maps.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "gocxx/detail/epoch.hpp"
#include "gocxx/detail/map_common.hpp"
#include "gocxx/sync.hpp"

namespace gocxx::sync {

// =============================================================================================
// Map: Go's sync.Map
// =============================================================================================
//
// Layout (Go's names in brackets):
//   read_     [read]     one atomic word: the published read Table* | amended bit. Tables are
//                        immutable once published and are read with no lock.
//   dirty_    [dirty]    a Table under mu_ with every non-expunged entry of read plus the keys
//                        read lacks; null when read is complete (amended == false).
//   misses_   [misses]   read misses that had to lock; at len(dirty) the dirty table is
//                        promoted to read (O(1): its pointer is published).
//   Entry     [entry]    one per key, shared by read and dirty; its atomic pointer p is
//                        nullptr (deleted), kExpunged (deleted and not in dirty) or a Box
//                        holding the value. Existing keys are updated by CAS on p, with no lock.
//
// Reclamation: replaced Boxes and removed entries are retired to the epoch domain. A retired
// read table keeps the entries that died with it (expunged at promotion, or everything at
// clear); it is freed once no reader can see it and no range() still iterates it or an older
// table (range() holds a reference count, see Chain).
template <class K, class V, class Hash = std::hash<K>, class Eq = std::equal_to<K>>
class Map {
 public:
  Map() : Map(detail::EpochDomain::global()) {}
  // Uses the given reclamation domain (tests use EpochDomain::fenced()).
  explicit Map(detail::EpochDomain& domain, Hash hash = Hash(), Eq eq = Eq())
      : domain_(domain), hash_(std::move(hash)), eq_(std::move(eq)) {
    chain_ = new Chain;
    read_.store(encode(Table::make(0, chain_), false), std::memory_order_relaxed);
  }
  Map(const Map&) = delete;
  Map& operator=(const Map&) = delete;

  ~Map() {
    // No other thread may use the map any more (as for any object being destroyed).
    Table* t = decode_table(read_.load(std::memory_order_acquire));
    if (dirty_ != nullptr) {
      // dirty holds every entry of read except the expunged ones (which read alone holds).
      // Free those first: read's other entries are dirty's and are freed next.
      for (std::size_t i = 0; i <= t->mask; ++i) {
        Entry* e = t->slots()[i].entry;
        if (e != nullptr && e->p.load(std::memory_order_relaxed) == expunged()) delete e;
      }
      for (std::size_t i = 0; i <= dirty_->mask; ++i) {
        if (Entry* e = dirty_->slots()[i].entry) delete e;
      }
      Table::destroy(dirty_);
    } else {
      for (std::size_t i = 0; i <= t->mask; ++i) {
        if (Entry* e = t->slots()[i].entry) delete e;
      }
    }
    Table::destroy(t);
    chain_->drop();
  }

  // Go's Load.
  std::optional<V> load(const K& key) const {
    const std::uint64_t h = hash_of(key);
    {
      detail::PinGuard pin(domain_);
      const std::uintptr_t r = read_.load(std::memory_order_acquire);
      if (Entry* e = decode_table(r)->find(h, key, eq_)) return e->load();
      if (!amended(r)) return std::nullopt;
    }
    return const_cast<Map*>(this)->load_slow(h, key);
  }

  // Go's Store.
  void store(const K& key, V value) { swap_impl<false>(key, std::move(value)); }

  // Go's Swap: stores value and returns the previous value, if any.
  std::optional<V> swap(const K& key, V value) { return swap_impl<true>(key, std::move(value)); }

  // Go's LoadOrStore: the existing value and true, or value (now stored) and false.
  std::pair<V, bool> load_or_store(const K& key, V value) {
    const std::uint64_t h = hash_of(key);
    {
      detail::PinGuard pin(domain_);
      const std::uintptr_t r = read_.load(std::memory_order_acquire);
      if (Entry* e = decode_table(r)->find(h, key, eq_)) {
        std::optional<std::pair<V, bool>> result = try_load_or_store(e, value);
        if (result) return std::move(*result);
      }
    }
    std::optional<std::pair<V, bool>> result;
    {
      std::unique_lock lock(mu_);
      detail::PinGuard pin(domain_);
      const std::uintptr_t r = read_.load(std::memory_order_relaxed);
      if (Entry* e = decode_table(r)->find(h, key, eq_)) {
        if (unexpunge_locked(e)) dirty_insert(h, e);
        result = try_load_or_store(e, value);
      } else if (Entry* d = dirty_find(h, key)) {
        result = try_load_or_store(d, value);
        miss_locked();
      } else {
        if (!amended(r)) {
          dirty_locked();
          read_.store(encode(decode_table(r), true), std::memory_order_release);
        }
        auto box = std::make_unique<Box>(Box{value});
        auto entry = std::make_unique<Entry>(key, box.get());
        box.release();
        dirty_insert(h, entry.get());
        entry.release();
        result.emplace(std::move(value), false);
      }
    }
    domain_.maybe_collect();
    // An entry found under the lock is never expunged (unexpunged above, or in dirty).
    return std::move(*result);
  }

  // Go's LoadAndDelete.
  std::optional<V> load_and_delete(const K& key) { return delete_impl<true>(key); }

  // Go's Delete.
  void erase(const K& key) { delete_impl<false>(key); }

  // Go's CompareAndSwap: replaces the value with desired if it is present and == expected.
  bool compare_and_swap(const K& key, const V& expected, V desired)
    requires std::equality_comparable<V>
  {
    return update_existing(key, [&](detail::PinGuard& pin, Entry* e) {
      return try_compare_and_swap(pin, e, expected, std::move(desired));  // called at most once
    });
  }

  // Go's CompareAndDelete: deletes the entry if its value == expected.
  bool compare_and_delete(const K& key, const V& expected)
    requires std::equality_comparable<V>
  {
    return update_existing(key, [&](detail::PinGuard& pin, Entry* e) {
      return try_compare_and_delete(pin, e, expected);
    });
  }

  // Go's Range: calls f(key, value) for each key present, until f returns false. Promotes
  // dirty first if read is incomplete, then iterates the read table with no lock held. Each
  // key is visited at most once; a value is the key's value at some moment during the call.
  template <class F>
  void range(F&& f) {
    Table* t = nullptr;
    {
      detail::PinGuard pin(domain_);
      const std::uintptr_t r = read_.load(std::memory_order_acquire);
      if (!amended(r)) {
        t = decode_table(r);
        t->refs.fetch_add(1, std::memory_order_relaxed);  // t cannot be freed: we are pinned
      }
    }
    if (t == nullptr) {
      {
        std::unique_lock lock(mu_);
        if (amended(read_.load(std::memory_order_relaxed))) promote_locked();
        t = decode_table(read_.load(std::memory_order_relaxed));
        t->refs.fetch_add(1, std::memory_order_relaxed);  // current: only we could retire it
      }
      domain_.maybe_collect();
    }
    struct Release {
      Table* t;
      ~Release() { Table::release(t); }
    } release{t};
    typename Table::Slot* slots = t->slots();
    for (std::size_t i = 0; i <= t->mask; ++i) {
      Entry* e = slots[i].entry;
      if (e == nullptr) continue;
      std::optional<V> v;
      {
        detail::PinGuard pin(domain_);
        v = e->load();
      }
      if (!v) continue;
      if (!f(static_cast<const K&>(e->key), static_cast<const V&>(*v))) break;
    }
  }

  // Go's Clear: deletes every entry.
  void clear() {
    {
      detail::PinGuard pin(domain_);
      const std::uintptr_t r = read_.load(std::memory_order_acquire);
      if (decode_table(r)->size == 0 && !amended(r)) return;
    }
    {
      std::unique_lock lock(mu_);
      const std::uintptr_t r = read_.load(std::memory_order_relaxed);
      Table* t = decode_table(r);
      if (t->size != 0 || amended(r)) {
        std::vector<Entry*> dead;
        dead.reserve(t->size + (dirty_ != nullptr ? dirty_->size : 0));
        t->for_each([&](std::uint64_t, Entry* e) { dead.push_back(e); });
        if (dirty_ != nullptr) {
          dirty_->for_each([&](std::uint64_t h, Entry* e) {
            if (t->find(h, e->key, eq_) != e) dead.push_back(e);  // dirty-only entries
          });
          Table::destroy(dirty_);
          dirty_ = nullptr;
        }
        read_.store(encode(Table::make(0, chain_), false), std::memory_order_release);
        misses_ = 0;
        expunged_.clear();
        retire_table(t, std::move(dead));
      }
    }
    domain_.maybe_collect();
  }

 private:
  struct Box {
    V value;
  };

  struct Entry {
    Entry(const K& k, Box* box) : p(box), key(k) {}
    ~Entry() {
      Box* b = p.load(std::memory_order_relaxed);
      if (is_value(b)) delete b;
    }
    // Inside a read section.
    std::optional<V> load() const {
      Box* b = p.load(std::memory_order_acquire);
      if (!is_value(b)) return std::nullopt;
      return b->value;
    }
    std::atomic<Box*> p;
    const K key;
  };

  alignas(alignof(Box)) static inline unsigned char expunged_tag_[sizeof(Box) > 0 ? 1 : 1];
  static Box* expunged() { return reinterpret_cast<Box*>(&expunged_tag_[0]); }
  static bool is_value(Box* b) { return b != nullptr && b != expunged(); }

  struct Chain;

  // An open-addressing table of Entry* (linear probing, cached mixed hashes, load <= 1/2).
  // Mutable only while it is dirty (under mu_); immutable once published as read.
  struct alignas(64) Table {
    struct Slot {
      std::uint64_t hash;
      Entry* entry;
    };
    std::size_t size = 0;
    std::size_t mask = 0;
    unsigned shift = 0;
    Chain* chain = nullptr;
    // Lifetime of a retired table (see Chain); on its own cache line: range() writes it.
    alignas(64) std::atomic<std::uint32_t> refs{1};
    Table* chain_next = nullptr;
    std::vector<Entry*> dead;

    Slot* slots() { return reinterpret_cast<Slot*>(this + 1); }
    const Slot* slots() const { return reinterpret_cast<const Slot*>(this + 1); }

    static Table* make(std::size_t entries, Chain* chain) {
      std::size_t cap = 8;
      while (cap < entries * 2 + 2) cap *= 2;
      void* mem = ::operator new(sizeof(Table) + cap * sizeof(Slot), std::align_val_t(64));
      auto* t = ::new (mem) Table;
      t->mask = cap - 1;
      t->shift = unsigned(64 - std::countr_zero(cap));
      t->chain = chain;
      std::memset(static_cast<void*>(t->slots()), 0, cap * sizeof(Slot));
      return t;
    }
    static void destroy(Table* t) {
      t->~Table();
      ::operator delete(static_cast<void*>(t), std::align_val_t(64));
    }
    // Drops one reference; the last one (of a retired table) frees it and every older
    // retired table that nobody references any more, with the entries that died with them.
    static void release(Table* t) {
      // Read the chain first: once refs reaches 0, another thread's free_unreferenced() may
      // free t at any moment. The chain stays alive: t's reference to it is dropped below.
      Chain* chain = t->chain;
      if (t->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
      chain->free_unreferenced();
      chain->drop();  // the reference t held (chain outlives this call until now)
    }

    Entry* find(std::uint64_t h, const K& key, const Eq& eq) const {
      const Slot* s = slots();
      for (std::size_t i = std::size_t(h >> shift);; i = (i + 1) & mask) {
        Entry* e = s[i].entry;
        if (e == nullptr) return nullptr;
        if (s[i].hash == h && eq(e->key, key)) return e;
      }
    }
    template <class F>
    void for_each(F&& f) const {
      const Slot* s = slots();
      for (std::size_t i = 0; i <= mask; ++i) {
        if (s[i].entry != nullptr) f(s[i].hash, s[i].entry);
      }
    }
    // Dirty only. The key must be absent; the caller grows the table first.
    void insert_absent(std::uint64_t h, Entry* e) {
      Slot* s = slots();
      std::size_t i = std::size_t(h >> shift);
      while (s[i].entry != nullptr) i = (i + 1) & mask;
      s[i] = Slot{h, e};
      ++size;
    }
    bool needs_grow() const { return (size + 1) * 2 > mask + 1; }
    // Dirty only: removes key (backward-shift deletion keeps probe sequences intact).
    Entry* erase(std::uint64_t h, const K& key, const Eq& eq) {
      Slot* s = slots();
      std::size_t i = std::size_t(h >> shift);
      for (;; i = (i + 1) & mask) {
        if (s[i].entry == nullptr) return nullptr;
        if (s[i].hash == h && eq(s[i].entry->key, key)) break;
      }
      Entry* removed = s[i].entry;
      for (std::size_t j = i;;) {
        j = (j + 1) & mask;
        if (s[j].entry == nullptr) break;
        const std::size_t home = std::size_t(s[j].hash >> shift);
        // Move s[j] back to the hole at i unless its home lies cyclically in (i, j].
        const bool stays = (i < j) ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
          s[i] = s[j];
          i = j;
        }
      }
      s[i] = Slot{0, nullptr};
      --size;
      return removed;
    }
  };

  // Retired read tables of one map, oldest first. A range() may iterate an old table long
  // after it was retired, and an entry that died in a newer table may still be reachable from
  // an older one, so a table (with its dead entries) is freed only when it and every older
  // retired table are unreferenced. The chain outlives the map while retired tables remain.
  struct Chain {
    std::mutex mu;
    Table* head = nullptr;
    Table* tail = nullptr;
    std::atomic<long> refs{1};  // the map's, plus one per retired table not yet freed

    void append(Table* t) {
      refs.fetch_add(1, std::memory_order_relaxed);
      std::lock_guard lock(mu);
      t->chain_next = nullptr;
      if (tail != nullptr) {
        tail->chain_next = t;
      } else {
        head = t;
      }
      tail = t;
    }
    void free_unreferenced() {
      Table* freed = nullptr;
      {
        std::lock_guard lock(mu);
        Table** last = &freed;
        while (head != nullptr && head->refs.load(std::memory_order_acquire) == 0) {
          *last = head;
          last = &head->chain_next;
          head = head->chain_next;
        }
        *last = nullptr;
        if (head == nullptr) tail = nullptr;
      }
      while (freed != nullptr) {
        Table* next = freed->chain_next;
        for (Entry* e : freed->dead) delete e;
        Table::destroy(freed);
        freed = next;
      }
    }
    void drop() {
      if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }
  };

  static std::uintptr_t encode(Table* t, bool amended) {
    return reinterpret_cast<std::uintptr_t>(t) | std::uintptr_t(amended);
  }
  static Table* decode_table(std::uintptr_t r) {
    return reinterpret_cast<Table*>(r & ~std::uintptr_t(1));
  }
  static bool amended(std::uintptr_t r) { return (r & 1) != 0; }

  std::uint64_t hash_of(const K& key) const { return detail::mix_hash(hash_(key)); }

  Entry* dirty_find(std::uint64_t h, const K& key) const {
    return dirty_ != nullptr ? dirty_->find(h, key, eq_) : nullptr;
  }

  // ---- entry operations (callers are inside a read section) ----------------------------------

  // Go's tryLoadOrStore: nullopt if the entry is expunged.
  static std::optional<std::pair<V, bool>> try_load_or_store(Entry* e, const V& value) {
    Box* p = e->p.load(std::memory_order_acquire);
    if (p == expunged()) return std::nullopt;
    if (p != nullptr) return std::pair<V, bool>(p->value, true);
    std::unique_ptr<Box> box(new Box{value});
    for (;;) {
      if (e->p.compare_exchange_weak(p, box.get(), std::memory_order_acq_rel,
                                     std::memory_order_acquire)) {
        box.release();
        return std::pair<V, bool>(value, false);
      }
      if (p == expunged()) return std::nullopt;
      if (p != nullptr) return std::pair<V, bool>(p->value, true);
    }
  }

  bool try_compare_and_swap(detail::PinGuard& pin, Entry* e, const V& expected, V desired) {
    Box* p = e->p.load(std::memory_order_acquire);
    if (!is_value(p) || !(p->value == expected)) return false;
    std::unique_ptr<Box> box(new Box{std::move(desired)});
    for (;;) {
      if (e->p.compare_exchange_weak(p, box.get(), std::memory_order_acq_rel,
                                     std::memory_order_acquire)) {
        box.release();
        pin.retire(p, &detail::delete_as<Box>);
        return true;
      }
      if (!is_value(p) || !(p->value == expected)) return false;
    }
  }

  bool try_compare_and_delete(detail::PinGuard& pin, Entry* e, const V& expected) {
    Box* p = e->p.load(std::memory_order_acquire);
    for (;;) {
      if (!is_value(p) || !(p->value == expected)) return false;
      if (e->p.compare_exchange_weak(p, nullptr, std::memory_order_acq_rel,
                                     std::memory_order_acquire)) {
        pin.retire(p, &detail::delete_as<Box>);
        return true;
      }
    }
  }

  // Go's entry.delete: the value it removed, if any.
  template <bool kWantValue>
  static std::optional<V> delete_entry(detail::PinGuard& pin, Entry* e) {
    Box* p = e->p.load(std::memory_order_acquire);
    for (;;) {
      if (!is_value(p)) return std::nullopt;
      if (e->p.compare_exchange_weak(p, nullptr, std::memory_order_acq_rel,
                                     std::memory_order_acquire)) {
        std::optional<V> v;
        if constexpr (kWantValue) v.emplace(p->value);
        pin.retire(p, &detail::delete_as<Box>);
        return v;
      }
    }
  }

  // Under mu_: Go's unexpungeLocked (expunged -> nil; the caller adds e to dirty).
  static bool unexpunge_locked(Entry* e) {
    Box* p = expunged();
    return e->p.compare_exchange_strong(p, nullptr, std::memory_order_acq_rel,
                                        std::memory_order_relaxed);
  }

  // Under mu_: Go's tryExpungeLocked (nil -> expunged); true if e is now expunged.
  static bool try_expunge_locked(Entry* e) {
    Box* p = e->p.load(std::memory_order_acquire);
    while (p == nullptr) {
      if (e->p.compare_exchange_weak(p, expunged(), std::memory_order_acq_rel,
                                     std::memory_order_acquire)) {
        return true;
      }
    }
    return p == expunged();
  }

  // ---- operations on the dirty side (under mu_) ----------------------------------------------

  std::optional<V> load_slow(std::uint64_t h, const K& key) {
    std::optional<V> result;
    {
      std::unique_lock lock(mu_);
      detail::PinGuard pin(domain_);
      const std::uintptr_t r = read_.load(std::memory_order_relaxed);
      Entry* e = decode_table(r)->find(h, key, eq_);
      if (e == nullptr && amended(r)) {
        // Regardless of whether the entry was present, record a miss: this key will take the
        // slow path until the dirty map is promoted to the read map.
        e = dirty_find(h, key);
        miss_locked();
      }
      if (e != nullptr) result = e->load();
    }
    domain_.maybe_collect();
    return result;
  }

  template <bool kWantPrev>
  std::optional<V> swap_impl(const K& key, V value) {
    const std::uint64_t h = hash_of(key);
    std::unique_ptr<Box> box(new Box{std::move(value)});
    std::optional<V> prev;
    {
      detail::PinGuard pin(domain_);
      const std::uintptr_t r = read_.load(std::memory_order_acquire);
      if (Entry* e = decode_table(r)->find(h, key, eq_)) {
        // Go's trySwap: fails only if the entry is expunged.
        Box* p = e->p.load(std::memory_order_acquire);
        while (p != expunged()) {
          if (e->p.compare_exchange_weak(p, box.get(), std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
            box.release();
            if (p != nullptr) {
              if constexpr (kWantPrev) prev.emplace(p->value);
              pin.retire(p, &detail::delete_as<Box>);
            }
            goto done;
          }
        }
      }
    }
    {
      std::unique_lock lock(mu_);
      detail::PinGuard pin(domain_);
      const std::uintptr_t r = read_.load(std::memory_order_relaxed);
      Box* old = nullptr;
      if (Entry* e = decode_table(r)->find(h, key, eq_)) {
        // The entry was expunged: dirty exists and lacks it. Add it back before storing.
        if (unexpunge_locked(e)) dirty_insert(h, e);
        old = e->p.exchange(box.release(), std::memory_order_acq_rel);
      } else if (Entry* d = dirty_find(h, key)) {
        old = d->p.exchange(box.release(), std::memory_order_acq_rel);
      } else {
        if (!amended(r)) {
          // The first new key after a promotion: copy read into a fresh dirty map and mark
          // read incomplete.
          dirty_locked();
          read_.store(encode(decode_table(r), true), std::memory_order_release);
        }
        auto entry = std::make_unique<Entry>(key, box.get());
        box.release();
        dirty_insert(h, entry.get());
        entry.release();
      }
      if (is_value(old)) {
        if constexpr (kWantPrev) prev.emplace(old->value);
        pin.retire(old, &detail::delete_as<Box>);
      }
    }
  done:
    domain_.maybe_collect();
    return prev;
  }

  // The lookup of Go's CompareAndSwap and CompareAndDelete: calls op(pin, entry) -> bool once
  // on key's entry, found in read with no lock, else under mu_ in read or in dirty (a dirty
  // hit counts as a miss), and returns its result; false if the key is absent.
  template <class Op>
  bool update_existing(const K& key, Op&& op) {
    const std::uint64_t h = hash_of(key);
    bool result = false;
    bool done = false;
    {
      detail::PinGuard pin(domain_);
      const std::uintptr_t r = read_.load(std::memory_order_acquire);
      if (Entry* e = decode_table(r)->find(h, key, eq_)) {
        result = op(pin, e);
        done = true;
      } else if (!amended(r)) {
        return false;
      }
    }
    if (!done) {
      std::unique_lock lock(mu_);
      detail::PinGuard pin(domain_);
      const std::uintptr_t r = read_.load(std::memory_order_relaxed);
      if (Entry* e = decode_table(r)->find(h, key, eq_)) {
        result = op(pin, e);
      } else if (Entry* d = dirty_find(h, key)) {
        result = op(pin, d);
        miss_locked();
      }
    }
    domain_.maybe_collect();
    return result;
  }

  template <bool kWantValue>
  std::optional<V> delete_impl(const K& key) {
    const std::uint64_t h = hash_of(key);
    std::optional<V> result;
    {
      detail::PinGuard pin(domain_);
      const std::uintptr_t r = read_.load(std::memory_order_acquire);
      if (Entry* e = decode_table(r)->find(h, key, eq_)) {
        result = delete_entry<kWantValue>(pin, e);
        goto done;
      }
      if (!amended(r)) return std::nullopt;
    }
    {
      std::unique_lock lock(mu_);
      detail::PinGuard pin(domain_);
      const std::uintptr_t r = read_.load(std::memory_order_relaxed);
      if (Entry* e = decode_table(r)->find(h, key, eq_)) {
        result = delete_entry<kWantValue>(pin, e);
      } else if (amended(r)) {
        // A key only dirty has: remove it from dirty (nobody else can reach the entry
        // without the lock), record a miss, then delete the value.
        Entry* d = dirty_->erase(h, key, eq_);
        miss_locked();
        if (d != nullptr) {
          result = delete_entry<kWantValue>(pin, d);
          pin.retire(d, &detail::delete_as<Entry>);
        }
      }
    }
  done:
    domain_.maybe_collect();
    return result;
  }

  // Go's missLocked.
  void miss_locked() {
    if (++misses_ < dirty_->size) return;
    promote_locked();
  }

  // dirty -> read, in O(1). Entries expunged from the old read die with it.
  void promote_locked() {
    Table* old = decode_table(read_.load(std::memory_order_relaxed));
    std::vector<Entry*> dead;
    for (Entry* e : expunged_) {
      // Still expunged: not in dirty, so not in the new read either. (Unexpunged ones were
      // put back into dirty.)
      if (e->p.load(std::memory_order_relaxed) == expunged()) dead.push_back(e);
    }
    expunged_.clear();
    read_.store(encode(dirty_, false), std::memory_order_release);
    dirty_ = nullptr;
    misses_ = 0;
    retire_table(old, std::move(dead));
  }

  // Go's dirtyLocked: copy read's live entries into a new dirty table, expunging deleted ones.
  void dirty_locked() {
    if (dirty_ != nullptr) return;
    Table* t = decode_table(read_.load(std::memory_order_relaxed));
    Table* d = Table::make(t->size, chain_);
    t->for_each([&](std::uint64_t h, Entry* e) {
      if (try_expunge_locked(e)) {
        expunged_.push_back(e);
      } else {
        d->insert_absent(h, e);
      }
    });
    dirty_ = d;
  }

  void dirty_insert(std::uint64_t h, Entry* e) {
    if (dirty_->needs_grow()) {
      Table* bigger = Table::make(dirty_->size + 1, chain_);
      dirty_->for_each([&](std::uint64_t hh, Entry* ee) { bigger->insert_absent(hh, ee); });
      Table::destroy(dirty_);
      dirty_ = bigger;
    }
    dirty_->insert_absent(h, e);
  }

  // Under mu_: t is no longer published. It is freed after a grace period (readers that loaded
  // it are done) and once no range() holds it or an older table.
  void retire_table(Table* t, std::vector<Entry*> dead) {
    t->dead = std::move(dead);
    chain_->append(t);
    detail::EpochRecord* rec = detail::EpochDomain::local_record_of(domain_);
    domain_.retire(rec, t, [](void* p) { Table::release(static_cast<Table*>(p)); });
  }

  detail::EpochDomain& domain_;
  [[no_unique_address]] Hash hash_;
  [[no_unique_address]] Eq eq_;
  Chain* chain_ = nullptr;
  alignas(64) std::atomic<std::uintptr_t> read_{0};
  alignas(64) mutable Mutex mu_;
  Table* dirty_ = nullptr;
  std::size_t misses_ = 0;
  std::vector<Entry*> expunged_;  // entries expunged by the last dirty_locked()
};

}  // namespace gocxx::sync
