// Channel send, receive and close (Go's chan.go). See chan_core.hpp for the invariants.
#include <new>

#include "chan_core.hpp"
#include "gocxx/detail/chaos.hpp"
#include "scheduler.hpp"

namespace gocxx::detail {

void block_forever(WaitReason reason) {
  park(current_parker(), reason, [](void*) {}, nullptr);
  fatal("unreachable: a goroutine blocked forever was woken");
}

ChanCore* chan_make(const ElemOps& ops, std::size_t capacity) {
  constexpr std::size_t kMaxBuffer = std::size_t(1) << 40;
  if (ops.size != 0 && capacity > kMaxBuffer / ops.size) throw_panic("makechan: size out of range");
  std::size_t align = std::max(alignof(ChanCore), ops.align);
  std::size_t header = (sizeof(ChanCore) + ops.align - 1) / ops.align * ops.align;
  void* memory = ::operator new(header + capacity * ops.size, std::align_val_t(align));
  auto* c = ::new (memory) ChanCore;
  c->ops = &ops;
  c->capacity = capacity;
  c->buffer = static_cast<unsigned char*>(memory) + header;
  return c;
}

void chan_retain(ChanCore* c) noexcept { c->refs.fetch_add(1, std::memory_order_relaxed); }

void chan_release(ChanCore* c) noexcept {
  if (c->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  if (!c->ops->trivial) {
    for (std::size_t n = c->count.load(std::memory_order_relaxed), i = c->recv_index; n > 0; --n) {
      c->ops->destroy(c->slot(i));
      if (++i == c->capacity) i = 0;
    }
  }
  std::size_t align = std::max(alignof(ChanCore), c->ops->align);
  c->~ChanCore();
  ::operator delete(static_cast<void*>(c), std::align_val_t(align));
}

namespace {

// The blocking half of send and receive, entered with c->lock held: queues the caller on `q`
// with its element slot and parks, releasing the lock, until a partner completes the transfer
// (true) or close() wakes it (false).
bool wait_for_partner(ChanCore* c, WaitList& q, void* elem, WaitReason reason) {
  Parker& self = current_parker();
  Waiter me;
  me.parker = &self;
  me.elem = elem;
  waitq_push_back(q, &me);
  park_unlock(self, reason, c->lock);
  return me.success;
}

}  // namespace

void chan_send(ChanCore* c, void* src) {
  chaos_point();  // at entry: no lock held yet
  if (!c) block_forever(WaitReason::kChanSendNilChan);
  c->lock.lock();
  if (c->closed) {
    c->lock.unlock();
    throw_panic("send on closed channel");
  }
  if (Waiter* receiver = waitq_pop(c->recvq)) {
    send_to_waiter(c, receiver, src);
    c->lock.unlock();
    unpark(*receiver->parker);
    return;
  }
  std::size_t count = c->count.load(std::memory_order_relaxed);
  if (count < c->capacity) {
    c->buffer_put(src);
    c->count.store(count + 1, std::memory_order_relaxed);
    c->lock.unlock();
    return;
  }
  if (!wait_for_partner(c, c->sendq, src, WaitReason::kChanSend)) {
    throw_panic("send on closed channel");  // woken by close
  }
}

bool chan_recv(ChanCore* c, void* dst) {
  chaos_point();
  if (!c) block_forever(WaitReason::kChanReceiveNilChan);
  c->lock.lock();
  std::size_t count = c->count.load(std::memory_order_relaxed);
  if (c->closed && count == 0) {
    c->lock.unlock();
    return false;
  }
  if (Waiter* sender = waitq_pop(c->sendq)) {
    recv_from_waiter(c, sender, dst);
    c->lock.unlock();
    unpark(*sender->parker);
    return true;
  }
  if (count > 0) {
    c->buffer_take(dst);
    c->count.store(count - 1, std::memory_order_relaxed);
    c->lock.unlock();
    return true;
  }
  return wait_for_partner(c, c->recvq, dst, WaitReason::kChanReceive);
}

void chan_close(ChanCore* c) {
  chaos_point();
  if (!c) throw_panic("close of nil channel");
  c->lock.lock();
  if (c->closed) {
    c->lock.unlock();
    throw_panic("close of closed channel");
  }
  c->closed.store(true, std::memory_order_release);
  // Collect every waiter under the lock, wake them after releasing it.
  Waiter* wake = nullptr;
  for (WaitList* q : {&c->recvq, &c->sendq}) {
    while (Waiter* w = waitq_pop(*q)) {
      w->success = false;
      w->parker->woken_by = w;
      w->next = wake;
      wake = w;
    }
  }
  c->lock.unlock();
  while (wake) {
    Waiter* next = wake->next;  // read first: the woken party may reuse its Waiter at once
    unpark(*wake->parker);
    wake = next;
  }
}

std::size_t chan_len(const ChanCore* c) {
  return c ? c->count.load(std::memory_order_relaxed) : 0;
}

std::size_t chan_cap(const ChanCore* c) { return c ? c->capacity : 0; }

}  // namespace gocxx::detail
