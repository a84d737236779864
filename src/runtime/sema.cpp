// Go's runtime semaphore and notify list (sema.go): a Sema holds only its count; its waiters
// wait in a process-wide table keyed by its address, as in Go.
#include "gocxx/detail/sema.hpp"

#include "lockrank.hpp"
#include "park.hpp"
#include "scheduler.hpp"

namespace gocxx::detail {

bool Sema::try_acquire() {
  std::uint32_t v = count_.load(std::memory_order_relaxed);
  while (v > 0) {
    if (count_.compare_exchange_weak(v, v - 1, std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
      return true;
    }
  }
  return false;
}

namespace {

// Go's semtable: the waiters of every Sema live here, in a root chosen by the Sema's address,
// not in the Sema. A release publishes the count in the object and from then on touches only
// its root and the (parked, so alive) waiter: the object may already be gone, because the
// goroutine that takes the count can return and destroy it at once (a WaitGroup on a waiter's
// stack, a Mutex freed by its last holder).
struct SemaRoot {
  RankedLock<LockRank::kSemaRoot> lock;
  WaitList waiters;                      // of every Sema hashing here; Waiter::elem = the Sema
  std::atomic<std::uint32_t> nwait{0};   // waiters queued (or about to queue) here
};
constexpr std::size_t kSemaRoots = 251;  // prime, as Go's semTabSize
SemaRoot g_sema_roots[kSemaRoots];

SemaRoot& root_for(const Sema* sema) {
  return g_sema_roots[(reinterpret_cast<std::uintptr_t>(sema) >> 3) % kSemaRoots];
}

// The first waiter queued for `sema` (FIFO, or the front for a requeued LIFO waiter).
Waiter* pop_waiter_for(SemaRoot& root, const Sema* sema) {
  for (Waiter* w = root.waiters.first(); w; w = w->next) {
    if (w->elem == sema) {
      waitq_remove(root.waiters, w);
      return w;
    }
  }
  return nullptr;
}

}  // namespace

void Sema::acquire(bool lifo, WaitReason reason) {
  if (try_acquire()) return;
  Parker& self = current_parker();
  SemaRoot& root = root_for(this);
  for (;;) {
    root.lock.lock();
    // Announce ourselves before re-checking, so a release between the check and the park
    // sees nwait > 0 and takes the slow path that wakes us.
    root.nwait.fetch_add(1, std::memory_order_seq_cst);
    if (try_acquire()) {
      root.nwait.fetch_sub(1, std::memory_order_relaxed);
      root.lock.unlock();
      return;
    }
    Waiter me;
    me.parker = &self;
    me.elem = this;
    if (lifo) {
      waitq_push_front(root.waiters, &me);
    } else {
      waitq_push_back(root.waiters, &me);
    }
    park_unlock(self, reason, root.lock);
    if (me.ticket != 0 || try_acquire()) return;  // handed the count, or won it
    lifo = true;  // woken but beaten to it: wait at the front this time
  }
}

void Sema::release(bool handoff) {
  SemaRoot& root = root_for(this);
  count_.fetch_add(1, std::memory_order_seq_cst);
  // From here on `this` may be destroyed by whoever takes the count, except while a waiter
  // for it is queued (it cannot return before it is dequeued and woken).
  if (root.nwait.load(std::memory_order_seq_cst) == 0) return;
  root.lock.lock();
  Waiter* w = nullptr;
  if (root.nwait.load(std::memory_order_relaxed) != 0) w = pop_waiter_for(root, this);
  if (w) root.nwait.fetch_sub(1, std::memory_order_relaxed);
  root.lock.unlock();
  if (!w) return;
  // Starvation mode: pass the count straight to the waiter and let it run next on this P.
  // Safe to touch the Sema: its waiter is dequeued but still parked.
  if (handoff && try_acquire()) w->ticket = 1;
  bool handed = w->ticket != 0;
  unpark(*w->parker);
  if (handed) {
    if (G* g = current_g()) goyield(g);
  }
}

namespace {
// Ticket order with wrap-around, as Go's less().
bool ticket_before(std::uint32_t a, std::uint32_t b) { return static_cast<std::int32_t>(a - b) < 0; }

// NotifyList::lock_ is a plain Lock (its type is in a public header); its rank is checked here.
void notify_lock(Lock& l) {
  lock_rank_acquire(LockRank::kNotifyList, &l);
  l.lock();
}
void notify_unlock(Lock& l) {
  lock_rank_release(LockRank::kNotifyList, &l);
  l.unlock();
}
}  // namespace

void NotifyList::wait(std::uint32_t ticket) {
  notify_lock(lock_);
  if (ticket_before(ticket, notify_.load(std::memory_order_relaxed))) {
    notify_unlock(lock_);  // already notified between add() and now
    return;
  }
  Parker& self = current_parker();
  Waiter me;
  me.parker = &self;
  me.ticket = ticket;
  waitq_push_back(waiters_, &me);
  park(
      self, WaitReason::kSyncCondWait, [](void* l) { notify_unlock(*static_cast<Lock*>(l)); },
      &lock_);
}

void NotifyList::notify_one() {
  if (wait_.load(std::memory_order_acquire) == notify_.load(std::memory_order_acquire)) return;
  notify_lock(lock_);
  std::uint32_t ticket = notify_.load(std::memory_order_relaxed);
  if (ticket == wait_.load(std::memory_order_acquire)) {
    notify_unlock(lock_);
    return;
  }
  notify_.store(ticket + 1, std::memory_order_release);
  // The waiter holding `ticket` may not have enqueued yet; then wait() sees notify_ past its
  // ticket and returns without parking.
  for (Waiter* w = waiters_.first(); w; w = w->next) {
    if (w->ticket == ticket) {
      waitq_remove(waiters_, w);
      notify_unlock(lock_);
      unpark(*w->parker);
      return;
    }
  }
  notify_unlock(lock_);
}

void NotifyList::notify_all() {
  if (wait_.load(std::memory_order_acquire) == notify_.load(std::memory_order_acquire)) return;
  notify_lock(lock_);
  Waiter* all = waiters_.first();
  waiters_.head.store(nullptr, std::memory_order_relaxed);
  waiters_.tail = nullptr;
  notify_.store(wait_.load(std::memory_order_acquire), std::memory_order_release);
  notify_unlock(lock_);
  while (all) {
    Waiter* next = all->next;  // read first: the woken waiter may return and reuse its Waiter
    unpark(*all->parker);
    all = next;
  }
}

}  // namespace gocxx::detail
