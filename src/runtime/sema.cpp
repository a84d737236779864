// Go's runtime semaphore and notify list (sema.go), one instance per sync primitive.
#include "gocxx/detail/sema.hpp"

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

void Sema::acquire(bool lifo, WaitReason reason) {
  if (try_acquire()) return;
  Parker& self = current_parker();
  for (;;) {
    lock_.lock();
    // Announce ourselves before re-checking, so a release between the check and the park
    // sees nwait > 0 and takes the slow path that wakes us.
    nwait_.fetch_add(1, std::memory_order_seq_cst);
    if (try_acquire()) {
      nwait_.fetch_sub(1, std::memory_order_relaxed);
      lock_.unlock();
      return;
    }
    Waiter me;
    me.parker = &self;
    if (lifo) {
      waitq_push_front(waiters_, &me);
    } else {
      waitq_push_back(waiters_, &me);
    }
    park_unlock(self, reason, lock_);
    if (me.ticket != 0 || try_acquire()) return;  // handed the count, or won it
    lifo = true;  // woken but beaten to it: wait at the front this time
  }
}

void Sema::release(bool handoff) {
  count_.fetch_add(1, std::memory_order_seq_cst);
  if (nwait_.load(std::memory_order_seq_cst) == 0) return;
  lock_.lock();
  if (nwait_.load(std::memory_order_relaxed) == 0) {
    lock_.unlock();
    return;
  }
  Waiter* w = waitq_pop(waiters_);
  if (w) nwait_.fetch_sub(1, std::memory_order_relaxed);
  lock_.unlock();
  if (!w) return;
  // Starvation mode: pass the count straight to the waiter and let it run next on this P.
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
}  // namespace

void NotifyList::wait(std::uint32_t ticket) {
  lock_.lock();
  if (ticket_before(ticket, notify_.load(std::memory_order_relaxed))) {
    lock_.unlock();  // already notified between add() and now
    return;
  }
  Parker& self = current_parker();
  Waiter me;
  me.parker = &self;
  me.ticket = ticket;
  waitq_push_back(waiters_, &me);
  park_unlock(self, WaitReason::kSyncCondWait, lock_);
}

void NotifyList::notify_one() {
  if (wait_.load(std::memory_order_acquire) == notify_.load(std::memory_order_acquire)) return;
  lock_.lock();
  std::uint32_t ticket = notify_.load(std::memory_order_relaxed);
  if (ticket == wait_.load(std::memory_order_acquire)) {
    lock_.unlock();
    return;
  }
  notify_.store(ticket + 1, std::memory_order_release);
  // The waiter holding `ticket` may not have enqueued yet; then wait() sees notify_ past its
  // ticket and returns without parking.
  for (Waiter* w = waiters_.first(); w; w = w->next) {
    if (w->ticket == ticket) {
      waitq_remove(waiters_, w);
      lock_.unlock();
      unpark(*w->parker);
      return;
    }
  }
  lock_.unlock();
}

void NotifyList::notify_all() {
  if (wait_.load(std::memory_order_acquire) == notify_.load(std::memory_order_acquire)) return;
  lock_.lock();
  Waiter* all = waiters_.first();
  waiters_.head.store(nullptr, std::memory_order_relaxed);
  waiters_.tail = nullptr;
  notify_.store(wait_.load(std::memory_order_acquire), std::memory_order_release);
  lock_.unlock();
  while (all) {
    Waiter* next = all->next;  // read first: the woken waiter may return and reuse its Waiter
    unpark(*all->parker);
    all = next;
  }
}

}  // namespace gocxx::detail
