// gocxx::sync::ConcurrentMap<K, V, Hash, Eq>: a concurrent hash map with lock-free reads,
// per-bucket writer locks and growth that never stops readers.
//
// It has the API of sync::Map (sync_map.hpp), ShardedMap (sharded_map.hpp) and RWMutexMap
// (rwmutex_map.hpp), so the four are interchangeable:
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
// (table slot -> entry -> value box), an allocation and a retirement per update, and a global
// mutex plus an O(n) dirty copy for new keys; at 100k keys and 10% updates it reaches 1.8x
// Go's sync.Map, short of this project's goal of 3x (docs/maps.md, "Goals"). docs/maps.md has
// the measurements, and why this design was chosen over Go 1.24's HashTrieMap.
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
//   │ size stripes        │      ├ Bucket 1 ┌ meta: tags | version | MOVED | LOCKED
//   └─────────────────────┘      ├ ...      ├ entries (inline: 3 x {key, value} words;
//                                           │          nodes: 6 x Node*)
//                                           └ next ──► overflow Bucket ──► ...
//
// * The bucket of a key is the top b bits of its mixed 64-bit hash (Fibonacci hashing), so
//   bucket i of a table with 2^b buckets covers the hash interval [i << (64-b), (i+1) << (64-b)),
//   and doubling the table splits bucket i into buckets 2i and 2i+1.
// * meta holds one 8-bit tag per slot (0 = empty slot; tag = low byte of the hash, never 0),
//   then a delete version (head buckets only), MOVED (bit 62) and LOCKED (bit 63). A reader
//   matches all tags with one SWAR compare and looks only at slots whose tag matches.
// * Two entry layouts, chosen at compile time (the fifth template parameter; AutoEntries picks
//   inline when it can, InlineEntries and NodeEntries force one):
//   - inline (K and V trivially copyable, at most 8 bytes each: integers, pointers, enums...):
//     the key and value are atomic 64-bit words in the bucket. A hit reads one cache line; a
//     store of an existing key is one atomic store of the value word under the lock: nothing
//     is allocated or retired, so the epoch domain has nothing to do in steady state.
//   - nodes (any other K, V): a slot points to an immutable Node {hash, key, value}; a store
//     publishes a new node and retires the old one. A hit reads two cache lines.
// * Writers lock the chain's head bucket (the LOCKED bit, a spin lock) and change the chain
//   under it. The critical section is a few loads and stores: a node is allocated before
//   locking (only a rare overflow bucket is allocated inside), and what was replaced is
//   retired after unlocking.
// * Growth: when an insert needs a new overflow bucket and the map holds more than 3/4 of the
//   table's slots, the inserting thread doubles the table. It sets table->next to the new
//   table, then for each old bucket: locks it, copies its entries into new buckets 2i and
//   2i+1, and sets MOVED with the store that unlocks it. Readers and writers that meet a MOVED
//   bucket continue in table->next, so neither waits for the resize; once every bucket is
//   MOVED the new table is published in table_ and the old one retired. clear() is the same
//   walk into a fresh empty table, dropping the entries instead of copying them.
// * Tables of 2 MiB and more are 2 MiB-aligned and advised MADV_HUGEPAGE, so that the bucket
//   access of a lookup needs no page walk (a random line of a 4 MiB table in 4 KiB pages is a
//   TLB miss per lookup).
//
// ---- Invariants ------------------------------------------------------------------------------
//
// I1 A chain (head bucket + overflow buckets) is written only by the holder of its head's
//    LOCKED bit. Overflow buckets use only the tag bits of their meta.
// I2 A key has at most one entry in the table that owns its bucket: the newest table, starting
//    from table_, whose bucket for the key is not MOVED. A key changes slot only by being
//    deleted and inserted again.
// I3 MOVED is sticky and is set only after the chain's entries have been copied into (resize)
//    or dropped for (clear) table->next; afterwards nobody writes the chain. table->next is set
//    before the first bucket is marked MOVED.
// I4 During a resize, new buckets 2i and 2i+1 are written by nobody but the resizer until old
//    bucket i is MOVED: the keys that hash there are exactly those of bucket i, and readers
//    and writers reach the new table only through a MOVED bucket, for that bucket's keys
//    (other buckets of the new table may still be empty). So the copy needs no locks in the
//    new table, and lock order is never an issue (a thread holds at most one bucket lock).
// I5 table_, table->next and MOVED are written only under resize_mu_ (resize and clear run one
//    at a time). Writers never wait for resize_mu_: growth uses try_lock.
// I6 Anything retired (a replaced or deleted node, an unlinked overflow bucket, a table) is
//    by then unreachable from table_ and from every chain not MOVED. A reader walks a chain
//    only after finding its head not MOVED after it pinned, so all it reaches there was
//    retired, if at all, after it pinned: a MOVED chain still holds nodes that the new table
//    may retire, but a reader that pinned after such a retirement finds the head MOVED.
// I7 The nodes of a resized table live on in the new table, so a resized table is freed
//    without its nodes; a cleared table is freed with the nodes it held when it was cleared.
// I8 Every delete bumps the version in its chain's head meta before the freed slot can be
//    reused (for an overflow slot: after clearing the tag there). Inline entries are two
//    words, so a reader that read a key word and then a value word could mix two occupants
//    of a reused slot; it compares the head's version before and after and retries if a
//    delete intervened. Value updates in place need no version: the value word is atomic.
//
// ---- Memory orderings ------------------------------------------------------------------------
//
//   publish an entry      value, key words / node pointer: store release (inline: value
//                         first, so a reader that sees the new key sees its value)
//   publish its tag       meta.store      release   after the entry: a reader that sees the
//                                                   tag also sees the entry
//   append overflow       next.store      release   the new bucket's entry and tag were written
//   lookup                meta, entries, next: load acquire; they pair with the stores above
//   lock                  meta CAS        acquire   orders the holder after the last unlock
//   unlock, set MOVED,    meta.store      release   publishes the chain's changes (for MOVED
//   bump the version                                also the copies in table->next)
//   validate (inline)     head meta reload acquire  after the entry loads, which are acquire,
//                                                   so it cannot move above them; it sees a
//                                                   version bump that happened before a word
//                                                   the reader read (I8)
//   table->next           store release before the first MOVED; read after seeing MOVED
//   table_                store release after the last MOVED; load acquire
//   size stripes          relaxed RMW: only a growth heuristic
//
// A lookup that read a head's meta before the bucket was MOVED may go on reading the old chain
// after the move. That needs no extra check: a MOVED chain is frozen (I3), so every slot it
// reads shows the key's state either live or as it was at the move -- in both cases a state
// the key had during the lookup, which is all linearizability asks of a one-key read. (A
// writer in the new table may already have replaced the value; the lookup then linearizes
// before that write, which it overlaps.) Safety does not depend on it either: a reader that
// pinned after a node was retired from the new table sees the old bucket MOVED (I6), because
// the retirer observed MOVED before the full fence of its retirement.
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
#include <sys/mman.h>

#include <atomic>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
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
namespace detail {

// ---- entry layouts of ConcurrentMap ------------------------------------------------------------
//
// A layout defines the bucket (one cache line: meta, the entries, the overflow pointer) and
// the few operations that touch entries. Everything else (tags, locks, chains, resizing,
// range, reclamation) is the map's and is shared.
//
//   Ref             what a lookup keeps of an entry: enough to produce the value later in the
//                   same read section (inline: the value word; nodes: the node)
//   Fresh           a new entry, built before locking
//   probe(b, i, h, key, eq, ref)   is slot i (whose tag matched) key's entry? If so, ref
//   put(b, i, fresh)               fill free slot i (before its tag is published)
//   replace(b, i, fresh)           new value for the key in slot i (under the lock)
//   clear(b, i)                    slot i was deleted (its tag is already cleared)
//   retire(pin, ref)               retire what replace/clear unlinked
//   copy(from, i, to, j)           resize: the entry of from[i] into to[j]
//   hash_at(b, i, hash_of)         resize: the hash of a locked entry
//   visit(b, i, hash_of, f)        range: f(hash, key, value) if slot i holds an entry

template <class T>
std::uint64_t to_word(const T& x) {
  std::uint64_t w = 0;
  std::memcpy(&w, &x, sizeof(T));
  return w;
}
template <class T>
T from_word(std::uint64_t w) {
  // memcpy into suitably aligned bytes implicitly creates the (trivially copyable) T there.
  alignas(T) unsigned char bytes[sizeof(T)];
  std::memcpy(bytes, &w, sizeof(T));
  return *std::launder(reinterpret_cast<T*>(bytes));
}

template <class K, class V>
inline constexpr bool kInlineEntries = std::is_trivially_copyable_v<K> &&
                                       std::is_trivially_copyable_v<V> && sizeof(K) <= 8 &&
                                       sizeof(V) <= 8;

template <class K, class V>
struct InlineSlots {
  static constexpr int kSlots = 3;
  static constexpr bool kValidate = true;  // I8

  struct alignas(64) Bucket {
    std::atomic<std::uint64_t> meta{0};
    std::atomic<std::uint64_t> keys[kSlots] = {};
    std::atomic<std::uint64_t> vals[kSlots] = {};
    std::atomic<Bucket*> next{nullptr};
  };

  using Ref = std::uint64_t;
  struct Fresh {
    std::uint64_t key, val;
  };

  static Fresh make(std::uint64_t, const K& key, V value) {
    return Fresh{to_word(key), to_word(value)};
  }
  template <class Eq>
  static bool probe(const Bucket* b, int i, std::uint64_t, const K& key, const Eq& eq, Ref& ref) {
    if (!eq(from_word<K>(b->keys[i].load(std::memory_order_acquire)), key)) return false;
    ref = b->vals[i].load(std::memory_order_acquire);
    return true;
  }
  static V value(Ref ref) { return from_word<V>(ref); }
  static void put(Bucket* b, int i, const Fresh& f) {
    b->vals[i].store(f.val, std::memory_order_release);
    b->keys[i].store(f.key, std::memory_order_release);
  }
  static void replace(Bucket* b, int i, const Fresh& f) {
    b->vals[i].store(f.val, std::memory_order_release);
  }
  static void clear(Bucket*, int) {}  // the words stay until the slot is reused
  static void retire(PinGuard&, Ref) {}
  static void copy(const Bucket* from, int i, Bucket* to, int j) {
    to->vals[j].store(from->vals[i].load(std::memory_order_relaxed), std::memory_order_relaxed);
    to->keys[j].store(from->keys[i].load(std::memory_order_relaxed), std::memory_order_relaxed);
  }
  template <class HashOf>
  static std::uint64_t hash_at(const Bucket* b, int i, const HashOf& hash_of) {
    return hash_of(from_word<K>(b->keys[i].load(std::memory_order_relaxed)));
  }
  template <class HashOf, class F>
  static void visit(const Bucket* b, int i, const HashOf& hash_of, F&& f) {
    const K key = from_word<K>(b->keys[i].load(std::memory_order_acquire));
    f(hash_of(key), key, from_word<V>(b->vals[i].load(std::memory_order_acquire)));
  }
  static void free_entries(Bucket*) {}
};

template <class K, class V>
struct NodeSlots {
  static constexpr int kSlots = 6;
  static constexpr bool kValidate = false;  // nodes are immutable: a reused slot shows a node
                                            // whose own key is compared

  struct Node {
    std::uint64_t hash;  // cached: resizes and lookups compare it before calling Eq
    K key;
    V value;
  };
  struct alignas(64) Bucket {
    std::atomic<std::uint64_t> meta{0};
    std::atomic<Node*> slots[kSlots] = {};
    std::atomic<Bucket*> next{nullptr};
  };

  using Ref = const Node*;
  using Fresh = std::unique_ptr<Node>;

  static Fresh make(std::uint64_t h, const K& key, V value) {
    return Fresh(new Node{h, key, std::move(value)});
  }
  template <class Eq>
  static bool probe(const Bucket* b, int i, std::uint64_t h, const K& key, const Eq& eq,
                    Ref& ref) {
    const Node* n = b->slots[i].load(std::memory_order_acquire);
    if (n == nullptr || n->hash != h || !eq(n->key, key)) return false;
    ref = n;
    return true;
  }
  static const V& value(Ref ref) { return ref->value; }
  static void put(Bucket* b, int i, Fresh& f) {
    b->slots[i].store(f.release(), std::memory_order_release);
  }
  static void replace(Bucket* b, int i, Fresh& f) { put(b, i, f); }
  static void clear(Bucket* b, int i) { b->slots[i].store(nullptr, std::memory_order_release); }
  static void retire(PinGuard& pin, Ref ref) {
    pin.retire(const_cast<Node*>(ref), &delete_as<Node>);
  }
  static void copy(const Bucket* from, int i, Bucket* to, int j) {
    to->slots[j].store(from->slots[i].load(std::memory_order_relaxed), std::memory_order_relaxed);
  }
  template <class HashOf>
  static std::uint64_t hash_at(const Bucket* b, int i, const HashOf&) {
    return b->slots[i].load(std::memory_order_relaxed)->hash;
  }
  template <class HashOf, class F>
  static void visit(const Bucket* b, int i, const HashOf&, F&& f) {
    if (const Node* n = b->slots[i].load(std::memory_order_acquire)) f(n->hash, n->key, n->value);
  }
  static void free_entries(Bucket* b) {
    for (auto& s : b->slots) delete s.load(std::memory_order_relaxed);
  }
};

}  // namespace detail

// Entry layouts of ConcurrentMap (its fifth template parameter).
struct AutoEntries {};    // inline if K and V are trivially copyable and at most 8 bytes each
struct InlineEntries {};  // keys and values in the buckets (requires what AutoEntries checks)
struct NodeEntries {};    // one immutable node per entry (e.g. to keep big values out of buckets)

template <class K, class V, class Hash = std::hash<K>, class Eq = std::equal_to<K>,
          class Entries = AutoEntries>
class ConcurrentMap {
  static_assert(std::is_same_v<Entries, AutoEntries> || std::is_same_v<Entries, InlineEntries> ||
                    std::is_same_v<Entries, NodeEntries>,
                "Entries is AutoEntries, InlineEntries or NodeEntries");
  static_assert(!std::is_same_v<Entries, InlineEntries> || detail::kInlineEntries<K, V>,
                "InlineEntries needs trivially copyable K and V of at most 8 bytes each");
  static constexpr bool kInline =
      std::is_same_v<Entries, InlineEntries> ||
      (std::is_same_v<Entries, AutoEntries> && detail::kInlineEntries<K, V>);
  using Slots = std::conditional_t<kInline, detail::InlineSlots<K, V>, detail::NodeSlots<K, V>>;
  using Bucket = typename Slots::Bucket;
  using Ref = typename Slots::Ref;
  using Fresh = typename Slots::Fresh;
  static_assert(sizeof(Bucket) == 64, "a bucket is one cache line");

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

  // True if keys and values live in the buckets (see "Two entry layouts" above).
  static constexpr bool stores_entries_inline() { return kInline; }

  // Go's Load.
  std::optional<V> load(const K& key) const {
    const std::uint64_t h = hash_of(key);
    detail::PinGuard pin(domain_);
    Ref ref;
    if (find(h, key, ref)) return Slots::value(ref);
    return std::nullopt;
  }

  // Go's Store.
  void store(const K& key, V value) { swap_impl<false>(key, std::move(value)); }

  // Go's Swap: stores value and returns the previous value, if any.
  std::optional<V> swap(const K& key, V value) { return swap_impl<true>(key, std::move(value)); }

  // Go's LoadOrStore: the existing value and true, or value (now stored) and false.
  std::pair<V, bool> load_or_store(const K& key, V value) {
    const std::uint64_t h = hash_of(key);
    bool grew = false;
    {
      detail::PinGuard pin(domain_);
      Ref ref;
      if (find(h, key, ref)) return {Slots::value(ref), true};  // a hit takes no lock
      Fresh fresh = Slots::make(h, key, value);  // a copy: value is returned
      Locked l = lock_chain(h);
      const Loc loc = scan(l.head, l.meta, h, key);
      if (loc.found) return {Slots::value(loc.ref), true};  // stored meanwhile; unlocks
      grew = insert_locked(l, h, fresh);
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
      Ref ref;
      if (!find(h, key, ref) || !(Slots::value(ref) == expected)) return false;
      Fresh fresh = Slots::make(h, key, std::move(desired));
      Locked l = lock_chain(h);
      const Loc loc = scan(l.head, l.meta, h, key);
      if (!loc.found || !(Slots::value(loc.ref) == expected)) return false;  // unlocks
      Slots::replace(loc.bucket, loc.slot, fresh);
      l.unlock();
      Slots::retire(pin, loc.ref);
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
        // Several chains per read section: one section per chain costs more than copying a
        // short chain, and a long section would hold back reclamation.
        Table* t = nullptr;
        for (bool from_top = true; more && batch.size() < kRangeBatch;) {
          // Each chain is looked up from table_: a table reached through a MOVED bucket may
          // still lack the buckets its resize has not moved yet (I4).
          if (from_top) t = table_.load(std::memory_order_acquire);
          from_top = true;
          const std::size_t i = std::size_t(pos >> t->shift);
          Bucket* head = &t->buckets()[i];
          const std::uint64_t m = head->meta.load(std::memory_order_acquire);
          if ((m & kMoved) != 0) {
            t = t->next.load(std::memory_order_acquire);
            from_top = false;
            continue;
          }
          // A move during the copy is harmless: the old chain is frozen from then on, so
          // every entry copied is a state its key had during the call.
          const std::size_t before = batch.size();
          copy_chain(head, pos, batch);
          if constexpr (Slots::kValidate) {
            if (deleted_since(head, m)) {  // I8: the copy may mix two occupants of a slot
              batch.erase(batch.begin() + std::ptrdiff_t(before), batch.end());
              continue;
            }
          }
          // Buckets after a clear() may be larger than those seen so far: copy_chain skipped
          // the hashes below pos, and the next chain starts at this one's end.
          more = i != t->mask;
          pos = std::uint64_t(i + 1) << t->shift;  // wraps to 0 after the last bucket
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
  static constexpr int kSlots = Slots::kSlots;
  static constexpr std::size_t kMinBuckets = 8;
  static constexpr int kStripes = 16;
  static constexpr std::size_t kRangeBatch = 64;  // entries copied per read section by range()
  static constexpr std::uint64_t kTagMask = (std::uint64_t{1} << (8 * kSlots)) - 1;
  static constexpr std::uint64_t kLowBits = 0x0101'0101'0101'0101ull & kTagMask;  // bit 0 of tags
  static constexpr std::uint64_t kHighBits = 0x8080'8080'8080'8080ull & kTagMask;  // bit 7
  static constexpr std::uint64_t kMoved = std::uint64_t{1} << 62;
  static constexpr std::uint64_t kLocked = std::uint64_t{1} << 63;
  static constexpr std::uint64_t kVersionOne = kTagMask + 1;
  static constexpr std::uint64_t kVersionMask = (kMoved - 1) & ~kTagMask;
  static constexpr std::size_t kHugePage = std::size_t{2} << 20;

  // The header, then 2^b buckets in the same allocation.
  struct alignas(64) Table {
    std::size_t mask = 0;  // buckets - 1
    unsigned shift = 0;    // 64 - b: bucket index = hash >> shift
    std::atomic<Table*> next{nullptr};

    Bucket* buckets() { return reinterpret_cast<Bucket*>(this + 1); }
    Bucket* bucket(std::uint64_t h) { return buckets() + (h >> shift); }

    static std::size_t bytes(std::size_t nbuckets) {
      return sizeof(Table) + nbuckets * sizeof(Bucket);
    }
    static std::align_val_t alignment(std::size_t bytes) {
      return std::align_val_t(bytes >= kHugePage ? kHugePage : alignof(Table));
    }
    static Table* make(std::size_t nbuckets) {
      const std::size_t n = bytes(nbuckets);
      void* mem = ::operator new(n, alignment(n));
      if (n >= kHugePage) ::madvise(mem, n & ~(kHugePage - 1), MADV_HUGEPAGE);  // a hint
      auto* t = ::new (mem) Table;
      t->mask = nbuckets - 1;
      t->shift = unsigned(64 - std::countr_zero(nbuckets));
      std::uninitialized_value_construct_n(t->buckets(), nbuckets);
      return t;
    }
    // Frees the table and its overflow buckets, and with kEntries what its entries own (I7).
    template <bool kEntries>
    static void destroy(Table* t) {
      for (std::size_t i = 0; i <= t->mask; ++i) {
        Bucket* head = &t->buckets()[i];
        if constexpr (kEntries) Slots::free_entries(head);
        for (Bucket* b = head->next.load(std::memory_order_relaxed); b != nullptr;) {
          Bucket* next = b->next.load(std::memory_order_relaxed);
          if constexpr (kEntries) Slots::free_entries(b);
          delete b;
          b = next;
        }
      }
      const std::size_t n = bytes(t->mask + 1);
      t->~Table();
      ::operator delete(static_cast<void*>(t), alignment(n));
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
  // the slot, and the entry (found == false: not in the chain).
  struct Loc {
    Bucket* bucket = nullptr;
    Bucket* prev = nullptr;
    int slot = 0;
    bool found = false;
    Ref ref{};
  };

  struct Item {
    std::uint64_t hash;
    K key;
    V value;
  };

  struct alignas(64) Stripe {
    std::atomic<long> n{0};
  };

  // ---- hashing, tags, versions -----------------------------------------------------------------

  std::uint64_t hash_of(const K& key) const {
    // Fibonacci hashing spreads even identity hashes (std::hash of integers) over the top bits,
    // which index the table; folding the high half into the low half gives the tags (and the
    // size stripes) bits that depend on the whole key.
    const std::uint64_t h = detail::mix_hash(hash_(key));
    return h ^ (h >> 32);
  }
  auto hasher() const {
    return [this](const K& key) { return hash_of(key); };
  }
  static std::uint64_t tag_of(std::uint64_t h) {
    const std::uint64_t t = h & 0xff;
    return t != 0 ? t : 1;  // 0 marks an empty slot
  }
  // Bit 7 of each tag byte of x that is zero (exact: no borrow between bytes).
  static std::uint64_t zero_tags(std::uint64_t x) {
    constexpr std::uint64_t k7F = 0x7F7F'7F7F'7F7F'7F7Full;
    return ~(((x & k7F) + k7F) | x | k7F) & kHighBits;
  }
  static std::uint64_t matching(std::uint64_t meta, std::uint64_t tag) {
    return zero_tags(meta ^ (kLowBits * tag));
  }
  static std::uint64_t occupied(std::uint64_t meta) { return ~zero_tags(meta) & kHighBits; }
  static int slot_of(std::uint64_t bits) { return std::countr_zero(bits) >> 3; }
  static std::uint64_t bump_version(std::uint64_t m) {
    return (m & ~kVersionMask) | ((m + kVersionOne) & kVersionMask);
  }
  // Inside a read section, after reading entries of head's chain whose meta was m: did a
  // delete happen in the chain meanwhile? (I8)
  static bool deleted_since(const Bucket* head, std::uint64_t m) {
    return ((head->meta.load(std::memory_order_acquire) ^ m) & kVersionMask) != 0;
  }

  // ---- lookups (inside a read section) ---------------------------------------------------------

  // Looks for key in the chain that starts at head, whose meta word was m. Used lock-free and
  // under the chain's lock.
  Loc scan(Bucket* head, std::uint64_t m, std::uint64_t h, const K& key) const {
    const std::uint64_t tag = tag_of(h);
    Loc loc;
    for (Bucket* b = head;;) {
      for (std::uint64_t bits = matching(m, tag); bits != 0; bits &= bits - 1) {
        const int i = slot_of(bits);
        if (Slots::probe(b, i, h, key, eq_, loc.ref)) {
          loc.bucket = b;
          loc.slot = i;
          loc.found = true;
          return loc;
        }
      }
      loc.prev = b;
      b = b->next.load(std::memory_order_acquire);
      if (b == nullptr) return Loc{};
      m = b->meta.load(std::memory_order_acquire);
    }
  }

  // The lock-free lookup: true and key's entry in ref, or false.
  bool find(std::uint64_t h, const K& key, Ref& ref) const {
    Table* t = table_.load(std::memory_order_acquire);
    for (;;) {
      Bucket* head = t->bucket(h);
      const std::uint64_t m = head->meta.load(std::memory_order_acquire);
      if ((m & kMoved) != 0) {
        t = t->next.load(std::memory_order_acquire);
        continue;
      }
      const Loc loc = scan(head, m, h, key);
      if constexpr (Slots::kValidate) {
        // A miss needs no check: a key present throughout keeps its slot (I2). A hit may have
        // read the key of one occupant and the value of the next (I8): retry.
        if (loc.found && deleted_since(head, m)) continue;
      }
      ref = loc.ref;
      return loc.found;
    }
  }

  // Appends copies of the chain's entries with hash >= pos to batch. A key deleted and
  // re-inserted further down the chain during the copy could be met twice: keep the first.
  void copy_chain(Bucket* head, std::uint64_t pos, std::vector<Item>& batch) const {
    const std::size_t first = batch.size();
    auto add = [&](std::uint64_t h, const K& key, const V& value) {
      if (h < pos) return;
      for (std::size_t j = first; j < batch.size(); ++j) {
        if (batch[j].hash == h && eq_(batch[j].key, key)) return;
      }
      batch.push_back(Item{h, key, value});
    };
    for (Bucket* b = head; b != nullptr; b = b->next.load(std::memory_order_acquire)) {
      for (std::uint64_t bits = occupied(b->meta.load(std::memory_order_acquire)); bits != 0;
           bits &= bits - 1) {
        Slots::visit(b, slot_of(bits), hasher(), add);
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

  // Fills the chain's first free slot with put(bucket, slot), or a new overflow bucket, then
  // publishes the tag of hash h. Returns true if it added a bucket (the caller then considers
  // growing the table).
  template <class Put>
  static bool insert_with(Locked& l, std::uint64_t h, Put&& put) {
    const std::uint64_t tag = tag_of(h);
    Bucket* last = l.head;
    for (Bucket* b = l.head; b != nullptr; b = b->next.load(std::memory_order_relaxed)) {
      const std::uint64_t m = meta_of(l, b);
      if (const std::uint64_t free = zero_tags(m)) {
        const int i = slot_of(free);
        put(b, i);
        set_meta(l, b, m | (tag << (8 * i)));
        return false;
      }
      last = b;
    }
    auto* b = new Bucket;
    put(b, 0);
    b->meta.store(tag, std::memory_order_relaxed);
    last->next.store(b, std::memory_order_release);  // publishes the entry and the tag
    return true;
  }
  static bool insert_locked(Locked& l, std::uint64_t h, Fresh& fresh) {
    return insert_with(l, h, [&](Bucket* b, int i) { Slots::put(b, i, fresh); });
  }

  // Deletes loc's entry: clears its tag, bumps the chain's version (I8) and lets the layout
  // clear the slot. An overflow bucket left empty is unlinked (readers standing on it continue
  // through its unchanged next pointer) and returned, for the caller to retire.
  static Bucket* remove_locked(Locked& l, const Loc& loc) {
    const std::uint64_t m = meta_of(l, loc.bucket) & ~(std::uint64_t{0xff} << (8 * loc.slot));
    if (loc.bucket == l.head) {
      set_meta(l, l.head, bump_version(m));
    } else {
      set_meta(l, loc.bucket, m);  // the tag first, then the version (I8)
      set_meta(l, l.head, bump_version(l.meta));
    }
    Slots::clear(loc.bucket, loc.slot);
    if (loc.bucket == l.head || (m & kTagMask) != 0) return nullptr;
    loc.prev->next.store(loc.bucket->next.load(std::memory_order_relaxed),
                         std::memory_order_release);
    return loc.bucket;
  }

  // ---- operations ------------------------------------------------------------------------------

  template <bool kWantPrev>
  std::optional<V> swap_impl(const K& key, V value) {
    const std::uint64_t h = hash_of(key);
    Fresh fresh = Slots::make(h, key, std::move(value));
    std::optional<V> prev;
    bool grew = false;
    {
      detail::PinGuard pin(domain_);
      Locked l = lock_chain(h);
      const Loc loc = scan(l.head, l.meta, h, key);
      if (loc.found) {
        Slots::replace(loc.bucket, loc.slot, fresh);
        l.unlock();
        if constexpr (kWantPrev) prev.emplace(Slots::value(loc.ref));
        Slots::retire(pin, loc.ref);
      } else {
        grew = insert_locked(l, h, fresh);
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
      auto wanted = [&](bool found, const Ref& ref) {
        if constexpr (std::equality_comparable<V>) {
          return found && (expected == nullptr || Slots::value(ref) == *expected);
        } else {
          return found;
        }
      };
      // An absent key (or a different value) needs no lock: the lookup linearizes the call.
      Ref ref{};
      if (!wanted(find(h, key, ref), ref)) return false;
      Locked l = lock_chain(h);
      const Loc loc = scan(l.head, l.meta, h, key);
      if (!wanted(loc.found, loc.ref)) return false;  // unlocks
      Bucket* empty = remove_locked(l, loc);
      l.unlock();
      add_size(h, -1);
      if (out != nullptr) out->emplace(Slots::value(loc.ref));
      Slots::retire(pin, loc.ref);
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
  // resize or clear is running, it will leave a table that later inserts judge again. The
  // write itself is done, so running out of memory for the bigger table only skips growing.
  void grow_if_needed() {
    std::unique_lock lock(resize_mu_, std::try_to_lock);
    if (!lock.owns_lock()) return;
    Table* t = table_.load(std::memory_order_relaxed);  // stored only under resize_mu_
    if (!over_loaded(t)) return;
    Table* bigger = nullptr;
    try {
      bigger = Table::make(2 * (t->mask + 1));
    } catch (const std::bad_alloc&) {
      return;  // chains just get longer; a later insert tries again
    }
    resize_locked(t, bigger);
  }

  // Under resize_mu_: moves t (the current table) into bigger, one bucket at a time (I3, I4).
  // Needs no read section: only resize_mu_ holders retire tables, and an entry linked from a
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
          const int s = slot_of(bits);
          const std::uint64_t h = Slots::hash_at(b, s, hasher());
          insert_with(((h >> bigger->shift) & 1) != 0 ? hi : lo, h,
                      [&](Bucket* to, int j) { Slots::copy(b, s, to, j); });
        }
      }
      head->meta.store((m & ~kLocked) | kMoved, std::memory_order_release);
    }
    table_.store(bigger, std::memory_order_release);
    retire_table<false>(t);
  }

  // A large retirement: the epoch domain retries it every few writes instead of waiting for
  // 1024 more retirements, which an inline map in steady state never makes.
  template <bool kEntries>
  void retire_table(Table* t) {
    domain_.retire(
        detail::EpochDomain::local_record_of(domain_), t,
        [](void* p) { Table::template destroy<kEntries>(static_cast<Table*>(p)); },
        /*large=*/true);
  }

  detail::EpochDomain& domain_;
  [[no_unique_address]] Hash hash_;
  [[no_unique_address]] Eq eq_;
  alignas(64) std::atomic<Table*> table_{nullptr};
  alignas(64) Mutex resize_mu_;  // resize and clear, one at a time (I5)
  Stripe stripes_[kStripes];
};

}  // namespace gocxx::sync
