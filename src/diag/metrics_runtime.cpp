// The runtime's metrics (gocxx::metrics::register_runtime_metrics): client_golang's Go and
// process collectors' names where the concept is the same, and gocxx's own. Everything is
// read at scrape time from state the runtime keeps anyway; nothing here adds work to the
// scheduler.
//
// Goroutines by state and wait reason come from one pass over the registry of every G (Go's
// allgs): a G's status, wait reason, generation and id are a few loads from its record, with
// no scan bit and no stack (a dump's symbolization is what makes it slow), so a scrape of a
// process with 100k goroutines stays in the low milliseconds (tests/metrics_test.cpp measures
// it). A G that changes state during the pass is counted in one of its states.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "diag/metrics.hpp"
#include "diag/stacktrace.hpp"
#include "diag/watchdog.hpp"
#include "gocxx/net.hpp"
#include "gocxx/runtime.hpp"
#include "runtime/goroutine.hpp"
#include "runtime/registry.hpp"
#include "runtime/scheduler.hpp"
#include "runtime/stats.hpp"

namespace gocxx::metrics::impl {

namespace {

using gocxx::detail::G;
using gocxx::detail::WaitReason;

constexpr int kReasons = static_cast<int>(WaitReason::kCount);

// One pass over every G.
struct GoroutineCounts {
  std::uint64_t live_generation = 0;
  const G* self = nullptr;
  std::int64_t runnable = 0, running = 0, syscall = 0;
  std::int64_t waiting[kReasons] = {};
  std::int64_t abandoned = 0;
  std::uint64_t max_id = 0;  // the highest id of the live run's Gs, dead ones included
};

void count_goroutine(G* g, void* arg) {
  auto& c = *static_cast<GoroutineCounts*>(arg);
  const std::uint32_t status = g->status.load(std::memory_order_acquire) & ~gocxx::detail::kScanBit;
  // Identity fields are plain words that make_goroutine writes while the G is dead: read
  // racily, as the dump does (a G being reused right now may show its old or its new id).
  const std::uint64_t generation = gocxx::diag::racy_word(&g->generation);
  const bool alive = status == gocxx::detail::kRunnable || status == gocxx::detail::kRunning ||
                     status == gocxx::detail::kSyscall || status == gocxx::detail::kWaiting;
  if (c.live_generation == 0 || generation != c.live_generation) {
    if (alive) ++c.abandoned;
    return;
  }
  c.max_id = std::max<std::uint64_t>(c.max_id, gocxx::diag::racy_word(&g->id));
  if (g == c.self) {
    ++c.running;
    return;
  }
  switch (status) {
    case gocxx::detail::kRunnable: ++c.runnable; break;
    case gocxx::detail::kRunning: ++c.running; break;
    case gocxx::detail::kSyscall: ++c.syscall; break;
    case gocxx::detail::kWaiting: {
      auto r = static_cast<int>(g->wait_reason.load(std::memory_order_relaxed));
      ++c.waiting[r >= 0 && r < kReasons ? r : 0];
      break;
    }
    default: break;
  }
}

GoroutineCounts count_goroutines() {
  GoroutineCounts c;
  c.live_generation = gocxx::detail::live_generation();
  c.self = gocxx::detail::current_g();
  gocxx::detail::registry_for_each(count_goroutine, &c);
  return c;
}

// /proc/self/stat, as client_golang's process collector (procfs) reads it.
struct ProcStat {
  bool ok = false;
  double utime_ticks = 0, stime_ticks = 0;
  double num_threads = 0;
  double starttime_ticks = 0;
  double vsize = 0;
  double rss_pages = 0;
};

bool read_file(const char* path, char* buf, std::size_t size) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::size_t n = 0;
  while (n + 1 < size) {
    ssize_t r = ::read(fd, buf + n, size - 1 - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += static_cast<std::size_t>(r);
  }
  ::close(fd);
  buf[n] = '\0';
  return n > 0;
}

ProcStat read_proc_stat() {
  ProcStat s;
  char buf[1024];
  if (!read_file("/proc/self/stat", buf, sizeof buf)) return s;
  // Fields from 3 on follow the command name's closing parenthesis (the name may hold spaces).
  const char* p = std::strrchr(buf, ')');
  if (!p) return s;
  double fields[25] = {};  // fields[i]: field i (1-based, as proc(5) numbers them)
  int field = 3;
  p += 1;
  while (field <= 24 && *p) {
    while (*p == ' ') ++p;
    char* end = nullptr;
    fields[field] = std::strtod(p, &end);  // field 3 (state) is a letter: stays 0
    while (*p && *p != ' ') ++p;
    ++field;
  }
  if (field <= 24) return s;
  s.ok = true;
  s.utime_ticks = fields[14];
  s.stime_ticks = fields[15];
  s.num_threads = fields[20];
  s.starttime_ticks = fields[22];
  s.vsize = fields[23];
  s.rss_pages = fields[24];
  return s;
}

// Boot time (btime in /proc/stat), seconds since the epoch; read once.
double boot_time() {
  static const double btime = [] {
    static char buf[64 * 1024];  // /proc/stat grows with the CPU count
    if (!read_file("/proc/stat", buf, sizeof buf)) return 0.0;
    const char* p = std::strstr(buf, "\nbtime ");
    return p ? std::strtod(p + 7, nullptr) : 0.0;
  }();
  return btime;
}

double rlimit_value(int resource) {
  rlimit r{};
  if (::getrlimit(resource, &r) != 0) return 0;
  // client_golang reads /proc/self/limits, where "unlimited" becomes the largest uint64.
  return static_cast<double>(r.rlim_cur == RLIM_INFINITY ? ~std::uint64_t{0} : r.rlim_cur);
}

MetricFamily family(const char* name, const char* help, MetricType type) {
  MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  return f;
}

void add_one(std::vector<MetricFamily>& out, const char* name, const char* help, MetricType type,
             double value) {
  MetricFamily f = family(name, help, type);
  f.samples.push_back(value_sample(value));
  out.push_back(std::move(f));
}

class RuntimeCollector final : public Collector {
 public:
  std::vector<std::string> describe() const override {
    return {"go_goroutines",
            "go_threads",
            "go_sched_gomaxprocs_threads",
            "process_cpu_seconds_total",
            "process_open_fds",
            "process_max_fds",
            "process_virtual_memory_bytes",
            "process_virtual_memory_max_bytes",
            "process_resident_memory_bytes",
            "process_start_time_seconds",
            "gocxx_goroutines",
            "gocxx_goroutines_abandoned",
            "gocxx_goroutines_created_total",
            "gocxx_sched_run_queue_length",
            "gocxx_sched_parks_total",
            "gocxx_sched_steals_total",
            "gocxx_sched_long_running_total",
            "gocxx_netpoll_waits_total",
            "gocxx_net_sockets_opened_total",
            "gocxx_net_sockets_closed_total",
            "gocxx_leak_watchdog_reports_total"};
  }

  void collect(std::vector<MetricFamily>& out) const override {
    using T = MetricType;
    // client_golang's Go collector.
    add_one(out, "go_goroutines", "Number of goroutines that currently exist.", T::gauge,
            gocxx::num_goroutine());
    const ProcStat st = read_proc_stat();
    if (st.ok) {
      add_one(out, "go_threads", "Number of OS threads created.", T::gauge, st.num_threads);
    }
    add_one(out, "go_sched_gomaxprocs_threads",
            "The current runtime.GOMAXPROCS setting, or the number of operating system threads "
            "that can execute user-level Go code simultaneously.",
            T::gauge, gocxx::procs());

    // client_golang's process collector.
    const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    const net::Stats ns = net::stats();  // also counts /proc/self/fd
    if (st.ok && ticks > 0) {
      add_one(out, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
              T::counter, (st.utime_ticks + st.stime_ticks) / ticks);
    }
    add_one(out, "process_open_fds", "Number of open file descriptors.", T::gauge,
            static_cast<double>(ns.open_fds));
    add_one(out, "process_max_fds", "Maximum number of open file descriptors.", T::gauge,
            rlimit_value(RLIMIT_NOFILE));
    if (st.ok) {
      add_one(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.", T::gauge,
              st.vsize);
    }
    add_one(out, "process_virtual_memory_max_bytes",
            "Maximum amount of virtual memory available in bytes.", T::gauge,
            rlimit_value(RLIMIT_AS));
    if (st.ok) {
      add_one(out, "process_resident_memory_bytes", "Resident memory size in bytes.", T::gauge,
              st.rss_pages * static_cast<double>(::sysconf(_SC_PAGESIZE)));
      if (ticks > 0 && boot_time() > 0) {
        add_one(out, "process_start_time_seconds",
                "Start time of the process since unix epoch in seconds.", T::gauge,
                boot_time() + st.starttime_ticks / ticks);
      }
    }

    // gocxx's own.
    const GoroutineCounts c = count_goroutines();
    MetricFamily g = family("gocxx_goroutines",
                            "Goroutines of the running gocxx::run by state and wait reason "
                            "(Go's words, as in a goroutine dump).",
                            T::gauge);
    auto sample = [&g](const char* state, const char* reason, std::int64_t n) {
      g.samples.push_back(
          value_sample(static_cast<double>(n), {{"state", state}, {"wait_reason", reason}}));
    };
    sample("runnable", "", c.runnable);
    sample("running", "", c.running);
    sample("syscall", "", c.syscall);
    // Every wait reason, zeros included: a series that comes and goes is hard to alert on.
    for (int r = 0; r < kReasons; ++r) {
      if (r == 0 && c.waiting[0] == 0) continue;  // "waiting" with no reason: never, normally
      sample("waiting", gocxx::detail::wait_reason_string(static_cast<WaitReason>(r)), c.waiting[r]);
    }
    out.push_back(std::move(g));
    add_one(out, "gocxx_goroutines_abandoned",
            "Goroutines left behind, parked or queued, by gocxx::run calls that have returned.",
            T::gauge, static_cast<double>(c.abandoned));

    gocxx::detail::SchedStats ss;
    const bool on_goroutine = gocxx::detail::sched_stats(ss);
    add_one(out, "gocxx_goroutines_created_total",
            "Goroutines created by the running gocxx::run, the main goroutine included.",
            T::counter, static_cast<double>(on_goroutine ? ss.goroutines_created : c.max_id));
    if (on_goroutine) {
      // Only a goroutine of the run can read the run queues safely (see runtime/stats.hpp).
      MetricFamily q = family("gocxx_sched_run_queue_length",
                              "Goroutines waiting in the scheduler's run queues (global: the "
                              "shared queue; local: the sum of the Ps' queues).",
                              T::gauge);
      q.samples.push_back(value_sample(static_cast<double>(ss.global_runq), {{"queue", "global"}}));
      q.samples.push_back(value_sample(static_cast<double>(ss.local_runq), {{"queue", "local"}}));
      out.push_back(std::move(q));
      add_one(out, "gocxx_sched_parks_total",
              "Times goroutines of the running gocxx::run parked (blocked on a channel, lock, "
              "timer, I/O, ...).",
              T::counter, static_cast<double>(ss.parks));
      add_one(out, "gocxx_sched_steals_total",
              "Times a P took goroutines from another P's run queue (work stealing).", T::counter,
              static_cast<double>(ss.steals));
      add_one(out, "gocxx_sched_long_running_total",
              "Goroutines seen holding their P for 10 ms without a scheduling point (gocxx has "
              "no preemption: the P's other goroutines wait meanwhile).",
              T::counter, static_cast<double>(ss.long_runs));
      add_one(out, "gocxx_netpoll_waits_total",
              "Times goroutines parked waiting for a socket to become ready (wait reason IO wait).",
              T::counter, static_cast<double>(ss.io_waits));
    }

    add_one(out, "gocxx_net_sockets_opened_total",
            "Sockets opened by gocxx::net (listen, dial, accept).", T::counter,
            static_cast<double>(ns.sockets_opened));
    add_one(out, "gocxx_net_sockets_closed_total", "Sockets closed by gocxx::net.", T::counter,
            static_cast<double>(ns.sockets_closed));
    add_one(out, "gocxx_leak_watchdog_reports_total",
            "Leak reports written by the goroutine leak watchdog (one per episode).", T::counter,
            static_cast<double>(gocxx::diag::watchdog_reports_total()));
  }
};

}  // namespace

std::shared_ptr<const Collector> make_runtime_collector() {
  return std::make_shared<RuntimeCollector>();
}

}  // namespace gocxx::metrics::impl
