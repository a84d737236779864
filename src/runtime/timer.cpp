// Timers (Go's time package runtime side): one heap ordered by deadline, served by a timer
// thread that sleeps until the earliest deadline. Sleeping goroutines park and are readied by
// it; channel timers get a non-blocking send of the current time.
//
// Locks: TimerQueue::lock_ ranks first in the lock order (the table is lockrank.hpp). A channel
// timer's send happens under it, which makes stop()/reset() (which drain the channel under the
// same lock) atomic with respect to firing: after they return, no stale tick can be received.
//
// Bounds: the timer thread fires in passes. A pass reads the clock once and fires what is due
// by then, at most kMaxFiresPerPass timers, so a ticker fires at most once per pass whatever
// its period, and the lock is released between passes. A tick that finds the previous one
// still unreceived is dropped (as in Go) and the ticker's next tick comes no sooner than
// kDroppedTickDelay: an always-due ticker whose receiver is away costs a bounded number of
// wake-ups, not a timer thread spinning with the lock held.
#include <algorithm>
#include <limits>
#include <mutex>
#include <thread>
#include <stdexcept>
#include <vector>

#include "gocxx/time.hpp"
#include "futex.hpp"
#include "lockrank.hpp"
#include "scheduler.hpp"
#include "timer.hpp"

namespace gocxx::time {

// Go's time.goFunc: starts the goroutine of a fired after_func timer, or, with no gocxx::run
// active, a thread that stands in for it. The creation PC of either is in this function, so
// tracebacks say "created by gocxx::time::after_func" (the overload's name is that on purpose);
// not inlined, or they would name the timer thread's loop.
[[gnu::noinline]] static void after_func(std::function<void()> f) {
  if (!gocxx::detail::spawn_if_running(&f,
                                       gocxx::detail::closure_ops_for<std::function<void()>>)) {
    gocxx::detail::start_stand_in_thread(std::move(f));
  }
}

}  // namespace gocxx::time

namespace gocxx::time::detail {

using gocxx::detail::G;
using gocxx::detail::nanotime;

struct TimerState {
  enum Kind { kSleep, kChannel, kFunc, kCallback };
  Kind kind = kChannel;
  std::atomic<int> refs{1};          // channel/func timers: handle + heap; others: unused
  std::int64_t when = 0;             // monotonic ns
  std::int64_t period = 0;           // > 0: a ticker
  int heap_index = -1;               // position in the heap; -1 when not pending
  bool stop_on_destroy = true;       // false for after_func's fire-and-forget timers
  G* sleeper = nullptr;              // kSleep
  Chan<TimePoint> chan = Chan<TimePoint>::nil();  // kChannel
  std::function<void()> func;        // kFunc
  TimerCallback callback = nullptr;  // kCallback: owned by the runtime code that made it
  void* callback_arg = nullptr;
  std::uintptr_t callback_seq = 0;

  // Sleep and callback timers belong to their owner; the heap holds channel and func timers
  // by reference.
  bool counted() const { return kind == kChannel || kind == kFunc; }
};

void timer_release(TimerState* t) noexcept {
  if (t->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete t;
}

namespace {

constexpr int kMaxFiresPerPass = 64;
constexpr std::int64_t kDroppedTickDelay = 50'000;  // ns

TimePoint to_time_point(std::int64_t ns) { return TimePoint(std::chrono::nanoseconds(ns)); }

// The first deadline on `when`'s grid of `period`s that is not earlier than `not_before`
// (saturating: a deadline past the end of time is "never").
std::int64_t next_on_grid(std::int64_t when, std::int64_t period, std::int64_t not_before) {
  std::int64_t gap = not_before - when;  // when <= now < not_before: no overflow
  std::int64_t periods = gap <= 0 ? 1 : std::max<std::int64_t>(1, gap / period + (gap % period != 0));
  if (periods > (std::numeric_limits<std::int64_t>::max() - when) / period) {
    return std::numeric_limits<std::int64_t>::max();
  }
  return when + periods * period;
}

class TimerQueue {
  using TimersLock = gocxx::detail::RankedMutex<gocxx::detail::LockRank::kTimers>;

 public:
  void add(TimerState* t) {
    gocxx::detail::check_not_forked_child();  // the timer thread was not copied into the child
    std::lock_guard lk(lock_);
    add_locked(t);
    publish_pending();
  }

  // Removes t if pending; true if it was.
  bool remove(TimerState* t, bool drain) {
    std::lock_guard lk(lock_);
    bool was_pending = remove_locked(t, drain);
    publish_pending();
    return was_pending;
  }

  // Reschedules t at `when` (and, if period > 0, with a new period). A callback timer's seq
  // is written here, under the lock that the firing pass also holds.
  bool reset(TimerState* t, std::int64_t when, std::int64_t period, bool drain,
             std::uintptr_t callback_seq = 0) {
    gocxx::detail::check_not_forked_child();
    std::lock_guard lk(lock_);
    bool was_pending = remove_locked(t, drain);
    t->when = when;
    if (period > 0) t->period = period;
    t->callback_seq = callback_seq;
    add_locked(t);
    publish_pending();
    return was_pending;
  }

  // Lock-free, so that an M going idle (deadlock detection) never waits for a firing pass.
  std::size_t pending() const { return pending_.load(std::memory_order_acquire); }
  bool due() const {
    return pending() != 0 && earliest_.load(std::memory_order_relaxed) <= nanotime();
  }

 private:
  void add_locked(TimerState* t) {
    if (t->counted()) t->refs.fetch_add(1, std::memory_order_relaxed);
    t->heap_index = static_cast<int>(heap_.size());
    heap_.push_back(t);
    sift_up(t->heap_index);
    if (t->heap_index == 0) {
      if (!thread_started_) {
        thread_started_ = true;
        gocxx::detail::start_internal_thread([this] { serve(); }).detach();
      }
      wake_timer_thread();  // new earliest deadline
    }
  }

  // The heap's size as pending() reports it: published after each operation completes, and
  // after each fire (not at the pop before it), so a fired timer counts until its goroutine
  // is queued.
  void publish_pending() {
    earliest_.store(heap_.empty() ? std::numeric_limits<std::int64_t>::max() : heap_[0]->when,
                    std::memory_order_relaxed);
    pending_.store(heap_.size(), std::memory_order_release);
  }

  // Go 1.23: a tick that was sent but not yet received counts as still pending (the channel is
  // synchronous in Go), so discarding it makes stop()/reset() report true.
  bool remove_locked(TimerState* t, bool drain) {
    bool discarded_tick = drain && drain_channel(t);
    if (t->heap_index < 0) return discarded_tick;
    pop_at(t->heap_index);
    if (t->counted()) timer_release(t);
    return true;
  }

  static bool drain_channel(TimerState* t) {
    if (t->kind != TimerState::kChannel) return false;
    gocxx::detail::Slot<TimePoint> slot;
    gocxx::detail::SelectCase c{t->chan.core(), slot.bytes, false};
    bool received = false;
    return gocxx::detail::select(&c, 1, false, &received) == 0 && received;
  }

  void pop_at(int i) {
    TimerState* t = heap_[i];
    TimerState* last = heap_.back();
    heap_.pop_back();
    t->heap_index = -1;
    if (last == t) return;
    heap_[i] = last;
    last->heap_index = i;
    sift_down(i);
    sift_up(last->heap_index);
  }

  void swap_entries(int a, int b) {
    std::swap(heap_[a], heap_[b]);
    heap_[a]->heap_index = a;
    heap_[b]->heap_index = b;
  }
  void sift_up(int i) {
    while (i > 0) {
      int parent = (i - 1) / 2;
      if (heap_[parent]->when <= heap_[i]->when) break;
      swap_entries(i, parent);
      i = parent;
    }
  }
  void sift_down(int i) {
    int n = static_cast<int>(heap_.size());
    for (;;) {
      int smallest = i;
      for (int child : {2 * i + 1, 2 * i + 2}) {
        if (child < n && heap_[child]->when < heap_[smallest]->when) smallest = child;
      }
      if (smallest == i) return;
      swap_entries(i, smallest);
      i = smallest;
    }
  }

  // Fires t (popped from the heap) with lock_ held throughout.
  void fire(TimerState* t, std::int64_t now) {
    switch (t->kind) {
      case TimerState::kSleep: {
        G* g = t->sleeper;  // t lives on g's stack: do not touch it after ready()
        gocxx::detail::ready(g);
        return;
      }
      case TimerState::kChannel: {
        TimePoint tick = to_time_point(now);
        gocxx::detail::SelectCase c{t->chan.core(), &tick, true};
        bool received = false;
        bool delivered = gocxx::detail::select(&c, 1, false, &received) == 0;
        if (t->period > 0) {
          // Skip ticks we are late for, as Go does, rather than bursting; after a dropped
          // tick (the receiver is away), wait at least kDroppedTickDelay.
          t->when = next_on_grid(t->when, t->period, delivered ? now + 1 : now + kDroppedTickDelay);
          add_locked(t);
        }
        timer_release(t);  // the heap's reference (add_locked took a new one for a ticker)
        return;
      }
      case TimerState::kCallback:
        t->callback(t->callback_arg, t->callback_seq);
        return;
      case TimerState::kFunc: {
        std::function<void()> f = t->func;
        timer_release(t);
        // Spawned with the lock held (timer lock before the scheduler's, as for kSleep), so
        // that no one sees the timer gone from the heap before its goroutine exists:
        // deadlock detection reads "no timer pending" and "no goroutine queued" in that order.
        gocxx::time::after_func(std::move(f));
        return;
      }
    }
  }

  // The timer thread sleeps on a futex word that every new earliest deadline bumps (under
  // lock_), rather than a condition variable: libstdc++'s timed wait uses
  // pthread_cond_clockwait, which ThreadSanitizer does not intercept, and a lost notification
  // would then sleep through a deadline.
  void wake_timer_thread() {
    wake_word_.fetch_add(1, std::memory_order_release);
    gocxx::detail::futex_wake(wake_word_, 1);
  }

  void sleep_until_woken(std::unique_lock<TimersLock>& lk, std::int64_t timeout_ns) {
    std::uint32_t seen = wake_word_.load(std::memory_order_acquire);
    lk.unlock();
    gocxx::detail::futex_wait(wake_word_, seen, timeout_ns);
    lk.lock();
  }

  void serve() {
    std::unique_lock lk(lock_);
    for (;;) {
      if (heap_.empty()) {
        sleep_until_woken(lk, -1);
        continue;
      }
      std::int64_t now = nanotime();
      if (heap_[0]->when > now) {
        sleep_until_woken(lk, heap_[0]->when - now);
        continue;
      }
      // One pass (see Bounds at the top).
      for (int fired = 0; fired < kMaxFiresPerPass && !heap_.empty() && heap_[0]->when <= now;
           ++fired) {
        TimerState* t = heap_[0];
        pop_at(0);
        fire(t, now);
        publish_pending();
      }
      lk.unlock();
      lk.lock();
    }
  }

  TimersLock lock_;
  std::atomic<std::size_t> pending_{0};
  std::atomic<std::int64_t> earliest_{std::numeric_limits<std::int64_t>::max()};
  std::atomic<std::uint32_t> wake_word_{0};
  std::vector<TimerState*> heap_;
  bool thread_started_ = false;
};

TimerQueue& queue() {
  static TimerQueue* q = new TimerQueue;  // its thread runs until the process exits
  return *q;
}

// now + d, saturating: a huge duration means "never", not a wrapped-around past deadline
// (Go caps it the same way, at maxWhen).
std::int64_t deadline_after(Duration d) {
  std::int64_t now = nanotime();
  std::int64_t delta = std::max<std::int64_t>(d.count(), 0);
  return delta > std::numeric_limits<std::int64_t>::max() - now
             ? std::numeric_limits<std::int64_t>::max()
             : now + delta;
}

TimerState* make_channel_timer(Duration d, Duration period) {
  auto* t = new TimerState;
  t->kind = TimerState::kChannel;
  t->chan = Chan<TimePoint>(1);
  t->when = deadline_after(d);
  t->period = period.count();
  return t;
}

}  // namespace

std::size_t timers_pending() { return queue().pending(); }
bool timer_due() { return queue().due(); }

TimerState* new_callback_timer(TimerCallback f, void* arg) {
  auto* t = new TimerState;
  t->kind = TimerState::kCallback;
  t->callback = f;
  t->callback_arg = arg;
  return t;
}

void delete_callback_timer(TimerState* t) {
  queue().remove(t, false);
  delete t;
}

void reset_callback_timer(TimerState* t, std::int64_t when, std::uintptr_t seq) {
  queue().reset(t, when, 0, false, seq);
}

void stop_callback_timer(TimerState* t) { queue().remove(t, false); }

}  // namespace gocxx::time::detail

namespace gocxx::time {

using detail::TimerState;

void sleep(Duration d) {
  if (d.count() <= 0) return;
  gocxx::detail::G* g = gocxx::detail::current_g();
  if (!g) {
    std::this_thread::sleep_for(d);
    return;
  }
  TimerState t;
  t.kind = TimerState::kSleep;
  t.sleeper = g;
  t.when = detail::deadline_after(d);
  // Armed only after the switch: the timer thread must not ready us before we are parked.
  gocxx::detail::gopark(g, gocxx::detail::WaitReason::kSleep,
                        [](void* timer) { detail::queue().add(static_cast<TimerState*>(timer)); },
                        &t);
}

RecvChan<TimePoint> after(Duration d) {
  TimerState* t = detail::make_channel_timer(d, Duration::zero());
  Chan<TimePoint> c = t->chan;
  detail::queue().add(t);
  detail::timer_release(t);  // only the heap holds it now
  return c;
}

Timer::Timer(Duration d) : state_(detail::make_channel_timer(d, Duration::zero())), chan_(state_->chan) {
  detail::queue().add(state_);
}

Timer::Timer(Timer&& other) noexcept
    : state_(std::exchange(other.state_, nullptr)), chan_(std::move(other.chan_)) {}

Timer& Timer::operator=(Timer&& other) noexcept {
  std::swap(state_, other.state_);  // `other` now stops and releases what we held
  std::swap(chan_, other.chan_);
  return *this;
}

Timer::~Timer() {
  if (!state_) return;
  if (state_->stop_on_destroy) detail::queue().remove(state_, false);
  detail::timer_release(state_);
}

bool Timer::stop() {
  if (!state_) throw std::logic_error("gocxx::time::Timer::stop: moved-from Timer");
  return detail::queue().remove(state_, true);
}

bool Timer::reset(Duration d) {
  if (!state_) throw std::logic_error("gocxx::time::Timer::reset: moved-from Timer");
  return detail::queue().reset(state_, detail::deadline_after(d), 0, true);
}

Timer after_func(Duration d, std::function<void()> f) {
  if (!f) throw std::invalid_argument("gocxx::time::after_func: empty function");
  auto* t = new TimerState;
  t->kind = TimerState::kFunc;
  t->func = std::move(f);
  t->when = detail::deadline_after(d);
  t->stop_on_destroy = false;
  detail::queue().add(t);
  return Timer(t, RecvChan<TimePoint>::nil());
}

Ticker::Ticker(Duration period)
    : state_(period.count() > 0 ? detail::make_channel_timer(period, period) : nullptr),
      chan_(state_ ? state_->chan : Chan<TimePoint>::nil()) {
  if (!state_) gocxx::detail::throw_panic("non-positive interval for NewTicker");
  detail::queue().add(state_);
}

Ticker::Ticker(Ticker&& other) noexcept
    : state_(std::exchange(other.state_, nullptr)), chan_(std::move(other.chan_)) {}

Ticker& Ticker::operator=(Ticker&& other) noexcept {
  std::swap(state_, other.state_);
  std::swap(chan_, other.chan_);
  return *this;
}

Ticker::~Ticker() {
  if (!state_) return;
  detail::queue().remove(state_, false);
  detail::timer_release(state_);
}

void Ticker::stop() {
  if (state_) detail::queue().remove(state_, true);
}

void Ticker::reset(Duration period) {
  if (period.count() <= 0) gocxx::detail::throw_panic("non-positive interval for Ticker.Reset");
  if (!state_) throw std::logic_error("gocxx::time::Ticker::reset: moved-from Ticker");
  detail::queue().reset(state_, detail::deadline_after(period), period.count(), true);
}

}  // namespace gocxx::time
