// Epoch-based reclamation (EBR) for gocxx's lock-free maps: sync::Map (sync_map.hpp) and
// sync::ConcurrentMap (concurrent_map.hpp). docs/maps.md ("Reclamation") explains the scheme
// and why it was chosen over liburcu, hazard pointers and reference counting.
#pragma once

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <vector>

// Before gocxx::sync::detail exists: sync.hpp names gocxx::detail as `detail::` from inside
// gocxx::sync, which this namespace would shadow.
#include "gocxx/sync.hpp"

namespace gocxx::sync::detail {

// =============================================================================================
// Epoch-based reclamation (EBR)
// =============================================================================================
//
// Readers of Map and ConcurrentMap run lock-free: they load a published table, then entries or
// nodes and value boxes with atomic loads, and copy the value out. Writers replace values,
// nodes and tables while such readers may still hold pointers to the old ones, so nothing
// unlinked is freed at once: it is *retired* with the global epoch of the moment, and freed
// once the epoch has advanced twice.
//
// * A reader *pins* its thread's record for the duration of one read section: it stores
//   (epoch << 1 | 1) into the record, and unpins by storing 0. A read section never contains a
//   gocxx switch point, so it starts and ends on one OS thread even though goroutines migrate
//   (gocxx never preempts), and records can be per thread.
// * The global epoch advances from e to e + 1 only when every pinned record shows e. An object
//   retired at epoch r was unlinked before its retirer read r, so any reader that still holds
//   it pinned at an epoch <= r; the epoch cannot reach r + 2 while that reader stays pinned.
// * The pin store must be visible before the reader's loads of shared pointers (a store-load
//   ordering). Either the reader issues a full fence (`fenced` domains), or -- the default on
//   Linux >= 4.14 -- the reader issues only a compiler barrier and the (rare) epoch advance
//   issues membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), which runs a full barrier on every
//   thread of the process. That makes a pin cost two plain stores.
// * Retirement is batched per thread: an advance is attempted every kCollectEvery retirements,
//   so one membarrier (a few microseconds) is amortised over many writes. A *large*
//   retirement (a whole table) is retried sooner: while one is pending, every kLargeRetry-th
//   maybe_collect() collects, whether or not more is retired (a map that stops retiring, such
//   as ConcurrentMap with inline entries in steady state, would otherwise keep its old tables).
// * Deleters (the destructors of K and V) run outside read sections and outside map locks, at
//   the end of the operation that triggered the collection.
//
// A thread that exits hands its pending retirements to the domain's orphan list; any later
// collection frees them. The domain itself and its records are never freed (threads may still
// run during static destruction), so everything pending stays reachable for leak checkers.

struct Retired {
  void* ptr;
  void (*deleter)(void*);
  std::uint64_t epoch;
};

class EpochDomain;

struct alignas(128) EpochRecord {
  std::atomic<std::uint64_t> state{0};  // 0: not pinned; else (epoch << 1) | 1
  std::uint32_t depth = 0;              // pin nesting; touched only by the owning thread
  bool asymmetric = false;              // copy of the domain's mode (same cache line as state)
  EpochDomain* domain = nullptr;
  std::atomic<bool> in_use{false};
  EpochRecord* next = nullptr;  // the domain's list of records; immutable once published
  std::vector<Retired> bag;     // pending retirements, epochs non-decreasing
  std::size_t bag_head = 0;     // bag[0, bag_head) already freed
  std::size_t since_collect = 0;
  std::uint64_t large_epoch = 0;   // epoch of the last pending large retirement; 0: none
  bool collecting = false;         // a deleter that uses a Map must not collect re-entrantly
  std::vector<Retired> orphan_buf;  // reused: orphans taken by a collection
};

inline long membarrier_call(int cmd) {
  return ::syscall(__NR_membarrier, cmd, 0u, 0);
}

class EpochDomain {
 public:
  static constexpr std::size_t kCollectEvery = 1024;
  static constexpr std::size_t kLargeRetry = 16;
  static constexpr int kMaxDomains = 2;

  // The domain every map uses: asymmetric (membarrier) if the kernel supports it and the
  // environment variable GOCXX_MAP_MEMBARRIER is not "0".
  static EpochDomain& global() {
    static EpochDomain* domain = [] {
      const char* env = std::getenv("GOCXX_MAP_MEMBARRIER");
      bool want = !(env != nullptr && env[0] == '0' && env[1] == '\0');
      return new EpochDomain(0, want && register_membarrier());
    }();
    return *domain;
  }
  // A domain whose readers fence (no membarrier), for tests and for comparison.
  static EpochDomain& fenced() {
    static EpochDomain* domain = new EpochDomain(1, false);
    return *domain;
  }

  bool asymmetric() const { return asymmetric_; }
  int index() const { return index_; }
  std::uint64_t epoch() const { return epoch_.load(std::memory_order_acquire); }

  [[gnu::always_inline]] void pin(EpochRecord* rec) {
    if (rec->depth++ != 0) return;
    const std::uint64_t e = epoch_.load(std::memory_order_acquire);
    // release: an advancer that acquires this value also sees everything the thread did in
    // its previous read sections (a record's states form a chain of release stores).
    rec->state.store((e << 1) | 1, std::memory_order_release);
    if (rec->asymmetric) {
      std::atomic_signal_fence(std::memory_order_seq_cst);  // the advancer's membarrier
    } else {
      full_fence();
    }
  }
  [[gnu::always_inline]] void unpin(EpochRecord* rec) {
    if (--rec->depth != 0) return;
    // release: every read of the section happens before an advancer that sees the record idle.
    rec->state.store(0, std::memory_order_release);
  }

  // Retires ptr; deleter(ptr) runs once no reader can hold it. The object must already be
  // unreachable for new readers.
  void retire(EpochRecord* rec, void* ptr, void (*deleter)(void*), bool large = false) {
    // The unlink must be ordered before the epoch read (see the proof sketch above).
    full_fence();
    rec->bag.push_back(Retired{ptr, deleter, epoch_.load(std::memory_order_acquire)});
    ++rec->since_collect;
    if (large) rec->large_epoch = rec->bag.back().epoch;
  }

  // Frees what the calling thread can free, if enough retirements are pending. Call it outside
  // read sections and outside locks.
  void maybe_collect() {
    EpochRecord* rec = local_record_of(*this);
    if (rec->large_epoch != 0) rec->since_collect += kCollectEvery / kLargeRetry;
    if (rec->since_collect >= kCollectEvery && rec->depth == 0 && !rec->collecting) {
      collect(rec);
    }
  }

  // Tries to advance the epoch once. Returns the epoch afterwards.
  std::uint64_t try_advance() {
    std::uint64_t e = epoch_.load(std::memory_order_seq_cst);
    heavy_fence();
    for (EpochRecord* r = records_.load(std::memory_order_acquire); r != nullptr; r = r->next) {
      const std::uint64_t s = r->state.load(std::memory_order_acquire);
      if ((s & 1) != 0 && (s >> 1) != e) return e;
    }
    if (epoch_.compare_exchange_strong(e, e + 1, std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
      return e + 1;
    }
    return e;  // someone else advanced it
  }

  // Frees the calling thread's eligible retirements and eligible orphans, advancing the epoch
  // once if needed. Allocates nothing in the steady state (the bag keeps its capacity).
  void collect(EpochRecord* rec) {
    if (rec->collecting) return;
    rec->collecting = true;
    rec->since_collect = 0;
    std::uint64_t g = epoch();
    const bool own_pending = rec->bag_head < rec->bag.size();
    if ((own_pending && rec->bag[rec->bag_head].epoch + 2 > g) || has_orphans()) {
      g = try_advance();
    }
    // Deleters may retire more (a value whose destructor uses a Map): those are appended to
    // the bag with a later epoch, so index-based iteration stays valid.
    while (rec->bag_head < rec->bag.size() && rec->bag[rec->bag_head].epoch + 2 <= g) {
      const Retired r = rec->bag[rec->bag_head++];
      r.deleter(r.ptr);
    }
    if (rec->large_epoch != 0 && rec->large_epoch + 2 <= g) rec->large_epoch = 0;  // freed
    if (rec->bag_head == rec->bag.size()) {
      rec->bag.clear();
      rec->bag_head = 0;
    } else if (rec->bag_head * 2 > rec->bag.size()) {
      rec->bag.erase(rec->bag.begin(), rec->bag.begin() + std::ptrdiff_t(rec->bag_head));
      rec->bag_head = 0;
    }
    if (has_orphans()) {
      take_orphans(g, rec->orphan_buf);
      for (const Retired& r : rec->orphan_buf) r.deleter(r.ptr);
      rec->orphan_buf.clear();
    }
    rec->collecting = false;
  }

  // Frees everything the calling thread retired and every orphan, waiting (spinning with
  // yields) for other threads' read sections to end. For tests and shutdown paths; must not be
  // called inside a read section.
  void drain() {
    EpochRecord* rec = local_record_of(*this);
    for (int spins = 0;; ++spins) {
      collect(rec);
      if (rec->bag_head == rec->bag.size() && !has_orphans()) return;
      if (spins > 64) ::sched_yield();
    }
  }

  // Number of retirements not yet freed: the calling thread's and the orphans.
  std::size_t pending() {
    EpochRecord* rec = local_record_of(*this);
    std::lock_guard lock(orphans_mu_);
    return rec->bag.size() - rec->bag_head + orphans_.size();
  }

  EpochRecord* acquire_record() {
    for (EpochRecord* r = records_.load(std::memory_order_acquire); r != nullptr; r = r->next) {
      bool expected = false;
      if (!r->in_use.load(std::memory_order_relaxed) &&
          r->in_use.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) {
        return r;
      }
    }
    auto* r = new EpochRecord;
    r->asymmetric = asymmetric_;
    r->domain = this;
    r->in_use.store(true, std::memory_order_relaxed);
    EpochRecord* head = records_.load(std::memory_order_relaxed);
    do {
      r->next = head;
    } while (!records_.compare_exchange_weak(head, r, std::memory_order_acq_rel,
                                             std::memory_order_relaxed));
    return r;
  }

  void release_record(EpochRecord* rec) {
    rec->state.store(0, std::memory_order_release);
    rec->depth = 0;
    if (rec->bag_head < rec->bag.size()) {
      std::lock_guard lock(orphans_mu_);
      orphans_.insert(orphans_.end(), rec->bag.begin() + std::ptrdiff_t(rec->bag_head),
                      rec->bag.end());
      norphans_.store(orphans_.size(), std::memory_order_relaxed);
    }
    rec->bag.clear();
    rec->bag.shrink_to_fit();
    rec->orphan_buf.clear();
    rec->orphan_buf.shrink_to_fit();
    rec->bag_head = 0;
    rec->since_collect = 0;
    rec->large_epoch = 0;  // handed to the orphans with the rest
    rec->in_use.store(false, std::memory_order_release);
  }

  // The calling thread's record in domain d. Not inlined on purpose: goroutines migrate
  // between threads at every switch point, and an inlined thread_local access could have its
  // address cached by the compiler across a mutex lock that parked and resumed elsewhere.
  [[gnu::noinline]] static EpochRecord* local_record_of(EpochDomain& d) {
    thread_local ThreadRecords records;
    EpochRecord*& r = records.rec[d.index_];
    if (r == nullptr) r = d.acquire_record();
    return r;
  }

 private:
  struct ThreadRecords {
    EpochRecord* rec[kMaxDomains] = {};
    ~ThreadRecords() {
      for (EpochRecord*& r : rec) {
        if (r != nullptr) r->domain->release_record(r);
        r = nullptr;
      }
    }
  };

  EpochDomain(int index, bool asymmetric) : index_(index), asymmetric_(asymmetric) {}

  static bool register_membarrier() {
    const long supported = membarrier_call(MEMBARRIER_CMD_QUERY);
    if (supported < 0 || (supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return false;
    return membarrier_call(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
  }

  static void full_fence() {
#if defined(__SANITIZE_THREAD__)
    // TSan does not model stand-alone fences (and GCC warns about them); a sequentially
    // consistent RMW is a full barrier on x86 and an SC operation in the C++ model. TSan's
    // happens-before comes from the release/acquire pairs, not from this.
    static std::atomic<int> dummy{0};
    dummy.fetch_add(0, std::memory_order_seq_cst);
#else
    std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
  }

  void heavy_fence() {
    if (asymmetric_ && membarrier_call(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return;
    // Registration succeeded at start-up, so the call does not fail; fence anyway if it does
    // (a fenced advance is still correct for fenced readers, and asymmetric readers never
    // exist without a successful registration).
    full_fence();
  }

  bool has_orphans() const { return norphans_.load(std::memory_order_relaxed) != 0; }

  void take_orphans(std::uint64_t g, std::vector<Retired>& out) {
    if (!has_orphans()) return;
    std::unique_lock lock(orphans_mu_, std::try_to_lock);
    if (!lock.owns_lock()) return;
    auto keep = std::partition(orphans_.begin(), orphans_.end(),
                               [g](const Retired& r) { return r.epoch + 2 > g; });
    out.insert(out.end(), keep, orphans_.end());
    orphans_.erase(keep, orphans_.end());
    norphans_.store(orphans_.size(), std::memory_order_relaxed);
  }

  const int index_;
  const bool asymmetric_;
  alignas(128) std::atomic<std::uint64_t> epoch_{2};
  alignas(128) std::atomic<EpochRecord*> records_{nullptr};
  std::atomic<std::size_t> norphans_{0};
  std::mutex orphans_mu_;
  std::vector<Retired> orphans_;
};

// Pins the calling thread's record for one read section (which must not contain a switch).
class PinGuard {
 public:
  [[gnu::always_inline]] explicit PinGuard(EpochDomain& domain)
      : domain_(domain), rec_(EpochDomain::local_record_of(domain)) {
    domain_.pin(rec_);
  }
  [[gnu::always_inline]] ~PinGuard() { domain_.unpin(rec_); }
  PinGuard(const PinGuard&) = delete;
  PinGuard& operator=(const PinGuard&) = delete;
  EpochRecord* record() const { return rec_; }
  void retire(void* ptr, void (*deleter)(void*)) { domain_.retire(rec_, ptr, deleter); }

 private:
  EpochDomain& domain_;
  EpochRecord* rec_;
};

template <class T>
void delete_as(void* p) {
  delete static_cast<T*>(p);
}

}  // namespace gocxx::sync::detail
