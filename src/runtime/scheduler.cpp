// The scheduler: run queues, finding work, idle Ms, spawning, parking and blocking calls.
//
// Lock order: the rank table in lockrank.hpp (checked in GOCXX_LOCK_RANK builds). Runtime::lock
// is never held across a context switch.
//
// Lost wake-up rule (Go's "delicate dance" in findRunnable): a producer publishes work (run
// queue push) and then reads npidle/nmspinning; an M going idle publishes itself (npidle++,
// nmspinning--) and then re-reads every run queue. Both sides use sequentially consistent
// operations, so at least one of them sees the other.
#include "scheduler.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cxxabi.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <shared_mutex>
#include <string>

#include "chaos.hpp"
#include "futex.hpp"
#include "gocxx/defer.hpp"
#include "gpool.hpp"
#include "hooks.hpp"
#include "netpoll.hpp"
#include "procs.hpp"
#include "sysmon.hpp"
#include "registry.hpp"
#include "timer.hpp"

namespace gocxx::detail {

std::atomic<bool> g_tracing{false};

namespace {

thread_local M* tls_m = nullptr;
std::atomic<Runtime*> g_runtime{nullptr};
// Threads that are not this run's Ms (the timer thread, plain threads) hold this shared while
// they touch the Runtime; shutdown takes it exclusively before deleting the Runtime.
RankedSharedMutex<LockRank::kRuntimeLive> g_runtime_lock;
std::atomic<std::uint64_t> g_generation{0};

constexpr int kStealTries = 4;      // Go's stealTries
constexpr std::uint32_t kFairnessInterval = 61;

// The fairness rule. Every 61st choice of what a P runs next (schedtick counts the goroutines
// it started) is a fairness turn: the global queue first, else the head of the local ring
// rather than runnext. Without it, goroutines that wait in the global queue (woken by timers
// or plain threads, yielded, back from blocking()) or in the ring behind a ping-pong pair that
// hands runnext back and forth would never run: gocxx has no preemption to break such a pair,
// as Go's sysmon does. switch_away and find_runnable both ask this one predicate.
bool fairness_turn(const P* p) { return (p->schedtick + 1) % kFairnessInterval == 0; }

// ---- run queues -----------------------------------------------------------------------------

void global_put_batch_locked(Runtime* rt, G* head, G* tail, std::int64_t n) {
  tail->sched_next = nullptr;
  if (rt->global_tail) {
    rt->global_tail->sched_next = head;
  } else {
    rt->global_head = head;
  }
  rt->global_tail = tail;
  rt->global_size.fetch_add(n, std::memory_order_seq_cst);
}

void global_put(Runtime* rt, G* g) {
  std::lock_guard lk(rt->lock);
  global_put_batch_locked(rt, g, g, 1);
}

G* global_pop_locked(Runtime* rt) {
  G* g = rt->global_head;
  if (!g) return nullptr;
  rt->global_head = g->sched_next;
  if (!rt->global_head) rt->global_tail = nullptr;
  rt->global_size.fetch_sub(1, std::memory_order_relaxed);
  g->sched_next = nullptr;
  return g;
}

void local_put(Runtime* rt, P* p, G* g, bool next) {
  G* overflow = nullptr;
  while (!p->runq.push(g, next, &overflow)) {
    G *head, *tail;
    std::uint32_t n = p->runq.take_half_for_global(overflow, &head, &tail);
    if (n) {
      std::lock_guard lk(rt->lock);
      global_put_batch_locked(rt, head, tail, n);
      return;
    }
    g = overflow;  // a stealer made room; retry
    next = false;
  }
}

// Takes a fair share of the global queue: one to run, the rest into p's local queue.
G* global_get_locked(Runtime* rt, P* p, std::int64_t max) {
  std::int64_t size = rt->global_size.load(std::memory_order_relaxed);
  if (size == 0) return nullptr;
  std::int64_t n = std::min<std::int64_t>(size, size / rt->nprocs + 1);
  if (max > 0 && n > max) n = max;
  n = std::min<std::int64_t>(n, RunQueue::kSize / 2);
  G* g = global_pop_locked(rt);
  for (std::int64_t i = 1; i < n; ++i) local_put(rt, p, global_pop_locked(rt), false);
  return g;
}

// ---- idle Ps and Ms -------------------------------------------------------------------------

void pidle_put_locked(Runtime* rt, P* p) {
  p->idle_next = rt->idle_ps;
  rt->idle_ps = p;
  rt->npidle.fetch_add(1, std::memory_order_seq_cst);
}

P* pidle_get_locked(Runtime* rt) {
  P* p = rt->idle_ps;
  if (p) {
    rt->idle_ps = p->idle_next;
    p->idle_next = nullptr;
    rt->npidle.fetch_sub(1, std::memory_order_seq_cst);
  }
  return p;
}

void m_main(M* m);

// Starts an M (an idle one, or a new thread) to run P p (an idle P if p is null). `spinning`
// means the caller already counted the new M in nmspinning.
void start_m(Runtime* rt, P* p, bool spinning) {
  std::unique_lock lk(rt->lock);
  if (rt->stopping.load(std::memory_order_relaxed)) {
    if (spinning) rt->nmspinning.fetch_sub(1, std::memory_order_seq_cst);
    return;
  }
  if (!p) p = pidle_get_locked(rt);
  if (!p) {
    if (spinning) rt->nmspinning.fetch_sub(1, std::memory_order_seq_cst);
    return;
  }
  ++rt->m_wakeups;
  M* m = rt->idle_ms;
  if (m) {
    rt->idle_ms = m->idle_next;
    --rt->nmidle;
    lk.unlock();
    m->next_p = p;
    m->spinning = spinning;
    m->wake_word.store(1, std::memory_order_release);
    futex_wake(m->wake_word, 1);
    return;
  }
  // Created under the lock so that shutdown sees every M it must join.
  auto fresh = std::make_unique<M>();
  fresh->rt = rt;
  fresh->next_p = p;
  fresh->spinning = spinning;
  fresh->rand_state = 0x9e3779b97f4a7c15ull * (rt->ms.size() + 1);
  M* raw = fresh.get();
  rt->refs.fetch_add(1, std::memory_order_relaxed);
  rt->ms.push_back(std::move(fresh));
  raw->thread = start_internal_thread([raw] { m_main(raw); });
}

// Go's wakep: if there is an idle P and nobody is already looking for work, wake an M to spin.
void wakep(Runtime* rt) {
  if (rt->npidle.load(std::memory_order_seq_cst) == 0) return;
  int expected = 0;
  if (rt->nmspinning.load(std::memory_order_seq_cst) != 0 ||
      !rt->nmspinning.compare_exchange_strong(expected, 1, std::memory_order_seq_cst)) {
    return;
  }
  start_m(rt, nullptr, true);
}

void reset_spinning(M* m) {
  m->spinning = false;
  if (m->rt->nmspinning.fetch_sub(1, std::memory_order_seq_cst) == 1) {
    wakep(m->rt);  // we were the last spinner and found work: there may be more
  }
}

constexpr std::int64_t kDeadlockRecheckMinNs = 1'000'000;
constexpr std::int64_t kDeadlockRecheckMaxNs = 1'000'000'000;

// Parks the M until start_m hands it a P. Returns false when the runtime is stopping.
bool stop_m(M* m) {
  Runtime* rt = m->rt;
  bool last_awake = false;
  std::uint64_t wakeups = 0;
  {
    std::lock_guard lk(rt->lock);
    if (rt->stopping.load(std::memory_order_relaxed)) return false;
    m->idle_next = rt->idle_ms;
    rt->idle_ms = m;
    ++rt->nmidle;
    last_awake = rt->nmidle == static_cast<int>(rt->ms.size()) &&
                 rt->global_size.load(std::memory_order_relaxed) == 0;
    wakeups = rt->m_wakeups;
  }
  // While only a thread that is not gocxx's own keeps the verdict open, ask again now and then
  // (1 ms, doubling to 1 s): once that thread exits, the deadlock is reported as in Go.
  bool undecided = last_awake && deadlock_undecided(rt, wakeups);
  std::int64_t recheck_ns = kDeadlockRecheckMinNs;
  while (m->wake_word.load(std::memory_order_acquire) == 0) {
    futex_wait(m->wake_word, 0, undecided ? recheck_ns : -1);
    if (undecided && m->wake_word.load(std::memory_order_acquire) == 0) {
      undecided = deadlock_undecided(rt, wakeups);
      recheck_ns = std::min(recheck_ns * 2, kDeadlockRecheckMaxNs);
    }
  }
  m->wake_word.store(0, std::memory_order_relaxed);
  m->p = std::exchange(m->next_p, nullptr);
  return m->p != nullptr;
}

// Go's handoffp: called when an M gives up its P for a blocking call.
void hand_off_p(Runtime* rt, P* p) {
  if (!p->runq.empty() || rt->global_size.load(std::memory_order_seq_cst) > 0) {
    start_m(rt, p, false);
    return;
  }
  int expected = 0;
  if (rt->nmspinning.load() + rt->npidle.load() == 0 &&
      rt->nmspinning.compare_exchange_strong(expected, 1, std::memory_order_seq_cst)) {
    start_m(rt, p, true);  // no one else is looking for work: this P should
    return;
  }
  std::unique_lock lk(rt->lock);
  if (rt->global_size.load(std::memory_order_relaxed) > 0 &&
      !rt->stopping.load(std::memory_order_relaxed)) {
    lk.unlock();
    start_m(rt, p, false);
    return;
  }
  pidle_put_locked(rt, p);
}

// ---- finding work (Go's findRunnable) -------------------------------------------------------

std::uint32_t rand_next(std::uint64_t& state) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return static_cast<std::uint32_t>(state >> 32);
}

G* steal_work(M* m) {
  Runtime* rt = m->rt;
  P* p = m->p;
  int n = rt->nprocs;
  for (int attempt = 0; attempt < kStealTries; ++attempt) {
    bool steal_next = attempt == kStealTries - 1;
    // Visit the victims in a rotation that starts at a random P (n is small: a rotation is
    // enough to spread stealers).
    int start = static_cast<int>(rand_next(m->rand_state) % n);
    for (int i = 0; i < n; ++i) {
      P* victim = rt->ps[(start + i) % n].get();
      if (victim == p) continue;
      if (G* g = p->runq.steal_from(victim->runq, steal_next)) {
        p->steals.inc();
        return g;
      }
    }
    if (rt->global_size.load(std::memory_order_relaxed) > 0) return nullptr;
  }
  return nullptr;
}

G* inject_polled(M* m, G* list);

// How long an M that ran out of work keeps polling the network before it gives up its P.
// Long enough to span a loopback request/response round trip of the peer (wrk's turnaround is
// 20-40 us here), short enough that an idle server burns next to nothing: one such window
// each time the whole runtime goes idle.
constexpr std::int64_t kPollSpinNs = 50'000;

// Go parks the M in epoll_wait at once; the next request then waits for the kernel to wake a
// sleeping thread (tens of microseconds on a VM) on top of the network. Polling a little
// first keeps a one-connection exchange on a running thread. Returns a G whose I/O became
// ready, or nullptr when the window ended or other work appeared (the caller looks again).
G* poll_briefly(M* m) {
  Runtime* rt = m->rt;
  if (!netpoll_should_poll() || rt->poll_spinning.exchange(true, std::memory_order_acquire)) {
    return nullptr;
  }
  G* g = nullptr;
  std::int64_t deadline = nanotime() + kPollSpinNs;
  while (!g && nanotime() < deadline && netpoll_should_poll() && m->p->runq.empty() &&
         rt->global_size.load(std::memory_order_relaxed) == 0 &&
         !rt->stopping.load(std::memory_order_relaxed)) {
    g = inject_polled(m, netpoll(0));
    cpu_relax();
  }
  rt->poll_spinning.store(false, std::memory_order_release);
  return g;
}

// Go's findRunnable: returns the next G to run on m (which holds a P), sleeping the M while
// there is none. Returns nullptr only when the runtime is stopping.
G* find_runnable(M* m) {
  Runtime* rt = m->rt;
  for (;;) {
    if (rt->stopping.load(std::memory_order_acquire)) return nullptr;
    P* p = m->p;

    if (fairness_turn(p)) {
      // The monitor poll (Go's sysmon): Ps that never run out of work never poll, so every
      // fairness turn checks that goroutines waiting on I/O are not left behind for > 10 ms.
      if (netpoll_poll_overdue()) {
        if (G* g = inject_polled(m, netpoll(0))) return g;
      }
      if (rt->global_size.load(std::memory_order_relaxed) > 0) {
        std::lock_guard lk(rt->lock);
        if (G* g = global_get_locked(rt, p, 1)) return g;
      }
      if (G* g = p->runq.pop_ring()) return g;
    }
    if (G* g = p->runq.pop()) return g;
    if (rt->global_size.load(std::memory_order_relaxed) > 0) {
      std::lock_guard lk(rt->lock);
      if (G* g = global_get_locked(rt, p, 0)) return g;
    }

    // Out of local work: collect goroutines whose I/O is ready before stealing (Go does this
    // too; it is cheap and finds work that no one else can see yet).
    if (netpoll_should_poll()) {
      if (G* g = inject_polled(m, netpoll(0))) return g;
    }

    // Steal, but keep spinners to at most half the busy Ps (they burn CPU).
    int busy = rt->nprocs - rt->npidle.load(std::memory_order_relaxed);
    if (m->spinning || 2 * rt->nmspinning.load(std::memory_order_relaxed) < busy) {
      if (!m->spinning) {
        m->spinning = true;
        rt->nmspinning.fetch_add(1, std::memory_order_seq_cst);
      }
      if (G* g = steal_work(m)) return g;
      if (rt->global_size.load(std::memory_order_relaxed) > 0) continue;
    }

    if (G* g = poll_briefly(m)) return g;
    if (!p->runq.empty() || rt->global_size.load(std::memory_order_relaxed) > 0) continue;

    // Nothing to do: release the P and sleep.
    {
      std::unique_lock lk(rt->lock);
      if (rt->stopping.load(std::memory_order_relaxed)) return nullptr;
      if (G* g = global_get_locked(rt, p, 0)) return g;
      pidle_put_locked(rt, p);
      m->p = nullptr;
    }
    bool was_spinning = m->spinning;
    if (m->spinning) {
      m->spinning = false;
      rt->nmspinning.fetch_sub(1, std::memory_order_seq_cst);
    }
    // Re-check after publishing ourselves as idle (see the lost wake-up rule at the top).
    bool work_appeared = rt->global_size.load(std::memory_order_seq_cst) > 0;
    for (int i = 0; i < rt->nprocs && !work_appeared; ++i) {
      work_appeared = !rt->ps[i]->runq.empty();
    }
    if (work_appeared) {
      std::unique_lock lk(rt->lock);
      if (P* again = pidle_get_locked(rt)) {
        lk.unlock();
        m->p = again;
        if (was_spinning) {
          m->spinning = true;
          rt->nmspinning.fetch_add(1, std::memory_order_seq_cst);
        }
        continue;
      }
    }
    // Without a P: while goroutines wait on I/O, one M blocks in the poller (the others sleep
    // in stop_m). Timers need no timeout here: the timer thread serves them. The poller is
    // woken when the last I/O waiter goes away, so that deadlock detection can run.
    while (netpoll_claim_blocking()) {
      G* list = netpoll(-1);
      if (rt->stopping.load(std::memory_order_acquire)) return nullptr;
      if (!list) continue;
      if (G* g = inject_polled(m, list)) return g;
      break;  // no idle P: the busy Ps find them in the global queue
    }
    if (!stop_m(m)) return nullptr;
  }
}

// ---- dead Gs: the P's cache in front of the pool (gpool.cpp) --------------------------------

G* g_get(Runtime* rt, P* p, std::size_t size) {
  if (p && size == rt->stack_size) {
    if (p->free_count == 0) p->free_count = pool_take(size, p->free_gs, P::kFreeMax / 2);
    if (p->free_count > 0) return p->free_gs[--p->free_count];
    return new_g(size);
  }
  G* g = nullptr;
  if (pool_take(size, &g, 1) == 1) return g;
  return new_g(size);
}

void g_put(Runtime* rt, P* p, G* g) {
  if (p && g->stack.size == rt->stack_size) {
    if (p->free_count == P::kFreeMax) {
      p->free_count -= P::kFreeMax / 2;
      pool_put(p->free_gs + p->free_count, P::kFreeMax / 2);
    }
    p->free_gs[p->free_count++] = g;
    return;
  }
  pool_put(&g, 1);
}

// ---- running goroutines ---------------------------------------------------------------------

// Waits out a diagnostic that holds the scan bit, then moves the G from `from` to `to`.
void cas_status(G* g, std::uint32_t from, std::uint32_t to) {
  std::uint32_t expected = from;
  while (!g->status.compare_exchange_weak(expected, to, std::memory_order_acq_rel)) {
    if ((expected & ~kScanBit) != from) {
      char msg[96];
      std::snprintf(msg, sizeof msg, "casgstatus: goroutine %llu: bad status %s, want %s",
                    static_cast<unsigned long long>(g->id), status_string(expected),
                    status_string(from));
      fatal(msg);
    }
    expected = from;
    cpu_relax();
  }
}

// Every stack has a guard page, but a frame larger than a page, in code built without
// -fstack-clash-protection, can jump over it onto the neighbouring stack without faulting. A
// goroutine that switches away from there is caught here: one compare per switch.
void check_stack_bound(G* g, void* saved_sp) {
  if (static_cast<char*>(saved_sp) < g->stack.bottom) [[unlikely]] {
    char msg[128];
    std::snprintf(msg, sizeof msg, "runtime: goroutine %llu stack exceeds %zu-byte limit",
                  static_cast<unsigned long long>(g->id), g->stack.size);
    std::fprintf(stderr, "%s\n", msg);
    fatal("stack overflow");
  }
}

void handle_switch(M* m, G* g, SwitchRequest* req) {
  Runtime* rt = m->rt;
  switch (req->kind) {
    case SwitchRequest::kPark: {
      // Copy first: once unlocked, g may run elsewhere and reuse the request's stack slot.
      auto unlock = req->unlock;
      void* arg = req->arg;
      if (P* p = m->p) {
        p->parks.inc();
        if (g->wait_reason.load(std::memory_order_relaxed) == WaitReason::kIOWait) p->io_waits.inc();
      }
      g->status.store(kWaiting, std::memory_order_release);
      if (unlock) unlock(arg);
      break;
    }
    case SwitchRequest::kYield:
      g->status.store(kRunnable, std::memory_order_release);
      global_put(rt, g);  // Go's Gosched: to the back of the global queue
      break;
    case SwitchRequest::kExit:
      g->status.store(kDead, std::memory_order_release);
      rt->live_goroutines.fetch_sub(1, std::memory_order_relaxed);
      g_put(rt, m->p, g);
      break;
    case SwitchRequest::kNoPAfterBlocking:
      g->status.store(kRunnable, std::memory_order_release);
      global_put(rt, g);
      wakep(rt);
      break;
  }
}

// What travels with every jump: who is running now (m) and, if a goroutine switched out,
// which one and why. The code that resumes completes that request on its own stack: g0 for a
// switch to the scheduler, or the next goroutine itself for a direct hand-off.
struct Transfer {
  M* m;
  G* from;              // nullptr when g0 starts or resumes a goroutine
  SwitchRequest* req;
};

EhState* thread_eh_state() {
  return reinterpret_cast<EhState*>(abi::__cxa_get_globals());
}

// Called first thing wherever execution resumes after a jump.
void on_resume(fctx::transfer_t t) {
  auto* x = static_cast<Transfer*>(t.data);
  if (!x->from) {
    x->m->g0.saved = t.fctx;  // we were started from g0
    return;
  }
  x->from->context.saved = t.fctx;
  check_stack_bound(x->from, t.fctx);
  handle_switch(x->m, x->from, x->req);
}

void goroutine_entry(fctx::transfer_t t);

// A dump takes the scan bit only on waiting Gs (ready() moves a G out of waiting with a CAS
// that respects it) and reads the others optimistically, like a seqlock: it keeps a read only
// if `resumes` and the status are unchanged, so the switch pays no atomic read-modify-write
// for diagnostics. Both change first, and the release fence (free on x86) keeps them ahead of
// every write a reader may see: the initial context, the stack, and (make_goroutine) the
// identity.
void bump_resumes(G* g) {
  g->resumes.store(g->resumes.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
}

void prepare_to_run(M* m, G* g) {
  g->status.store(kRunning, std::memory_order_relaxed);
  bump_resumes(g);
  if (!g->context.saved) {  // first run: build its initial context below the body
    std::uintptr_t sp = g->stack_start & ~std::uintptr_t(63);
    std::size_t usable = sp - reinterpret_cast<std::uintptr_t>(g->stack.bottom);
    g->context.saved = fctx::make_fcontext(reinterpret_cast<void*>(sp), usable, goroutine_entry);
  }
  g->m = m;
  m->curg = g;
  ++m->p->schedtick;
  m->p->running.store(g, std::memory_order_release);
  if (tracing()) [[unlikely]] hooks().trace_go_start(g, m->p);
}

void execute(M* m, G* g) {
  prepare_to_run(m, g);
  Transfer start{m, nullptr, nullptr};
  fctx::transfer_t t = switch_context(m->g0, g->context, &start);
  // Back on this M's own stack: some goroutine (not necessarily g) switched to g0.
  m->curg = nullptr;
  if (m->p) m->p->running.store(nullptr, std::memory_order_relaxed);
  on_resume(t);
}

// Switches away from the running goroutine g, which asks for `req`. When the P's local queue
// has a goroutine ready, it is resumed directly (one jump instead of two through g0, and no
// pass through find_runnable); on a fairness turn, or with nothing local, g0 decides. Returns
// when g is resumed, possibly on another M.
void switch_away(G* g, SwitchRequest* req, bool exiting = false) {
  // Every way a goroutine stops running (park, yield, exit, no P after blocking) comes here:
  // in a child forked without exec, the runtime's other threads are gone.
  check_not_forked_child();
  M* m = g->m;
  P* p = m->p;
  Transfer x{m, g, req};
  g->eh = *m->eh_state;
  if (tracing()) [[unlikely]] hooks().trace_go_stop(g, p, req->kind);
  G* next = nullptr;
  if (p && !fairness_turn(p) && !m->rt->stopping.load(std::memory_order_relaxed)) {
    next = p->runq.pop();
  }
  fctx::transfer_t t;
  if (next) {
    prepare_to_run(m, next);
    t = switch_context(g->context, next->context, &x, exiting);
  } else {
    t = switch_context(g->context, m->g0, &x, exiting);
  }
  on_resume(t);
  *g->m->eh_state = g->eh;  // g->m: possibly another thread
}

void goroutine_entry(fctx::transfer_t t) {
  fiber_started();
  on_resume(t);
  G* g = current_g();
  *g->m->eh_state = EhState{};  // whatever the previous goroutine on this thread left
  // No catch here: an escaping exception reaches std::terminate with the throwing frames
  // intact, and install_terminate_handler's handler reports it as a panic.
  g->closure_ops->run(g->closure);
  g->closure_ops->destroy(g->closure);
  // g->m, not m: the body may have moved between threads.
  Runtime* rt = g->m->rt;
  if (g->id == 1) {
    rt->main_done.store(1, std::memory_order_release);
    futex_wake(rt->main_done, -1);
  }
  SwitchRequest req{SwitchRequest::kExit};
  switch_away(g, &req, /*exiting=*/true);
  __builtin_unreachable();
}

void m_main(M* m) {
  tls_m = m;
  m->eh_state = thread_eh_state();
  m->g0.adopt_current_thread();
  install_overflow_handler_for_thread();
  m->p = std::exchange(m->next_p, nullptr);
  for (;;) {
    if (m->p == nullptr && !stop_m(m)) break;
    G* g = find_runnable(m);
    if (!g) break;
    if (m->spinning) reset_spinning(m);
    execute(m, g);
  }
  tls_m = nullptr;
  m->rt->release_ref();
}

// Prepares a G to run `closure` (moved onto its stack).
G* make_goroutine(Runtime* rt, P* p, void* closure, const ClosureOps& ops, std::size_t size,
                  std::uintptr_t create_pc) {
  G* g = g_get(rt, p, size);
  bump_resumes(g);  // a dump may still be reading the G's previous life
  g->context.init_fiber(g->stack.bottom, g->stack.size);
  // A small body goes inside the G, which the spawner touches anyway; then spawning does not
  // touch the (likely cold) stack at all: the context is made when the goroutine first runs,
  // on the thread that runs it. A larger body goes to the top of the stack.
  auto top = reinterpret_cast<std::uintptr_t>(g->stack.top());
  std::uintptr_t body;
  if (ops.size <= sizeof g->inline_body && ops.align <= alignof(G)) {
    body = reinterpret_cast<std::uintptr_t>(g->inline_body);
    g->stack_start = top;
  } else {
    std::size_t align = std::max<std::size_t>(ops.align, 16);
    body = (top - ops.size) & ~(align - 1);
    if (body < reinterpret_cast<std::uintptr_t>(g->stack.bottom) + g->stack.size / 2) {
      g_put(rt, p, g);
      throw_panic("gocxx::go: the goroutine's closure is larger than half its stack");
    }
    g->stack_start = body;
  }
  try {
    ops.move_into(reinterpret_cast<void*>(body), closure);
  } catch (...) {
    g_put(rt, p, g);
    throw;
  }
  G* parent = current_g();
  g->id = rt->next_goid.fetch_add(1, std::memory_order_relaxed);
  g->parent_id = parent ? parent->id : 0;
  g->create_pc = create_pc;
  g->start_pc = reinterpret_cast<std::uintptr_t>(ops.run);
  g->closure = reinterpret_cast<void*>(body);
  g->closure_ops = &ops;
  g->generation = rt->generation;
  g->wait_reason.store(WaitReason::kZero, std::memory_order_relaxed);
  g->parker.g = g;
  g->defer_top = nullptr;
  g->parker.select_done.store(0, std::memory_order_relaxed);
  g->m = nullptr;
  g->context.saved = nullptr;  // made by prepare_to_run on first execution
  g->status.store(kRunnable, std::memory_order_release);
  std::int64_t live = rt->live_goroutines.fetch_add(1, std::memory_order_relaxed) + 1;
  if (tracing()) [[unlikely]] hooks().trace_go_create(g, p, live);
  return g;
}

// GOCXX_STACK_SIZE: bytes, digits only (strtoull would accept a sign and wrap), 1 to 1 GiB.
std::size_t default_stack_size() {
  if (const char* env = std::getenv("GOCXX_STACK_SIZE")) {
    std::size_t n = 0;
    const char* c = env;
    for (; *c >= '0' && *c <= '9' && n <= kMaxStackSize; ++c) n = n * 10 + (*c - '0');
    if (c != env && *c == '\0' && n >= 1 && n <= kMaxStackSize) return normalize_stack_size(n);
    std::fprintf(stderr, "gocxx: ignoring invalid GOCXX_STACK_SIZE=%s (want 1 to %zu bytes)\n",
                 env, kMaxStackSize);
  }
  return normalize_stack_size(256 * 1024);
}

void shutdown(Runtime* rt) {
  sysmon_stop(rt);
  std::vector<M*> to_join;
  {
    std::lock_guard lk(rt->lock);
    rt->stopping.store(true, std::memory_order_release);
    for (auto& m : rt->ms) {
      if (m->in_blocking) {
        m->thread.detach();  // still inside a blocking call: it releases its ref when done
      } else {
        to_join.push_back(m.get());
      }
    }
    for (M* m = rt->idle_ms; m; m = m->idle_next) {
      m->next_p = nullptr;
      m->wake_word.store(1, std::memory_order_release);
      futex_wake(m->wake_word, 1);
    }
    rt->idle_ms = nullptr;
    rt->nmidle = 0;
  }
  netpoll_break();  // an M blocked in the poller
  for (M* m : to_join) m->thread.join();
  {
    std::unique_lock lk(g_runtime_lock);
    g_runtime.store(nullptr, std::memory_order_release);
  }
  // Dead Gs go back to the process-wide pool. Gs still queued or parked are abandoned, as Go
  // abandons them at exit: never reused, so stale wake-ups aimed at them stay harmless.
  for (auto& p : rt->ps) pool_put(p->free_gs, std::exchange(p->free_count, 0));
  rt->release_ref();
}

}  // namespace

// ---- runtime-wide entry points --------------------------------------------------------------

void Runtime::release_ref() {
  if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

Runtime* current_runtime() { return g_runtime.load(std::memory_order_acquire); }

std::uint64_t latest_generation() { return g_generation.load(std::memory_order_acquire); }

std::uint64_t live_generation() {
  std::shared_lock lk(g_runtime_lock);
  Runtime* rt = current_runtime();
  return rt ? rt->generation : 0;
}

[[gnu::noinline]] M* current_m() {
  M* m = tls_m;
  asm volatile("" ::: "memory");
  return m;
}

namespace {
thread_local DeferFrame* tls_defer_frame = nullptr;
}

// Not inlined, like current_g(): the slot is the G's own (it moves with the goroutine).
[[gnu::noinline]] DeferFrame*& defer_frame_slot() {
  M* m = tls_m;
  G* g = m ? m->curg : nullptr;
  return g ? g->defer_top : tls_defer_frame;
}

[[gnu::noinline]] G* current_g() {
  M* m = tls_m;
  return m ? m->curg : nullptr;
}

std::int64_t nanotime() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::uint32_t fastrand() {
  thread_local std::uint64_t state = 0;
  if (state == 0) {
    state = static_cast<std::uint64_t>(nanotime()) ^ reinterpret_cast<std::uintptr_t>(&state) ^
            0x9e3779b97f4a7c15ull;
  }
  return rand_next(state);
}

namespace {
// Waiting -> runnable, as ready() sees it; `waker` is the M doing it (nullptr: a plain thread).
void mark_runnable(G* g, M* waker) {
  cas_status(g, kWaiting, kRunnable);
  if (tracing()) [[unlikely]] hooks().trace_go_unblock(g, waker);
}

// Makes the goroutines netpoll returned runnable (dropping those of an earlier, abandoned run).
// Returns one for m to run if m holds a P or can take an idle one. The rest go to m's P when
// no P is idle (Go's injectglist: they run here next, without the global lock), else to the
// global queue, with an M woken to share them.
G* inject_polled(M* m, G* list) {
  Runtime* rt = m->rt;
  G* head = nullptr;
  G* tail = nullptr;
  std::int64_t n = 0;
  for (G* g = list; g;) {
    G* next = g->sched_next;
    if (g->generation == rt->generation) {
      mark_runnable(g, m);
      g->sched_next = nullptr;
      (head ? tail->sched_next : head) = g;
      tail = g;
      ++n;
    }
    g = next;
  }
  if (!head) return nullptr;
  if (!m->p) {
    std::lock_guard lk(rt->lock);
    if (!rt->stopping.load(std::memory_order_relaxed)) m->p = pidle_get_locked(rt);
  }
  G* run = nullptr;
  if (m->p) {
    run = head;
    head = head->sched_next;
    --n;
  }
  if (!head) return run;
  if (m->p && rt->npidle.load(std::memory_order_seq_cst) == 0) {
    while (head) {
      G* g = std::exchange(head, head->sched_next);
      g->sched_next = nullptr;
      local_put(rt, m->p, g, false);
    }
    return run;
  }
  {
    std::lock_guard lk(rt->lock);
    global_put_batch_locked(rt, head, tail, n);
  }
  wakep(rt);
  return run;
}
}  // namespace

void ready(G* g) {
  M* m = current_m();
  if (m && m->p) {  // a goroutine of a live run: its Runtime outlives this call
    Runtime* rt = m->rt;
    if (g->generation != rt->generation) return;
    mark_runnable(g, m);
    local_put(rt, m->p, g, true);
    wakep(rt);
    return;
  }
  std::shared_lock lk(g_runtime_lock);
  Runtime* rt = current_runtime();
  if (!rt || g->generation != rt->generation) return;  // abandoned by an earlier run
  mark_runnable(g, m);
  global_put(rt, g);
  wakep(rt);
}

void gopark(G* g, WaitReason reason, void (*unlock)(void*), void* arg) {
  g->wait_reason.store(reason, std::memory_order_relaxed);
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);  // a few ns; dumps need minutes, not nanoseconds
  g->wait_since_ns.store(std::int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec,
                         std::memory_order_relaxed);
  SwitchRequest req{SwitchRequest::kPark, unlock, arg};
  switch_away(g, &req);
  g->wait_reason.store(WaitReason::kZero, std::memory_order_relaxed);
}

void goyield(G* g) {
  SwitchRequest req{SwitchRequest::kYield};
  switch_away(g, &req);
}

namespace {

// Spawns on `rt` from M `m` (which holds a P) or from a foreign thread (m == nullptr, caller
// holds g_runtime_lock shared).
GoroutineId spawn_on(Runtime* rt, M* m, void* closure, const ClosureOps& ops,
                     std::size_t stack_size, std::uintptr_t create_pc) {
  P* p = m ? m->p : nullptr;
  if (stack_size > kMaxStackSize) {
    throw_panic("gocxx::go: SpawnOptions::stack_size exceeds gocxx::kMaxStackSize (1 GiB)");
  }
  std::size_t size = stack_size ? normalize_stack_size(stack_size) : rt->stack_size;
  G* g = make_goroutine(rt, p, closure, ops, size, create_pc);
  GoroutineId id = g->id;
  if (p) {
    local_put(rt, p, g, true);
  } else {
    global_put(rt, g);
  }
  wakep(rt);
  return id;
}

}  // namespace

GoroutineId spawn(void* closure, const ClosureOps& ops, std::size_t stack_size) {
  check_not_forked_child();
  auto create_pc = reinterpret_cast<std::uintptr_t>(__builtin_return_address(0));
  M* m = current_m();
  if (m && m->p) return spawn_on(m->rt, m, closure, ops, stack_size, create_pc);
  {
    std::shared_lock lk(g_runtime_lock);
    if (Runtime* rt = current_runtime()) {
      return spawn_on(rt, nullptr, closure, ops, stack_size, create_pc);
    }
  }
  throw_panic("gocxx::go called outside gocxx::run");
}

bool spawn_if_running(void* closure, const ClosureOps& ops) {
  auto create_pc = reinterpret_cast<std::uintptr_t>(__builtin_return_address(0));
  std::shared_lock lk(g_runtime_lock);
  Runtime* rt = current_runtime();
  if (!rt) return false;
  spawn_on(rt, nullptr, closure, ops, 0, create_pc);
  return true;
}

int run_main(void* closure, const ClosureOps& ops, const Options& options) {
  check_not_forked_child();
  if (options.procs < 0 || options.procs > kMaxProcs) {
    throw std::invalid_argument("gocxx::run: Options::procs must be in [0, gocxx::kMaxProcs = " +
                                std::to_string(kMaxProcs) + "], got " +
                                std::to_string(options.procs));
  }
  if (options.stack_size > kMaxStackSize) {
    throw std::invalid_argument(
        "gocxx::run: Options::stack_size exceeds gocxx::kMaxStackSize (1 GiB)");
  }
  ChaosRun chaos(options.chaos);  // checks Options::chaos or GOCXX_CHAOS; off when run() ends
  InternalThread waiting_in_run;
  auto* rt = new Runtime;
  rt->generation = g_generation.fetch_add(1) + 1;
  netpoll_new_run();  // goroutines an earlier run left parked on I/O are abandoned
  rt->nprocs = options.procs > 0 ? options.procs : default_procs();
  rt->stack_size = options.stack_size ? normalize_stack_size(options.stack_size)
                                      : default_stack_size();
  for (int i = 0; i < rt->nprocs; ++i) {
    auto p = std::make_unique<P>();
    p->id = i;
    rt->ps.push_back(std::move(p));
  }
  {
    std::lock_guard lk(rt->lock);
    for (int i = rt->nprocs - 1; i >= 0; --i) pidle_put_locked(rt, rt->ps[i].get());
  }
  install_overflow_handler_for_thread();
  install_terminate_handler();
  hooks().run_setup();  // SIGQUIT dump, leak watchdog (GOCXX_SIGQUIT, GOCXX_LEAK_*)
  Runtime* none = nullptr;
  if (!g_runtime.compare_exchange_strong(none, rt, std::memory_order_acq_rel)) {
    delete rt;
    throw std::logic_error("gocxx::run: a run is already active in this process");
  }
  hooks().run_begin();  // GOCXX_TRACE
  chaos.start();
  sysmon_start(rt);

  G* main_g = make_goroutine(rt, nullptr, closure, ops, rt->stack_size,
                             reinterpret_cast<std::uintptr_t>(__builtin_return_address(0)));
  global_put(rt, main_g);
  wakep(rt);
  while (rt->main_done.load(std::memory_order_acquire) == 0) futex_wait(rt->main_done, 0);
  hooks().run_end();  // a trace covers at most one run
  shutdown(rt);
  return 0;
}

int procs_now() {
  if (M* m = current_m()) return m->rt->nprocs;
  std::shared_lock lk(g_runtime_lock);
  Runtime* rt = current_runtime();
  return rt ? rt->nprocs : default_procs();
}

int live_goroutines_now() {
  if (M* m = current_m()) {
    return static_cast<int>(m->rt->live_goroutines.load(std::memory_order_relaxed));
  }
  std::shared_lock lk(g_runtime_lock);
  Runtime* rt = current_runtime();
  return rt ? static_cast<int>(rt->live_goroutines.load(std::memory_order_relaxed)) : 0;
}

}  // namespace gocxx::detail

// ---- public API -----------------------------------------------------------------------------

namespace gocxx {

void yield() {
  if (detail::G* g = detail::current_g()) {
    detail::goyield(g);
  } else {
    std::this_thread::yield();
  }
}

int num_goroutine() { return detail::live_goroutines_now(); }

GoroutineId goroutine_id() {
  detail::G* g = detail::current_g();
  return g ? g->id : 0;
}

int procs() { return detail::procs_now(); }

void enter_blocking() {
  using namespace detail;
  G* g = current_g();
  if (!g) return;  // a plain thread may block as it likes
  check_not_forked_child();
  M* m = g->m;
  Runtime* rt = m->rt;
  P* p;
  {
    std::lock_guard lk(rt->lock);
    m->in_blocking = true;
    p = std::exchange(m->p, nullptr);
  }
  p->running.store(nullptr, std::memory_order_relaxed);
  g->status.store(kSyscall, std::memory_order_release);
  if (tracing()) [[unlikely]] hooks().trace_go_stop(g, p, kTraceStopBlocking);
  hand_off_p(rt, p);
}

void exit_blocking() {
  using namespace detail;
  G* g = current_g();
  if (!g) return;
  M* m = g->m;
  Runtime* rt = m->rt;
  P* p = nullptr;
  {
    std::lock_guard lk(rt->lock);
    m->in_blocking = false;
    if (!rt->stopping.load(std::memory_order_relaxed)) p = pidle_get_locked(rt);
  }
  if (p) {
    m->p = p;
    p->running.store(g, std::memory_order_release);
    g->status.store(kRunning, std::memory_order_release);
    if (tracing()) [[unlikely]] hooks().trace_go_start(g, p);
    return;
  }
  // No P free: queue this goroutine and let the M go idle; another M resumes it.
  SwitchRequest req{SwitchRequest::kNoPAfterBlocking};
  switch_away(g, &req);
}

}  // namespace gocxx
