#include "park.hpp"

#include "futex.hpp"
#include "goroutine.hpp"
#include "scheduler.hpp"

namespace gocxx::detail {

namespace {
thread_local Parker tls_thread_parker;
}

Parker& current_parker() {
  G* g = current_g();
  return g ? g->parker : tls_thread_parker;
}

void park(Parker& self, WaitReason reason, void (*unlock)(void*), void* arg) {
  if (self.g) {
    gopark(self.g, reason, unlock, arg);
    return;
  }
  // A plain thread: publish "asleep" before releasing the lock that makes us findable.
  self.wake_word.store(0, std::memory_order_relaxed);
  unlock(arg);
  while (self.wake_word.load(std::memory_order_acquire) == 0) futex_wait(self.wake_word, 0);
}

void unpark(Parker& p) {
  if (p.g) {
    ready(p.g);
    return;
  }
  p.wake_word.store(1, std::memory_order_release);
  futex_wake(p.wake_word, 1);
}

void waitq_push_back(WaitList& q, Waiter* w) {
  w->next = nullptr;
  w->prev = q.tail;
  if (q.tail) {
    q.tail->next = w;
  } else {
    q.head.store(w, std::memory_order_relaxed);
  }
  q.tail = w;
}

void waitq_push_front(WaitList& q, Waiter* w) {
  Waiter* head = q.first();
  w->prev = nullptr;
  w->next = head;
  if (head) {
    head->prev = w;
  } else {
    q.tail = w;
  }
  q.head.store(w, std::memory_order_relaxed);
}

void waitq_remove(WaitList& q, Waiter* w) {
  if (w->prev) {
    w->prev->next = w->next;
  } else if (q.first() == w) {
    q.head.store(w->next, std::memory_order_relaxed);
  } else {
    return;  // not in this queue (already dequeued by a waker)
  }
  if (w->next) {
    w->next->prev = w->prev;
  } else {
    q.tail = w->prev;
  }
  w->next = w->prev = nullptr;
}

Waiter* waitq_pop(WaitList& q) {
  while (Waiter* w = q.first()) {
    waitq_remove(q, w);
    // A select parks on several queues; only the first waker may complete it.
    if (w->is_select) {
      std::uint32_t expected = 0;
      if (!w->parker->select_done.compare_exchange_strong(expected, 1,
                                                          std::memory_order_acq_rel)) {
        continue;
      }
    }
    return w;
  }
  return nullptr;
}

}  // namespace gocxx::detail
