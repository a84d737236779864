// Goroutine snapshots and Go's dump formats.
//
// How a G is read without stopping anyone (see docs/diagnostics.md, "How a dump reads stacks"):
//   waiting   the scan bit is CASed onto its status, which ready() waits out, so the G cannot
//             run while its saved registers and stack are read; then the bit is cleared.
//   runnable  nothing stops an M from picking it up mid-read, so the read is optimistic, like
//             a seqlock: note G::resumes, unwind (reads confined to its stack, so a stack that
//             changes underneath gives garbage, never a fault), and keep the result only if
//             the resumes count is unchanged; otherwise read it again.
//   running, syscall   its stack is live on another thread: shown without frames, as Go does.
//   abandoned (its run has returned)   nothing will ever touch it again: read directly.
// The identity (id, parent, creation site) of every G is read the same optimistic way: a dead
// G may be reused by make_goroutine at any moment, which bumps resumes first.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "diag/goroutines.hpp"
#include "diag/stacktrace.hpp"
#include "runtime/futex.hpp"
#include "runtime/registry.hpp"
#include "runtime/scheduler.hpp"
#include "runtime/sysmon.hpp"

namespace gocxx::debug {

std::string Goroutine::status() const {
  switch (state) {
    case GoroutineState::runnable: return "runnable";
    case GoroutineState::running: return "running";
    case GoroutineState::syscall: return "syscall";
    case GoroutineState::waiting: return wait_reason.empty() ? "waiting" : wait_reason;
  }
  return "unknown";
}

std::int64_t Goroutine::wait_minutes(std::chrono::steady_clock::time_point now) const {
  if (state != GoroutineState::waiting || wait_since.time_since_epoch().count() == 0) return 0;
  return std::chrono::duration_cast<std::chrono::minutes>(now - wait_since).count();
}

}  // namespace gocxx::debug

namespace gocxx::diag {

using debug::Goroutine;
using debug::GoroutineState;
using detail::G;

namespace {

constexpr std::size_t kMaxFrames = 100;  // Go's traceback limit

void append_frame_lines(std::string& out, const Frame& f);

// The block Boost.Context's jump_fcontext (x86-64 SysV) pushes before switching stacks:
// fpu control words at +0x0, then r12 r13 r14 r15 rbx rbp, then the return address; the
// stack pointer after that return is fctx + 0x40.
SavedRegisters saved_registers(const void* fctx) {
  auto word = [fctx](int offset) { return racy_word(static_cast<const char*>(fctx) + offset); };
  SavedRegisters r;
  r.r12 = word(0x08);
  r.r13 = word(0x10);
  r.r14 = word(0x18);
  r.r15 = word(0x20);
  r.rbx = word(0x28);
  r.rbp = word(0x30);
  r.rip = word(0x38);
  r.rsp = reinterpret_cast<std::uintptr_t>(fctx) + 0x40;
  return r;
}

std::vector<std::uintptr_t> unwind_parked(const G* g) {
  const void* fctx = reinterpret_cast<const void*>(racy_word(&g->context.saved));
  auto lo = reinterpret_cast<std::uintptr_t>(g->stack.bottom);
  auto hi = reinterpret_cast<std::uintptr_t>(g->stack.top());
  auto at = reinterpret_cast<std::uintptr_t>(fctx);
  if (!fctx || at < lo || at + 0x40 > hi) return {};
  return unwind_saved(saved_registers(fctx), lo, hi, kMaxFrames);
}

GoroutineState state_of(std::uint32_t status) {
  switch (status & ~detail::kScanBit) {
    case detail::kRunning: return GoroutineState::running;
    case detail::kSyscall: return GoroutineState::syscall;
    case detail::kWaiting: return GoroutineState::waiting;
    default: return GoroutineState::runnable;
  }
}

enum class ReadResult { kRead, kSkip, kRetry };

void read_wait(const G* g, RawGoroutine& out) {
  out.wait_reason = g->wait_reason.load(std::memory_order_relaxed);
  out.wait_since_ns = g->wait_since_ns.load(std::memory_order_relaxed);
}

// One attempt at reading g (see the protocol at the top of this file).
ReadResult try_read_goroutine(G* g, std::uint64_t live_generation, const G* self,
                              RawGoroutine& out) {
  const std::uint32_t resumes = g->resumes.load(std::memory_order_acquire);
  const std::uint32_t status = g->status.load(std::memory_order_acquire);
  const std::uint32_t base = status & ~detail::kScanBit;
  if (base == detail::kIdle || base == detail::kDead) return ReadResult::kSkip;
  // The G's identity: written by make_goroutine while the G was dead, and read racily here;
  // the `resumes` check at the end discards a read that overlapped a reuse.
  out.g = g;
  out.id = racy_word(&g->id);
  out.parent_id = racy_word(&g->parent_id);
  out.create_pc = racy_word(&g->create_pc);
  out.generation = racy_word(&g->generation);
  out.abandoned = out.generation != live_generation;
  out.state = state_of(status);
  out.stack_available = false;
  out.pcs.clear();
  out.long_run_since_ns = base == detail::kRunning ? detail::long_run_since_ns(g) : 0;
  if (g == self) {
    out.state = GoroutineState::running;
  } else if (out.abandoned) {
    if (base == detail::kWaiting || base == detail::kRunnable) {
      out.pcs = unwind_parked(g);
      out.stack_available = true;
      read_wait(g, out);
    }
  } else if (base == detail::kWaiting) {
    std::uint32_t expected = detail::kWaiting;
    if (!g->status.compare_exchange_strong(expected, detail::kWaiting | detail::kScanBit,
                                           std::memory_order_acquire)) {
      return ReadResult::kRetry;  // woken meanwhile
    }
    out.pcs = unwind_parked(g);
    out.stack_available = true;
    read_wait(g, out);
    g->status.store(detail::kWaiting, std::memory_order_release);
  } else if (base == detail::kRunnable) {
    // Never ran: no frames yet, only its creation site. Else unwind optimistically.
    if (racy_word(&g->context.saved) != 0) out.pcs = unwind_parked(g);
    out.stack_available = true;
  }
  if (out.state != GoroutineState::waiting) {
    out.wait_reason = detail::WaitReason::kZero;
    out.wait_since_ns = 0;
  }
  // Seqlock-style validation: prepare_to_run and make_goroutine change the status and bump
  // `resumes` (then a release fence) before they touch the context, the stack or the identity.
  std::atomic_thread_fence(std::memory_order_acquire);
  if (g->resumes.load(std::memory_order_relaxed) != resumes ||
      (g->status.load(std::memory_order_relaxed) & ~detail::kScanBit) != base) {
    return ReadResult::kRetry;
  }
  return ReadResult::kRead;
}

// Reads the fields and stack of one G. A G that starts running or is reused during every
// attempt is left out of this snapshot (it is busy, not parked; a leak check asks again).
bool read_goroutine(G* g, std::uint64_t live_generation, const G* self, RawGoroutine& out) {
  constexpr int kAttempts = 16;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    switch (try_read_goroutine(g, live_generation, self, out)) {
      case ReadResult::kRead: return true;
      case ReadResult::kSkip: return false;
      case ReadResult::kRetry: detail::cpu_relax(); break;
    }
  }
  return false;
}

// Symbolization is the slow part of a dump; a dump of many goroutines has few distinct PCs.
// The symbolizer caches each PC's frames; this caches what a dump makes of them.
class FrameCache {
 public:
  // The user frames' traceback text at pc: "" where pc has none.
  const std::string& frames_text(std::uintptr_t pc) {
    auto it = texts_.find(pc);
    if (it == texts_.end()) it = texts_.emplace(pc, format_frames(user_frames({pc}))).first;
    return it->second;
  }
  const Frame& creator(std::uintptr_t create_pc) {
    auto it = creators_.find(create_pc);
    if (it == creators_.end()) it = creators_.emplace(create_pc, creator_frame(create_pc)).first;
    return it->second;
  }

 private:
  std::unordered_map<std::uintptr_t, Frame> creators_;
  std::unordered_map<std::uintptr_t, std::string> texts_;
};

// Everything but the frames.
Goroutine to_record_shell(const RawGoroutine& raw, FrameCache& cache) {
  Goroutine g;
  g.id = raw.id;
  g.state = raw.state;
  g.wait_reason = raw.state == GoroutineState::waiting ? detail::wait_reason_string(raw.wait_reason)
                                                       : "";
  if (raw.state == GoroutineState::waiting && raw.wait_since_ns != 0) {
    g.wait_since = std::chrono::steady_clock::time_point(std::chrono::nanoseconds(raw.wait_since_ns));
  }
  if (raw.long_run_since_ns != 0) {
    g.running_since = std::chrono::steady_clock::time_point(std::chrono::nanoseconds(raw.long_run_since_ns));
  }
  g.parent_id = raw.parent_id;
  if (!is_run_main(raw.id, raw.parent_id)) g.created_by = cache.creator(raw.create_pc);
  g.stack_available = raw.stack_available;
  g.abandoned = raw.abandoned;
  return g;
}

Goroutine to_record(const RawGoroutine& raw, FrameCache& cache) {
  Goroutine g = to_record_shell(raw, cache);
  g.frames = user_frames(raw.pcs);
  return g;
}

void append_frame_lines(std::string& out, const Frame& f) {
  char offset[32];
  std::snprintf(offset, sizeof offset, " +0x%zx\n", static_cast<std::size_t>(f.offset));
  out += f.file.empty() ? "?" : f.file;
  out += ':';
  out += std::to_string(f.line);
  out += offset;
}

// The PCs a record's frames were found at (inlined frames share one): its stack's identity.
std::vector<std::uintptr_t> stack_pcs(const Goroutine& g) {
  std::vector<std::uintptr_t> pcs;
  for (const Frame& f : g.frames) {
    if (pcs.empty() || pcs.back() != f.pc) pcs.push_back(f.pc);
  }
  return pcs;
}

// Go's debug=1 profile text: "N @ 0x.. 0x..", then "#\t0xPC\tfunc+0xoff\tfile:line" per frame.
// Goroutines group by stack and state; the state is shown as a pprof label. member(i) is the
// record of goroutine i, shown for the group it is the first of.
template <class Member>
void write_grouped(std::ostream& out, std::size_t total, const std::vector<GoroutineGroup>& groups,
                   Member member) {
  out << "goroutine profile: total " << total << "\n";
  char buf[64];
  for (const GoroutineGroup& group : groups) {
    const Goroutine& representative = member(group.first);
    out << group.count << " @";
    for (std::uintptr_t pc : stack_pcs(representative)) {
      std::snprintf(buf, sizeof buf, " %#zx", static_cast<std::size_t>(pc));
      out << buf;
    }
    out << "\n# labels: {\"state\":\"" << representative.status() << "\"}\n";
    for (const Frame& f : representative.frames) {
      std::snprintf(buf, sizeof buf, "#\t%#zx\t", static_cast<std::size_t>(f.pc));
      out << buf << f.function;
      std::snprintf(buf, sizeof buf, "+0x%zx\t", static_cast<std::size_t>(f.offset));
      out << buf << (f.file.empty() ? "?" : f.file) << ':' << f.line << "\n";
    }
    out << "\n";
  }
}

}  // namespace

std::vector<RawGoroutine> snapshot_raw() {
  std::vector<G*> all;
  detail::registry_for_each([](G* g, void* arg) { static_cast<std::vector<G*>*>(arg)->push_back(g); },
                            &all);
  const G* self = detail::current_g();
  std::uint64_t live = detail::live_generation();
  std::vector<RawGoroutine> raws;
  raws.reserve(all.size());
  for (G* g : all) {
    RawGoroutine raw;
    if (!read_goroutine(g, live, self, raw)) continue;
    if (g == self) {
      raw.pcs = capture_stack(0);
      raw.stack_available = true;
    }
    raws.push_back(std::move(raw));
  }
  // The caller first, then the live run by id, then abandoned ones: Go's dump order.
  std::stable_sort(raws.begin(), raws.end(), [self](const RawGoroutine& a, const RawGoroutine& b) {
    auto key = [self](const RawGoroutine& r) {
      return std::make_tuple(r.g != self, r.abandoned, r.id);
    };
    return key(a) < key(b);
  });
  return raws;
}

std::vector<Goroutine> to_records(const std::vector<RawGoroutine>& raws) {
  FrameCache cache;
  std::vector<Goroutine> records;
  records.reserve(raws.size());
  for (const RawGoroutine& raw : raws) records.push_back(to_record(raw, cache));
  return records;
}

std::vector<GoroutineGroup> group_goroutines(std::size_t n,
                                             const std::function<GroupKey(std::size_t)>& key) {
  std::map<GroupKey, std::size_t> index;  // by key: the group's position in groups
  std::vector<GoroutineGroup> groups;
  for (std::size_t i = 0; i < n; ++i) {
    auto [it, fresh] = index.try_emplace(key(i), groups.size());
    if (fresh) groups.push_back({{}, 0, i});
    ++groups[it->second].count;
  }
  while (!index.empty()) {
    auto node = index.extract(index.begin());
    groups[node.mapped()].key = std::move(node.key());
  }
  auto larger = [](const GoroutineGroup& a, const GoroutineGroup& b) { return a.count > b.count; };
  std::stable_sort(groups.begin(), groups.end(), larger);
  return groups;
}

std::string format_frames(const std::vector<Frame>& frames) {
  std::string out;
  for (const Frame& f : frames) {
    out += f.function;
    out += "(...)\n\t";
    append_frame_lines(out, f);
  }
  return out;
}

std::string format_with_frames(const Goroutine& g, const std::string& frames_text,
                               std::chrono::steady_clock::time_point now) {
  std::string out = "goroutine " + std::to_string(g.id) + " [" + g.status();
  if (std::int64_t minutes = g.wait_minutes(now); minutes >= 1) {
    out += ", " + std::to_string(minutes) + " minutes";
  }
  out += "]:\n";
  if (!g.stack_available) {
    out += "\tgoroutine running on other thread";
    if (g.running_since != std::chrono::steady_clock::time_point{}) {
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - g.running_since);
      out += " for " + std::to_string(ms.count()) + " ms without a scheduling point";
    }
    out += "; stack unavailable\n";
  }
  out += frames_text;
  out += format_created_by(g.created_by, g.parent_id);
  return out;
}

std::string format_created_by(const Frame& creator, std::uint64_t parent_id) {
  if (creator.function.empty()) return "";
  std::string out = "created by " + creator.function;
  if (names_parent(parent_id)) out += " in goroutine " + std::to_string(parent_id);
  out += "\n\t";
  append_frame_lines(out, creator);
  return out;
}

std::string format_goroutine(const Goroutine& g, std::chrono::steady_clock::time_point now) {
  return format_with_frames(g, format_frames(g.frames), now);
}

void write_dump(std::ostream& out, int level, const std::vector<Goroutine>& records) {
  if (level == 1) {
    auto key = [&records](std::size_t i) {
      return GroupKey(stack_pcs(records[i]), records[i].status());
    };
    auto member = [&records](std::size_t i) -> const Goroutine& { return records[i]; };
    write_grouped(out, records.size(), group_goroutines(records.size(), key), member);
    return;
  }
  auto now = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (i) out << "\n";
    out << format_goroutine(records[i], now);
  }
}

// The same from raw snapshots, symbolizing each distinct PC once and never building the full
// records: what keeps a dump of 100k goroutines well under a second.
void write_dump(std::ostream& out, int level, const std::vector<RawGoroutine>& raws) {
  FrameCache cache;
  if (level == 1) {
    // By the PCs that have user frames: the runtime frames below a park differ with the path
    // the switch took, and Go's grouping ignores them too.
    auto key = [&raws, &cache](std::size_t i) {
      std::vector<std::uintptr_t> visible;
      for (std::uintptr_t pc : raws[i].pcs) {
        if (!cache.frames_text(pc).empty()) visible.push_back(pc);
      }
      return GroupKey(std::move(visible), to_record_shell(raws[i], cache).status());
    };
    auto member = [&raws, &cache](std::size_t i) { return to_record(raws[i], cache); };
    write_grouped(out, raws.size(), group_goroutines(raws.size(), key), member);
    return;
  }
  auto now = std::chrono::steady_clock::now();
  std::string frames;
  for (std::size_t i = 0; i < raws.size(); ++i) {
    frames.clear();
    for (std::uintptr_t pc : raws[i].pcs) frames += cache.frames_text(pc);
    if (i) out << "\n";
    out << format_with_frames(to_record_shell(raws[i], cache), frames, now);
  }
}

}  // namespace gocxx::diag

namespace gocxx::debug {

std::vector<Goroutine> goroutines() { return diag::to_records(diag::snapshot_raw()); }

namespace {
void check_level(int level) {
  if (level != 1 && level != 2) {
    throw std::invalid_argument("gocxx::debug::write_goroutines: level must be 1 or 2, got " +
                                std::to_string(level));
  }
}
}  // namespace

void write_goroutines(std::ostream& out, int level) {
  check_level(level);
  diag::write_dump(out, level, diag::snapshot_raw());
}

void write_goroutines(std::ostream& out, int level, const std::vector<Goroutine>& snapshot) {
  check_level(level);
  diag::write_dump(out, level, snapshot);
}

void write_goroutine(std::ostream& out, const Goroutine& g) {
  out << diag::format_goroutine(g, std::chrono::steady_clock::now()) << "\n";
}

}  // namespace gocxx::debug
