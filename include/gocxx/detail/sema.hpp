// Parking building blocks of the runtime: wait reasons, the wait queue type, a counting
// semaphore whose waiters park (goroutines) or sleep (plain threads), and Go's ticket-based
// notify list.
//
// Why runtime vocabulary sits in a public (detail) header: the sync types of sync.hpp are
// header-inline so that their uncontended paths are a CAS with no call, and so they hold a Sema
// or a NotifyList by value; their layout must be complete wherever a Mutex, RWMutex, WaitGroup
// or Cond is declared. A NotifyList holds a Lock and a WaitList, and Mutex::lock_slow names a
// WaitReason in its default argument, so those types come along. Waiter is only declared here:
// its layout stays in the runtime (src/runtime/park.hpp). The runtime takes these types from
// this header (park.hpp includes it) rather than keep a second definition. Nothing here is API:
// user code must not name gocxx::detail.
#pragma once

#include <atomic>
#include <cstdint>

#include "gocxx/detail/lock.hpp"

namespace gocxx::detail {

// Why a goroutine is waiting. The strings are Go's (runtime2.go waitReasonStrings), so dumps
// and tools written for Go read them unchanged.
enum class WaitReason : std::uint8_t {
  kZero,
  kChanSend,
  kChanReceive,
  kChanSendNilChan,
  kChanReceiveNilChan,
  kSelect,
  kSelectNoCases,
  kSleep,
  kSyncMutexLock,
  kSyncRWMutexRLock,
  kSyncRWMutexLock,
  kSyncWaitGroupWait,
  kSyncCondWait,
  kSemacquire,
  kForever,
  kIOWait,
  kCount
};
const char* wait_reason_string(WaitReason reason);

struct Waiter;  // a parked goroutine or thread in some queue (Go's sudog); see src/runtime/park.hpp

// FIFO list of Waiters; the owner's lock guards every change. `head` is atomic only so that
// a channel's non-blocking fast path may ask "anyone waiting?" without the lock.
struct WaitList {
  std::atomic<Waiter*> head{nullptr};
  Waiter* tail = nullptr;
  Waiter* first() const { return head.load(std::memory_order_relaxed); }
  bool empty() const { return first() == nullptr; }
};

// Go's runtime semaphore (sema.go). The object holds only the count; its waiters queue in a
// process-wide table keyed by the Sema's address (Go's semtable, in sema.cpp), so a release
// need not touch the Sema after publishing the count.
class Sema {
 public:
  // Waits until the count is positive, then decrements it. `lifo` queues the caller at the head
  // (a waiter that was woken and lost the race goes back to the front, as in Go).
  void acquire(bool lifo, WaitReason reason);
  // Increments the count and wakes one waiter. With `handoff`, the count goes straight to the
  // woken waiter and the caller yields to it (Mutex starvation mode). Touches the Sema only
  // to publish the count (and while a waiter is still parked on it), so the goroutine that
  // takes the count may destroy the Sema at once.
  void release(bool handoff);

 private:
  bool try_acquire();
  std::atomic<std::uint32_t> count_{0};  // the waiters are in sema.cpp's table, by address
};

// Go's notifyList (sema.go): waiters take a ticket before releasing the user's lock, so a
// signal between the unlock and the park is never lost.
class NotifyList {
 public:
  std::uint32_t add() { return wait_.fetch_add(1, std::memory_order_acq_rel); }
  void wait(std::uint32_t ticket);
  void notify_one();
  void notify_all();

 private:
  std::atomic<std::uint32_t> wait_{0};    // next ticket to hand out
  std::atomic<std::uint32_t> notify_{0};  // next ticket to wake
  Lock lock_;
  WaitList waiters_;
};

}  // namespace gocxx::detail
