// The leak watchdog's hook for gocxx::run (gocxx/watchdog.hpp).
#pragma once

#include <cstdint>

namespace gocxx::diag {

// Leak reports written by every watchdog of the process so far (gocxx_leak_watchdog_reports_total).
std::uint64_t watchdog_reports_total();

// Called by gocxx::run: the first call in the process starts the process-wide leak watchdog if
// GOCXX_LEAK_THRESHOLD or GOCXX_LEAK_GROWTH is set (a bad value: a message on stderr naming the
// variable, and no watchdog); later calls do nothing. The watchdog outlives the run: it samples
// every run of the process until stop_leak_watchdog() or exit.
void start_watchdog_from_env();

// The same without the once-per-process latch (tests): true if a watchdog was started.
bool start_watchdog_from_env_now();

}  // namespace gocxx::diag
