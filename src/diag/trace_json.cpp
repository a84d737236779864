// The execution trace's Chrome Trace Event JSON writer (gocxx/trace.hpp; the recorder is
// trace_record.cpp).
//
// Writing a window (a trace at stop, or a flight recorder's window): its records are merged by
// timestamp and complete between its start and end. A first pass pairs each goroutine's start
// with its stop on the same P into one "X" slice (when a P's first event is a stop, the slice
// began before the window and starts at the window's start) and each create or unblock with
// the goroutine's next start into a flow; a second pass writes
// everything in timestamp order. Goroutines are named only here, symbolizing each creation PC
// once: from create, start and stop records, and the goroutines alive at the window's ends.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "diag/goroutines.hpp"
#include "diag/stacktrace.hpp"
#include "diag/trace_internal.hpp"
#include "gocxx/runtime.hpp"
#include "runtime/scheduler.hpp"

namespace gocxx::diag {

namespace {

using detail::SwitchRequest;

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
  Writer(const TraceSink& sink, std::int64_t start_ns) : sink_(sink), start_ns_(start_ns) {
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
    if (!buf_.empty() && !sink_(buf_)) failed_ = true;
    buf_.clear();
  }
  bool failed() const { return failed_; }

 private:
  static constexpr std::size_t kFlushAt = 1 << 20;
  const TraceSink& sink_;
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
  explicit TraceBuilder(Window& w) : w_(w), ev_(w.events), end_(w.end_ns) {}

  bool write(const TraceSink& sink, int procs) {
    pair_up();
    for (const Slice& sl : slices_) max_p_ = std::max(max_p_, sl.p);
    procs = std::max(procs, max_p_ + 1);
    const RecorderConfig& config = w_.config;
    Writer w(sink, w_.start_ns);
    w.raw("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"generator\":\"gocxx execution trace\"");
    w.raw(",\"recorder\":").str(w_.recorder);
    w.raw(",\"clock\":\"CLOCK_MONOTONIC; ts in microseconds since start_ns\",\"start_ns\":")
        .snum(w_.start_ns);
    w.raw(",\"end_ns\":").snum(end_).raw(",\"procs\":").snum(procs);
    w.raw(",\"max_bytes\":").num(config.max_bytes);
    w.raw(",\"keep\":\"").raw(config.ring ? "newest" : "oldest").raw("\"");
    if (config.min_age_ns > 0) w.raw(",\"min_age_ns\":").snum(config.min_age_ns);
    w.raw(",\"dropped_events\":").num(w_.dropped);
    w.raw(",\"overwritten_events\":").num(w_.overwritten);
    w.raw("},\n\"traceEvents\":[\n");
    metadata(w, procs);
    counter(w, w_.start_ns, live_at_start());
    if (w_.overwritten > 0) {
      w.event('i', 0, w_.start_ns).raw(",\"s\":\"g\",\"name\":");
      w.str("trace window start: " + std::to_string(w_.overwritten) +
            " earlier events overwritten (max_bytes" + (config.min_age_ns > 0 ? ", min_age)" : ")"))
          .raw("}");
    }
    for (const Slice& sl : initial_) slice(w, sl);
    for (std::size_t i = 0; i < ev_.size(); ++i) emit(w, i);
    if (w_.dropped > 0) {
      w.event('i', 0, end_).raw(",\"s\":\"g\",\"name\":");
      w.str(config.ring ? "trace has gaps: " + std::to_string(w_.dropped) +
                              " events dropped (every chunk of max_bytes was in use)"
                        : "trace truncated: " + std::to_string(w_.dropped) +
                              " events dropped (gocxx::trace::Options::max_bytes)")
          .raw("}");
    }
    w.raw("\n]}\n");
    w.flush();
    return !w.failed();
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
          w_.known[r.g] = Known{r.a, static_cast<std::uintptr_t>(r.b)};
          pending[r.g] = i;
          break;
        case Kind::kUnblock:
          pending[r.g] = i;
          break;
        case Kind::kLongRun:  // names it if its create event fell out of the window
          if (r.b != 0) w_.known.try_emplace(r.g, Known{0, static_cast<std::uintptr_t>(r.b)});
          break;
        case Kind::kStart: {
          w_.known.try_emplace(r.g, Known{r.a, static_cast<std::uintptr_t>(r.b)});
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
          w_.known.try_emplace(r.g, Known{r.a, static_cast<std::uintptr_t>(r.b)});
          if (r.p < 0) break;
          grow(r.p);
          if (open[r.p] != kNone) {
            close(open[r.p], r.ts, slices_[open[r.p]].g == r.g ? r.why : Why::kUnknown,
                  r.reason);
            open[r.p] = kNone;
          } else if (!seen[r.p]) {  // it was running when the window started
            Slice sl;
            sl.g = r.g;
            sl.p = r.p;
            sl.start = w_.start_ns;
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
    if (auto k = w_.known.find(id); k != w_.known.end()) {
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

  void counter(Writer& w, std::int64_t ts, std::int64_t live) {
    w.event('C', 0, ts).raw(",\"name\":\"Goroutines\",\"args\":{\"count\":").snum(live).raw("}}");
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
      case Kind::kLongRun:
        w.event('i', tid, r.ts).raw(",\"s\":\"t\",\"cat\":\"sched\",\"name\":");
        w.str("long run " + name(r.g)).raw(",\"args\":{\"goid\":").num(r.g);
        w.raw(",\"running_ms\":").num(r.a / 1'000'000).raw("}}");
        break;
    }
  }

  void flow_start(Writer& w, std::size_t i, int tid, const char* flow_name) {
    if (!flow_of_[i]) return;  // the goroutine did not run again before the trace ended
    w.event('s', tid, ev_[i].ts).raw(",\"cat\":\"sched\",\"name\":\"").raw(flow_name);
    w.raw("\",\"id\":").num(flow_of_[i]).raw("}");
  }

  // Goroutines alive at the window's start: given, or one less than after its first create
  // (one more than after its first exit), or, if none happened, as many as now.
  std::int64_t live_at_start() const {
    if (w_.live_at_start >= 0) return w_.live_at_start;
    for (const Record& r : ev_) {
      if (r.kind == Kind::kCreate) return std::max<std::int64_t>(r.live, 1) - 1;
      if (r.kind == Kind::kStop && r.why == Why::kExit) return std::int64_t{r.live} + 1;
    }
    return detail::current_runtime() ? gocxx::num_goroutine() : 0;
  }

  static constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();
  Window& w_;
  const std::vector<Record>& ev_;
  std::int64_t end_;
  std::vector<Slice> slices_;
  std::vector<Slice> initial_;         // running when the trace started
  std::vector<std::size_t> slice_of_;  // start record -> its slice
  std::vector<std::uint64_t> flow_of_; // create/unblock record -> its flow id (0: none)
  std::uint64_t flows_ = 0;
  int max_p_ = -1;
  std::unordered_map<std::uint64_t, std::string> names_;
  std::unordered_map<std::uintptr_t, std::string> creators_;
};

}  // namespace

bool write_trace_json(Window& w, const TraceSink& sink) {
  return TraceBuilder(w).write(sink, detail::current_runtime() ? gocxx::procs() : 0);
}

void write_window_to_file(Window& w, std::FILE* file, const std::string& path, const char* caller) {
  bool ok = write_trace_json(w, [file](std::string_view data) {
    return std::fwrite(data.data(), 1, data.size(), file) == data.size();
  });
  int err = ok ? 0 : errno;
  if (std::fclose(file) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (!ok) {
    throw std::runtime_error(std::string(caller) + ": writing " + path + " failed: " +
                             std::strerror(err));
  }
}

}  // namespace gocxx::diag
