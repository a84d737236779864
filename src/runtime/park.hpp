// Parking: how a goroutine or a plain thread waits in a queue and is woken.
//
// A Parker is the thing that sleeps: every goroutine has one (inside its G) and every plain
// thread has a thread_local one. A Waiter (Go's sudog) is one entry in one wait queue; a select
// enqueues one Waiter per case, all pointing at the same Parker.
//
// Protocol (Go's gopark/goready): the waiter is enqueued under the queue owner's lock, then
// park() releases that lock only after the goroutine has switched out (or, for a thread, after
// it has published "about to sleep"). So whoever dequeues the Waiter under that lock may call
// unpark() at once, and the wake-up is never lost.
//
// WaitReason, WaitList and the Waiter declaration come from the public gocxx/detail/sema.hpp,
// not from here: the inline sync types of gocxx/sync.hpp embed Sema and NotifyList (which hold
// a WaitList) by value, so those types must be visible to users' translation units, and this
// header includes that one instead of keeping a second definition (sema.hpp says more). The
// Waiter and Parker layouts stay private to the runtime.
#pragma once

#include <atomic>
#include <cstdint>

#include "gocxx/detail/sema.hpp"

namespace gocxx::detail {

struct G;
struct ChanCore;

struct Parker {
  G* g = nullptr;                              // nullptr: a plain thread
  std::atomic<std::uint32_t> wake_word{0};     // plain thread: the futex word it sleeps on
  std::atomic<std::uint32_t> select_done{0};   // first waker of a select wins this CAS
  struct Waiter* woken_by = nullptr;           // which of its Waiters completed (Go's gp.param)
};

struct Waiter {
  Parker* parker = nullptr;
  Waiter* next = nullptr;
  Waiter* prev = nullptr;
  void* elem = nullptr;          // channel element: source (send) or raw destination (receive)
  ChanCore* chan = nullptr;      // select: the case's channel
  bool is_select = false;
  bool success = false;          // channel: a value moved (true) or the channel closed (false)
  std::uint32_t ticket = 0;      // NotifyList ticket; Sema: 1 if the count was handed over
};

// The calling goroutine's Parker, or the calling thread's.
Parker& current_parker();

// Parks the caller. `unlock(arg)` runs once the caller can safely be unparked (for a goroutine:
// on the scheduler stack after the switch) and must release the lock that guards its Waiters.
void park(Parker& self, WaitReason reason, void (*unlock)(void*), void* arg);
// Makes a parked goroutine runnable, or wakes a sleeping thread.
void unpark(Parker& p);

// Convenience for the common case: park releasing a Lock (or a RankedLock, lockrank.hpp).
template <class L>
inline void park_unlock(Parker& self, WaitReason reason, L& lock) {
  park(self, reason, [](void* l) { static_cast<L*>(l)->unlock(); }, &lock);
}

// FIFO wait queue operations (the owner's lock must be held).
void waitq_push_back(WaitList& q, Waiter* w);
void waitq_push_front(WaitList& q, Waiter* w);
void waitq_remove(WaitList& q, Waiter* w);
// Pops the first Waiter that can still be woken: a select Waiter whose select already fired
// elsewhere is dropped (Go's waitq.dequeue).
Waiter* waitq_pop(WaitList& q);

}  // namespace gocxx::detail
