// gocxx::sync::ConcurrentMap<K, V, Hash, Eq>: a concurrent hash map with lock-free reads,
// per-bucket writer locks and growth that never stops readers.
//
// It has the API of sync::Map, ShardedMap and RWMutexMap (sync_map.hpp), so the four are
// interchangeable:
//
//   load(k)                       -> std::optional<V>
//   store(k, v)
//   load_or_store(k, v)           -> std::pair<V, bool>     (the actual value, true if loaded)
//   load_and_delete(k)            -> std::optional<V>
//   erase(k)                                                (Go's Delete)
//   swap(k, v)                    -> std::optional<V>       (the previous value)
//   compare_and_swap(k, old, new) -> bool                   (V must be ==-comparable)
//   compare_and_delete(k, old)    -> bool                   (V must be ==-comparable)
//   range(f)                      f(const K&, const V&) -> bool; false stops the iteration
//   clear()
//
// Why another map: sync::Map (Go's read + dirty design) pays three dependent loads per hit
// (table slot -> entry -> value box) and a global mutex plus an O(n) dirty copy for new keys;
// at 100k keys and 10% updates it reaches 1.8x Go's sync.Map, short of the 3x goal of issue 5.
// docs/maps.md has the measurements and the comparison with Go 1.24's HashTrieMap.
//
// ---- Design ----------------------------------------------------------------------------------
//
// A bucketized hash table in the style of CLHT and xsync.MapOf, with Java ConcurrentHashMap's
// forwarding buckets for resizing:
//
//   ConcurrentMap
//   ┌─────────────────────┐      Table (header + 2^b buckets, one cache line each)
//   │ table_ (atomic) ────┼────► ┌ mask, shift, next ─────────► the table being filled by a
//   │ resize_mu_          │      ├ Bucket 0                     resize or clear (null if none)
//   │ size stripes        │      ├ Bucket 1 ┌ meta: 6 tags | MOVED | LOCKED
//   └─────────────────────┘      ├ ...      ├ slots[6] ──► Node {hash, key, value} (immutable)
//                                           └ next ──► overflow Bucket ──► ...
//
// * The bucket of a key is the top b bits of its mixed 64-bit hash (Fibonacci hashing), so
//   bucket i of a table with 2^b buckets covers the hash interval [i << (64-b), (i+1) << (64-b)),
//   and doubling the table splits bucket i into buckets 2i and 2i+1.
// * meta holds one 8-bit tag per slot (bits 0-47; 0 = empty slot; tag = low byte of the hash,
//   never 0), MOVED (bit 62) and LOCKED (bit 63). A reader matches all six tags with one SWAR
//   compare and dereferences only slots whose tag matches.
// * A node holds one key and its value and never changes: a store publishes a new node in the
//   key's slot and retires the old one. A hit costs two dependent cache misses (bucket, node),
//   like std::unordered_map, and no write to shared memory.
// * Writers lock the chain's head bucket (the LOCKED bit, a spin lock) and change the chain
//   under it: they never allocate or run deleters inside the critical section.
// * Growth: when an insert needs a new overflow bucket and the map holds more than 3/4 of the
//   table's slots, the inserting thread doubles the table. It sets table->next to the new
//   table, then for each old bucket: locks it, copies its node pointers into new buckets 2i and
//   2i+1, and sets MOVED with the store that unlocks it. Readers and writers that meet a MOVED
//   bucket continue in table->next, so neither waits for the resize; once every bucket is
//   MOVED the new table is published in table_ and the old one retired. clear() is the same
//   walk into a fresh empty table, dropping the nodes instead of copying them.
//
// ---- Invariants ------------------------------------------------------------------------------
//
// I1 A chain (head bucket + overflow buckets) is written only by the holder of its head's
//    LOCKED bit. Overflow buckets use only the tag bits of their meta.
// I2 A key has at most one node in the table that owns its bucket: the newest table, starting
//    from table_, whose bucket for the key is not MOVED. A key changes slot only by being
//    deleted and inserted again.
// I3 MOVED is sticky and is set only after the chain's entries have been copied into (resize)
//    or dropped for (clear) table->next; afterwards nobody writes the chain. table->next is set
//    before the first bucket is marked MOVED.
// I4 During a resize, new buckets 2i and 2i+1 are written by nobody but the resizer until old
//    bucket i is MOVED: the keys that hash there are exactly those of bucket i, and writers
//    reach the new table only through a MOVED bucket. So the copy needs no locks in the new
//    table, and lock order is never an issue (a thread holds at most one bucket lock).
// I5 table_, table->next and MOVED are written only under resize_mu_ (resize and clear run one
//    at a time). Writers never wait for resize_mu_: growth uses try_lock.
// I6 Anything retired (a replaced or deleted node, an unlinked overflow bucket, a table) is
//    unreachable by then from table_ and from every bucket not MOVED. Readers dereference
//    slots only of buckets they found not MOVED after pinning; the stale slots of a MOVED
//    bucket are never read again by a reader that pinned after the bucket was moved.
// I7 The nodes of a resized table live on in the new table, so a resized table is freed
//    without its nodes; a cleared table is freed with the nodes it held when it was cleared.
//
// ---- Memory orderings ------------------------------------------------------------------------
//
//   publish a node        slots[i].store  release   the node was built before
//   publish its tag       meta.store      release   after the slot store: a reader that sees
//                                                   the tag also sees the slot
//   append overflow       next.store      release   the new bucket's slot and tag were written
//   lookup                meta/slots/next acquire   pair with the three stores above
//   lock                  meta CAS        acquire   orders the holder after the last unlock
//   unlock, set MOVED     meta.store      release   publishes the chain's changes; for MOVED
//                                                   also the copies in table->next
//   validate a lookup     meta reload     acquire   after the slot loads (which are acquire, so
//                                                   it cannot move above them): a lookup that
//                                                   raced a move is retried in table->next,
//                                                   so a reader never returns a value that a
//                                                   writer in the new table already replaced
//   table->next           store release before the first MOVED; read after seeing MOVED
//   table_                store release after the last MOVED; load acquire
//   size stripes          relaxed RMW: only a growth heuristic
//
// No operation needs sequential consistency: every lock-free step linearizes on one location
// (a slot, or the head's meta word), and the store-load ordering that reclamation needs is in
// the epoch domain (detail/epoch.hpp), shared with sync::Map.
//
// ---- Reclamation -----------------------------------------------------------------------------
//
// Readers pin the thread's epoch record for one lookup (two plain stores with membarrier, see
// detail/epoch.hpp); writers retire what they unlinked and the epoch domain frees it two
// epochs later. A read section contains no gocxx switch point -- bucket locks spin and then
// yield the *thread* (sched_yield), never the goroutine, because a holder never parks inside
// its critical section -- so a section starts and ends on one OS thread. range() copies one
// chain at a time inside a section and calls f outside any section, so f may block and may use
// the map. Retired objects are self-contained (no pointer back to the map), so the map may be
// destroyed while retirements are pending.
//
// Rules for the element types (as for sync::Map): K and V copy-constructible; Hash, Eq,
// V::operator==, and the copy constructors and destructors of K and V must not block on gocxx
// operations, since they run inside read sections or bucket locks. Keys and values removed from
// the map are destroyed later, on whichever thread reclaims them.
//
// Consistency: every operation on one key is linearizable. range() visits each key at most
// once and every key present for the whole call exactly once, with a value the key had at some
// moment during the call. clear() is not atomic as a whole (like Java's ConcurrentHashMap):
// each key present when clear() starts is deleted at some moment during the call, and a key
// stored concurrently may survive it.
#pragma once

#include <sched.h>

#include <atomic>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <utility>
#include <vector>

#include "gocxx/detail/epoch.hpp"
#include "gocxx/sync.hpp"

namespace gocxx::sync {

template <class K, class V, class Hash = std::hash<K>, class Eq = std::equal_to<K>>
class ConcurrentMap {
 public:
  ConcurrentMap() : ConcurrentMap(detail::EpochDomain::global()) {}
  // Uses the given reclamation domain (tests use EpochDomain::fenced()).
  explicit ConcurrentMap(detail::EpochDomain& domain, Hash hash = Hash(), Eq eq = Eq())
      : domain_(domain), hash_(std::move(hash)), eq_(std::move(eq)) {
    table_.store(Table::make(kMinBuckets), std::memory_order_relaxed);
  }
  ConcurrentMap(const ConcurrentMap&) = delete;
  ConcurrentMap& operator=(const ConcurrentMap&) = delete;

  ~ConcurrentMap() {
    // No other thread may use the map any more, so no resize is running (table_->next is
    // null). Tables retired earlier are freed by the epoch domain; they do not refer to *this.
    Table::template destroy<true>(table_.load(std::memory_order_acquire));
  }

  // Go's Load.
  std::optional<V> load(const K& key) const {
    const std::uint64_t h = hash_of(key);
    detail::PinGuard pin(domain_);
    if (const Node* n = find(h, key)) return n->value;
    return std::nullopt;
  }

  // Go's Store.
  void store(const K& key, V value) { swap_impl<false>(key, std::move(value)); }

  // Go's Swap: stores value and returns the previous value, if any.
  std::optional<V> swap(const K& key, V value) { return swap_impl<true>(key, std::move(value)); }

  // Go's LoadOrStore: the existing value and true, or value (now stored) and false.
  std::pair<V, bool> load_or_store(const K& key, V value) {
    const std::uint64_t h = hash_of(key);
    std::unique_ptr<Node> fresh;  // destroyed, if unused, after the read section
    bool grew = false;
    {
      detail::PinGuard pin(domain_);
      if (const Node* n = find(h, key)) return {n->value, true};  // no lock for a hit
      fresh.reset(new Node{h, key, value});
      Locked l = lock_chain(h);
      if (const Node* n = scan(l.head, l.meta, h, key).node) {  // stored meanwhile
        l.unlock();
        return {n->value, true};
      }
      grew = insert_locked(l, fresh.get());
      fresh.release();
      l.unlock();
      add_size(h, 1);
    }
    after_write(grew);
    return {std::move(value), false};
  }

  // Go's LoadAndDelete.
  std::optional<V> load_and_delete(const K& key) {
    std::optional<V> v;
    delete_impl(key, nullptr, &v);
    return v;
  }

  // Go's Delete.
  void erase(const K& key) { delete_impl(key, nullptr, nullptr); }

  // Go's CompareAndSwap: replaces the value with desired if it is present and == expected.
  bool compare_and_swap(const K& key, const V& expected, V desired)
    requires std::equality_comparable<V>
  {
    const std::uint64_t h = hash_of(key);
    {
      detail::PinGuard pin(domain_);
      // A miss or a different value fails without locking (the lookup is the linearization
      // point), as the benchmarks' *NoExistingKey/*ValueNotEqual/*MostlyMisses exercise.
      const Node* n = find(h, key);
      if (n == nullptr || !(n->value == expected)) return false;
      std::unique_ptr<Node> fresh(new Node{h, key, std::move(desired)});
      Locked l = lock_chain(h);
      const Loc loc = scan(l.head, l.meta, h, key);
      if (loc.node == nullptr || !(loc.node->value == expected)) {
        return false;  // unlocks; fresh (never published) is freed inside the section
      }
      loc.bucket->slots[loc.slot].store(fresh.release(), std::memory_order_release);
      l.unlock();
      pin.retire(loc.node, &detail::delete_as<Node>);
    }
    domain_.maybe_collect();
    return true;
  }

  // Go's CompareAndDelete: deletes the key if its value == expected.
  bool compare_and_delete(const K& key, const V& expected)
    requires std::equality_comparable<V>
  {
    return delete_impl(key, &expected, nullptr);
  }

  // Go's Range: calls f(key, value) for each key present, until f returns false. Walks the hash
  // space in order, one chain at a time: the chain covering the next unvisited hash is copied
  // inside a read section (from whichever table owns it then: a resize or clear may run
  // meanwhile), and f runs on the copy with no section and no lock held. A key is visited at
  // most once because its hash is fixed and the walk never goes back; a key present throughout
  // is found in the chain that covers its hash.
  template <class F>
  void range(F&& f) const {
    std::vector<Item> batch;
    std::uint64_t pos = 0;  // every hash < pos has been covered
    for (bool more = true; more;) {
      {
        detail::PinGuard pin(domain_);
        Table* t = table_.load(std::memory_order_acquire);
        for (;;) {
          const std::size_t i = std::size_t(pos >> t->shift);
          Bucket* head = &t->buckets()[i];
          if ((head->meta.load(std::memory_order_acquire) & kMoved) == 0) {
            copy_chain(head, pos, batch);
            if ((head->meta.load(std::memory_order_acquire) & kMoved) == 0) {
              // Buckets after a clear() may be larger than those seen so far: copy_chain
              // skipped the hashes below pos, and the next chain starts at this one's end.
              more = i != t->mask;
              pos = std::uint64_t(i + 1) << t->shift;  // wraps to 0 after the last bucket
              break;
            }
            batch.clear();  // moved while we copied: take it from the new table
          }
          t = t->next.load(std::memory_order_acquire);
        }
      }
      for (const Item& it : batch) {
        if (!f(static_cast<const K&>(it.key), static_cast<const V&>(it.value))) return;
      }
      batch.clear();
    }
  }

  // Go's Clear: deletes every key (not atomically as a whole; see the top of the file).
  void clear() {
    {
      std::lock_guard lock(resize_mu_);  // may park: no read section is open
      Table* t = table_.load(std::memory_order_relaxed);  // stored only under resize_mu_
      Table* fresh = Table::make(kMinBuckets);
      t->next.store(fresh, std::memory_order_release);
      long removed = 0;
      for (std::size_t i = 0; i <= t->mask; ++i) {
        Bucket* head = &t->buckets()[i];
        const std::uint64_t m = lock_unmoved(head);
        for (Bucket* b = head; b != nullptr; b = b->next.load(std::memory_order_relaxed)) {
          removed += std::popcount(occupied(b == head ? m : b->meta.load(std::memory_order_relaxed)));
        }
        head->meta.store((m & ~kLocked) | kMoved, std::memory_order_release);
      }
      table_.store(fresh, std::memory_order_release);
      add_size(0, -removed);
      retire_table<true>(t);
    }
    domain_.maybe_collect();
  }

 private:
  static constexpr int kSlots = 6;
  static constexpr std::size_t kMinBuckets = 8;
  static constexpr int kStripes = 16;
  static constexpr std::uint64_t kTagMask = 0x0000'FFFF'FFFF'FFFFull;
  static constexpr std::uint64_t kLowBits = 0x0000'0101'0101'0101ull;  // bit 0 of each tag
  static constexpr std::uint64_t kHighBits = 0x0000'8080'8080'8080ull;  // bit 7 of each tag
  static constexpr std::uint64_t kMoved = std::uint64_t{1} << 62;
  static constexpr std::uint64_t kLocked = std::uint64_t{1} << 63;

  struct Node {
    std::uint64_t hash;  // cached: resizes and lookups compare it before calling Eq
    K key;
    V value;
  };

  struct alignas(64) Bucket {
    std::atomic<std::uint64_t> meta{0};
    std::atomic<Node*> slots[kSlots] = {};
    std::atomic<Bucket*> next{nullptr};  // overflow
  };
  static_assert(sizeof(Bucket) == 64, "a bucket is one cache line");

  // The header, then 2^b buckets in the same allocation.
  struct alignas(64) Table {
    std::size_t mask = 0;  // buckets - 1
    unsigned shift = 0;    // 64 - b: bucket index = hash >> shift
    std::atomic<Table*> next{nullptr};

    Bucket* buckets() { return reinterpret_cast<Bucket*>(this + 1); }
    Bucket* bucket(std::uint64_t h) { return buckets() + (h >> shift); }

    static Table* make(std::size_t nbuckets) {
      void* mem = ::operator new(sizeof(Table) + nbuckets * sizeof(Bucket), std::align_val_t(64));
      auto* t = ::new (mem) Table;
      t->mask = nbuckets - 1;
      t->shift = unsigned(64 - std::countr_zero(nbuckets));
      std::uninitialized_value_construct_n(t->buckets(), nbuckets);
      return t;
    }
    // Frees the table and its overflow buckets, and with kNodes the nodes it holds (I7).
    template <bool kNodes>
    static void destroy(Table* t) {
      for (std::size_t i = 0; i <= t->mask; ++i) {
        Bucket* head = &t->buckets()[i];
        if constexpr (kNodes) delete_nodes(head);
        for (Bucket* b = head->next.load(std::memory_order_relaxed); b != nullptr;) {
          Bucket* next = b->next.load(std::memory_order_relaxed);
          if constexpr (kNodes) delete_nodes(b);
          delete b;
          b = next;
        }
      }
      t->~Table();
      ::operator delete(static_cast<void*>(t), std::align_val_t(64));
    }
    static void delete_nodes(Bucket* b) {
      for (auto& s : b->slots) delete s.load(std::memory_order_relaxed);
    }
  };

  // A head bucket locked by the calling thread; meta mirrors the head's meta word (the holder
  // is its only writer). Unlocks on destruction if still held, so an exception from Eq,
  // V::operator== or an allocation inside the critical section cannot leave the chain locked.
  struct Locked {
    Table* table;
    Bucket* head;
    std::uint64_t meta;
    bool held;

    Locked(Table* t, Bucket* b, std::uint64_t m, bool h) : table(t), head(b), meta(m), held(h) {}
    Locked(const Locked&) = delete;
    Locked& operator=(const Locked&) = delete;
    ~Locked() {
      if (held) unlock();
    }
    void unlock() {
      head->meta.store(meta & ~kLocked, std::memory_order_release);
      held = false;
    }
  };

  // Where scan() found a key: the bucket, the one before it in the chain (null for the head),
  // the slot and the node. node == nullptr: not found.
  struct Loc {
    Bucket* bucket = nullptr;
    Bucket* prev = nullptr;
    int slot = 0;
    Node* node = nullptr;
  };

  struct Item {
    std::uint64_t hash;
    K key;
    V value;
  };

  struct alignas(64) Stripe {
    std::atomic<long> n{0};
  };

  // ---- hashing and tags ------------------------------------------------------------------------

  std::uint64_t hash_of(const K& key) const {
    // Fibonacci hashing spreads even identity hashes (std::hash of integers) over the top bits,
    // which index the table; folding the high half into the low half gives the tags (and the
    // size stripes) bits that depend on the whole key.
    const std::uint64_t h = std::uint64_t(hash_(key)) * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 32);
  }
  static std::uint64_t tag_of(std::uint64_t h) {
    const std::uint64_t t = h & 0xff;
    return t != 0 ? t : 1;  // 0 marks an empty slot
  }
  // Bit 7 of each of the six tag bytes of x that is zero (exact: no borrow between bytes).
  static std::uint64_t zero_tags(std::uint64_t x) {
    constexpr std::uint64_t k7F = 0x7F7F'7F7F'7F7F'7F7Full;
    return ~(((x & k7F) + k7F) | x | k7F) & kHighBits;
  }
  static std::uint64_t matching(std::uint64_t meta, std::uint64_t tag) {
    return zero_tags(meta ^ (kLowBits * tag));
  }
  static std::uint64_t occupied(std::uint64_t meta) { return ~zero_tags(meta) & kHighBits; }
  static int slot_of(std::uint64_t bits) { return std::countr_zero(bits) >> 3; }

  // ---- lookups (inside a read section) ---------------------------------------------------------

  // Looks for key in the chain that starts at head, whose meta word was m. Used lock-free and
  // under the chain's lock.
  Loc scan(Bucket* head, std::uint64_t m, std::uint64_t h, const K& key) const {
    const std::uint64_t tag = tag_of(h);
    Bucket* prev = nullptr;
    for (Bucket* b = head;;) {
      for (std::uint64_t bits = matching(m, tag); bits != 0; bits &= bits - 1) {
        const int i = slot_of(bits);
        Node* n = b->slots[i].load(std::memory_order_acquire);
        if (n != nullptr && n->hash == h && eq_(n->key, key)) return Loc{b, prev, i, n};
      }
      prev = b;
      b = b->next.load(std::memory_order_acquire);
      if (b == nullptr) return Loc{};
      m = b->meta.load(std::memory_order_acquire);
    }
  }

  // The node of key, or nullptr: the lock-free lookup. The reload of the head's meta after the
  // scan detects a move that raced it (see "validate a lookup" above).
  const Node* find(std::uint64_t h, const K& key) const {
    Table* t = table_.load(std::memory_order_acquire);
    for (;;) {
      Bucket* head = t->bucket(h);
      const std::uint64_t m = head->meta.load(std::memory_order_acquire);
      if ((m & kMoved) == 0) {
        const Node* n = scan(head, m, h, key).node;
        if ((head->meta.load(std::memory_order_acquire) & kMoved) == 0) return n;
      }
      t = t->next.load(std::memory_order_acquire);
    }
  }

  // Appends copies of the chain's entries with hash >= pos to batch. A key deleted and
  // re-inserted further down the chain during the copy could be met twice: keep the first.
  void copy_chain(Bucket* head, std::uint64_t pos, std::vector<Item>& batch) const {
    const std::size_t first = batch.size();
    for (Bucket* b = head; b != nullptr; b = b->next.load(std::memory_order_acquire)) {
      for (std::uint64_t bits = occupied(b->meta.load(std::memory_order_acquire)); bits != 0;
           bits &= bits - 1) {
        const Node* n = b->slots[slot_of(bits)].load(std::memory_order_acquire);
        if (n == nullptr || n->hash < pos) continue;
        bool seen = false;
        for (std::size_t j = first; j < batch.size() && !seen; ++j) {
          seen = batch[j].hash == n->hash && eq_(batch[j].key, n->key);
        }
        if (!seen) batch.push_back(Item{n->hash, n->key, n->value});
      }
    }
  }

  // ---- bucket locks ----------------------------------------------------------------------------

  // Critical sections are short and contain no gocxx switch point, so a holder is always
  // running or runnable on some thread: spin briefly, then yield the thread (not the
  // goroutine, which would break the caller's read section).
  static void backoff(int& spins) {
    if (++spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#elif defined(__aarch64__)
      asm volatile("yield");
#endif
    } else {
      ::sched_yield();
    }
  }

  // Locks head unless it is MOVED. Returns true and the locked meta word, or false (moved).
  static bool lock_bucket(Bucket* head, std::uint64_t& locked) {
    std::uint64_t m = head->meta.load(std::memory_order_acquire);
    for (int spins = 0;;) {
      if ((m & kMoved) != 0) return false;
      if ((m & kLocked) == 0 &&
          head->meta.compare_exchange_weak(m, m | kLocked, std::memory_order_acquire,
                                           std::memory_order_acquire)) {
        locked = m | kLocked;
        return true;
      }
      backoff(spins);
      m = head->meta.load(std::memory_order_acquire);
    }
  }

  // Under resize_mu_: the current table's buckets cannot be MOVED by anyone else (I5).
  static std::uint64_t lock_unmoved(Bucket* head) {
    std::uint64_t m = 0;
    [[maybe_unused]] const bool locked = lock_bucket(head, m);
    return m;
  }

  // Inside a read section: locks the chain of hash h in the table that owns it (I2).
  Locked lock_chain(std::uint64_t h) {
    Table* t = table_.load(std::memory_order_acquire);
    for (;;) {
      Bucket* head = t->bucket(h);
      std::uint64_t m;
      if (lock_bucket(head, m)) return Locked(t, head, m, true);
      t = t->next.load(std::memory_order_acquire);
    }
  }

  static std::uint64_t meta_of(const Locked& l, Bucket* b) {
    return b == l.head ? l.meta : b->meta.load(std::memory_order_relaxed);
  }
  static void set_meta(Locked& l, Bucket* b, std::uint64_t m) {
    b->meta.store(m, std::memory_order_release);
    if (b == l.head) l.meta = m;
  }

  // ---- changes under a chain's lock ------------------------------------------------------------

  // Puts n into the chain's first free slot, or into a new overflow bucket. Returns true if it
  // added a bucket (the caller then considers growing the table).
  static bool insert_locked(Locked& l, Node* n) {
    const std::uint64_t tag = tag_of(n->hash);
    Bucket* last = l.head;
    for (Bucket* b = l.head; b != nullptr; b = b->next.load(std::memory_order_relaxed)) {
      const std::uint64_t m = meta_of(l, b);
      if (const std::uint64_t free = zero_tags(m)) {
        const int i = slot_of(free);
        b->slots[i].store(n, std::memory_order_release);
        set_meta(l, b, m | (tag << (8 * i)));
        return false;
      }
      last = b;
    }
    auto* b = new Bucket;
    b->slots[0].store(n, std::memory_order_relaxed);
    b->meta.store(tag, std::memory_order_relaxed);
    last->next.store(b, std::memory_order_release);  // publishes the slot and the tag
    return true;
  }

  // Empties loc's slot. An overflow bucket left empty is unlinked (readers standing on it
  // continue through its unchanged next pointer) and returned, for the caller to retire.
  static Bucket* remove_locked(Locked& l, const Loc& loc) {
    const std::uint64_t m = meta_of(l, loc.bucket) & ~(std::uint64_t{0xff} << (8 * loc.slot));
    set_meta(l, loc.bucket, m);
    loc.bucket->slots[loc.slot].store(nullptr, std::memory_order_release);
    if (loc.bucket == l.head || (m & kTagMask) != 0) return nullptr;
    loc.prev->next.store(loc.bucket->next.load(std::memory_order_relaxed),
                         std::memory_order_release);
    return loc.bucket;
  }

  // ---- operations ------------------------------------------------------------------------------

  template <bool kWantPrev>
  std::optional<V> swap_impl(const K& key, V value) {
    const std::uint64_t h = hash_of(key);
    std::unique_ptr<Node> fresh(new Node{h, key, std::move(value)});
    std::optional<V> prev;
    bool grew = false;
    {
      detail::PinGuard pin(domain_);
      Locked l = lock_chain(h);
      const Loc loc = scan(l.head, l.meta, h, key);
      if (loc.node != nullptr) {
        loc.bucket->slots[loc.slot].store(fresh.release(), std::memory_order_release);
        l.unlock();
        if constexpr (kWantPrev) prev.emplace(loc.node->value);
        pin.retire(loc.node, &detail::delete_as<Node>);
      } else {
        grew = insert_locked(l, fresh.get());
        fresh.release();
        l.unlock();
        add_size(h, 1);
      }
    }
    after_write(grew);
    return prev;
  }

  // Deletes key if present and, with expected, if its value == *expected; the removed value
  // goes to *out if out is given. Returns true if it deleted. (load_and_delete, erase and
  // compare_and_delete.)
  bool delete_impl(const K& key, const V* expected, std::optional<V>* out) {
    const std::uint64_t h = hash_of(key);
    {
      detail::PinGuard pin(domain_);
      // An absent key (or a different value) needs no lock: the lookup linearizes the call.
      auto wanted = [&](const Node* n) {
        if constexpr (std::equality_comparable<V>) {
          return n != nullptr && (expected == nullptr || n->value == *expected);
        } else {
          return n != nullptr;
        }
      };
      if (!wanted(find(h, key))) return false;
      Locked l = lock_chain(h);
      const Loc loc = scan(l.head, l.meta, h, key);
      if (!wanted(loc.node)) return false;  // unlocks
      Bucket* empty = remove_locked(l, loc);
      l.unlock();
      add_size(h, -1);
      if (out != nullptr) out->emplace(loc.node->value);
      pin.retire(loc.node, &detail::delete_as<Node>);
      if (empty != nullptr) pin.retire(empty, &detail::delete_as<Bucket>);
    }
    domain_.maybe_collect();
    return true;
  }

  // ---- size and growth -------------------------------------------------------------------------

  void add_size(std::uint64_t h, long delta) {
    stripes_[(h >> 8) % kStripes].n.fetch_add(delta, std::memory_order_relaxed);
  }
  long size_estimate() const {
    long n = 0;
    for (const Stripe& s : stripes_) n += s.n.load(std::memory_order_relaxed);
    return n;
  }
  bool over_loaded(const Table* t) const {
    return size_estimate() > long((t->mask + 1) * kSlots * 3 / 4);
  }

  void after_write(bool grew) {
    if (grew) grow_if_needed();
    domain_.maybe_collect();
  }

  // Called outside read sections by a writer that added an overflow bucket. Never waits: if a
  // resize or clear is running, it will leave a table that later inserts judge again.
  void grow_if_needed() {
    std::unique_lock lock(resize_mu_, std::try_to_lock);
    if (!lock.owns_lock()) return;
    Table* t = table_.load(std::memory_order_relaxed);  // stored only under resize_mu_
    if (over_loaded(t)) resize_locked(t, Table::make(2 * (t->mask + 1)));
  }

  // Under resize_mu_: doubles t (the current table), moving one bucket at a time (I3, I4).
  // Needs no read section: only resize_mu_ holders retire tables, and a node linked from a
  // locked bucket cannot be retired. Once the first bucket is moved the resize cannot be
  // undone, so running out of memory for an overflow bucket of the new table terminates.
  void resize_locked(Table* t, Table* bigger) noexcept {
    t->next.store(bigger, std::memory_order_release);
    for (std::size_t i = 0; i <= t->mask; ++i) {
      Bucket* head = &t->buckets()[i];
      const std::uint64_t m = lock_unmoved(head);
      // Not locked: nobody else writes these two buckets yet (I4).
      Locked lo(bigger, &bigger->buckets()[2 * i], 0, false);
      Locked hi(bigger, &bigger->buckets()[2 * i + 1], 0, false);
      for (Bucket* b = head; b != nullptr; b = b->next.load(std::memory_order_relaxed)) {
        for (std::uint64_t bits = occupied(b == head ? m : b->meta.load(std::memory_order_relaxed));
             bits != 0; bits &= bits - 1) {
          Node* n = b->slots[slot_of(bits)].load(std::memory_order_relaxed);
          insert_locked(((n->hash >> bigger->shift) & 1) != 0 ? hi : lo, n);
        }
      }
      head->meta.store((m & ~kLocked) | kMoved, std::memory_order_release);
    }
    table_.store(bigger, std::memory_order_release);
    retire_table<false>(t);
  }

  template <bool kNodes>
  void retire_table(Table* t) {
    domain_.retire(detail::EpochDomain::local_record_of(domain_), t,
                   [](void* p) { Table::template destroy<kNodes>(static_cast<Table*>(p)); });
  }

  detail::EpochDomain& domain_;
  [[no_unique_address]] Hash hash_;
  [[no_unique_address]] Eq eq_;
  alignas(64) std::atomic<Table*> table_{nullptr};
  alignas(64) Mutex resize_mu_;  // resize and clear, one at a time (I5)
  Stripe stripes_[kStripes];
};

}  // namespace gocxx::sync
