// Scheduler chaos (chaos.hpp): the settings, their spec syntax, and the draw at each point.
#include "chaos.hpp"

#include <cstdio>
#include <cstdlib>
#include <random>
#include <stdexcept>

#include "gocxx/detail/chaos.hpp"
#include "gocxx/time.hpp"
#include "scheduler.hpp"
#include "spec.hpp"

namespace gocxx::detail {

std::atomic<bool> g_chaos{false};

namespace {

using namespace std::chrono_literals;

constexpr std::chrono::nanoseconds kDefaultMaxDelay = 1ms;
constexpr std::chrono::nanoseconds kMaxMaxDelay = 1s;

// The running run's settings: written by start() before its main goroutine exists, read only by
// its goroutines (so after the run queue's lock has ordered them after the write).
ChaosOptions g_settings;

std::uint64_t mix(std::uint64_t z) {  // splitmix64's finalizer
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// The ranges, for the API's values and the spec's alike; `where` prefixes the field's name.
void check(const ChaosOptions& o, const std::string& where) {
  auto fail = [&](const std::string& what) { throw std::invalid_argument(where + what); };
  for (auto [name, p] : {std::pair{"yield", o.yield}, std::pair{"delay", o.delay}}) {
    if (!(p >= 0 && p <= 1)) fail(std::string(name) + " must be from 0 to 1, got " + spec::shortest(p));
  }
  if (o.yield + o.delay > 1) {
    fail("yield + delay must be at most 1, got " + spec::shortest(o.yield) + " + " +
         spec::shortest(o.delay));
  }
  if (o.max_delay < 0ns || o.max_delay > kMaxMaxDelay) {
    fail("max_delay must be from 1ns to 1s (0: 1ms), got " +
         spec::format_duration(o.max_delay.count()));
  }
}

std::uint64_t random_seed() {
  std::random_device rd;
  std::uint64_t seed = 0;
  while (seed == 0) seed = (std::uint64_t{rd()} << 32) ^ rd();
  return seed;
}

}  // namespace

ChaosOptions parse_chaos(std::string_view text) {
  ChaosOptions o;
  bool perturbs = false;
  for (const spec::Item& item : spec::split(text, "")) {
    if (item.name == "yield" || item.name == "delay") {
      (item.name == "yield" ? o.yield : o.delay) = spec::parse_probability("", item);
      perturbs = true;
    } else if (item.name == "max_delay") {
      std::int64_t ns = spec::parse_duration("", item);
      if (ns < 1 || ns > kMaxMaxDelay.count()) spec::bad("", item, "max_delay must be from 1ns to 1s");
      o.max_delay = std::chrono::nanoseconds(ns);
    } else if (item.name == "seed") {
      o.seed = spec::parse_uint64("", item, "seed");
      if (o.seed == 0) spec::bad("", item, "the seed must not be 0 (leave it out for a random one)");
    } else {
      spec::bad("", item, "unknown key (want yield, delay, max_delay or seed)");
    }
  }
  if (!perturbs) throw std::invalid_argument("sets neither yield nor delay: nothing to perturb");
  check(o, "");
  return o;
}

std::string chaos_string(const ChaosOptions& o) {
  return "yield=" + spec::format_probability(o.yield) +
         ",delay=" + spec::format_probability(o.delay) + ",max_delay=" +
         spec::format_duration((o.max_delay.count() ? o.max_delay : kDefaultMaxDelay).count()) +
         ",seed=" + std::to_string(o.seed);
}

ChaosRun::ChaosRun(const std::optional<ChaosOptions>& options) {
  if (options) {
    check(*options, "gocxx::run: Options::chaos: ");
    settings_ = *options;
  } else if (const char* env = std::getenv("GOCXX_CHAOS"); env && *env) {
    // Not ignored, unlike the runtime's tuning variables: a test run that asked for chaos and
    // silently got none would pass for one that survived it.
    try {
      settings_ = parse_chaos(env);
    } catch (const std::invalid_argument& e) {
      std::fprintf(stderr, "gocxx: invalid GOCXX_CHAOS=%s: %s\n", env, e.what());
      std::fflush(nullptr);
      std::_Exit(2);
    }
  }
  if (settings_.max_delay == 0ns) settings_.max_delay = kDefaultMaxDelay;
}

void ChaosRun::start() {
  if (settings_.yield == 0 && settings_.delay == 0) return;
  if (settings_.seed == 0) {
    settings_.seed = random_seed();
    std::fprintf(stderr, "gocxx: chaos seed %llu (%s)\n",
                 static_cast<unsigned long long>(settings_.seed), chaos_string(settings_).c_str());
  }
  g_settings = settings_;
  on_ = true;
  g_chaos.store(true, std::memory_order_relaxed);
}

ChaosRun::~ChaosRun() {
  if (on_) g_chaos.store(false, std::memory_order_relaxed);
}

void chaos_act() {
  G* g = current_g();
  // A plain thread (or the scheduler stack) has nothing to switch; a goroutine inside
  // gocxx::blocking has no P to yield.
  if (!g || g->status.load(std::memory_order_relaxed) == kSyscall) return;
  if (lock_rank_held_count() != 0) fatal("chaos point reached holding a runtime lock");
  if (g->chaos_generation != g->generation || g->chaos_id != g->id) {
    g->chaos_generation = g->generation;
    g->chaos_id = g->id;
    g->chaos_points = 0;
  }
  const ChaosOptions& s = g_settings;
  std::uint64_t h = mix(mix(mix(s.seed) ^ g->id) ^ g->chaos_points++);
  double u = static_cast<double>(h >> 11) * 0x1.0p-53;  // uniform in [0, 1)
  if (u < s.yield) {
    goyield(g);
  } else if (u < s.yield + s.delay) {
    auto span = static_cast<std::uint64_t>(s.max_delay.count());
    time::sleep(std::chrono::nanoseconds(1 + static_cast<std::int64_t>(mix(h) % span)));
  }
}

}  // namespace gocxx::detail
