#include "session.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>

#include <gocxx/context.hpp>
#include <gocxx/runtime.hpp>
#include <gocxx/sync.hpp>

#include "episodes.hpp"
#include "probe.hpp"
#include "target.hpp"

namespace gocxx::pressure {

using namespace std::chrono_literals;

namespace {

// A dump of 100k goroutines takes a second or two; allow for a loaded machine.
constexpr Duration kDumpTimeout = 60s;
// Consecutive failed samples after which the target counts as gone.
constexpr int kMaxFailedSamples = 3;

void write_file(const std::string& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Progress on standard error: a run takes a while, and the report comes at its end.
void say(const std::string& line) { std::fprintf(stderr, "gocxx-pressure: %s\n", line.c_str()); }

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

class Session {
 public:
  Session(const Settings& s, const net::Faults& faults, RecvChan<int> stop)
      : faults_(faults), stop_(std::move(stop)), dir_(s.report_dir) {
    o_.settings = s;
    o_.faults = faults.any() ? faults.string() : "";
    o_.started_utc = utc_now();
  }

  Outcome run();

 private:
  bool prepare();  // the target started and answering, the baseline taken
  void drive();    // the proxy, the load and the sampler, then the end sample and dump
  bool start_target();
  bool wait_until_ready();
  void sample_loop();
  void take_sample(EpisodeDetector* detector, int* failures);
  // A dump (and a trace) from the target, written into the report directory.
  Capture take_capture(const std::string& label, const std::string& reason, bool with_trace);
  void record(Capture c);
  void capture_async(std::string label, std::string reason);  // an episode's, while the load runs
  void watch(RecvChan<int> event, std::function<void()> on_event);
  void fail(std::string why, Outcome::Failure kind);
  bool target_failed();
  double now() const { return std::chrono::duration<double>(time::now() - t0_).count(); }

  const net::Faults& faults_;
  RecvChan<int> stop_;
  std::string dir_;
  Outcome o_;  // guarded by mu_ once goroutines share it
  gocxx::sync::Mutex mu_;
  context::Context ctx_;
  context::CancelFunc cancel_;
  time::TimePoint t0_ = time::now();
  std::unique_ptr<TargetProcess> target_;
  std::unique_ptr<Probe> probe_;
  std::unique_ptr<LoadGenerator> load_;
  std::ofstream csv_;
  Chan<int> stop_sampling_;
  Chan<int> finished_;                 // closed when the run ends: the watchers return
  gocxx::sync::WaitGroup background_;  // episode captures and watchers
  int episodes_ = 0;                   // sampler only
};

void Session::fail(std::string why, Outcome::Failure kind) {
  {
    std::lock_guard lk(mu_);
    if (o_.failed != Outcome::Failure::none) return;
    o_.failure = std::move(why);
    o_.failed = kind;
  }
  cancel_();
}

bool Session::target_failed() {
  std::lock_guard lk(mu_);
  return o_.failed == Outcome::Failure::target;
}

void Session::watch(RecvChan<int> event, std::function<void()> on_event) {
  background_.add(1);
  gocxx::go([this, event, on_event = std::move(on_event)] {
    bool fired = false;
    gocxx::select(gocxx::recv_case(event, [&] { fired = true; }),
                  gocxx::recv_case(finished_, [] {}));
    if (fired) on_event();
    background_.done();
  });
}

bool Session::start_target() {
  int port = o_.settings.launches_target() ? free_port() : 0;
  Settings& s = o_.settings;
  s.target = with_port(s.target, port);
  s.debug_url = with_port(s.debug_url, port);
  if (!s.launches_target()) return true;
  std::vector<std::string> argv = target_command(s, port);
  o_.target_command = join(argv);
  try {
    target_ = TargetProcess::start(argv, dir_ + "/target.log");
  } catch (const std::runtime_error& e) {
    fail(e.what(), Outcome::Failure::target);
    return false;
  }
  return true;
}

bool Session::wait_until_ready() {
  const Settings& s = o_.settings;
  auto deadline = time::now() + (target_ ? s.startup_timeout : Duration::zero());
  for (;;) {
    auto [n, err] = probe_->goroutines();
    if (!err) return true;
    if (target_ && target_->status()) {
      fail("the target " + target_->describe() + " during startup (see target.log)",
           Outcome::Failure::target);
      return false;
    }
    if (time::now() >= deadline) {
      fail(target_ ? "the target did not answer within " + format_duration(s.startup_timeout) +
                         ": " + err.message()
                   : "target unreachable: " + err.message(),
           Outcome::Failure::target);
      return false;
    }
    gocxx::select(gocxx::recv_case(time::after(100ms), [] {}),
                  gocxx::recv_case(ctx_.done(), [] {}));
    if (ctx_.err()) return false;  // interrupted
  }
}

Capture Session::take_capture(const std::string& label, const std::string& reason,
                              bool with_trace) {
  Capture c;
  c.label = label;
  c.seconds = now();
  c.reason = reason;
  std::string stem = label;
  std::replace(stem.begin(), stem.end(), ' ', '-');
  // Into the report directory as `name`; the error, or "".
  auto save = [&](const std::string& name, const Result<std::string>& got) -> std::string {
    if (got.err) return got.err.message();
    try {
      write_file(dir_ + "/" + name, got.value);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  };
  c.dump_file = "dump-" + stem + ".txt";
  c.dump_error = save(c.dump_file, probe_->get("/debug/pprof/goroutine?debug=2", kDumpTimeout));
  if (!c.dump_error.empty()) c.dump_file.clear();
  int secs = o_.settings.trace_seconds;
  if (!with_trace || secs == 0) return c;
  auto [t, terr] = probe_->download("/debug/pprof/trace?seconds=" + std::to_string(secs),
                                    std::chrono::seconds(secs) + kDumpTimeout);
  // Go's trace is binary ("go 1.19 trace\0..."); gocxx's is JSON.
  c.trace_is_go_binary = !terr && t.content_type.find("json") == std::string::npos &&
                         !t.body.starts_with("{") && !t.body.starts_with("[");
  c.trace_file = "trace-" + stem + (c.trace_is_go_binary ? ".out" : ".json");
  c.trace_error = save(c.trace_file, {std::move(t.body), terr});
  if (!c.trace_error.empty()) c.trace_file.clear();
  return c;
}

void Session::record(Capture c) {
  std::lock_guard lk(mu_);
  o_.captures.push_back(std::move(c));
}

void Session::capture_async(std::string label, std::string reason) {
  background_.add(1);
  gocxx::go([this, label = std::move(label), reason = std::move(reason)] {
    record(take_capture(label, reason, true));
    background_.done();
  });
}

void Session::take_sample(EpisodeDetector* detector, int* failures) {
  auto [n, err] = probe_->goroutines();
  LoadStats ls = load_ ? load_->stats() : LoadStats{};
  Sample s{.seconds = now(),
           .goroutines = err ? -1 : n,
           .scheduled = ls.scheduled,
           .ok = ls.ok,
           .failed = ls.failed,
           .in_flight = ls.in_flight};
  {
    std::lock_guard lk(mu_);
    o_.samples.push_back(s);
    char line[160];
    std::snprintf(line, sizeof line, "%.3f,%d,%llu,%llu,%llu,%d\n", s.seconds, s.goroutines,
                  static_cast<unsigned long long>(s.scheduled),
                  static_cast<unsigned long long>(s.ok), static_cast<unsigned long long>(s.failed),
                  s.in_flight);
    csv_ << line << std::flush;
  }
  if (err) {
    if (++*failures >= kMaxFailedSamples) {
      fail("the target stopped answering at " + format_seconds(s.seconds) +
               " of the run: " + err.message(),
           Outcome::Failure::target);
    }
    return;
  }
  *failures = 0;
  if (!detector) return;
  if (auto reason = detector->observe(n, s.seconds)) {
    say("episode " + std::to_string(episodes_ + 1) + " at " + format_seconds(s.seconds) + ": " +
        *reason + "; taking a dump" + (o_.settings.trace_seconds > 0 ? " and a trace" : ""));
    capture_async("episode " + std::to_string(++episodes_), *reason);
  }
}

void Session::sample_loop() {
  const Settings& s = o_.settings;
  EpisodeDetector detector({.threshold = s.threshold,
                            .hysteresis = s.hysteresis,
                            .growth_per_second = s.growth,
                            .growth_samples = s.growth_samples});
  time::Ticker tick(s.interval);
  int failures = 0;
  for (;;) {
    bool stop = false;
    gocxx::select(gocxx::recv_case(tick.c(), [] {}),
                  gocxx::recv_case(stop_sampling_, [&] { stop = true; }),
                  gocxx::recv_case(ctx_.done(), [&] { stop = true; }));
    if (stop) return;
    take_sample(&detector, &failures);
  }
}

bool Session::prepare() {
  if (!start_target()) return false;
  const Settings& s = o_.settings;
  o_.debug_base = s.debug_url.empty() ? s.target : s.debug_url;
  probe_ =
      std::make_unique<Probe>(o_.debug_base, s.count_source, std::max<Duration>(s.interval, 5s));
  if (!wait_until_ready()) return false;
  o_.count_source = probe_->source_name();
  o_.debug_base = probe_->base();
  t0_ = time::now();
  // From now on: wait_until_ready reports an exit during startup itself.
  if (target_) {
    watch(target_->exited(), [this] {
      fail("the target " + target_->describe() + " at " + format_seconds(now()) +
               " of the run (see target.log)",
           Outcome::Failure::target);
    });
  }
  int failures = 0;
  take_sample(nullptr, &failures);
  record(take_capture("baseline", "", false));  // before any load
  return true;
}

void Session::drive() {
  const Settings& s = o_.settings;
  auto [u, uerr] = http::parse_url(s.target);
  if (uerr) return fail("--target " + s.target + ": " + uerr.message(), Outcome::Failure::usage);
  std::string upstream = u.host.find(':') == std::string::npos ? u.host + ":80" : u.host;
  std::unique_ptr<Proxy> proxy;
  try {
    proxy = Proxy::start(s.listen, upstream, faults_);
  } catch (const std::runtime_error& e) {
    return fail(e.what(), Outcome::Failure::usage);
  }
  o_.proxy_addr = proxy->addr();
  o_.load_url = "http://" + proxy->addr() + u.request_uri();
  char rate[32];
  std::snprintf(rate, sizeof rate, "%g", s.rate);
  say("load: " + std::string(rate) + "/s for " + format_duration(s.duration) + " to " +
      o_.load_url + (o_.faults.empty() ? "" : " (faults " + o_.faults + ")") +
      "; goroutines from " + o_.debug_base);
  load_ = std::make_unique<LoadGenerator>(LoadOptions{.url = o_.load_url,
                                                      .rate = s.rate,
                                                      .duration = s.duration,
                                                      .timeout = s.timeout,
                                                      .max_in_flight = s.max_in_flight});
  Chan<int> sampler_done;
  gocxx::go([this, sampler_done]() mutable {
    sample_loop();
    sampler_done.close();
  });
  load_->run(ctx_);
  o_.load_seconds = now();
  gocxx::select(gocxx::recv_case(time::after(s.settle), [] {}),
                gocxx::recv_case(ctx_.done(), [] {}));
  stop_sampling_.close();
  sampler_done.recv();
  o_.load = load_->stats();
  o_.proxy = proxy->stats();
  proxy->close();
  if (!target_failed()) {
    int failures = 0;
    take_sample(nullptr, &failures);
    record(take_capture("end", "", false));
  }
}

Outcome Session::run() {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec)
    throw std::runtime_error("cannot create the report directory " + dir_ + ": " + ec.message());
  csv_.open(dir_ + "/samples.csv", std::ios::trunc);
  if (!csv_) throw std::runtime_error("cannot write " + dir_ + "/samples.csv");
  csv_ << "seconds,goroutines,scheduled,ok,failed,in_flight\n";

  auto [ctx, cancel] = context::with_cancel(context::background());
  ctx_ = ctx;
  cancel_ = cancel;
  watch(stop_, [this] { fail("interrupted", Outcome::Failure::interrupted); });
  if (prepare()) drive();

  // The watchers go before the target is stopped: stopping it is no death to report.
  finished_.close();
  background_.wait();
  if (target_) {
    bool was_running = target_->stop(5s);
    o_.target_exit =
        (was_running ? "stopped at the end of the run (SIGTERM), " : "") + target_->describe();
    if (!was_running && o_.failed == Outcome::Failure::none) {
      o_.failure =
          "the target " + target_->describe() + " before the end of the run (see target.log)";
      o_.failed = Outcome::Failure::target;
    }
  }
  cancel_();
  std::sort(o_.captures.begin(), o_.captures.end(),
            [](const Capture& a, const Capture& b) { return a.seconds < b.seconds; });
  return o_;
}

}  // namespace

Outcome run_session(const Settings& settings, const net::Faults& faults, RecvChan<int> stop) {
  Session session(settings, faults, std::move(stop));
  return session.run();
}

}  // namespace gocxx::pressure
