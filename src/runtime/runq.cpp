#include "runq.hpp"

#include <time.h>

#include "goroutine.hpp"

namespace gocxx::detail {

bool RunQueue::push(G* g, bool next, G** overflow) {
  if (next) {
    g = runnext_.exchange(g, std::memory_order_acq_rel);
    if (g == nullptr) return true;  // runnext was empty
  }
  std::uint32_t h = head_.load(std::memory_order_acquire);
  std::uint32_t t = tail_.load(std::memory_order_relaxed);
  if (t - h < kSize) {
    ring_[t % kSize].store(g, std::memory_order_relaxed);
    tail_.store(t + 1, std::memory_order_release);
    return true;
  }
  *overflow = g;
  return false;
}

G* RunQueue::pop() {
  G* next = runnext_.load(std::memory_order_acquire);
  if (next && runnext_.compare_exchange_strong(next, nullptr, std::memory_order_acq_rel)) {
    return next;
  }
  return pop_ring();
}

G* RunQueue::pop_ring() {
  for (;;) {
    std::uint32_t h = head_.load(std::memory_order_acquire);
    std::uint32_t t = tail_.load(std::memory_order_relaxed);
    if (t == h) return nullptr;
    G* g = ring_[h % kSize].load(std::memory_order_relaxed);
    if (head_.compare_exchange_weak(h, h + 1, std::memory_order_release,
                                    std::memory_order_relaxed)) {
      return g;
    }
  }
}

std::uint32_t RunQueue::take_half_for_global(G* extra, G** batch_head, G** batch_tail) {
  std::uint32_t h = head_.load(std::memory_order_acquire);
  std::uint32_t t = tail_.load(std::memory_order_relaxed);
  std::uint32_t n = (t - h) / 2;
  G* batch[kSize / 2 + 1];
  for (std::uint32_t i = 0; i < n; ++i) batch[i] = ring_[(h + i) % kSize].load(std::memory_order_relaxed);
  if (!head_.compare_exchange_strong(h, h + n, std::memory_order_release,
                                     std::memory_order_relaxed)) {
    return 0;
  }
  batch[n] = extra;
  for (std::uint32_t i = 0; i < n; ++i) batch[i]->sched_next = batch[i + 1];
  batch[n]->sched_next = nullptr;
  *batch_head = batch[0];
  *batch_tail = batch[n];
  return n + 1;
}

std::uint32_t RunQueue::grab(std::atomic<G*>* batch, std::uint32_t batch_head, bool steal_next) {
  for (;;) {
    std::uint32_t h = head_.load(std::memory_order_acquire);
    std::uint32_t t = tail_.load(std::memory_order_acquire);
    std::uint32_t n = t - h;
    n -= n / 2;
    if (n == 0) {
      if (!steal_next) return 0;
      G* next = runnext_.load(std::memory_order_acquire);
      if (next == nullptr) return 0;
      // The owner probably readied `next` just before parking and will run it in a moment.
      // Taken now, the pair would run on two threads, each hand-off a wake-up and every
      // channel operation moving cache lines between cores. So sleep first, as Go does
      // (usleep(3)): with Linux's 50 us timer slack that is about 60 us, and the stealer's
      // CPU is free meanwhile. Measured against a yield and against spinning 3 or 50 us
      // (bench/RESULTS.md): only sleeping keeps a hand-off chain on one thread.
      timespec grace{0, 3000};
      nanosleep(&grace, nullptr);
      if (!runnext_.compare_exchange_strong(next, nullptr, std::memory_order_acq_rel)) continue;
      batch[batch_head % kSize].store(next, std::memory_order_relaxed);
      return 1;
    }
    if (n > kSize / 2) continue;  // inconsistent h/t read; retry
    for (std::uint32_t i = 0; i < n; ++i) {
      batch[(batch_head + i) % kSize].store(ring_[(h + i) % kSize].load(std::memory_order_relaxed),
                                            std::memory_order_relaxed);
    }
    if (head_.compare_exchange_strong(h, h + n, std::memory_order_acq_rel,
                                      std::memory_order_relaxed)) {
      return n;
    }
  }
}

G* RunQueue::steal_from(RunQueue& victim, bool steal_next) {
  std::uint32_t t = tail_.load(std::memory_order_relaxed);
  std::uint32_t n = victim.grab(ring_, t, steal_next);
  if (n == 0) return nullptr;
  --n;
  G* g = ring_[(t + n) % kSize].load(std::memory_order_relaxed);
  if (n > 0) tail_.store(t + n, std::memory_order_release);
  return g;
}

}  // namespace gocxx::detail
