// gocxx-pressure: pressure-tests an HTTP service (gocxx or Go) for goroutine leaks. It drives
// open-loop load through a fault-injecting proxy, samples the target's goroutine count, takes
// goroutine dumps and a trace when the count crosses a threshold or keeps growing, and writes a
// report directory with the verdict. `gocxx-pressure --help` lists the flags;
// summary.hpp the exit statuses.
//
//   gocxx-pressure --target http://127.0.0.1:8080/work --jitter 10% --latency 20ms
//                  --rate 500/s --duration 60s --threshold 5000 --report out/
//   gocxx-pressure --rate 200/s --duration 20s --threshold 1000 --report out/
//                  --target 'http://127.0.0.1:{port}/work' -- ./service 127.0.0.1:{port}
#include <signal.h>

#include <cstdio>
#include <stdexcept>
#include <thread>

#include <gocxx/gocxx.hpp>
#include <gocxx/net.hpp>

#include "cli.hpp"
#include "session.hpp"
#include "summary.hpp"

namespace pressure = gocxx::pressure;

int main(int argc, char** argv) {
  pressure::Settings settings;
  gocxx::net::Faults faults;
  try {
    bool help = false;
    settings = pressure::parse_args({argv + 1, argv + argc}, &help);
    if (help) {
      std::fputs(pressure::usage().c_str(), stdout);
      return 0;
    }
    try {
      faults = gocxx::net::Faults::parse(settings.faults_spec());
    } catch (const std::invalid_argument& e) {
      throw pressure::UsageError("invalid faults \"" + settings.faults_spec() + "\": " + e.what());
    }
  } catch (const pressure::UsageError& e) {
    std::fprintf(stderr, "gocxx-pressure: %s\n\n%s", e.what(), pressure::usage().c_str());
    return pressure::kExitUsage;
  }

  // SIGINT/SIGTERM end the run early, with a report, and stop a target we started (which is in
  // a process group of its own, so a terminal's Ctrl-C does not reach it).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  return gocxx::run([&] {
    // Only the proxy injects faults: the probe's requests and the load's own dials must not
    // take a process-wide default from GOCXX_FAULTS (a started target still inherits it).
    gocxx::net::set_faults(gocxx::net::Faults{});
    gocxx::Chan<int> stop;
    std::thread([stop, stop_signals]() mutable {
      int sig = 0;
      sigwait(&stop_signals, &sig);
      std::fputs("gocxx-pressure: interrupted; stopping and writing the report\n", stderr);
      stop.close();
    }).detach();
    try {
      pressure::Outcome outcome = pressure::run_session(settings, faults, stop);
      pressure::Verdict v = pressure::write_report(outcome);
      std::fprintf(stderr,
                   "gocxx-pressure: %s: %s\ngocxx-pressure: report: %s/report.html, %s/report.md\n",
                   v.word.c_str(), v.reason.c_str(), settings.report_dir.c_str(),
                   settings.report_dir.c_str());
      return v.exit_code;
    } catch (const std::runtime_error& e) {
      std::fprintf(stderr, "gocxx-pressure: %s\n", e.what());
      return pressure::kExitReport;
    }
  });
}
