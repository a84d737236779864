// A P's local run queue (Go's p.runq): a bounded ring that only the owning P pushes to and
// that any P may pop from or steal half of, plus the `runnext` slot for the goroutine readied
// last (a ping-pong partner runs next, on the same thread, with warm caches).
//
// Invariants: `tail` is written only by the owner; `head` advances only by CAS, so an entry is
// consumed by exactly one popper/stealer. Entries are relaxed atomics because a stealer may
// read a slot that the owner is about to reuse; its CAS on head then fails and it retries.
#pragma once

#include <atomic>
#include <cstdint>

namespace gocxx::detail {

struct G;

class RunQueue {
 public:
  static constexpr std::uint32_t kSize = 256;

  bool empty() const {
    // A consistent snapshot: runnext may change between the loads, so re-read until stable.
    for (;;) {
      std::uint32_t h = head_.load(std::memory_order_acquire);
      std::uint32_t t = tail_.load(std::memory_order_acquire);
      G* next = runnext_.load(std::memory_order_acquire);
      if (tail_.load(std::memory_order_acquire) == t) return h == t && next == nullptr;
    }
  }
  std::uint32_t size() const {
    return tail_.load(std::memory_order_acquire) - head_.load(std::memory_order_acquire);
  }

  // Owner only. With `next`, g goes to runnext and the previous runnext to the tail.
  // Returns false if the ring is full; `overflow` then receives g and the caller moves half
  // the ring to the global queue (see take_half_for_global).
  bool push(G* g, bool next, G** overflow);
  // Owner only: runnext first, then the head.
  G* pop();
  // Owner only: the ring's head, leaving runnext alone (the fairness turn: a pair handing
  // runnext back and forth must not starve the ring).
  G* pop_ring();
  // Owner only: moves half of the ring plus `extra` into a linked batch (sched_next) for the
  // global queue. Returns the batch length, 0 if a stealer raced us (then retry push).
  std::uint32_t take_half_for_global(G* extra, G** batch_head, G** batch_tail);
  // Any thread: moves half of `victim`'s entries into this (owner's) ring and returns one to
  // run, or nullptr. With `steal_next`, the victim's runnext may be taken too.
  G* steal_from(RunQueue& victim, bool steal_next);

 private:
  std::uint32_t grab(std::atomic<G*>* batch, std::uint32_t batch_head, bool steal_next);

  std::atomic<std::uint32_t> head_{0};
  std::atomic<std::uint32_t> tail_{0};
  std::atomic<G*> runnext_{nullptr};
  std::atomic<G*> ring_[kSize] = {};
};

}  // namespace gocxx::detail
