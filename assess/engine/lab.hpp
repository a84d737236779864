// Pressure-mode labs (seed ch. 5: "pressure mode -> inject 10% network jitter -> watch goroutine
// growth -> > 5000 goroutines: leak analysis -> trace report"), run by the grader after a lab
// item's normal checks pass (item.json fix.lab, bank.hpp LabSpec), in pressure mode and outside
// it: a lab's behaviour under faults is its point.
//
//   assess::lab::Outcome o = assess::lab::run(*item.fix->lab, {
//       .dir = scratch / "tmp", .tool = "/usr/bin/gocxx-pressure", .seed = 1, .rate = 0.10,
//       .run = [&](auto argv, auto wall, auto env) { return go.run(argv, wall, env); }});
//   o.verdict;  // "pass", "lab" (a check failed: o.message names it), "error" (could not run)
//   o.lab;      // results.json assess.lab: passed, checks, goroutines, heap_mb, latency_ms, ...
//
// How it runs: everything is in ONE sandbox run, so the candidate's service never leaves the
// sandbox and the load reaches it over the sandbox's own loopback (its network namespace):
// `go build` makes ./service of the submission and the bank's driver assess/labrun (in <bank>/_lib),
// then the driver starts the service, runs gocxx-pressure against it (mounted read-only, with
// `--jitter <rate>` on its fault-injecting proxy, seeded, at the lab's rate and duration), reads
// the service's /lab/facts, and checks graceful shutdown (SIGTERM while /lab/slow requests are
// in flight). The grader then judges the facts the run left in `dir`: gocxx-pressure's report
// directory (samples.csv, latency.csv, report.md: verdict, leak analysis, trace report), the
// service's log (GODEBUG=gctrace=1 lines) and the driver's JSON.
//
// Checks (assess.lab.checks, in this order): leak (gocxx-pressure found no episode, the
// goroutines after the load are within baseline + leak_slack, and the "leak" facts hold),
// latency (p99 within latency_p99_ms, failed requests within max_failed_percent), shutdown
// (every in-flight request answered, exit 0 within shutdown_s), heap (only with max_gcs,
// max_heap_mb or "heap" facts: the gctrace figures), consistency (only with "consistency"
// facts). A service that does not build, never answers or dies at start fails one check,
// "startup".
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/bank.hpp"
#include "engine/sandbox.hpp"

namespace assess::lab {

using Env = std::vector<std::pair<std::string, std::string>>;
// Runs argv in the sandbox, in the item's package directory, with the grader's Go environment
// and `tool` mounted read-only.
using Runner = std::function<sandbox::Outcome(std::vector<std::string> argv, std::chrono::milliseconds wall, Env env)>;

struct Setup {
  std::filesystem::path dir;   // writable in the sandbox: the binaries, the report, the log
  std::filesystem::path tool;  // gocxx-pressure
  std::uint64_t seed = 1;      // the faults' seed
  double rate = 0.10;          // the jitter: each proxied read's 10 ms latency varies by rate
  std::filesystem::path scratch;  // paths under it are rewritten in what is shown (rewrite_paths)
  std::chrono::milliseconds build_wall{180'000};
  Runner run;
};

struct Outcome {
  std::string verdict;  // "pass", "lab", "error"
  std::string message;  // the failed checks ("leak: goroutines 4 -> 310 ..."), or why it could not run
  nlohmann::json lab;   // results.json assess.lab (null when it could not run)
};

Outcome run(const LabSpec& spec, const Setup& setup);

// What a lab run left behind, read by judge(): the driver's JSON and the files' text.
struct Evidence {
  nlohmann::json driver;    // assess/labrun's Result
  std::string samples_csv;  // gocxx-pressure's report directory
  std::string latency_csv;
  std::string report_md;
  std::string service_log;  // the service's stdout and stderr (gctrace lines)
  std::string faults;       // as shown: "10% jitter on 10 ms proxied reads (seed 1)"
};

// The checks and assess.lab from the evidence (pure: the tests call it on made-up evidence).
Outcome judge(const LabSpec& spec, const Evidence& evidence);

// gctrace lines ("gc 12 @1.503s 2%: ... 4->5->1 MB, ...") as [t_ms, MB at the cycle's start],
// t_ms on the service's clock.
std::vector<std::pair<double, double>> gctrace_heap(const std::string& log);

}  // namespace assess::lab
