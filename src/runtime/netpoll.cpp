// The network poller (Go's netpoll.go + netpoll_epoll.go). docs/design.md, "Network poller",
// describes it; the invariants the code relies on:
//
// * One epoll instance, created on first use. Every fd is registered once, edge-triggered for
//   IN|OUT|RDHUP, and never re-armed: an edge only says "something changed", so a caller always
//   tries the I/O call first and waits only after EAGAIN.
// * Poll descriptors are type-stable: allocated in blocks, recycled through a free list, never
//   freed. The epoll data of an fd is its descriptor's address tagged with the low 16 bits of
//   `fdseq`, which pd_close bumps; an event that arrives for a closed (and maybe reused) fd
//   carries the old tag and is dropped (Go issue 59545).
// * Each direction has a one-slot semaphore, `rg`/`wg`:
//     kNil    nothing pending          kReady  an edge arrived and nobody consumed it
//     kWait   a waiter is committing   G*      a parked goroutine
//     ThreadWaiter* | 1                a plain thread blocked in ppoll
//   A waiter publishes kWait, re-checks closing and the deadline, then parks; the park's commit
//   swaps kWait for its G. An edge (or close, or deadline) in between replaces kWait, the commit
//   CAS fails and the goroutine is made runnable again at once: no wake-up is lost.
// * Deadlines are callback timers on the runtime's timer heap (timer.hpp), one per direction.
//   A timer carries the direction's sequence number (rseq/wseq) from when it was armed; every
//   deadline change and close bumps it, so a stale firing does nothing. The timer callback runs
//   under the timer lock and takes no PollDesc lock: it compares the sequence number and
//   swaps the deadline to "expired" (-1) with a CAS.
//
// Lock order: PollDesc::lock, then the timer lock (re-arming), then the scheduler's (ready());
// PollCache::lock is a leaf (lockrank.hpp).
#include "netpoll.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <mutex>
#include <vector>

#include "lockrank.hpp"
#include "panic.hpp"
#include "scheduler.hpp"
#include "timer.hpp"

namespace gocxx::detail {

namespace {

namespace tmr = gocxx::time::detail;

constexpr std::uintptr_t kNil = 0;
constexpr std::uintptr_t kReady = 1;
constexpr std::uintptr_t kWait = 2;
constexpr std::uintptr_t kThreadTag = 1;  // Gs are 16-aligned; a tagged pointer is a thread
constexpr std::int64_t kExpired = -1;
constexpr std::int64_t kMonitorPeriodNs = 10'000'000;  // Go's sysmon: poll if 10 ms passed

// A plain thread waiting on a descriptor sleeps in ppoll on the fd and on its own eventfd,
// which close and deadline changes write to. ThreadWaiters are pooled and never freed (nor
// their eventfds closed): a waker that read the slot just before the thread left may still
// write to it, which then costs its next user one spurious wake-up, never a write to a
// recycled fd number.
struct ThreadWaiter {
  int efd = -1;
  ThreadWaiter* next = nullptr;
};

}  // namespace

struct alignas(64) PollDesc {
  RankedLock<LockRank::kPollDesc> lock;  // deadlines, their timers, closing
  int fd = -1;
  std::atomic<std::uint32_t> fdseq{0};   // bumped by pd_close: tags epoll events
  std::atomic<bool> closing{false};
  std::atomic<bool> hung_up{false};      // the poller saw EPOLLRDHUP, HUP or ERR (sticky)
  std::atomic<std::uintptr_t> rg{kNil};
  std::atomic<std::uintptr_t> wg{kNil};
  std::atomic<std::int64_t> rd{0};       // read deadline: 0 none, kExpired, else monotonic ns
  std::atomic<std::int64_t> wd{0};
  std::atomic<std::uintptr_t> rseq{0};   // bumped by every change of rd, and by close
  std::atomic<std::uintptr_t> wseq{0};
  tmr::TimerState* rtimer = nullptr;     // made on first use, kept for the descriptor's life
  tmr::TimerState* wtimer = nullptr;
  PollDesc* free_next = nullptr;

  std::atomic<std::uintptr_t>& slot(int mode) { return mode == kPollRead ? rg : wg; }
  std::atomic<std::int64_t>& deadline(int mode) { return mode == kPollRead ? rd : wd; }
  std::atomic<std::uintptr_t>& seq(int mode) { return mode == kPollRead ? rseq : wseq; }
};

namespace {

struct Poller {
  int epfd = -1;
  int break_fd = -1;                                // eventfd: wakes a blocked epoll_wait
  std::atomic<std::uint32_t> break_pending{0};      // one write per wake-up (Go's netpollWakeSig)
  std::atomic<bool> blocked{false};                 // an M is in epoll_wait(-1): Go's lastpoll==0
  std::atomic<std::int64_t> last_poll_ns{0};
  std::atomic<std::int64_t> waiters{0};             // goroutines parked on the poller
  std::atomic<std::uint64_t> waiters_generation{0}; // the run they belong to

  RankedMutex<LockRank::kPollCache> cache_lock;     // the two free lists below
  PollDesc* free_pds = nullptr;
  ThreadWaiter* free_thread_waiters = nullptr;
};

constexpr std::uintptr_t kBreakTag = 1;  // epoll data of break_fd (no PollDesc is at address 1)

std::atomic<bool> g_inited{false};

Poller& poller() {
  static Poller* p = [] {
    auto* q = new Poller;  // lives until exit: Ms may poll during static destruction
    q->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (q->epfd < 0) fatal("runtime: netpollinit failed: epoll_create1");
    q->break_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (q->break_fd < 0) fatal("runtime: netpollinit failed: eventfd");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kBreakTag;
    if (epoll_ctl(q->epfd, EPOLL_CTL_ADD, q->break_fd, &ev) != 0) {
      fatal("runtime: netpollinit failed: epoll_ctl");
    }
    q->waiters_generation.store(latest_generation(), std::memory_order_release);
    g_inited.store(true, std::memory_order_release);
    return q;
  }();
  return *p;
}

std::int64_t coarse_now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return std::int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::uint64_t tag_of(const PollDesc* pd, std::uint32_t fdseq) {
  return reinterpret_cast<std::uintptr_t>(pd) | (std::uint64_t(fdseq & 0xffff) << 48);
}

// ---- waking ----------------------------------------------------------------------------------

void count_waiter_gone(G* g) {
  Poller& p = poller();
  if (g->generation != p.waiters_generation.load(std::memory_order_acquire)) return;
  // The last goroutine waiting on I/O is gone: an M blocked in the poller must come out and
  // go idle like the others, so that deadlock detection can run (see netpoll_has_waiters).
  if (p.waiters.fetch_sub(1, std::memory_order_acq_rel) == 1 &&
      p.blocked.load(std::memory_order_acquire)) {
    netpoll_break();
  }
}

void poke_thread(std::uintptr_t v) {
  auto* tw = reinterpret_cast<ThreadWaiter*>(v & ~kThreadTag);
  std::uint64_t one = 1;
  (void)!::write(tw->efd, &one, sizeof one);
}

bool is_thread(std::uintptr_t v) { return v > kWait && (v & kThreadTag); }

// Go's netpollunblock: takes the direction's waiter out of its slot. ioready (an edge) leaves
// kReady behind for a caller that has not parked yet; close and deadlines leave kNil (the
// waiter re-checks why it woke). Returns a goroutine to make runnable, or nullptr; a thread
// waiter is woken here.
G* unblock(PollDesc* pd, int mode, bool ioready) {
  auto& slot = pd->slot(mode);
  std::uintptr_t old = slot.load(std::memory_order_seq_cst);  // after closing/deadline: see check_error
  for (;;) {
    if (old == kReady) return nullptr;
    if (old == kNil && !ioready) return nullptr;  // only an edge is remembered
    std::uintptr_t next = ioready ? kReady : kNil;
    if (slot.compare_exchange_weak(old, next, std::memory_order_acq_rel)) break;
  }
  if (old == kNil || old == kWait) return nullptr;
  if (is_thread(old)) {
    poke_thread(old);
    return nullptr;
  }
  G* g = reinterpret_cast<G*>(old);
  count_waiter_gone(g);
  return g;
}

// A thread blocked in ppoll on this direction must recompute its timeout (a moved deadline).
void poke_thread_waiter(PollDesc* pd, int mode) {
  std::uintptr_t v = pd->slot(mode).load(std::memory_order_seq_cst);
  if (is_thread(v)) poke_thread(v);
}

// A waiter publishes its slot and then calls this; close and deadline changes store their
// flag and then read the slot. All sequentially consistent, so at least one side sees the
// other (release/acquire would let both miss: a store-load pair).
PollError check_error(PollDesc* pd, int mode) {
  if (pd->closing.load(std::memory_order_seq_cst)) return PollError::kClosing;
  if (pd->deadline(mode).load(std::memory_order_seq_cst) < 0) return PollError::kTimeout;
  return PollError::kNone;
}

// ---- deadlines -------------------------------------------------------------------------------

// The deadline timer fired (timer thread, timer lock held). Stale if the direction's sequence
// number moved since it was armed; the CAS loses against a concurrent pd_set_deadline.
void deadline_fired(PollDesc* pd, int mode, std::uintptr_t seq) {
  if (pd->seq(mode).load(std::memory_order_acquire) != seq) return;
  auto& d = pd->deadline(mode);
  std::int64_t armed = d.load(std::memory_order_acquire);
  if (armed <= 0 || !d.compare_exchange_strong(armed, kExpired, std::memory_order_seq_cst)) return;
  if (G* g = unblock(pd, mode, false)) ready(g);
}

void read_deadline_fired(void* pd, std::uintptr_t seq) {
  deadline_fired(static_cast<PollDesc*>(pd), kPollRead, seq);
}
void write_deadline_fired(void* pd, std::uintptr_t seq) {
  deadline_fired(static_cast<PollDesc*>(pd), kPollWrite, seq);
}

// Holds pd->lock. Stores the direction's new deadline and re-arms or stops its timer.
void set_direction_deadline_locked(PollDesc* pd, int mode, std::int64_t value) {
  auto& d = pd->deadline(mode);
  if (d.load(std::memory_order_relaxed) == value) return;
  std::uintptr_t seq = pd->seq(mode).fetch_add(1, std::memory_order_acq_rel) + 1;
  d.store(value, std::memory_order_seq_cst);
  tmr::TimerState*& timer = mode == kPollRead ? pd->rtimer : pd->wtimer;
  if (value > 0) {
    if (!timer) {
      timer = tmr::new_callback_timer(mode == kPollRead ? read_deadline_fired : write_deadline_fired,
                                      pd);
    }
    tmr::reset_callback_timer(timer, value, seq);
  } else if (timer) {
    tmr::stop_callback_timer(timer);
  }
}

// ---- waiting ---------------------------------------------------------------------------------

struct Commit {
  std::atomic<std::uintptr_t>* slot;
  G* g;
};

// gopark's unlock step, on the scheduler side of the switch: kWait becomes our G unless an
// edge, close or deadline replaced kWait meanwhile; then the park is undone at once.
void commit_park(void* arg) {
  auto* c = static_cast<Commit*>(arg);
  G* g = c->g;
  std::atomic<std::uintptr_t>* slot = c->slot;  // c lives on g's stack: copy before publishing
  Poller& p = poller();
  if (p.waiters_generation.load(std::memory_order_relaxed) == g->generation) {
    p.waiters.fetch_add(1, std::memory_order_acq_rel);
  }
  std::uintptr_t expected = kWait;
  if (!slot->compare_exchange_strong(expected, reinterpret_cast<std::uintptr_t>(g),
                                     std::memory_order_acq_rel)) {
    count_waiter_gone(g);
    ready(g);
  }
}

// The first step of every wait: consume an edge that is already there (true), or publish
// `waiting` in the empty slot (false).
bool consume_edge_or_publish(std::atomic<std::uintptr_t>& slot, std::uintptr_t waiting) {
  std::uintptr_t v = slot.load(std::memory_order_acquire);
  for (;;) {
    if (v == kReady) {
      if (slot.compare_exchange_weak(v, kNil, std::memory_order_acq_rel)) return true;
    } else if (v != kNil) {
      fatal("netpoll: double wait");  // two calls waiting on one direction
    } else if (slot.compare_exchange_weak(v, waiting, std::memory_order_seq_cst)) {
      return false;
    }
  }
}

// Go's netpollblock for a goroutine: true if an edge arrived (try the call again).
bool wait_goroutine(PollDesc* pd, int mode, G* g) {
  auto& slot = pd->slot(mode);
  if (consume_edge_or_publish(slot, kWait)) return true;
  // Re-check after publishing kWait: a close or deadline that came before it found no waiter.
  if (check_error(pd, mode) == PollError::kNone) {
    Commit c{&slot, g};
    gopark(g, WaitReason::kIOWait, commit_park, &c);
  }
  return slot.exchange(kNil, std::memory_order_acq_rel) == kReady;
}

ThreadWaiter* take_thread_waiter() {
  Poller& p = poller();
  {
    std::lock_guard lk(p.cache_lock);
    if (ThreadWaiter* tw = p.free_thread_waiters) {
      p.free_thread_waiters = tw->next;
      return tw;
    }
  }
  auto* tw = new ThreadWaiter;
  tw->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (tw->efd < 0) fatal("netpoll: eventfd for a waiting thread");
  return tw;
}

struct ThreadWaiterSlot {
  ThreadWaiter* tw = nullptr;
  ~ThreadWaiterSlot() {
    if (!tw) return;
    Poller& p = poller();
    std::lock_guard lk(p.cache_lock);
    tw->next = p.free_thread_waiters;
    p.free_thread_waiters = tw;
  }
};

// A plain thread cannot rely on an M polling (there may be no run at all), so it polls its
// own fd, plus its eventfd for close and deadline changes. Always "try again": ppoll saw the
// fd ready itself, which no edge in the slot records; after a poke, the retried call finds
// EAGAIN and waits again.
bool wait_thread(PollDesc* pd, int mode) {
  thread_local ThreadWaiterSlot mine;
  if (!mine.tw) mine.tw = take_thread_waiter();
  ThreadWaiter* tw = mine.tw;
  auto& slot = pd->slot(mode);
  if (consume_edge_or_publish(slot, reinterpret_cast<std::uintptr_t>(tw) | kThreadTag)) return true;
  if (check_error(pd, mode) == PollError::kNone) {
    std::int64_t deadline = pd->deadline(mode).load(std::memory_order_acquire);
    timespec ts{}, *timeout = nullptr;
    if (deadline > 0) {
      std::int64_t left = std::max<std::int64_t>(deadline - nanotime(), 0);
      ts.tv_sec = left / 1'000'000'000;
      ts.tv_nsec = left % 1'000'000'000;
      timeout = &ts;
    }
    pollfd fds[2] = {{pd->fd, static_cast<short>(mode == kPollRead ? POLLIN | POLLRDHUP : POLLOUT), 0},
                     {tw->efd, POLLIN, 0}};
    int n = ::ppoll(fds, 2, timeout, nullptr);
    if (n == 0 && deadline > 0) {
      // Expire it ourselves rather than spin until the timer thread does.
      std::int64_t armed = deadline;
      pd->deadline(mode).compare_exchange_strong(armed, kExpired, std::memory_order_acq_rel);
    }
    std::uint64_t drained;
    while (::read(tw->efd, &drained, sizeof drained) > 0) {
    }
  }
  slot.exchange(kNil, std::memory_order_acq_rel);
  return true;
}

PollDesc* alloc_pd() {
  Poller& p = poller();
  std::lock_guard lk(p.cache_lock);
  if (!p.free_pds) {
    constexpr int kBlock = 64;  // never freed: stale epoll data may still point here
    auto* block = new PollDesc[kBlock];
    for (int i = 0; i < kBlock; ++i) {
      block[i].free_next = p.free_pds;
      p.free_pds = &block[i];
    }
  }
  PollDesc* pd = p.free_pds;
  p.free_pds = pd->free_next;
  return pd;
}

}  // namespace

// ---- the I/O layer's side --------------------------------------------------------------------

PollDesc* pd_open(int fd, int* error) {
  Poller& p = poller();
  PollDesc* pd = alloc_pd();
  {
    std::lock_guard lk(pd->lock);
    pd->fd = fd;
    pd->closing.store(false, std::memory_order_relaxed);
    pd->hung_up.store(false, std::memory_order_relaxed);
    pd->rg.store(kNil, std::memory_order_relaxed);
    pd->wg.store(kNil, std::memory_order_relaxed);
    pd->rd.store(0, std::memory_order_relaxed);
    pd->wd.store(0, std::memory_order_relaxed);
    pd->rseq.fetch_add(1, std::memory_order_relaxed);
    pd->wseq.fetch_add(1, std::memory_order_relaxed);
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = tag_of(pd, pd->fdseq.load(std::memory_order_acquire));
  if (epoll_ctl(p.epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
    *error = errno;
    pd_close(pd);
    return nullptr;
  }
  return pd;
}

void pd_close(PollDesc* pd) {
  Poller& p = poller();
  if (pd->rg.load() > kReady || pd->wg.load() > kReady) fatal("netpoll: close of a descriptor with waiters");
  pd->fdseq.fetch_add(1, std::memory_order_acq_rel);  // in-flight events now carry a stale tag
  epoll_event unused{};
  (void)epoll_ctl(p.epfd, EPOLL_CTL_DEL, pd->fd, &unused);
  {
    std::lock_guard lk(pd->lock);
    set_direction_deadline_locked(pd, kPollRead, 0);
    set_direction_deadline_locked(pd, kPollWrite, 0);
    pd->fd = -1;
  }
  std::lock_guard lk(p.cache_lock);
  pd->free_next = p.free_pds;
  p.free_pds = pd;
}

void pd_evict(PollDesc* pd) {
  G* r = nullptr;
  G* w = nullptr;
  {
    std::lock_guard lk(pd->lock);
    pd->closing.store(true, std::memory_order_seq_cst);
    // Invalidate pending deadline timers (they may be firing right now: the seq makes them
    // stale) and stop them.
    set_direction_deadline_locked(pd, kPollRead, 0);
    set_direction_deadline_locked(pd, kPollWrite, 0);
    r = unblock(pd, kPollRead, false);
    w = unblock(pd, kPollWrite, false);
  }
  if (r) ready(r);
  if (w) ready(w);
}

PollError pd_prepare(PollDesc* pd, int mode) {
  PollError err = check_error(pd, mode);
  if (err != PollError::kNone) return err;
  // A stale edge would only cost one extra attempt; Go resets it here too.
  std::uintptr_t ready_edge = kReady;
  pd->slot(mode).compare_exchange_strong(ready_edge, kNil, std::memory_order_acq_rel);
  return PollError::kNone;
}

bool pd_hung_up(const PollDesc* pd) { return pd->hung_up.load(std::memory_order_seq_cst); }

PollError pd_wait(PollDesc* pd, int mode) {
  PollError err = check_error(pd, mode);
  if (err != PollError::kNone) return err;
  G* g = current_g();
  for (;;) {
    bool edge = g ? wait_goroutine(pd, mode, g) : wait_thread(pd, mode);
    err = check_error(pd, mode);
    if (edge || err != PollError::kNone) return err;
  }
}

void pd_set_deadline(PollDesc* pd, std::int64_t deadline_ns, int mode) {
  G* r = nullptr;
  G* w = nullptr;
  {
    std::lock_guard lk(pd->lock);
    if (pd->closing.load(std::memory_order_relaxed)) return;
    std::int64_t value = deadline_ns;
    if (value > 0 && value <= nanotime()) value = kExpired;
    if (value < 0) value = kExpired;
    for (int dir : {kPollRead, kPollWrite}) {
      if (!(mode & dir)) continue;
      set_direction_deadline_locked(pd, dir, value);
      if (value == kExpired) {
        G*& woken = dir == kPollRead ? r : w;
        woken = unblock(pd, dir, false);
      } else {
        poke_thread_waiter(pd, dir);
      }
    }
  }
  if (r) ready(r);
  if (w) ready(w);
}

// ---- the scheduler's side --------------------------------------------------------------------

bool netpoll_inited() { return g_inited.load(std::memory_order_acquire); }

bool netpoll_has_waiters() {
  return netpoll_inited() && poller().waiters.load(std::memory_order_acquire) > 0;
}

void netpoll_new_run() {
  if (!netpoll_inited()) return;
  Poller& p = poller();
  p.waiters.store(0, std::memory_order_release);
  p.waiters_generation.store(latest_generation(), std::memory_order_release);
}

bool netpoll_should_poll() {
  return netpoll_has_waiters() && !poller().blocked.load(std::memory_order_acquire);
}

bool netpoll_poll_overdue() {
  return netpoll_should_poll() &&
         coarse_now() - poller().last_poll_ns.load(std::memory_order_relaxed) > kMonitorPeriodNs;
}

bool netpoll_claim_blocking() {
  if (!netpoll_has_waiters()) return false;
  bool expected = false;
  return poller().blocked.compare_exchange_strong(expected, true, std::memory_order_acq_rel);
}

G* netpoll(std::int64_t delay_ns) {
  Poller& p = poller();
  constexpr int kMaxEvents = 128;
  epoll_event events[kMaxEvents];
  int timeout_ms = delay_ns < 0 ? -1 : delay_ns == 0 ? 0 : static_cast<int>((delay_ns + 999'999) / 1'000'000);
  int n = epoll_wait(p.epfd, events, kMaxEvents, timeout_ms);
  if (delay_ns < 0) p.blocked.store(false, std::memory_order_release);
  p.last_poll_ns.store(coarse_now(), std::memory_order_relaxed);
  if (n < 0) {
    if (errno != EINTR) fatal("runtime: netpoll failed: epoll_wait");
    return nullptr;
  }
  G* list = nullptr;
  for (int i = 0; i < n; ++i) {
    std::uint64_t data = events[i].data.u64;
    if (data == kBreakTag) {
      std::uint64_t drained;
      (void)!::read(p.break_fd, &drained, sizeof drained);
      p.break_pending.store(0, std::memory_order_release);
      continue;
    }
    auto* pd = reinterpret_cast<PollDesc*>(data & ((std::uint64_t(1) << 48) - 1));
    if ((pd->fdseq.load(std::memory_order_acquire) & 0xffff) != (data >> 48)) continue;  // stale
    std::uint32_t e = events[i].events;
    // Errors and hang-ups wake both directions: the call itself then reports what happened.
    // Recorded before the wake-up, so that a reader that sees no hang-up can count on an edge.
    if (e & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) pd->hung_up.store(true, std::memory_order_seq_cst);
    if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
      if (G* g = unblock(pd, kPollRead, true)) {
        g->sched_next = list;
        list = g;
      }
    }
    if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
      if (G* g = unblock(pd, kPollWrite, true)) {
        g->sched_next = list;
        list = g;
      }
    }
  }
  return list;
}

void netpoll_break() {
  if (!netpoll_inited()) return;
  Poller& p = poller();
  std::uint32_t expected = 0;
  if (!p.break_pending.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) return;
  std::uint64_t one = 1;
  (void)!::write(p.break_fd, &one, sizeof one);
}

}  // namespace gocxx::detail
