// The type-erased channel (Go's hchan) and the transfers shared by chan.cpp and select.cpp.
//
// Invariants (all under `lock`), as in Go's runtime/chan.go. They count only live Waiters: a
// select's Waiter stays queued after its select has completed on another case, until that
// select relocks and withdraws it, and waitq_pop drops such a Waiter (its select_done CAS fails).
//  - at least one of sendq / recvq is empty (a waiting receiver would have taken a waiting
//    sender's value, and vice versa), except on an unbuffered channel where one select waits
//    for both directions: `select { case c <- v: case <-c: }` queues a Waiter in sendq and one
//    in recvq, and neither can complete the other, since one select completes only one case;
//  - for a buffered channel, sendq is non-empty only while the buffer is full, recvq only
//    while it is empty (so there both queues are never non-empty together: the exception
//    above needs capacity 0);
//  - once `closed`, both queues are empty and stay empty.
// Elements move under `lock`, so an element type's move constructor must not block (Chan<T>
// requires it to be noexcept). `lock` has rank hchan in the lock order (lockrank.hpp); a select
// holds several, taken in address order.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstring>

#include "gocxx/chan.hpp"
#include "gocxx/detail/lock.hpp"
#include "lockrank.hpp"
#include "park.hpp"

namespace gocxx::detail {

struct ChanCore {
  std::atomic<std::uint32_t> refs{1};
  RankedLock<LockRank::kHchan> lock;  // rank: lockrank.hpp
  const ElemOps* ops = nullptr;
  std::size_t capacity = 0;
  std::atomic<std::size_t> count{0};  // elements in the buffer (read without lock by len())
  std::size_t recv_index = 0;
  std::size_t send_index = 0;
  std::atomic<bool> closed{false};  // written under lock; read without it by the fast paths
  WaitList recvq;
  WaitList sendq;
  unsigned char* buffer = nullptr;    // capacity slots of ops->size bytes, after this struct

  void* slot(std::size_t i) { return buffer + i * ops->size; }

  // Lock-free readiness probes for non-blocking operations (Go's empty() and full()).
  bool nothing_to_receive() const {
    return capacity == 0 ? sendq.empty() : count.load(std::memory_order_relaxed) == 0;
  }
  bool no_room_to_send() const {
    return capacity == 0 ? recvq.empty() : count.load(std::memory_order_relaxed) == capacity;
  }

  void move_elem(void* dst, void* src) const {
    if (ops->trivial) {
      std::memcpy(dst, src, ops->size);
    } else {
      ops->move_construct(dst, src);
    }
  }
  // Moves the oldest buffered element to dst and frees its slot.
  void buffer_take(void* dst) {
    void* s = slot(recv_index);
    move_elem(dst, s);
    if (!ops->trivial) ops->destroy(s);
    if (++recv_index == capacity) recv_index = 0;
  }
  void buffer_put(void* src) {
    move_elem(slot(send_index), src);
    if (++send_index == capacity) send_index = 0;
  }
};

// Completes a send to a parked receiver (lock held); the caller unlocks, then unparks it.
inline void send_to_waiter(ChanCore* c, Waiter* receiver, void* src) {
  c->move_elem(receiver->elem, src);
  receiver->success = true;
  receiver->parker->woken_by = receiver;
}

// Completes a receive from a parked sender (lock held): the buffer is full (or absent), so
// take its head and let the sender's value refill the freed slot, preserving FIFO order.
inline void recv_from_waiter(ChanCore* c, Waiter* sender, void* dst) {
  if (c->capacity == 0) {
    c->move_elem(dst, sender->elem);
  } else {
    c->buffer_take(dst);
    c->buffer_put(sender->elem);
  }
  sender->success = true;
  sender->parker->woken_by = sender;
}

// Parks the caller forever (nil channel operations, empty select).
[[noreturn]] void block_forever(WaitReason reason);

}  // namespace gocxx::detail
