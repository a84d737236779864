// One gocxx-pressure run, start to end: start the target (if asked), wait until it answers,
// take the baseline dump, put the fault-injecting proxy in front of it, drive the open-loop
// load through the proxy while sampling the goroutine count, capture a dump and a trace when
// an episode begins, settle, take the last sample and dump, stop everything. What it saw is
// the Outcome; the raw files (dumps, traces, samples.csv, target.log) are written into the
// report directory as they are taken, so a run cut short keeps them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <gocxx/chan.hpp>
#include <gocxx/net.hpp>

#include "cli.hpp"
#include "load.hpp"
#include "proxy.hpp"

namespace gocxx::pressure {

struct Sample {
  double seconds = 0;   // since the load started (negative: before it)
  int goroutines = -1;  // -1: the target did not answer
  std::uint64_t scheduled = 0, ok = 0, failed = 0;
  int in_flight = 0;
};

// A dump (and, for episodes, a trace) taken from the target.
struct Capture {
  std::string label;      // "baseline", "episode 1", "end"
  double seconds = 0;     // when it was taken, on the samples' clock
  std::string reason;     // what began the episode ("threshold: 5231 goroutines > 5000")
  std::string dump_file;  // in the report directory; "" if it failed (dump_error says why)
  std::string dump_error;
  std::string trace_file;  // "" if none was asked for, or it failed (trace_error)
  std::string trace_error;
  bool trace_is_go_binary = false;  // Go's format (go tool trace), not gocxx's Chrome JSON
};

struct Outcome {
  Settings settings;           // with {port} replaced
  std::string target_command;  // as run; "" if the target was already running
  std::string load_url;        // through the proxy
  std::string debug_base;      // where the samples, dumps and traces come from
  std::string proxy_addr;
  std::string faults;        // the proxy's faults, gocxx::net::Faults::string(); "" if none
  std::string count_source;  // "pprof" or "metrics"
  std::string started_utc;
  std::vector<Sample> samples;
  std::vector<Capture> captures;
  LoadStats load;
  ProxyStats proxy;
  // Why the run stopped early, if it did ("the target exited with status 1 at 3 s of the run").
  enum class Failure { none, interrupted, usage, target };
  Failure failed = Failure::none;
  std::string failure;
  std::string target_exit;  // how a started target ended ("killed by signal 15 ...")
  double load_seconds = 0;  // when the load ended, on the samples' clock
};

// Runs the whole session inside gocxx::run. `faults` is the parsed --latency/--jitter/--faults.
// Closing `stop` ends the run early (SIGINT). Throws std::runtime_error if
// the report directory cannot be created or written.
Outcome run_session(const Settings& settings, const net::Faults& faults, RecvChan<int> stop);

}  // namespace gocxx::pressure
