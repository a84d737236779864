// Scheduler chaos (chaos.hpp): the settings, their spec syntax, and the draw at each point.
#include "chaos.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <stdexcept>

#include "gocxx/detail/chaos.hpp"
#include "gocxx/time.hpp"
#include "scheduler.hpp"

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

// ---- the text form ----------------------------------------------------------------------------

std::string shortest(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

// A whole string as a finite number; nullopt otherwise.
std::optional<double> parse_number(std::string_view s) {
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// "10%" when that reads back as exactly p, else the fraction: a printed spec replays exactly.
std::string format_probability(double p) {
  std::string percent = shortest(p * 100);
  if (parse_number(percent).value_or(-1) / 100 == p) return percent + "%";
  return shortest(p);
}

// The largest unit that writes d exactly: "1ms", "1500us".
std::string format_duration(std::chrono::nanoseconds d) {
  static constexpr std::pair<std::int64_t, const char*> kUnits[] = {
      {1'000'000'000, "s"}, {1'000'000, "ms"}, {1'000, "us"}};
  for (auto [unit, name] : kUnits) {
    if (d.count() > 0 && d.count() % unit == 0) return std::to_string(d.count() / unit) + name;
  }
  return std::to_string(d.count()) + "ns";
}

[[noreturn]] void bad(std::string_view item, const std::string& why) {
  throw std::invalid_argument("\"" + std::string(item) + "\": " + why);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

double parse_probability(std::string_view item, std::string_view s) {
  bool percent = s.ends_with('%');
  std::optional<double> v = parse_number(percent ? s.substr(0, s.size() - 1) : s);
  if (!v) bad(item, "want a probability like 10% or 0.1");
  return percent ? *v / 100 : *v;
}

// A decimal number and a unit ("1ms", "2.5us", "500µs"): 1 ns to 1 s.
std::chrono::nanoseconds parse_max_delay(std::string_view item, std::string_view s) {
  static constexpr std::pair<std::string_view, double> kUnits[] = {
      {"ns", 1}, {"us", 1e3}, {"\u00b5s", 1e3}, {"\u03bcs", 1e3}, {"ms", 1e6}, {"s", 1e9}};
  std::size_t digits = s.find_first_not_of("0123456789.");
  std::optional<double> v = parse_number(s.substr(0, digits));
  std::string_view unit = digits == std::string_view::npos ? "" : s.substr(digits);
  for (auto [name, ns] : kUnits) {
    if (!v || unit != name) continue;
    double total = std::round(*v * ns);
    if (total < 1 || total > static_cast<double>(kMaxMaxDelay.count())) {
      bad(item, "max_delay must be from 1ns to 1s");
    }
    return std::chrono::nanoseconds(static_cast<std::int64_t>(total));
  }
  bad(item, "want a duration with a unit (ns, us, ms, s), like 1ms");
}

std::uint64_t parse_seed(std::string_view item, std::string_view s) {
  std::uint64_t seed = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), seed);
  if (ec != std::errc() || end != s.data() + s.size() || seed == 0) {
    bad(item, "want a seed from 1 to 2^64-1");
  }
  return seed;
}

// The ranges, for the API's values and the spec's alike; `where` prefixes the field's name.
void check(const ChaosOptions& o, const std::string& where) {
  auto fail = [&](const std::string& what) { throw std::invalid_argument(where + what); };
  for (auto [name, p] : {std::pair{"yield", o.yield}, std::pair{"delay", o.delay}}) {
    if (!(p >= 0 && p <= 1)) fail(std::string(name) + " must be from 0 to 1, got " + shortest(p));
  }
  if (o.yield + o.delay > 1) {
    fail("yield + delay must be at most 1, got " + shortest(o.yield) + " + " + shortest(o.delay));
  }
  if (o.max_delay < 0ns || o.max_delay > kMaxMaxDelay) {
    fail("max_delay must be from 1ns to 1s (0: 1ms), got " + format_duration(o.max_delay));
  }
}

std::uint64_t random_seed() {
  std::random_device rd;
  std::uint64_t seed = 0;
  while (seed == 0) seed = (std::uint64_t{rd()} << 32) ^ rd();
  return seed;
}

}  // namespace

ChaosOptions parse_chaos(std::string_view spec) {
  enum Key : unsigned { kYield, kDelay, kMaxDelay, kSeed, kKeys };
  static constexpr std::string_view kNames[kKeys] = {"yield", "delay", "max_delay", "seed"};
  ChaosOptions o;
  unsigned seen = 0;  // bit k: key k was given
  for (std::size_t start = 0; start <= spec.size();) {
    std::size_t comma = std::min(spec.find(',', start), spec.size());
    std::string_view item = trim(spec.substr(start, comma - start));
    start = comma + 1;
    std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) bad(item, item.empty() ? "empty item" : "want key=value");
    std::string_view name = trim(item.substr(0, eq)), value = trim(item.substr(eq + 1));
    unsigned k = 0;
    while (k < kKeys && kNames[k] != name) ++k;
    if (k == kKeys) bad(item, "unknown key (want yield, delay, max_delay or seed)");
    if (seen & (1u << k)) bad(item, "key given twice");
    seen |= 1u << k;
    switch (k) {
      case kYield: o.yield = parse_probability(item, value); break;
      case kDelay: o.delay = parse_probability(item, value); break;
      case kMaxDelay: o.max_delay = parse_max_delay(item, value); break;
      default: o.seed = parse_seed(item, value); break;
    }
  }
  if ((seen & ((1u << kYield) | (1u << kDelay))) == 0) {
    throw std::invalid_argument("sets neither yield nor delay: nothing to perturb");
  }
  check(o, "");
  return o;
}

std::string chaos_string(const ChaosOptions& o) {
  return "yield=" + format_probability(o.yield) + ",delay=" + format_probability(o.delay) +
         ",max_delay=" + format_duration(o.max_delay.count() ? o.max_delay : kDefaultMaxDelay) +
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
