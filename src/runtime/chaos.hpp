// Scheduler chaos (gocxx::ChaosOptions, GOCXX_CHAOS): the settings of a run and their text form.
//
// At a chaos point (gocxx/detail/chaos.hpp) a goroutine draws a number from (seed, goroutine
// id, how many points that goroutine has passed): below `yield` it yields to the back of the
// global run queue; below yield + delay it sleeps up to max_delay. The draw depends on nothing
// else, so on one P with yields only the interleaving is a function of the seed.
//
// GOCXX_CHAOS: comma-separated key=value, e.g. "yield=10%,delay=1%,max_delay=1ms,seed=42".
//   yield, delay  probability: "10%" or a fraction "0.1", from 0 to 1; yield + delay <= 1;
//                 at least one of them must be named (else the spec perturbs nothing)
//   max_delay     a duration with a unit (ns, us, µs, ms, s), decimals allowed: 1 ns to 1 s;
//                 default 1ms
//   seed          a whole number from 1 to 2^64-1; default random (printed at run start)
#pragma once

#include <string>
#include <string_view>

#include "gocxx/runtime.hpp"

namespace gocxx::detail {

// The spec's settings; std::invalid_argument (naming the item and what it wants) if malformed.
ChaosOptions parse_chaos(std::string_view spec);
// The spec that parses back to exactly `options`: "yield=10%,delay=1%,max_delay=1ms,seed=42".
std::string chaos_string(const ChaosOptions& options);

// Chaos for one gocxx::run. Construction resolves the settings (Options::chaos, else
// GOCXX_CHAOS): it throws std::invalid_argument for bad options and exits with status 2 for a
// bad GOCXX_CHAOS, before the run has done anything. start() turns chaos on, before the main
// goroutine exists; the destructor turns it off, once every M has stopped.
class ChaosRun {
 public:
  explicit ChaosRun(const std::optional<ChaosOptions>& options);
  ~ChaosRun();
  ChaosRun(const ChaosRun&) = delete;
  ChaosRun& operator=(const ChaosRun&) = delete;
  void start();

 private:
  ChaosOptions settings_;
  bool on_ = false;
};

}  // namespace gocxx::detail
