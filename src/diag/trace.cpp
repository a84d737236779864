// The execution trace (gocxx/trace.hpp): recording, and the Chrome Trace Event JSON writer.
//
// Recording. Each thread that records (Ms, the timer thread, plain threads that spawn or wake
// goroutines) owns a ThreadState whose current Chunk holds fixed-size POD records: appending one
// takes no lock and allocates nothing. A full chunk goes onto a lock-free list and is replaced
// while the budget (Options::max_bytes) lasts; after that events are dropped and counted.
// Chunks come from 2 MiB huge-page slabs. stop() turns tracing off, then waits until no thread
// is inside a record (each thread's `busy` flag; see heavy_barrier), so afterwards every chunk
// is stop()'s alone.
//
// Writing (at stop). The records are merged by timestamp and cut at the first dropped event (so
// the file is complete up to there). A first pass pairs each goroutine's start with its stop on
// the same P into one "X" slice and each create or unblock with the goroutine's next start into
// a flow; a second pass writes everything in timestamp order. Goroutines are named only here,
// symbolizing each creation PC once.
#include "diag/trace.hpp"

#include <linux/membarrier.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "diag/goroutines.hpp"
#include "diag/stacktrace.hpp"
#include "gocxx/runtime.hpp"
#include "gocxx/trace.hpp"
#include "runtime/futex.hpp"

namespace gocxx::diag {

std::atomic<bool> g_tracing{false};

namespace {

using detail::G;
using detail::M;
using detail::P;
using detail::SwitchRequest;
using detail::WaitReason;

enum class Kind : std::uint8_t { kCreate, kStart, kStop, kUnblock };
enum class Why : std::uint8_t { kUnknown, kBlock, kYield, kExit, kBlocking, kRunning };

struct Record {
  std::int64_t ts;     // CLOCK_MONOTONIC ns
  std::uint64_t g;     // the goroutine the event is about
  std::uint64_t a;     // create: parent id; unblock: waker id (0: not a goroutine)
  std::uint64_t b;     // create: creation PC
  std::int32_t p;      // the P it happened on, -1: none
  std::uint32_t live;  // create, stop(exit): goroutines alive after it
  Kind kind;
  Why why;             // stop
  WaitReason reason;   // stop(block), unblock
};

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

struct Known {  // what names a goroutine
  std::uint64_t parent = 0;
  std::uintptr_t create_pc = 0;
};

struct Session {
  bool active = false;
  std::FILE* file = nullptr;
  std::string path;
  std::size_t max_bytes = 0;
  std::int64_t start_ns = 0;
  std::int64_t live_at_start = 0;
  std::unordered_map<std::uint64_t, Known> known;  // goroutines alive when it started
};

std::mutex& control_lock() {
  static auto* lock = new std::mutex;
  return *lock;
}
Session& session() {
  static auto* s = new Session;
  return *s;
}

// ---- the JSON writer ----------------------------------------------------------------------------

constexpr int kPid = 1;
constexpr int kNoPTid = 1 << 20;  // the "no P" track

const char* why_string(Why why) {
  switch (why) {
    case Why::kBlock: return "block";
    case Why::kYield: return "yield";
    case Why::kExit: return "exit";
    case Why::kBlocking: return "blocking";
    case Why::kRunning: return "running";
    case Why::kUnknown: break;
  }
  return "unknown";
}

class Writer {
 public:
  Writer(std::FILE* file, std::int64_t start_ns) : file_(file), start_ns_(start_ns) {
    buf_.reserve(kFlushAt + 4096);
  }

  Writer& raw(std::string_view s) {
    buf_ += s;
    return *this;
  }
  Writer& num(std::uint64_t v) {
    char tmp[24];
    auto res = std::to_chars(tmp, tmp + sizeof tmp, v);
    buf_.append(tmp, res.ptr);
    return *this;
  }
  Writer& snum(std::int64_t v) {
    char tmp[24];
    auto res = std::to_chars(tmp, tmp + sizeof tmp, v);
    buf_.append(tmp, res.ptr);
    return *this;
  }
  // A JSON string.
  Writer& str(std::string_view s) {
    buf_ += '"';
    for (char c : s) {
      if (c == '"' || c == '\\') {
        buf_ += '\\';
        buf_ += c;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        char esc[8];
        std::snprintf(esc, sizeof esc, "\\u%04x", c);
        buf_ += esc;
      } else {
        buf_ += c;
      }
    }
    buf_ += '"';
    return *this;
  }
  // Microseconds since the trace started, with nanosecond digits: exact, no floating point.
  Writer& us(std::int64_t ns) {
    ns = std::max<std::int64_t>(ns, 0);
    num(static_cast<std::uint64_t>(ns / 1000));
    char frac[5] = {'.', char('0' + ns % 1000 / 100), char('0' + ns % 100 / 10),
                    char('0' + ns % 10), '\0'};
    buf_ += frac;
    return *this;
  }
  Writer& ts(std::int64_t abs_ns) { return us(abs_ns - start_ns_); }

  // {"ph":PH,"pid":1,"tid":TID,"ts":TS  — the caller adds the rest and the closing brace.
  Writer& event(char ph, int tid, std::int64_t abs_ns) {
    separator();
    raw("{\"ph\":\"").raw(std::string_view(&ph, 1)).raw("\",\"pid\":").snum(kPid);
    raw(",\"tid\":").snum(tid).raw(",\"ts\":").ts(abs_ns);
    return *this;
  }
  void separator() {
    if (!first_) buf_ += ",\n";
    first_ = false;
    if (buf_.size() >= kFlushAt) flush();
  }

  void flush() {
    if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), file_) != buf_.size()) {
      failed_ = true;
    }
    buf_.clear();
  }
  bool failed() const { return failed_; }

 private:
  static constexpr std::size_t kFlushAt = 1 << 20;
  std::FILE* file_;
  std::int64_t start_ns_;
  std::string buf_;
  bool first_ = true;
  bool failed_ = false;
};

struct Slice {
  std::uint64_t g = 0;
  int p = 0;
  std::int64_t start = 0, end = 0;
  Why why = Why::kRunning;
  WaitReason reason = WaitReason::kZero;
  std::uint64_t flow_in = 0;  // the flow that ends here (0: none)
  bool flow_is_create = false;
};

class TraceBuilder {
 public:
  TraceBuilder(Session& s, std::vector<Record> events, std::int64_t end_ns, std::uint64_t dropped)
      : s_(s), ev_(std::move(events)), end_(end_ns), dropped_(dropped) {}

  void write(std::FILE* file, int procs) {
    pair_up();
    for (const Slice& sl : slices_) max_p_ = std::max(max_p_, sl.p);
    procs = std::max(procs, max_p_ + 1);
    Writer w(file, s_.start_ns);
    w.raw("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"generator\":\"gocxx execution trace\"");
    w.raw(",\"clock\":\"CLOCK_MONOTONIC; ts in microseconds since start_ns\",\"start_ns\":")
        .snum(s_.start_ns);
    w.raw(",\"end_ns\":").snum(end_).raw(",\"procs\":").snum(procs);
    w.raw(",\"max_bytes\":").num(s_.max_bytes).raw(",\"dropped_events\":").num(dropped_);
    w.raw("},\n\"traceEvents\":[\n");
    metadata(w, procs);
    w.event('C', 0, s_.start_ns).raw(",\"name\":\"Goroutines\",\"args\":{\"count\":")
        .snum(s_.live_at_start).raw("}}");
    for (const Slice& sl : initial_) slice(w, sl);
    for (std::size_t i = 0; i < ev_.size(); ++i) emit(w, i);
    if (dropped_ > 0) {
      w.event('i', 0, end_).raw(",\"s\":\"g\",\"name\":");
      w.str("trace truncated: " + std::to_string(dropped_) +
            " events dropped (gocxx::trace::Options::max_bytes)").raw("}");
    }
    w.raw("\n]}\n");
    w.flush();
    if (w.failed()) throw std::runtime_error("gocxx::trace::stop: writing " + s_.path + " failed");
  }

 private:
  static int tid_of(int p) { return p >= 0 ? p : kNoPTid; }

  // Pass 1: slices from start/stop pairs, flows from create/unblock to the next start.
  void pair_up() {
    slices_.reserve(ev_.size() / 2 + 1);
    slice_of_.assign(ev_.size(), kNone);
    flow_of_.assign(ev_.size(), 0);
    std::vector<std::size_t> open;     // per P: the open slice, or kNone
    std::vector<bool> seen;            // per P: any event yet
    std::unordered_map<std::uint64_t, std::size_t> pending;  // goroutine -> create/unblock
    auto grow = [&](int p) {
      if (static_cast<std::size_t>(p) >= open.size()) {
        open.resize(p + 1, kNone);
        seen.resize(p + 1, false);
      }
    };
    for (std::size_t i = 0; i < ev_.size(); ++i) {
      const Record& r = ev_[i];
      switch (r.kind) {
        case Kind::kCreate:
          s_.known[r.g] = Known{r.a, static_cast<std::uintptr_t>(r.b)};
          pending[r.g] = i;
          break;
        case Kind::kUnblock:
          pending[r.g] = i;
          break;
        case Kind::kStart: {
          if (r.p < 0) break;
          grow(r.p);
          seen[r.p] = true;
          if (open[r.p] != kNone) close(open[r.p], r.ts, Why::kUnknown, WaitReason::kZero);
          Slice sl;
          sl.g = r.g;
          sl.p = r.p;
          sl.start = r.ts;
          if (auto it = pending.find(r.g); it != pending.end()) {
            sl.flow_in = flow_of_[it->second] = ++flows_;
            sl.flow_is_create = ev_[it->second].kind == Kind::kCreate;
            pending.erase(it);
          }
          open[r.p] = slice_of_[i] = slices_.size();
          slices_.push_back(sl);
          break;
        }
        case Kind::kStop: {
          if (r.p < 0) break;
          grow(r.p);
          if (open[r.p] != kNone) {
            close(open[r.p], r.ts, slices_[open[r.p]].g == r.g ? r.why : Why::kUnknown,
                  r.reason);
            open[r.p] = kNone;
          } else if (!seen[r.p]) {  // it was running when the trace started
            Slice sl;
            sl.g = r.g;
            sl.p = r.p;
            sl.start = s_.start_ns;
            sl.end = r.ts;
            sl.why = r.why;
            sl.reason = r.reason;
            initial_.push_back(sl);
          }
          seen[r.p] = true;
          break;
        }
      }
    }
    for (std::size_t idx : open) {
      if (idx != kNone) close(idx, end_, Why::kRunning, WaitReason::kZero);
    }
  }

  void close(std::size_t idx, std::int64_t ts, Why why, WaitReason reason) {
    Slice& sl = slices_[idx];
    sl.end = std::max(ts, sl.start);
    sl.why = why;
    sl.reason = why == Why::kBlock ? reason : WaitReason::kZero;
  }

  const std::string& name(std::uint64_t id) {
    auto [it, fresh] = names_.try_emplace(id);
    if (!fresh) return it->second;
    std::string n = "G" + std::to_string(id);
    if (auto k = s_.known.find(id); k != s_.known.end()) {
      auto [c, new_pc] = creators_.try_emplace(k->second.create_pc);
      if (new_pc) c->second = creator_frame(k->second.create_pc).function;
      if (!c->second.empty()) {
        n += ' ';
        n += c->second;
      } else if (is_run_main(id, k->second.parent)) {
        n += " main";
      }
    }
    it->second = std::move(n);
    return it->second;
  }

  void metadata(Writer& w, int procs) {
    auto meta = [&](int tid, const char* what, const std::string& value, bool sort) {
      w.separator();
      w.raw("{\"ph\":\"M\",\"pid\":").snum(kPid).raw(",\"tid\":").snum(tid);
      w.raw(",\"name\":\"").raw(what).raw("\",\"args\":{");
      if (sort) {
        w.raw("\"sort_index\":").raw(value);
      } else {
        w.raw("\"name\":").str(value);
      }
      w.raw("}}");
    };
    meta(0, "process_name", "gocxx", false);
    for (int p = 0; p < procs; ++p) {
      meta(p, "thread_name", "P" + std::to_string(p), false);
      meta(p, "thread_sort_index", std::to_string(p), true);
    }
    meta(kNoPTid, "thread_name", "no P (timer thread, plain threads, blocking calls)", false);
    meta(kNoPTid, "thread_sort_index", std::to_string(kNoPTid), true);
  }

  void slice(Writer& w, const Slice& sl) {
    w.event('X', sl.p, sl.start).raw(",\"dur\":").us(sl.end - sl.start);
    w.raw(",\"cat\":\"goroutine\",\"name\":").str(name(sl.g));
    w.raw(",\"args\":{\"goid\":").num(sl.g).raw(",\"end\":\"").raw(why_string(sl.why)).raw("\"");
    if (sl.why == Why::kBlock) w.raw(",\"reason\":").str(detail::wait_reason_string(sl.reason));
    w.raw("}}");
    if (sl.flow_in) {
      w.event('f', sl.p, sl.start).raw(",\"bp\":\"e\",\"cat\":\"sched\",\"name\":\"");
      w.raw(sl.flow_is_create ? "go" : "unblock").raw("\",\"id\":").num(sl.flow_in).raw("}");
    }
  }

  void counter(Writer& w, std::int64_t ts, std::uint32_t live) {
    w.event('C', 0, ts).raw(",\"name\":\"Goroutines\",\"args\":{\"count\":").num(live).raw("}}");
  }

  // Pass 2: the events of record i.
  void emit(Writer& w, std::size_t i) {
    const Record& r = ev_[i];
    int tid = tid_of(r.p);
    switch (r.kind) {
      case Kind::kStart:
        if (slice_of_[i] != kNone) slice(w, slices_[slice_of_[i]]);
        break;
      case Kind::kStop:
        if (r.why == Why::kBlock) {
          w.event('i', tid, r.ts).raw(",\"s\":\"t\",\"cat\":\"sched\",\"name\":");
          w.str("block " + name(r.g)).raw(",\"args\":{\"goid\":").num(r.g);
          w.raw(",\"reason\":").str(detail::wait_reason_string(r.reason)).raw("}}");
        } else if (r.why == Why::kExit) {
          counter(w, r.ts, r.live);
        }
        break;
      case Kind::kCreate:
        w.event('i', tid, r.ts).raw(",\"s\":\"t\",\"cat\":\"sched\",\"name\":");
        w.str("go " + name(r.g)).raw(",\"args\":{\"goid\":").num(r.g);
        w.raw(",\"parent\":").num(r.a).raw("}}");
        flow_start(w, i, tid, "go");
        counter(w, r.ts, r.live);
        break;
      case Kind::kUnblock:
        w.event('i', tid, r.ts).raw(",\"s\":\"t\",\"cat\":\"sched\",\"name\":");
        w.str("unblock " + name(r.g)).raw(",\"args\":{\"goid\":").num(r.g);
        w.raw(",\"reason\":").str(detail::wait_reason_string(r.reason));
        w.raw(",\"by\":").num(r.a).raw("}}");
        flow_start(w, i, tid, "unblock");
        break;
    }
  }

  void flow_start(Writer& w, std::size_t i, int tid, const char* flow_name) {
    if (!flow_of_[i]) return;  // the goroutine did not run again before the trace ended
    w.event('s', tid, ev_[i].ts).raw(",\"cat\":\"sched\",\"name\":\"").raw(flow_name);
    w.raw("\",\"id\":").num(flow_of_[i]).raw("}");
  }

  static constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();
  Session& s_;
  std::vector<Record> ev_;
  std::int64_t end_;
  std::uint64_t dropped_;
  std::vector<Slice> slices_;
  std::vector<Slice> initial_;         // running when the trace started
  std::vector<std::size_t> slice_of_;  // start record -> its slice
  std::vector<std::uint64_t> flow_of_; // create/unblock record -> its flow id (0: none)
  std::uint64_t flows_ = 0;
  int max_p_ = -1;
  std::unordered_map<std::uint64_t, std::string> names_;
  std::unordered_map<std::uintptr_t, std::string> creators_;
};

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
    TraceBuilder(s, std::move(events), cut, dropped).write(file, procs);
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
