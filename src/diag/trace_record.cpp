// The execution trace (gocxx/trace.hpp): the lock-free recorder, the hooks and the public API.
//
// Recording. Each thread that records (Ms, the timer thread, plain threads that spawn or wake
// goroutines) owns a ThreadState whose current Chunk holds fixed-size POD records: appending one
// takes no lock and allocates nothing. A full chunk goes onto a lock-free list and is replaced
// while the budget (Options::max_bytes) lasts; after that events are dropped and counted.
// Chunks come from 2 MiB huge-page slabs. stop() turns tracing off, then waits until no thread
// is inside a record (each thread's `busy` flag; see heavy_barrier), so afterwards every chunk
// is stop()'s alone.
//
// Writing the file at stop: trace_json.cpp.
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
#include <unordered_map>
#include <vector>

#include "diag/goroutines.hpp"
#include "diag/trace_internal.hpp"
#include "gocxx/runtime.hpp"
#include "gocxx/trace.hpp"
#include "runtime/futex.hpp"
#include "runtime/scheduler.hpp"

namespace gocxx::diag {

using detail::g_tracing;

namespace {

using detail::G;
using detail::M;
using detail::P;
using detail::SwitchRequest;
using detail::WaitReason;

constexpr std::size_t kChunkBytes = 32 << 10;
constexpr std::size_t kChunkRecords = (kChunkBytes - 32) / sizeof(Record);

struct alignas(32) Chunk {
  Chunk* next = nullptr;
  std::uint64_t seq = 0;  // allocation order: a thread's chunks are in time order
  std::uint32_t n = 0;
  Record recs[kChunkRecords];
};
static_assert(sizeof(Chunk) == kChunkBytes);

// Chunks are carved from 2 MiB slabs that ask for transparent huge pages: a fresh 4 KiB page
// costs a page fault on first touch (tens of microseconds under some hypervisors), a huge page
// one fault per 64 chunks. Slabs are unmapped when the trace stops.
class Slabs {
 public:
  static constexpr std::size_t kSlabBytes = 2 << 20;

  // A fresh chunk, or nullptr if the system has no memory. `budget`, the chunks the trace may
  // still take, caps a new slab's size, so that a tiny budget does not map 2 MiB.
  Chunk* take(std::int64_t budget) {
    std::lock_guard lk(lock_);
    std::int64_t chunks = std::min<std::int64_t>(budget, kSlabBytes / sizeof(Chunk));
    if (next_ == end_ && !map(chunks * sizeof(Chunk))) {
      return nullptr;
    }
    Chunk* c = ::new (next_) Chunk;
    next_ += sizeof(Chunk);
    return c;
  }

  void release_all() {
    std::lock_guard lk(lock_);
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

  std::mutex lock_;
  std::vector<std::pair<void*, std::size_t>> maps_;
  char* next_ = nullptr;
  char* end_ = nullptr;
};

Slabs& slabs() {
  static auto* s = new Slabs;
  return *s;
}

struct alignas(64) ThreadState {  // one cache line each: recorders never share one
  std::atomic<std::uint32_t> busy{0};
  std::uint64_t session = 0;
  Chunk* cur = nullptr;
  bool in_use = true;
};

std::atomic<std::uint64_t> g_session{0};        // bumped by every start()
std::atomic<Chunk*> g_full{nullptr};             // full chunks (a Treiber stack, push only)
std::atomic<std::int64_t> g_chunks_left{0};      // the budget
std::atomic<std::uint64_t> g_chunk_seq{0};
std::atomic<std::uint64_t> g_dropped{0};
std::atomic<std::int64_t> g_first_drop{std::numeric_limits<std::int64_t>::max()};

// Never destroyed: threads may exit (and release their state) after static destructors ran.
std::mutex& states_lock() {
  static auto* lock = new std::mutex;
  return *lock;
}
std::vector<ThreadState*>& states() {
  static auto* all = new std::vector<ThreadState*>;
  return *all;
}

void push_full(Chunk* c) {
  Chunk* head = g_full.load(std::memory_order_relaxed);
  do {
    c->next = head;
  } while (!g_full.compare_exchange_weak(head, c, std::memory_order_release,
                                         std::memory_order_relaxed));
}

// The calling thread's state: nullptr until its first event, kGone once its TLS is destroyed.
ThreadState* const kGone = reinterpret_cast<ThreadState*>(alignof(ThreadState));
thread_local ThreadState* tls_state = nullptr;

// Gives the thread's state back when the thread exits (its chunk joins the full list).
struct StateOwner {
  ~StateOwner() {
    ThreadState* st = std::exchange(tls_state, kGone);
    if (!st) return;
    std::lock_guard lk(states_lock());
    if (st->cur) push_full(std::exchange(st->cur, nullptr));
    st->in_use = false;
  }
};
thread_local StateOwner tls_owner;

ThreadState* register_thread() {
  static_cast<void>(&tls_owner);  // constructs it: its destructor releases the state
  std::lock_guard lk(states_lock());
  ThreadState* st = nullptr;
  for (ThreadState* s : states()) {
    if (!s->in_use) {
      st = s;
      break;
    }
  }
  if (st) {
    st->in_use = true;
  } else {
    st = new ThreadState;
    states().push_back(st);
  }
  tls_state = st;
  return st;
}

// stop() must know that no thread is inside record() before it takes the chunks. A recorder
// sets `busy` and then reads g_tracing; stop() clears g_tracing and then reads every `busy`.
// Each side needs a full barrier between its store and its load (Dekker). The recorder's is
// made free (a compiler barrier) by having stop() run membarrier(PRIVATE_EXPEDITED), which
// executes a full barrier on every thread of the process; where the kernel lacks it, recorders
// fall back to a real fence (g_recorder_fence).
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

void note_drop(std::int64_t ts) {
  g_dropped.fetch_add(1, std::memory_order_relaxed);
  std::int64_t first = g_first_drop.load(std::memory_order_relaxed);
  while (ts < first &&
         !g_first_drop.compare_exchange_weak(first, ts, std::memory_order_relaxed)) {
  }
}

// Hands the full current chunk over and takes a fresh one, or nullptr once the budget is spent.
[[gnu::noinline]] Chunk* next_chunk(ThreadState* st) {
  if (st->cur) push_full(std::exchange(st->cur, nullptr));
  std::int64_t left = g_chunks_left.load(std::memory_order_relaxed);
  while (left > 0 &&
         !g_chunks_left.compare_exchange_weak(left, left - 1, std::memory_order_relaxed)) {
  }
  if (left <= 0) return nullptr;
  Chunk* c = slabs().take(left);
  if (!c) return nullptr;
  c->seq = g_chunk_seq.fetch_add(1, std::memory_order_relaxed);
  st->cur = c;
  return c;
}

// Appends one record for goroutine g on P p (nullptr: none); fill(Record&) sets the rest.
template <class Fill>
void record(Kind kind, const G* g, const P* p, Fill fill) {
  std::int64_t ts = detail::nanotime();
  ThreadState* st = tls_state;
  if (st == kGone) return note_drop(ts);
  if (!st) st = register_thread();
  st->busy.store(1, std::memory_order_relaxed);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  if (g_recorder_fence.load(std::memory_order_relaxed)) [[unlikely]] {
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
  if (g_tracing.load(std::memory_order_acquire)) {
    std::uint64_t session = g_session.load(std::memory_order_relaxed);
    if (st->session != session) [[unlikely]] {
      st->session = session;
      st->cur = nullptr;  // stop() took the old session's chunk
    }
    Chunk* c = st->cur;
    if (!c || c->n == kChunkRecords) [[unlikely]] c = next_chunk(st);
    if (c) [[likely]] {
      Record& r = c->recs[c->n++];
      r.ts = ts;
      r.g = g->id;
      r.a = 0;
      r.b = 0;
      r.p = p ? p->id : -1;
      r.live = 0;
      r.kind = kind;
      r.why = Why::kUnknown;
      r.reason = WaitReason::kZero;
      fill(r);
    } else {
      note_drop(ts);
    }
  }
  st->busy.store(0, std::memory_order_release);
}

// ---- the active trace (guarded by control_lock) ---------------------------------------------

std::mutex& control_lock() {
  static auto* lock = new std::mutex;
  return *lock;
}
Session& session() {
  static auto* s = new Session;
  return *s;
}

// Takes every recorded chunk (tracing is off and no thread is inside record()).
std::vector<Chunk*> collect_chunks() {
  std::vector<Chunk*> chunks;
  {
    std::lock_guard lk(states_lock());
    for (ThreadState* st : states()) {
      while (st->busy.load(std::memory_order_acquire) != 0) detail::cpu_relax();
      if (st->cur) chunks.emplace_back(std::exchange(st->cur, nullptr));
    }
  }
  for (Chunk* c = g_full.exchange(nullptr, std::memory_order_acquire); c;) {
    Chunk* next = c->next;
    chunks.emplace_back(c);
    c = next;
  }
  std::sort(chunks.begin(), chunks.end(), [](const Chunk* a, const Chunk* b) { return a->seq < b->seq; });
  return chunks;
}

}  // namespace

// ---- hooks ----------------------------------------------------------------------------------------

void trace_go_create(const G* g, const P* p, std::int64_t live) {
  record(Kind::kCreate, g, p, [g, live](Record& r) {
    r.a = g->parent_id;
    r.b = g->create_pc;
    r.live = static_cast<std::uint32_t>(live);
  });
}

void trace_go_start(const G* g, const P* p) {
  record(Kind::kStart, g, p, [](Record&) {});
}

void trace_go_stop(const G* g, const P* p, int why) {
  if (!p) return;  // no P, no slice (back from blocking() with no P free)
  record(Kind::kStop, g, p, [g, why](Record& r) {
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
  record(Kind::kUnblock, g, m ? m->p : nullptr, [g, waker](Record& r) {
    r.a = waker ? waker->id : 0;
    r.reason = g->wait_reason.load(std::memory_order_relaxed);
  });
}

void trace_run_begin() {
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
}

}  // namespace gocxx::diag

// ---- public API ---------------------------------------------------------------------------------

namespace gocxx::trace {

using namespace gocxx::diag;

void start(const std::string& path, const Options& options) {
  std::lock_guard ctl(control_lock());
  Session& s = session();
  if (s.active) {
    throw std::logic_error("gocxx::trace::start: a trace is already active (writing " + s.path +
                           ")");
  }
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (!file) {
    throw std::runtime_error("gocxx::trace::start: cannot open " + path + ": " +
                             std::strerror(errno));
  }
  s.active = true;
  s.file = file;
  s.path = path;
  s.max_bytes = options.max_bytes;
  s.known.clear();
  g_chunks_left.store(
      static_cast<std::int64_t>(std::max<std::size_t>(1, options.max_bytes / sizeof(Chunk))),
      std::memory_order_relaxed);
  g_dropped.store(0, std::memory_order_relaxed);
  g_first_drop.store(std::numeric_limits<std::int64_t>::max(), std::memory_order_relaxed);
  setup_barrier();
  s.live_at_start = num_goroutine();
  s.start_ns = detail::nanotime();
  g_session.fetch_add(1, std::memory_order_relaxed);
  g_tracing.store(true, std::memory_order_release);
  // The caller is running now; so may be goroutines on other Ps (their first stop says so).
  if (const G* self = detail::current_g(); self && self->m && self->m->p) {
    trace_go_start(self, self->m->p);
  }
  // Names for the goroutines that already exist (those created from now on are recorded).
  for (const RawGoroutine& raw : snapshot_raw()) {
    if (!raw.abandoned) s.known[raw.id] = Known{raw.parent_id, raw.create_pc};
  }
}

void stop() {
  std::lock_guard ctl(control_lock());
  Session& s = session();
  if (!s.active) return;
  std::int64_t end_ns = detail::nanotime();
  g_tracing.store(false, std::memory_order_seq_cst);
  heavy_barrier();
  std::vector<Chunk*> chunks = collect_chunks();
  s.active = false;
  std::FILE* file = std::exchange(s.file, nullptr);

  // Merge by time; a thread's chunks are in allocation order, and stable sorting keeps the
  // order of one thread's events with equal timestamps.
  std::vector<Record> events;
  std::size_t total = 0;
  for (const Chunk* c : chunks) total += c->n;
  events.reserve(total);
  for (const Chunk* c : chunks) events.insert(events.end(), c->recs, c->recs + c->n);
  chunks.clear();
  slabs().release_all();
  std::stable_sort(events.begin(), events.end(),
                   [](const Record& a, const Record& b) { return a.ts < b.ts; });
  // Complete up to the first dropped event: cut there (what came after counts as dropped).
  std::uint64_t dropped = g_dropped.load(std::memory_order_relaxed);
  std::int64_t cut = std::min(end_ns, g_first_drop.load(std::memory_order_relaxed));
  auto past = std::upper_bound(events.begin(), events.end(), cut,
                               [](std::int64_t t, const Record& r) { return t < r.ts; });
  dropped += events.end() - past;
  events.erase(past, events.end());

  int procs = detail::current_runtime() ? gocxx::procs() : 0;
  std::string error;
  try {
    write_trace_json(s, std::move(events), cut, dropped, file, procs);
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (std::fclose(file) != 0 && error.empty()) {
    error = "gocxx::trace::stop: closing " + s.path + " failed: " + std::strerror(errno);
  }
  s.known.clear();
  if (!error.empty()) throw std::runtime_error(error);
}

bool enabled() { return g_tracing.load(std::memory_order_relaxed); }

}  // namespace gocxx::trace
