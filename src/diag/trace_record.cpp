// The execution trace (gocxx/trace.hpp): the lock-free recorder, the hooks and trace::start/stop.
//
// Recording. Each thread that records (Ms, the timer thread, plain threads that spawn or wake
// goroutines) owns a ThreadState whose current Chunk holds fixed-size POD records: appending one
// takes no lock and allocates nothing; the record is published by a release store of the
// chunk's count. A full chunk is queued, oldest first, and replaced (under the recorder lock,
// once per 682 records) by a fresh one while the budget (max_bytes) lasts; after that a ring
// recycles the oldest full chunk and a "keep oldest" trace drops events. Chunks come from 2 MiB
// huge-page slabs.
//
// Windows. recorder_window cuts the events before a time T out of a running recorder. It pins
// the ring first: nothing is recycled until the copy is done (recorders that need a chunk
// meanwhile take one of the spares, an eighth of a flight recorder's budget kept for this, or
// drop). Every record stamped before T is published once no thread is still inside a record()
// it entered before T (each thread's `busy` epoch; see heavy_barrier). Then the chunks are
// copied without the lock (full ones no longer change; current ones only grow, by published
// records). The window starts after the newest recycled event, so it is complete: no torn
// chunks, no thread missing a stretch. (Waiting for a recorder that was preempted inside
// record() can take a scheduling quantum; without the pin, a busy ring could turn over
// meanwhile and leave nothing to copy.)
//
// Writing the file: trace_json.cpp.
#include "diag/trace.hpp"

#include <linux/membarrier.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "diag/goroutines.hpp"
#include "diag/trace_internal.hpp"
#include "gocxx/runtime.hpp"
#include "gocxx/trace.hpp"
#include "runtime/futex.hpp"  // cpu_relax
#include "runtime/scheduler.hpp"

namespace gocxx::diag {

using detail::g_tracing;

namespace {

using detail::G;
using detail::M;
using detail::P;
using detail::SwitchRequest;
using detail::WaitReason;

constexpr std::size_t kChunkRecords = (kTraceChunkBytes - 32) / sizeof(Record);
constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::min();

struct alignas(32) Chunk {
  Chunk* next = nullptr;            // the next full chunk, oldest first (recorder lock)
  std::uint64_t seq = 0;            // a new one each time the chunk is taken (recorder lock):
                                    // a thread's chunks are in seq order
  std::atomic<std::uint32_t> n{0};  // records published (stored only by the owning thread)
  Record recs[kChunkRecords];
};
static_assert(sizeof(Chunk) == kTraceChunkBytes);

// The recorder lock: threads' states and their current chunks, the full chunks, the budget.
// Taken by a recorder once per chunk, never while a record is half written.
std::mutex& recorder_lock() {
  static auto* lock = new std::mutex;  // never destroyed: threads exit after static destructors
  return *lock;
}

// Chunks are carved from 2 MiB slabs that ask for transparent huge pages: a fresh 4 KiB page
// costs a page fault on first touch (tens of microseconds under some hypervisors), a huge page
// one fault per 64 chunks. Slabs are unmapped when recording stops. Guarded by recorder_lock.
class Slabs {
 public:
  static constexpr std::size_t kSlabBytes = 2 << 20;

  // A fresh chunk, or nullptr if the system has no memory. `budget`, the chunks the trace may
  // still take, caps a new slab's size, so that a tiny budget does not map 2 MiB.
  Chunk* take(std::int64_t budget) {
    std::int64_t chunks = std::min<std::int64_t>(budget, kSlabBytes / sizeof(Chunk));
    if (next_ == end_ && !map(chunks * sizeof(Chunk))) {
      return nullptr;
    }
    Chunk* c = ::new (next_) Chunk;
    next_ += sizeof(Chunk);
    return c;
  }

  void release_all() {
    for (auto [addr, len] : maps_) ::munmap(addr, len);
    maps_.clear();
    next_ = end_ = nullptr;
  }

 private:
  bool map(std::size_t bytes) {
    // Over-map by a slab so that a 2 MiB-aligned slab fits (huge pages need the alignment).
    std::size_t len = bytes + (bytes == kSlabBytes ? kSlabBytes : 0);
    void* addr = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (addr == MAP_FAILED) return false;
    maps_.emplace_back(addr, len);
    auto start = reinterpret_cast<std::uintptr_t>(addr);
    if (bytes == kSlabBytes) {
      start = (start + kSlabBytes - 1) & ~(kSlabBytes - 1);
      ::madvise(reinterpret_cast<void*>(start), kSlabBytes, MADV_HUGEPAGE);
    }
    next_ = reinterpret_cast<char*>(start);
    end_ = next_ + bytes / sizeof(Chunk) * sizeof(Chunk);
    return next_ != end_;
  }

  std::vector<std::pair<void*, std::size_t>> maps_;
  char* next_ = nullptr;
  char* end_ = nullptr;
};

struct alignas(64) ThreadState {  // one cache line each: recorders never share one
  // Odd while the thread is inside record(); written only by the thread.
  std::atomic<std::uint32_t> busy{0};
  Chunk* cur = nullptr;  // written under the recorder lock, read by the owner without it
  bool in_use = true;    // recorder lock
};

// What the recorder lock guards, besides each state's `cur`.
struct Ring {
  RecorderConfig config;
  Slabs slabs;
  std::vector<ThreadState*> states;  // never freed: a thread's state is reused after it exits
  Chunk* head = nullptr;             // full chunks, oldest first
  Chunk* tail = nullptr;
  std::int64_t limit = 0;            // the budget, in chunks
  std::int64_t spares_wanted = 0;    // a ring's reserve for pinned stretches (limit / 8)
  std::int64_t chunks_taken = 0;     // chunks held: the memory in use
  Chunk* spares = nullptr;           // unused chunks of the reserve
  std::int64_t spare_count = 0;
  bool pinned = false;               // a window is being cut: recycle nothing
  std::uint64_t seq = 0;
  std::int64_t recycled_until = kNever;  // the newest event in a recycled chunk
  std::uint64_t recycled_events = 0;
};

Ring& ring() {
  static auto* r = new Ring;
  return *r;
}

std::atomic<std::int64_t> g_start_ns{0};  // when recording started
std::atomic<std::uint64_t> g_dropped{0};
std::atomic<std::int64_t> g_first_drop{std::numeric_limits<std::int64_t>::max()};
std::atomic<std::int64_t> g_last_drop{kNever};

void push_full(Ring& r, Chunk* c) {
  c->next = nullptr;
  (r.tail ? r.tail->next : r.head) = c;
  r.tail = c;
}

std::int64_t newest_ts(const Chunk* c) {
  return c->recs[c->n.load(std::memory_order_relaxed) - 1].ts;
}

// The oldest full chunk, taken for reuse: its events are lost.
Chunk* recycle(Ring& r) {
  Chunk* c = r.head;
  r.head = c->next;
  if (!r.head) r.tail = nullptr;
  r.recycled_until = std::max(r.recycled_until, newest_ts(c));
  r.recycled_events += c->n.load(std::memory_order_relaxed);
  return c;
}

// The calling thread's state: nullptr until its first event, kGone once its TLS is destroyed.
ThreadState* const kGone = reinterpret_cast<ThreadState*>(alignof(ThreadState));
thread_local ThreadState* tls_state = nullptr;

// Gives the thread's state back when the thread exits (its chunk joins the full list).
struct StateOwner {
  ~StateOwner() {
    ThreadState* st = std::exchange(tls_state, kGone);
    if (!st) return;
    std::lock_guard lk(recorder_lock());
    if (st->cur) push_full(ring(), std::exchange(st->cur, nullptr));
    st->in_use = false;
  }
};
thread_local StateOwner tls_owner;

ThreadState* register_thread() {
  static_cast<void>(&tls_owner);  // constructs it: its destructor releases the state
  std::lock_guard lk(recorder_lock());
  Ring& r = ring();
  ThreadState* st = nullptr;
  for (ThreadState* s : r.states) {
    if (!s->in_use) {
      st = s;
      break;
    }
  }
  if (st) {
    st->in_use = true;
  } else {
    st = new ThreadState;
    r.states.push_back(st);
  }
  tls_state = st;
  return st;
}

// A window must know that no thread is still inside a record() it entered before the cut. A
// recorder makes `busy` odd and then reads g_tracing and the clock; the window's side stores
// g_tracing or reads the clock, then reads every `busy`. Each side needs a full barrier between
// its store and its load (Dekker). The recorder's is made free (a compiler barrier) by having
// the other side run membarrier(PRIVATE_EXPEDITED), which executes a full barrier on every
// thread of the process; where the kernel lacks it, recorders fall back to a real fence
// (g_recorder_fence).
std::atomic<bool> g_recorder_fence{true};

void setup_barrier() {
  static const bool ok =
      ::syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
  g_recorder_fence.store(!ok, std::memory_order_relaxed);
}

void heavy_barrier() {
  if (g_recorder_fence.load(std::memory_order_relaxed) ||
      ::syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0) {
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
}

// A "keep oldest" trace is complete up to its first drop. A ring drops only when its spares run
// out while a window is copied (or threads hold every chunk): a window reports the drops if
// the latest fell inside it.
void note_drop(std::int64_t ts) {
  g_dropped.fetch_add(1, std::memory_order_relaxed);
  std::int64_t first = g_first_drop.load(std::memory_order_relaxed);
  while (ts < first &&
         !g_first_drop.compare_exchange_weak(first, ts, std::memory_order_relaxed)) {
  }
  std::int64_t last = g_last_drop.load(std::memory_order_relaxed);
  while (ts > last && !g_last_drop.compare_exchange_weak(last, ts, std::memory_order_relaxed)) {
  }
}

Chunk* take_fresh(Ring& r, std::int64_t limit) {
  Chunk* c = r.chunks_taken < limit ? r.slabs.take(limit - r.chunks_taken) : nullptr;
  r.chunks_taken += c != nullptr;
  return c;
}

// Another chunk (recorder lock held). Unpinned: fresh while the budget less the spares lasts
// (unless a ring's oldest chunk is past min_age), else a ring's oldest. Pinned: a spare, else
// fresh. Else nullptr.
Chunk* take_chunk(Ring& r, std::int64_t now) {
  const RecorderConfig& config = r.config;
  if (r.pinned) {
    if (Chunk* c = r.spares) {
      r.spares = c->next;
      --r.spare_count;
      return c;
    }
    return take_fresh(r, r.limit);
  }
  if (config.ring && r.head && config.min_age_ns > 0 &&
      newest_ts(r.head) < now - config.min_age_ns) {
    return recycle(r);
  }
  if (Chunk* c = take_fresh(r, r.limit - r.spares_wanted)) return c;
  return config.ring && r.head ? recycle(r) : nullptr;
}

// Refills the spares from the oldest chunks, up to the reserve (recorder lock held).
void refill_spares(Ring& r) {
  while (r.spare_count < r.spares_wanted && r.head &&
         r.chunks_taken - r.spare_count > r.limit - r.spares_wanted) {
    Chunk* c = recycle(r);
    c->next = r.spares;
    r.spares = c;
    ++r.spare_count;
  }
}

[[gnu::noinline]] Chunk* next_chunk(ThreadState* st, std::int64_t now) {
  std::lock_guard lk(recorder_lock());
  Ring& r = ring();
  if (st->cur) push_full(r, std::exchange(st->cur, nullptr));
  Chunk* c = take_chunk(r, now);
  if (!c) return nullptr;
  c->seq = ++r.seq;
  c->n.store(0, std::memory_order_relaxed);
  st->cur = c;
  return c;
}

// Appends one record for goroutine g on P p (nullptr: none); fill(Record&) sets the rest.
template <class Fill>
void record(Kind kind, std::uint64_t goid, const P* p, Fill fill) {
  ThreadState* st = tls_state;
  if (st == kGone) return note_drop(detail::nanotime());
  if (!st) st = register_thread();
  std::uint32_t epoch = st->busy.load(std::memory_order_relaxed);
  st->busy.store(epoch + 1, std::memory_order_relaxed);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  if (g_recorder_fence.load(std::memory_order_relaxed)) [[unlikely]] {
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
  if (g_tracing.load(std::memory_order_acquire)) {
    std::int64_t ts = detail::nanotime();  // after `busy`: see recorder_window
    Chunk* c = st->cur;
    std::uint32_t n = c ? c->n.load(std::memory_order_relaxed) : kChunkRecords;
    if (n == kChunkRecords) [[unlikely]] {
      c = next_chunk(st, ts);
      n = 0;
    }
    if (c) [[likely]] {
      Record& r = c->recs[n];
      r.ts = ts;
      r.g = goid;
      r.a = 0;
      r.b = 0;
      r.p = p ? p->id : -1;
      r.live = 0;
      r.kind = kind;
      r.why = Why::kUnknown;
      r.reason = WaitReason::kZero;
      fill(r);
      c->n.store(n + 1, std::memory_order_release);
    } else {
      note_drop(ts);
    }
  }
  st->busy.store(epoch + 2, std::memory_order_release);
}

// Waits until every thread that was inside record() has left it.
void wait_for_recorders() {
  std::vector<ThreadState*> states;
  {
    std::lock_guard lk(recorder_lock());
    states = ring().states;
  }
  for (ThreadState* st : states) {
    std::uint32_t epoch = st->busy.load(std::memory_order_acquire);
    // Spin briefly (a record takes tens of nanoseconds), then yield: the recorder may have
    // been preempted, and on a busy machine it needs this CPU.
    for (int spins = 0; (epoch & 1) && st->busy.load(std::memory_order_acquire) == epoch;
         ++spins) {
      if (spins < 100) {
        detail::cpu_relax();
      } else {
        std::this_thread::yield();
      }
    }
  }
}

// The chunks that hold events now, in seq order (recorder lock held).
std::vector<const Chunk*> chunks_now(Ring& r) {
  std::vector<const Chunk*> out;
  for (Chunk* c = r.head; c; c = c->next) out.push_back(c);
  for (ThreadState* st : r.states) {
    if (st->cur) out.push_back(st->cur);
  }
  std::sort(out.begin(), out.end(), [](const Chunk* a, const Chunk* b) { return a->seq < b->seq; });
  return out;
}

void release_all(Ring& r) {
  for (ThreadState* st : r.states) st->cur = nullptr;
  r.head = r.tail = r.spares = nullptr;
  r.slabs.release_all();
  r.chunks_taken = r.spare_count = 0;
}

// Turns recording off: afterwards no thread is inside record() or enters its tracing branch.
void turn_off() {
  g_tracing.store(false, std::memory_order_seq_cst);
  heavy_barrier();
  wait_for_recorders();
}

}  // namespace

// ---- the recorder's interface (trace_internal.hpp) ----------------------------------------------

std::mutex& trace_control_lock() {
  static auto* lock = new std::mutex;
  return *lock;
}

bool recorder_on() { return g_tracing.load(std::memory_order_relaxed); }

std::size_t recorder_bytes() {
  std::lock_guard lk(recorder_lock());
  return static_cast<std::size_t>(ring().chunks_taken) * kTraceChunkBytes;
}

void recorder_start(const RecorderConfig& config) {
  {
    std::lock_guard lk(recorder_lock());
    Ring& r = ring();
    r.config = config;
    r.limit = static_cast<std::int64_t>(
        std::max<std::size_t>(1, config.max_bytes / kTraceChunkBytes));
    r.spares_wanted = config.live_windows ? r.limit / 8 : 0;
    r.recycled_until = kNever;
    r.recycled_events = 0;
  }
  g_dropped.store(0, std::memory_order_relaxed);
  g_first_drop.store(std::numeric_limits<std::int64_t>::max(), std::memory_order_relaxed);
  g_last_drop.store(kNever, std::memory_order_relaxed);
  setup_barrier();
  g_start_ns.store(detail::nanotime(), std::memory_order_relaxed);
  g_tracing.store(true, std::memory_order_release);
}

void recorder_stop() {
  turn_off();
  std::lock_guard lk(recorder_lock());
  release_all(ring());
}

Window recorder_window(std::int64_t from_ns, bool stop) {
  Window w;
  if (!stop) {
    std::lock_guard lk(recorder_lock());
    ring().pinned = true;
  }
  w.end_ns = detail::nanotime();
  if (stop) {
    turn_off();
  } else {
    heavy_barrier();
    wait_for_recorders();  // every record stamped before end_ns is published now
  }
  std::vector<const Chunk*> chunks;
  std::int64_t recycled_until;
  std::uint64_t recycled_events;
  {
    std::lock_guard lk(recorder_lock());
    Ring& r = ring();
    w.config = r.config;
    chunks = chunks_now(r);
    recycled_until = r.recycled_until;
    recycled_events = r.recycled_events;
  }
  // Pinned (or stopped): no listed chunk is reused while it is copied.
  w.events.reserve(chunks.size() * kChunkRecords);
  for (const Chunk* c : chunks) {
    w.events.insert(w.events.end(), c->recs, c->recs + c->n.load(std::memory_order_acquire));
  }
  {
    std::lock_guard lk(recorder_lock());
    Ring& r = ring();
    if (stop) {
      release_all(r);
    } else {
      r.pinned = false;
      refill_spares(r);
    }
  }
  // Merge by time; chunks are in seq order and a thread's chunks are in time order, so stable
  // sorting keeps the order of one thread's events with equal timestamps.
  std::stable_sort(w.events.begin(), w.events.end(),
                   [](const Record& a, const Record& b) { return a.ts < b.ts; });

  // Complete in (start, end): a ring lost everything up to its newest recycled event; a "keep
  // oldest" trace everything from its first drop.
  std::int64_t start = std::max(from_ns, g_start_ns.load(std::memory_order_relaxed));
  w.start_ns = w.config.ring ? std::max(start, recycled_until) : start;
  if (!w.config.ring) {
    w.end_ns = std::min(w.end_ns, g_first_drop.load(std::memory_order_relaxed));
  }
  auto first = std::upper_bound(w.events.begin(), w.events.end(), w.start_ns,
                                [](std::int64_t t, const Record& r) { return t < r.ts; });
  auto past = std::lower_bound(first, w.events.end(), w.end_ns,
                               [](const Record& r, std::int64_t t) { return r.ts < t; });
  w.dropped = g_dropped.load(std::memory_order_relaxed);
  if (!w.config.ring) {
    w.dropped += w.events.end() - past;
  } else if (g_last_drop.load(std::memory_order_relaxed) <= w.start_ns) {
    w.dropped = 0;
  }
  if (w.start_ns > start) w.overwritten = recycled_events + (first - w.events.begin());
  w.events.erase(past, w.events.end());
  w.events.erase(w.events.begin(), first);
  return w;
}

std::int64_t known_goroutines(std::unordered_map<std::uint64_t, Known>& into) {
  std::int64_t live = 0;
  for (const RawGoroutine& raw : snapshot_raw()) {
    if (raw.abandoned) continue;
    into.try_emplace(raw.id, Known{raw.parent_id, raw.create_pc});
    ++live;
  }
  return live;
}

// ---- hooks --------------------------------------------------------------------------------------

void trace_go_create(const G* g, const P* p, std::int64_t live) {
  record(Kind::kCreate, g->id, p, [g, live](Record& r) {
    r.a = g->parent_id;
    r.b = g->create_pc;
    r.live = static_cast<std::uint32_t>(live);
  });
}

void trace_go_start(const G* g, const P* p) {
  record(Kind::kStart, g->id, p, [g](Record& r) {
    r.a = g->parent_id;
    r.b = g->create_pc;
  });
}

void trace_go_stop(const G* g, const P* p, int why) {
  if (!p) return;  // no P, no slice (back from blocking() with no P free)
  record(Kind::kStop, g->id, p, [g, why](Record& r) {
    r.a = g->parent_id;
    r.b = g->create_pc;
    switch (why) {
      case SwitchRequest::kPark:
        r.why = Why::kBlock;
        r.reason = g->wait_reason.load(std::memory_order_relaxed);
        break;
      case SwitchRequest::kYield: r.why = Why::kYield; break;
      case SwitchRequest::kExit: {
        std::int64_t live = g->m->rt->live_goroutines.load(std::memory_order_relaxed) - 1;
        r.why = Why::kExit;
        r.live = static_cast<std::uint32_t>(std::max<std::int64_t>(live, 0));
        break;
      }
      case kTraceStopBlocking: r.why = Why::kBlocking; break;
      default: break;
    }
  });
}

void trace_go_unblock(const G* g, const M* m) {
  const G* waker = m ? m->curg : nullptr;
  record(Kind::kUnblock, g->id, m ? m->p : nullptr, [g, waker](Record& r) {
    r.a = waker ? waker->id : 0;
    r.reason = g->wait_reason.load(std::memory_order_relaxed);
  });
}

void trace_long_run(std::uint64_t goid, std::uintptr_t create_pc, const P* p, std::int64_t since_ns) {
  record(Kind::kLongRun, goid, p, [since_ns, create_pc](Record& r) {
    r.a = static_cast<std::uint64_t>(std::max<std::int64_t>(r.ts - since_ns, 0));
    r.b = create_pc;
  });
}

// ---- trace::start/stop --------------------------------------------------------------------------

namespace {

struct FileTrace {  // guarded by trace_control_lock
  bool active = false;
  std::FILE* file = nullptr;
  std::string path;
  std::int64_t start_ns = 0;
  std::int64_t live_at_start = 0;
  std::unordered_map<std::uint64_t, Known> known;  // goroutines alive when it started
};

FileTrace& file_trace() {
  static auto* t = new FileTrace;
  return *t;
}

std::atomic<bool> g_file_trace_on{false};

}  // namespace

void trace_run_begin() {
  flight_run_begin();
  const char* path = std::getenv("GOCXX_TRACE");
  if (!path || !*path || trace::enabled()) return;
  try {
    trace::start(path);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gocxx: GOCXX_TRACE=%s: %s; running without an execution trace\n", path,
                 e.what());
  }
}

void trace_run_end() {
  try {
    trace::stop();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gocxx: execution trace: %s\n", e.what());
  }
  trace::stop_flight_recorder();
}

}  // namespace gocxx::diag

namespace gocxx::trace {

using namespace gocxx::diag;

void start(const std::string& path, const Options& options) {
  std::lock_guard ctl(trace_control_lock());
  FileTrace& t = file_trace();
  if (t.active) {
    throw std::logic_error("gocxx::trace::start: a trace is already active (writing " + t.path +
                           ")");
  }
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (!file) {
    throw std::runtime_error("gocxx::trace::start: cannot open " + path + ": " +
                             std::strerror(errno));
  }
  t.active = true;
  t.file = file;
  t.path = path;
  t.known.clear();
  t.live_at_start = num_goroutine();
  t.start_ns = detail::nanotime();
  if (!recorder_on()) {  // else the flight recorder's ring holds the events
    recorder_start({.max_bytes = options.max_bytes, .ring = options.keep == Keep::newest});
  }
  g_file_trace_on.store(true, std::memory_order_relaxed);
  // The caller is running now; so may be goroutines on other Ps (their first stop says so).
  if (const G* self = detail::current_g(); self && self->m && self->m->p) {
    trace_go_start(self, self->m->p);
  }
  // Names for the goroutines that already exist (those created from now on are recorded).
  known_goroutines(t.known);
}

void stop() {
  std::lock_guard ctl(trace_control_lock());
  FileTrace& t = file_trace();
  if (!t.active) return;
  t.active = false;
  g_file_trace_on.store(false, std::memory_order_relaxed);
  // Names of goroutines alive now, for a window that no longer reaches back to start().
  known_goroutines(t.known);
  Window w = recorder_window(t.start_ns, !flight_recorder_on_locked());
  w.recorder = "trace";
  if (w.overwritten == 0) w.live_at_start = t.live_at_start;
  w.known = std::exchange(t.known, {});
  write_window_to_file(w, std::exchange(t.file, nullptr), t.path, "gocxx::trace::stop");
}

bool enabled() { return g_file_trace_on.load(std::memory_order_relaxed); }

}  // namespace gocxx::trace
