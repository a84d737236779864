// Sizing shared by the bench/compare programs (workloads, map_bench): a workload runs the way
// Go's testing.B sizes a benchmark. The Go twin is bench/go/sizing; keep the two in step.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>

namespace bench {

using Nanos = std::chrono::nanoseconds;

// How long the timed run aims to last.
inline Nanos target = std::chrono::milliseconds(400);

// Sets `target` from a "target-ms" command-line argument; exits with status 2 on a bad one.
inline void set_target_from_arg(const char* arg) {
  char* end = nullptr;
  long ms = std::strtol(arg, &end, 10);
  if (end == arg || *end != '\0' || ms <= 0) {
    std::fprintf(stderr, "bad target-ms: %s\n", arg);
    std::exit(2);
  }
  target = std::chrono::milliseconds(ms);
}

// Grows n until one run of f(n) takes at least 1/20 of the target, then does one run sized to
// last about the target and returns its ns/op.
inline double measure(const std::function<Nanos(std::int64_t)>& f) {
  const double probe = double(target.count()) / 20;
  std::int64_t n = 1;
  Nanos d{};
  for (;;) {
    d = f(n);
    if (double(d.count()) >= probe || n >= (std::int64_t{1} << 30)) break;
    std::int64_t next = n * 100;
    if (d.count() > 0) next = std::int64_t(double(n) * probe * 1.2 / double(d.count()));
    if (next > n * 100) next = n * 100;
    if (next <= n) next = n + 1;
    n = next;
  }
  n = std::int64_t(double(n) * double(target.count()) / double(d.count()));
  if (n < 1) n = 1;
  d = f(n);
  return double(d.count()) / double(n);
}

}  // namespace bench
