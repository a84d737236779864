// Go's select (select.go): lock every channel involved in address order (so two selects over
// the same channels in different orders cannot deadlock), look for a ready case in a random
// order (fairness), else enqueue a Waiter on every channel and park until one fires.
#include <algorithm>
#include <memory>

#include "chan_core.hpp"
#include "scheduler.hpp"

namespace gocxx::detail {

namespace {

struct Locked {
  SelectCase* cases;
  const int* lock_order;  // indices of non-nil cases, sorted by channel address
  int count;

  void lock_all() const {
    for (int i = 0; i < count; ++i) {
      ChanCore* c = cases[lock_order[i]].chan;
      if (i == 0 || c != cases[lock_order[i - 1]].chan) c->lock.lock();
    }
  }
  void unlock_all() const {
    for (int i = count - 1; i >= 0; --i) {
      ChanCore* c = cases[lock_order[i]].chan;
      if (i == 0 || c != cases[lock_order[i - 1]].chan) c->lock.unlock();
    }
  }
};

// Tries the case sc; the caller holds its channel's lock. Returns true if the case proceeded:
// it moved a value (a receive sets *received), a receive found the channel closed and empty
// (*received = false), or a send found it closed (the caller panics after unlocking). *wake is
// set to the partner Waiter to unpark after unlocking, if any.
bool try_case(SelectCase& sc, bool* received, Waiter** wake) {
  ChanCore* c = sc.chan;
  std::size_t count = c->count.load(std::memory_order_relaxed);
  if (sc.is_send) {
    if (c->closed) return true;  // the caller panics after unlocking
    if (Waiter* receiver = waitq_pop(c->recvq)) {
      send_to_waiter(c, receiver, sc.elem);
      *wake = receiver;
      return true;
    }
    if (count < c->capacity) {
      c->buffer_put(sc.elem);
      c->count.store(count + 1, std::memory_order_relaxed);
      return true;
    }
    return false;
  }
  if (Waiter* sender = waitq_pop(c->sendq)) {
    recv_from_waiter(c, sender, sc.elem);
    *wake = sender;
    *received = true;
    return true;
  }
  if (count > 0) {
    c->buffer_take(sc.elem);
    c->count.store(count - 1, std::memory_order_relaxed);
    *received = true;
    return true;
  }
  if (c->closed) {
    *received = false;
    return true;
  }
  return false;
}

}  // namespace

// Go's fast path for `select { case op: ... default: }`: a single non-blocking operation
// that is observably not ready returns without locking. For a receive, "empty" is read before
// "closed": closed never reverts, so at the moment we saw it empty it was also open.
bool surely_not_ready(const SelectCase& sc) {
  const ChanCore* c = sc.chan;
  if (!c) return true;
  if (sc.is_send) return !c->closed.load(std::memory_order_acquire) && c->no_room_to_send();
  return c->nothing_to_receive() && !c->closed.load(std::memory_order_acquire);
}

// No chaos point here (gocxx::select has it): the timer queue calls this with its lock held.
int select(SelectCase* cases, int count, bool block, bool* received) {
  *received = false;
  if (!block && count == 1 && surely_not_ready(cases[0])) return -1;
  constexpr int kInline = 16;
  int inline_orders[2 * kInline];
  std::unique_ptr<int[]> heap_orders;
  int* orders = inline_orders;
  if (count > kInline) {
    heap_orders = std::make_unique<int[]>(2 * static_cast<std::size_t>(count));
    orders = heap_orders.get();
  }
  int* poll_order = orders;
  int* lock_order = orders + count;

  // Nil channels are never ready and never locked: leave them out of both orders.
  int live = 0;
  for (int i = 0; i < count; ++i) {
    if (!cases[i].chan) continue;
    int j = static_cast<int>(fastrand() % static_cast<std::uint32_t>(live + 1));
    poll_order[live] = poll_order[j];  // inside-out Fisher-Yates: a uniform permutation
    poll_order[j] = i;
    ++live;
  }
  if (live == 0) {
    if (!block) return -1;
    block_forever(count == 0 ? WaitReason::kSelectNoCases : WaitReason::kSelect);
  }
  // Lock order: by channel address, stably from the random poll order, so that cases on the
  // same channel are enqueued (and so woken) in random order too, as in Go.
  std::copy(poll_order, poll_order + live, lock_order);
  auto by_address = [&](int a, int b) { return cases[a].chan < cases[b].chan; };
  if (live <= kInline) {
    for (int k = 1; k < live; ++k) {  // insertion sort: stable, no allocation
      int v = lock_order[k], j = k;
      for (; j > 0 && by_address(v, lock_order[j - 1]); --j) lock_order[j] = lock_order[j - 1];
      lock_order[j] = v;
    }
  } else {
    std::stable_sort(lock_order, lock_order + live, by_address);
  }
  Locked locked{cases, lock_order, live};

  locked.lock_all();
  for (int k = 0; k < live; ++k) {
    int i = poll_order[k];
    Waiter* wake = nullptr;
    if (!try_case(cases[i], received, &wake)) continue;
    bool send_on_closed =
        cases[i].is_send && cases[i].chan->closed.load(std::memory_order_relaxed) && !wake;
    locked.unlock_all();
    if (send_on_closed) throw_panic("send on closed channel");
    if (wake) unpark(*wake->parker);
    return i;
  }
  if (!block) {
    locked.unlock_all();
    return -1;
  }

  // Nothing ready: wait on every channel at once.
  Parker& self = current_parker();
  self.woken_by = nullptr;
  self.select_done.store(0, std::memory_order_relaxed);
  constexpr int kInlineWaiters = 8;
  Waiter inline_waiters[kInlineWaiters];
  std::unique_ptr<Waiter[]> heap_waiters;
  Waiter* waiters = inline_waiters;
  if (count > kInlineWaiters) {
    heap_waiters = std::make_unique<Waiter[]>(static_cast<std::size_t>(count));
    waiters = heap_waiters.get();
  }
  for (int k = 0; k < live; ++k) {
    int i = lock_order[k];
    Waiter& w = waiters[i];
    w.parker = &self;
    w.is_select = true;
    w.elem = cases[i].elem;
    w.chan = cases[i].chan;
    waitq_push_back(cases[i].is_send ? w.chan->sendq : w.chan->recvq, &w);
  }
  park(self, WaitReason::kSelect, [](void* l) { static_cast<Locked*>(l)->unlock_all(); },
       &locked);

  // Woken: exactly one Waiter fired (it won select_done). Withdraw the others.
  locked.lock_all();
  Waiter* winner = self.woken_by;
  for (int k = 0; k < live; ++k) {
    int i = lock_order[k];
    if (&waiters[i] == winner) continue;
    waitq_remove(cases[i].is_send ? waiters[i].chan->sendq : waiters[i].chan->recvq, &waiters[i]);
  }
  locked.unlock_all();
  if (!winner) fatal("select: woken without a completed case");
  int chosen = static_cast<int>(winner - waiters);
  if (cases[chosen].is_send) {
    if (!winner->success) throw_panic("send on closed channel");
  } else {
    *received = winner->success;
  }
  return chosen;
}

}  // namespace gocxx::detail
