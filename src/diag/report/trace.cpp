// analyze_trace (gocxx/report.hpp): gocxx's Chrome Trace Event JSON (src/diag/trace_json.cpp
// writes it; docs/diagnostics.md, "Execution trace", has the shapes) read with nlohmann/json's
// SAX parser, streaming: no document tree, memory for the per-goroutine state only.
//
// The file is in timestamp order, and each goroutine's events come in its own order: an "X"
// slice (written at its start, carrying how it ended: block + reason, yield, exit, blocking,
// running), the "unblock" instant that makes it runnable again, the next slice. So one pass
// with a small state machine per goroutine attributes every stretch of time:
//   create/unblock/yield -> next slice start   runnable (its length is one scheduler latency)
//   slice                                      running
//   slice ended "block"  -> unblock            blocked, for the slice's reason
//   slice ended "blocking" -> next slice       in gocxx::blocking (syscall), until back on a P
// The "block" instants repeat what the slices say and are not needed; flows and metadata are
// skipped.

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "gocxx/report.hpp"

namespace gocxx::report {

namespace {

using json = nlohmann::json;

constexpr std::size_t kCurvePoints = 1000;
constexpr std::size_t kSiteCurves = 5;

// The file, read as a stream through a large buffer: memory stays constant whatever its size,
// and a pipe works as well as a file.
class Input {
 public:
  explicit Input(const std::string& path) : buf_(kBuffer) {
    file_.rdbuf()->pubsetbuf(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    file_.open(path, std::ios::binary);
    if (!file_) {
      throw std::runtime_error("gocxx::report::analyze_trace: cannot read " + path + ": " +
                               std::strerror(errno));
    }
  }

  template <class Sax>
  bool parse(Sax* sax) {
    return json::sax_parse(file_, sax);
  }

 private:
  static constexpr std::size_t kBuffer = 1 << 20;
  std::vector<char> buf_;
  std::ifstream file_;
};

// One trace event's fields that matter here.
struct Event {
  char ph = 0;
  std::int64_t ts = -1, dur = -1;  // ns since the trace's start
  std::string name, cat, end, reason;
  std::uint64_t goid = 0;
  std::int64_t count = -1;
  void clear() {
    ph = 0;
    ts = dur = count = -1;
    goid = 0;
    name.clear();
    cat.clear();
    end.clear();
    reason.clear();
  }
};

enum class State : std::uint8_t { kUnknown, kRunnable, kRunning, kBlocked, kSyscall, kDead };

struct GState {
  std::uint32_t site = 0;
  State state = State::kUnknown;
  std::uint16_t reason = 0;
  bool created = false;
  std::int64_t since = 0;
};

struct SiteAcc {
  TraceSite stats;
  std::map<std::uint16_t, ReasonTime> blocked;
  std::vector<std::int64_t> creates, exits;  // of goroutines created during the trace
};

// Microseconds as written ("560.254") to ns, exactly; other spellings through the double.
std::int64_t us_to_ns(double value, std::string_view text) {
  std::size_t dot = text.find('.');
  if (text.find_first_of("eE-") == std::string_view::npos && dot != std::string_view::npos &&
      text.size() - dot - 1 <= 3) {
    std::int64_t whole = 0, frac = 0;
    std::from_chars(text.data(), text.data() + dot, whole);
    std::string_view f = text.substr(dot + 1);
    std::from_chars(f.data(), f.data() + f.size(), frac);
    for (std::size_t i = f.size(); i < 3; ++i) frac *= 10;
    return whole * 1000 + frac;
  }
  return std::llround(value * 1000);
}

// "G12 app::serve" (or "go G12 app::serve") -> "app::serve".
std::string_view site_of(std::string_view name) {
  std::size_t g = name.find('G');
  std::size_t space = name.find(' ', g == std::string_view::npos ? 0 : g);
  if (space == std::string_view::npos || space + 1 >= name.size()) return "(unknown)";
  return name.substr(space + 1);
}

class Analyzer : public nlohmann::json_sax<json> {
 public:
  explicit Analyzer(std::string path) : path_(std::move(path)) {
    reasons_.push_back("");  // reason 0: none
  }

  // ---- SAX ---------------------------------------------------------------------------------
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t v) override { return integer(v); }
  bool number_unsigned(number_unsigned_t v) override {
    return integer(static_cast<std::int64_t>(std::min<number_unsigned_t>(v, INT64_MAX)));
  }
  bool number_float(number_float_t v, const string_t& text) override {
    if (depth_ == 3 && in_events_) {
      if (key_ == "ts") ev_.ts = us_to_ns(v, text);
      if (key_ == "dur") ev_.dur = us_to_ns(v, text);
    }
    return true;
  }
  bool string(string_t& v) override {
    if (depth_ == 3 && in_events_) {
      if (key_ == "ph") ev_.ph = v.empty() ? '?' : v[0];
      if (key_ == "name") ev_.name = std::move(v);
      if (key_ == "cat") ev_.cat = std::move(v);
    } else if (depth_ == 4 && in_events_ && in_args_) {
      if (key_ == "end") ev_.end = std::move(v);
      if (key_ == "reason") ev_.reason = std::move(v);
    } else if (depth_ == 2 && in_other_ && key_ == "generator") {
      generator_ = std::move(v);
    }
    return true;
  }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    if (depth_ == 0) {
      root_seen_ = true;
    } else if (depth_ == 1 && key_ == "otherData") {
      in_other_ = true;
    } else if (depth_ == 2 && in_events_) {
      ev_.clear();
    } else if (depth_ == 3 && in_events_ && key_ == "args") {
      in_args_ = true;
    }
    ++depth_;
    return true;
  }
  bool key(string_t& k) override {
    key_ = std::move(k);
    return true;
  }
  bool end_object() override {
    --depth_;
    if (depth_ == 1) in_other_ = false;
    if (depth_ == 3) in_args_ = false;
    if (depth_ == 2 && in_events_) event();
    return true;
  }
  bool start_array(std::size_t) override {
    if (depth_ == 0) return semantic("the top level is an array; gocxx writes an object");
    if (depth_ == 1 && key_ == "traceEvents") {
      if (generator_.rfind("gocxx", 0) != 0) {
        return semantic("otherData.generator is \"" + generator_.substr(0, 80) +
                        "\", not \"gocxx execution trace\"");
      }
      in_events_ = true;
      events_seen_ = true;
    }
    ++depth_;
    return true;
  }
  bool end_array() override {
    --depth_;
    if (depth_ == 1) in_events_ = false;
    return true;
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    std::string what = ex.what();
    if (auto close = what.find("] "); what.rfind("[json.exception", 0) == 0 && close != std::string::npos) {
      what = what.substr(close + 2);
    }
    error_ = path_ + ": offset " + std::to_string(position) + ": not valid JSON (cut short?): " + what;
    return false;
  }

  // ---- after the parse -----------------------------------------------------------------------
  const std::string& error() const { return error_; }
  void check_complete() {
    if (!root_seen_) semantic("not a JSON object");
    else if (!events_seen_) semantic("no \"traceEvents\" array");
  }

  TraceAnalysis finish() {
    TraceAnalysis a;
    a.path = path_;
    a.procs = procs_;
    a.events = events_;
    a.dropped_events = dropped_;
    a.overwritten_events = overwritten_;
    std::int64_t duration = end_ns_ > start_ns_ ? end_ns_ - start_ns_ : last_ts_;
    a.duration_ns = duration;
    for (auto& [id, g] : gs_) {
      if (g.state == State::kDead) continue;
      SiteAcc& site = sites_[g.site];
      ++site.stats.alive_at_end;
      account(g, duration, /*at_end=*/true);
    }
    for (const SiteAcc& s : sites_) a.running_ns += s.stats.running_ns;
    latency_summary(a);
    goroutine_curve(a, duration);
    for (std::size_t i = 0; i < sites_.size(); ++i) {
      TraceSite t = sites_[i].stats;
      for (const auto& [reason, rt] : sites_[i].blocked) t.blocked.push_back(rt);
      std::stable_sort(t.blocked.begin(), t.blocked.end(),
                       [](const ReasonTime& x, const ReasonTime& y) { return x.ns > y.ns; });
      a.sites.push_back(std::move(t));
    }
    std::vector<std::size_t> order(sites_.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    auto by_alive = [&](std::size_t x, std::size_t y) {
      const TraceSite &p = a.sites[x], &q = a.sites[y];
      if (p.alive_at_end != q.alive_at_end) return p.alive_at_end > q.alive_at_end;
      if (p.created != q.created) return p.created > q.created;
      return p.goroutines > q.goroutines;
    };
    std::stable_sort(order.begin(), order.end(), by_alive);
    site_curves(a, order);
    std::vector<TraceSite> sorted;
    for (std::size_t i : order) sorted.push_back(std::move(a.sites[i]));
    a.sites = std::move(sorted);
    for (auto& [key, b] : blocking_) a.blocking.push_back(std::move(b));
    std::stable_sort(a.blocking.begin(), a.blocking.end(),
                     [](const BlockingSite& x, const BlockingSite& y) { return x.total_ns > y.total_ns; });
    return a;
  }

 private:
  bool integer(std::int64_t v) {
    if (depth_ == 3 && in_events_) {
      if (key_ == "ts") ev_.ts = v * 1000;
      if (key_ == "dur") ev_.dur = v * 1000;
    } else if (depth_ == 4 && in_events_ && in_args_) {
      if (key_ == "goid") ev_.goid = static_cast<std::uint64_t>(v);
      if (key_ == "count") ev_.count = v;
    } else if (depth_ == 2 && in_other_) {
      if (key_ == "start_ns") start_ns_ = v;
      if (key_ == "end_ns") end_ns_ = v;
      if (key_ == "procs") procs_ = static_cast<int>(v);
      if (key_ == "dropped_events") dropped_ = static_cast<std::uint64_t>(v);
      if (key_ == "overwritten_events") overwritten_ = static_cast<std::uint64_t>(v);
    }
    return true;
  }
  bool semantic(const std::string& what) {
    error_ = path_ + ": not a gocxx execution trace: " + what;
    return false;
  }

  std::uint16_t reason_index(const std::string& r) {
    auto [it, fresh] = reason_ids_.try_emplace(r, static_cast<std::uint16_t>(reasons_.size()));
    if (fresh) reasons_.push_back(r);
    return it->second;
  }

  std::uint32_t site_index(std::string_view name) {
    auto [it, fresh] = site_ids_.try_emplace(std::string(name), static_cast<std::uint32_t>(sites_.size()));
    if (fresh) {
      sites_.emplace_back();
      sites_.back().stats.site = std::string(name);
    }
    return it->second;
  }

  // The goroutine an event is about; one seen for the first time was alive before the trace.
  GState& goroutine(std::string_view site) {
    auto [it, fresh] = gs_.try_emplace(ev_.goid);
    if (fresh) {
      it->second.site = site_index(site);
      ++sites_[it->second.site].stats.goroutines;
    }
    return it->second;
  }

  // Attributes g's time from g.since to `until` to its state.
  void account(GState& g, std::int64_t until, bool at_end = false) {
    std::int64_t d = std::max<std::int64_t>(0, until - g.since);
    TraceSite& s = sites_[g.site].stats;
    switch (g.state) {
      case State::kRunnable: s.runnable_ns += d; break;
      case State::kSyscall: s.syscall_ns += d; break;
      case State::kBlocked: {
        s.blocked_ns += d;
        ReasonTime& rt = sites_[g.site].blocked[g.reason];
        rt.reason = reasons_[g.reason];
        rt.ns += d;
        ++rt.count;
        BlockingSite& b = blocking_[{g.site, g.reason}];
        if (b.count == 0) {
          b.site = s.site;
          b.reason = reasons_[g.reason];
        }
        b.total_ns += d;
        b.max_ns = std::max(b.max_ns, d);
        ++b.count;
        if (at_end) ++b.still_blocked;
        break;
      }
      case State::kUnknown: case State::kRunning: case State::kDead: break;
    }
    g.since = until;
  }

  void event() {
    ++events_;
    if (ev_.ts >= 0) last_ts_ = std::max(last_ts_, ev_.ts);
    switch (ev_.ph) {
      case 'X':
        if (ev_.cat == "goroutine" && ev_.ts >= 0) slice();
        break;
      case 'i':
        if (ev_.name.rfind("go ", 0) == 0) {
          create();
        } else if (ev_.name.rfind("unblock ", 0) == 0) {
          unblock();
        }
        break;
      case 'C':
        if (ev_.name == "Goroutines" && ev_.count >= 0) counter_.emplace_back(ev_.ts, ev_.count);
        break;
      default: break;
    }
  }

  void create() {
    auto [it, fresh] = gs_.try_emplace(ev_.goid);
    if (!fresh) return;  // ids are never reused; a second "go" would be a broken file
    GState& g = it->second;
    g.site = site_index(site_of(std::string_view(ev_.name).substr(3)));
    g.created = true;
    g.state = State::kRunnable;
    g.since = ev_.ts;
    SiteAcc& site = sites_[g.site];
    ++site.stats.goroutines;
    ++site.stats.created;
    site.creates.push_back(ev_.ts);
  }

  void unblock() {
    bool fresh = gs_.find(ev_.goid) == gs_.end();
    GState& g = goroutine(site_of(std::string_view(ev_.name).substr(8)));
    if (fresh) {  // blocked since before the trace started, at least
      g.state = State::kBlocked;
      g.reason = reason_index(ev_.reason);
      g.since = 0;
    }
    if (g.state != State::kBlocked && g.state != State::kUnknown) return;
    account(g, ev_.ts);
    g.state = State::kRunnable;
  }

  void slice() {
    GState& g = goroutine(site_of(ev_.name));
    TraceSite& s = sites_[g.site].stats;
    if (g.state == State::kRunnable) {
      std::int64_t latency = std::max<std::int64_t>(0, ev_.ts - g.since);
      latencies_.push_back(latency);
      s.max_latency_ns = std::max(s.max_latency_ns, latency);
    }
    account(g, ev_.ts);
    std::int64_t dur = std::max<std::int64_t>(0, ev_.dur);
    ++s.runs;
    s.running_ns += dur;
    g.since = ev_.ts + dur;
    if (ev_.end == "block") {
      g.state = State::kBlocked;
      g.reason = reason_index(ev_.reason);
    } else if (ev_.end == "yield") {
      g.state = State::kRunnable;
    } else if (ev_.end == "blocking") {
      g.state = State::kSyscall;
    } else if (ev_.end == "running") {
      g.state = State::kRunning;
    } else if (ev_.end == "exit") {
      g.state = State::kDead;
      ++s.exited;
      if (g.created) sites_[g.site].exits.push_back(g.since);
    } else {
      g.state = State::kUnknown;  // the writer lost its stop: nothing to attribute
    }
  }

  void latency_summary(TraceAnalysis& a) {
    // 1-2-5 steps from 1 us to 1 s, one bucket below and one above.
    std::vector<std::int64_t> edges{0};
    for (std::int64_t decade = 1000; decade <= 1'000'000'000; decade *= 10) {
      for (std::int64_t m : {1, 2, 5}) {
        if (decade * m <= 1'000'000'000) edges.push_back(decade * m);
      }
    }
    edges.push_back(std::numeric_limits<std::int64_t>::max());
    for (std::size_t i = 0; i + 1 < edges.size(); ++i) a.latency.push_back({edges[i], edges[i + 1], 0});
    for (std::int64_t l : latencies_) {
      auto it = std::upper_bound(edges.begin(), edges.end(), l);
      ++a.latency[static_cast<std::size_t>(it - edges.begin()) - 1].count;
    }
    a.latency_samples = latencies_.size();
    if (latencies_.empty()) return;
    auto pct = [&](double q) {
      auto nth = latencies_.begin() + static_cast<std::ptrdiff_t>(q * static_cast<double>(latencies_.size() - 1));
      std::nth_element(latencies_.begin(), nth, latencies_.end());
      return *nth;
    };
    a.latency_p50_ns = pct(0.5);
    a.latency_p90_ns = pct(0.9);
    a.latency_p99_ns = pct(0.99);
    a.latency_max_ns = *std::max_element(latencies_.begin(), latencies_.end());
  }

  // The counter, at most kCurvePoints points: the first count, then the highest count of each
  // stretch of time (at the time of that count), then the last count at the end.
  void goroutine_curve(TraceAnalysis& a, std::int64_t duration) {
    if (counter_.empty()) return;
    a.goroutines_at_start = counter_.front().second;
    a.goroutines_at_end = counter_.back().second;
    a.goroutines_max = counter_.front().second;
    std::vector<std::pair<std::int64_t, std::int64_t>> best{counter_.front()};
    std::int64_t span = std::max<std::int64_t>(duration, 1);
    std::size_t last_bucket = std::numeric_limits<std::size_t>::max();
    for (auto it = counter_.begin() + 1; it != counter_.end(); ++it) {
      const auto& [ts, n] = *it;
      a.goroutines_max = std::max(a.goroutines_max, n);
      auto bucket = static_cast<std::size_t>(static_cast<double>(std::clamp<std::int64_t>(ts, 0, span)) /
                                             static_cast<double>(span) * (kCurvePoints - 3));
      if (bucket != last_bucket) {
        best.emplace_back(ts, n);
        last_bucket = bucket;
      } else if (n > best.back().second) {
        best.back() = {ts, n};
      }
    }
    if (best.back().first < duration) best.emplace_back(duration, a.goroutines_at_end);
    for (const auto& [ts, n] : best) {
      a.goroutines.emplace_back(static_cast<double>(ts) / 1e9, static_cast<double>(n));
    }
  }

  void site_curves(TraceAnalysis& a, const std::vector<std::size_t>& order) {
    for (std::size_t i = 0; i < order.size() && a.site_curves.size() < kSiteCurves; ++i) {
      SiteAcc& s = sites_[order[i]];
      if (s.creates.empty()) continue;
      std::sort(s.exits.begin(), s.exits.end());  // creates are already in time order
      std::vector<std::pair<double, double>> curve;
      for (const auto& [x, y] : a.goroutines) {
        auto t = static_cast<std::int64_t>(std::llround(x * 1e9));
        auto born = std::upper_bound(s.creates.begin(), s.creates.end(), t) - s.creates.begin();
        auto died = std::upper_bound(s.exits.begin(), s.exits.end(), t) - s.exits.begin();
        curve.emplace_back(x, static_cast<double>(born - died));
      }
      a.site_curves.emplace_back(s.stats.site, std::move(curve));
    }
  }

  std::string path_;
  std::string error_;
  int depth_ = 0;
  std::string key_;
  bool root_seen_ = false, events_seen_ = false;
  bool in_other_ = false, in_events_ = false, in_args_ = false;
  std::string generator_;
  std::int64_t start_ns_ = 0, end_ns_ = 0, last_ts_ = 0;
  int procs_ = 0;
  std::uint64_t dropped_ = 0, overwritten_ = 0, events_ = 0;
  Event ev_;

  std::vector<std::string> reasons_;
  std::unordered_map<std::string, std::uint16_t> reason_ids_;
  std::vector<SiteAcc> sites_;
  std::unordered_map<std::string, std::uint32_t> site_ids_;
  std::unordered_map<std::uint64_t, GState> gs_;
  std::map<std::pair<std::uint32_t, std::uint16_t>, BlockingSite> blocking_;
  std::vector<std::int64_t> latencies_;
  std::vector<std::pair<std::int64_t, std::int64_t>> counter_;
};

}  // namespace

TraceAnalysis analyze_trace(const std::string& path) {
  Input input(path);
  Analyzer analyzer(path);
  bool ok = input.parse(&analyzer);
  if (ok) analyzer.check_complete();
  if (!analyzer.error().empty()) {
    throw std::invalid_argument("gocxx::report::analyze_trace: " + analyzer.error());
  }
  return analyzer.finish();
}

}  // namespace gocxx::report
