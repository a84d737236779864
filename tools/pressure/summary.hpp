// The verdict and the report of a gocxx-pressure run: reads back the dumps and traces the
// session wrote, analyzes them (gocxx::report), decides the verdict and writes report.md,
// report.html and latency.csv next to them.
//
// Exit statuses (the verdict's code): 0 clean, 1 leak suspected, 2 bad usage (a flag, or a
// --listen address the proxy could not listen on), 3 the target could not be reached, failed
// to start, or died during the run (the report is written all the same, with what was
// collected), 4 the report could not be written.
#pragma once

#include <string>

#include "session.hpp"

namespace gocxx::pressure {

inline constexpr int kExitClean = 0;
inline constexpr int kExitLeak = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitTarget = 3;
inline constexpr int kExitReport = 4;

struct Verdict {
  int exit_code = kExitClean;
  std::string word;    // "clean", "leak suspected", "target failed", ...
  std::string reason;  // one sentence: what the verdict rests on
};

// Writes the report into the outcome's report directory and returns the verdict. Throws
// std::runtime_error naming the file that could not be written.
Verdict write_report(const Outcome& o);

}  // namespace gocxx::pressure
