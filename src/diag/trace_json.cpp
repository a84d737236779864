// The execution trace's Chrome Trace Event JSON writer (gocxx/trace.hpp; the recorder is
// trace_record.cpp).
//
// Writing (at stop). The records are merged by timestamp and cut at the first dropped event (so
// the file is complete up to there). A first pass pairs each goroutine's start with its stop on
// the same P into one "X" slice and each create or unblock with the goroutine's next start into
// a flow; a second pass writes everything in timestamp order. Goroutines are named only here,
// symbolizing each creation PC once.
#include <algorithm>
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

}  // namespace

void write_trace_json(Session& s, std::vector<Record> events, std::int64_t end_ns,
                      std::uint64_t dropped, std::FILE* file, int procs) {
  TraceBuilder(s, std::move(events), end_ns, dropped).write(file, procs);
}

}  // namespace gocxx::diag
