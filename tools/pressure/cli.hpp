// gocxx-pressure's command line: every flag, its parsing and validation. A bad flag or value
// throws UsageError with a message that names the flag and what it wants; main prints it with
// the usage and exits with status 2 (the convention of Go's flag package).
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace gocxx::pressure {

using Duration = std::chrono::nanoseconds;

class UsageError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Where the target's goroutine count is read.
enum class CountSource { automatic, pprof, metrics };

// The latency --jitter varies when neither --latency nor --faults sets one.
inline constexpr std::string_view kJitterLatency = "10ms";

struct Settings {
  std::string target;     // the URL the load requests ("http://127.0.0.1:8080/work")
  std::string debug_url;  // where /debug/pprof/... and /metrics are; default: the target's host
  double rate = 100;      // requests per second, open loop
  Duration duration = std::chrono::seconds(30);
  Duration timeout = std::chrono::seconds(10);  // per request
  int max_in_flight = 10000;
  std::string listen = "127.0.0.1:0";  // the fault-injecting proxy's address
  std::string latency;                 // --latency, as given ("20ms")
  std::string jitter;                  // --jitter, as given ("10%")
  std::string faults;                  // --faults, a gocxx::net::Faults spec
  int threshold = 5000;                // 0: off
  double growth = 0;                   // goroutines per second; 0: off
  int growth_samples = 5;
  double hysteresis = 0.9;
  Duration interval = std::chrono::seconds(1);
  int trace_seconds = 5;  // 0: no trace
  CountSource count_source = CountSource::automatic;
  std::string report_dir = "pressure-report";
  // The target program (--exec's shell command, or the words after --), "{port}" replaced.
  std::string exec;               // --exec, run by /bin/sh -c
  std::vector<std::string> argv;  // after --
  Duration startup_timeout = std::chrono::seconds(15);
  Duration settle = std::chrono::seconds(2);  // after the load, before the last sample and dump

  bool launches_target() const { return !exec.empty() || !argv.empty(); }
  // The Faults spec that --latency, --jitter and --faults ask for ("" if none); --jitter
  // without a latency gets kJitterLatency.
  std::string faults_spec() const;
};

// Parses argv[1..]. Throws UsageError. help is set (and nothing validated) for -h/--help.
Settings parse_args(const std::vector<std::string>& args, bool* help);
std::string usage();

// Value syntaxes, also used by the tests.
double parse_rate(std::string_view s);        // "500", "500/s", "30000/m", "2/ms"
Duration parse_duration(std::string_view s);  // Go's time.ParseDuration: "1m30s", "250ms", "1.5h"
double parse_percent(std::string_view s);     // "10%" -> 10 (0 < p <= 100)
std::string format_duration(Duration d);      // Go's Duration.String: "1m30s", "250ms"
std::string format_seconds(double s);         // a time in the run: "2.5 s"

// Replaces every "{port}" in s.
std::string with_port(std::string s, int port);

}  // namespace gocxx::pressure
