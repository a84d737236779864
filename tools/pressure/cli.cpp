#include "cli.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>

#include <gocxx/http.hpp>

namespace gocxx::pressure {

namespace {

[[noreturn]] void bad(std::string_view flag, std::string_view value, std::string_view want) {
  throw UsageError("invalid value \"" + std::string(value) + "\" for flag --" + std::string(flag) +
                   ": " + std::string(want));
}

// A whole string as a finite double (strtod alone accepts "1x" and "nan").
bool to_double(std::string_view s, double* out) {
  std::string str(s);
  if (str.empty() || std::isspace(static_cast<unsigned char>(str[0]))) return false;
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(str.c_str(), &end);
  if (errno != 0 || *end != '\0' || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

bool to_int(std::string_view s, long min, long max, int* out) {
  std::string str(s);
  if (str.empty()) return false;
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(str.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || v < min || v > max) return false;
  *out = static_cast<int>(v);
  return true;
}

// Go's unit table for time.ParseDuration.
std::int64_t unit_ns(std::string_view unit) {
  static const std::map<std::string_view, std::int64_t> units = {
      {"ns", 1},       {"us", 1000},      {"\xC2\xB5s", 1000}, {"\xCE\xBCs", 1000},
      {"ms", 1000000}, {"s", 1000000000}, {"m", 60000000000},  {"h", 3600000000000}};
  auto it = units.find(unit);
  return it == units.end() ? 0 : it->second;
}

// Prints whole + frac/unit with the fraction's trailing zeros removed ("1.5", "250").
std::string decimal(std::int64_t v, std::int64_t unit) {
  std::string s = std::to_string(v / unit);
  std::int64_t frac = v % unit;
  if (frac == 0) return s;
  std::string digits = std::to_string(unit + frac).substr(1);  // zero-padded to unit's width
  while (!digits.empty() && digits.back() == '0') digits.pop_back();
  return s + "." + digits;
}

Duration positive_duration(std::string_view flag, std::string_view v, bool zero_ok = false) {
  Duration d;
  try {
    d = parse_duration(v);
  } catch (const std::invalid_argument& e) {
    bad(flag, v, e.what());
  }
  if (d.count() < 0 || (d.count() == 0 && !zero_ok)) {
    bad(flag, v, zero_ok ? "want a duration >= 0" : "want a duration > 0");
  }
  return d;
}

void check_url(std::string_view flag, const std::string& url) {
  auto [u, err] = http::parse_url(with_port(url, 1));
  if (err) bad(flag, url, err.message());
  if (u.scheme != "http" || u.host.empty()) bad(flag, url, "want an http:// URL with a host");
}

}  // namespace

Duration parse_duration(std::string_view s) {
  // Go's time.ParseDuration without the sign: [0-9]*(\.[0-9]*)?unit, repeated; "0" alone.
  std::string orig(s);
  auto fail = [&]() -> Duration {
    throw std::invalid_argument("time: invalid duration \"" + orig + "\"");
  };
  if (s == "0") return Duration::zero();
  if (s.empty()) fail();
  long double total = 0;
  while (!s.empty()) {
    std::size_t i = 0;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    std::string number(s.substr(0, i));
    if (number.empty() || number == "." || number.find('.') != number.rfind('.')) fail();
    std::size_t j = i;
    while (j < s.size() && !std::isdigit(static_cast<unsigned char>(s[j])) && s[j] != '.') ++j;
    std::int64_t unit = unit_ns(s.substr(i, j - i));
    if (unit == 0) {
      if (i == j) throw std::invalid_argument("time: missing unit in duration \"" + orig + "\"");
      throw std::invalid_argument("time: unknown unit \"" + std::string(s.substr(i, j - i)) +
                                  "\" in duration \"" + orig + "\"");
    }
    total += std::strtold(number.c_str(), nullptr) * static_cast<long double>(unit);
    s.remove_prefix(j);
  }
  if (total > static_cast<long double>(INT64_MAX)) fail();
  return Duration(static_cast<std::int64_t>(total));
}

std::string format_duration(Duration d) {
  std::int64_t ns = d.count();
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  ns = ns < 0 ? -ns : ns;
  if (ns < 1000) return sign + std::to_string(ns) + "ns";
  if (ns < 1000000) return sign + decimal(ns, 1000) + "\xC2\xB5s";
  if (ns < 1000000000) return sign + decimal(ns, 1000000) + "ms";
  std::int64_t h = ns / 3600000000000, m = ns / 60000000000 % 60;
  std::string out = sign;
  if (h > 0) out += std::to_string(h) + "h";
  if (h > 0 || m > 0) out += std::to_string(m) + "m";
  return out + decimal(ns % 60000000000, 1000000000) + "s";
}

std::string format_seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", s);
  return buf;
}

double parse_rate(std::string_view s) {
  auto fail = [&](std::string_view why) -> double {
    throw std::invalid_argument("invalid rate \"" + std::string(s) + "\": " + std::string(why));
  };
  std::size_t slash = s.find('/');
  double n;
  if (!to_double(s.substr(0, slash), &n)) fail("want requests per second, like 500/s or 30000/m");
  Duration per = std::chrono::seconds(1);
  if (slash != std::string_view::npos) {
    std::string unit(s.substr(slash + 1));
    if (unit.empty() || !std::isdigit(static_cast<unsigned char>(unit[0]))) unit = "1" + unit;
    try {
      per = parse_duration(unit);
    } catch (const std::invalid_argument&) {
      fail("unknown period after '/' (want s, m, ms, or a duration like 100ms)");
    }
    if (per.count() <= 0) fail("the period must be > 0");
  }
  double rate = n * 1e9 / static_cast<double>(per.count());
  if (!(rate > 0)) fail("the rate must be > 0");
  if (rate > 1e6) fail("at most 1000000/s");
  return rate;
}

double parse_percent(std::string_view s) {
  double v;
  if (s.size() < 2 || s.back() != '%' || !to_double(s.substr(0, s.size() - 1), &v)) {
    throw std::invalid_argument("invalid percentage \"" + std::string(s) +
                                "\": want a number and %, like 10%");
  }
  if (!(v > 0 && v <= 100)) {
    throw std::invalid_argument("invalid percentage \"" + std::string(s) +
                                "\": out of range (0%, 100%]");
  }
  return v;
}

std::string with_port(std::string s, int port) {
  static constexpr std::string_view kPlaceholder = "{port}";
  std::string p = std::to_string(port);
  for (std::size_t at = s.find(kPlaceholder); at != std::string::npos;
       at = s.find(kPlaceholder, at + p.size())) {
    s.replace(at, kPlaceholder.size(), p);
  }
  return s;
}

std::string Settings::faults_spec() const {
  std::string spec;
  auto add = [&](const std::string& item) {
    if (item.empty()) return;
    spec += (spec.empty() ? "" : ",") + item;
  };
  // Jitter varies a latency; asked for alone (the article's "10% network jitter"), it varies
  // kJitterLatency.
  bool no_latency = latency.empty() && faults.find("latency=") == std::string::npos;
  add(latency.empty()
          ? (!jitter.empty() && no_latency ? "latency=" + std::string(kJitterLatency) : "")
          : "latency=" + latency);
  add(jitter.empty() ? "" : "jitter=" + jitter);
  add(faults);
  return spec;
}

Settings parse_args(const std::vector<std::string>& args, bool* help) {
  Settings s;
  *help = false;
  using Setter = std::function<void(const std::string&)>;
  auto duration_flag = [&](const char* name, Duration* out, bool zero_ok = false) -> Setter {
    return [=](const std::string& v) { *out = positive_duration(name, v, zero_ok); };
  };
  auto int_flag = [&](const char* name, int* out, long min, long max) -> Setter {
    return [=](const std::string& v) {
      if (!to_int(v, min, max, out)) {
        bad(name, v,
            "want a whole number from " + std::to_string(min) + " to " + std::to_string(max));
      }
    };
  };
  const std::map<std::string, Setter, std::less<>> flags = {
      {"target", [&](const std::string& v) { s.target = v; }},
      {"debug-url", [&](const std::string& v) { s.debug_url = v; }},
      {"rate",
       [&](const std::string& v) {
         try {
           s.rate = parse_rate(v);
         } catch (const std::invalid_argument& e) {
           bad("rate", v, e.what());
         }
       }},
      {"duration", duration_flag("duration", &s.duration)},
      {"timeout", duration_flag("timeout", &s.timeout)},
      {"max-in-flight", int_flag("max-in-flight", &s.max_in_flight, 1, 1000000)},
      {"listen", [&](const std::string& v) { s.listen = v; }},
      {"latency",
       [&](const std::string& v) {
         (void)positive_duration("latency", v);
         s.latency = v;
       }},
      {"jitter",
       [&](const std::string& v) {
         try {
           (void)parse_percent(v);
         } catch (const std::invalid_argument& e) {
           bad("jitter", v, e.what());
         }
         s.jitter = v;
       }},
      {"faults", [&](const std::string& v) { s.faults = v; }},
      {"threshold", int_flag("threshold", &s.threshold, 0, 1 << 30)},
      {"growth",
       [&](const std::string& v) {
         if (!to_double(v, &s.growth) || s.growth < 0)
           bad("growth", v, "want goroutines per second >= 0");
       }},
      {"growth-samples", int_flag("growth-samples", &s.growth_samples, 1, 1000)},
      {"hysteresis",
       [&](const std::string& v) {
         if (!to_double(v, &s.hysteresis) || !(s.hysteresis > 0 && s.hysteresis <= 1)) {
           bad("hysteresis", v, "want a fraction in (0, 1]");
         }
       }},
      {"interval", duration_flag("interval", &s.interval)},
      {"trace-seconds", int_flag("trace-seconds", &s.trace_seconds, 0, 60)},
      {"count-from",
       [&](const std::string& v) {
         if (v == "auto")
           s.count_source = CountSource::automatic;
         else if (v == "pprof")
           s.count_source = CountSource::pprof;
         else if (v == "metrics")
           s.count_source = CountSource::metrics;
         else
           bad("count-from", v, "want auto, pprof or metrics");
       }},
      {"report",
       [&](const std::string& v) {
         if (v.empty()) bad("report", v, "want a directory");
         s.report_dir = v;
       }},
      {"exec",
       [&](const std::string& v) {
         if (v.empty()) bad("exec", v, "want a shell command");
         s.exec = v;
       }},
      {"startup-timeout", duration_flag("startup-timeout", &s.startup_timeout)},
      {"settle", duration_flag("settle", &s.settle, true)},
  };

  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "--") {
      s.argv.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      if (s.argv.empty()) throw UsageError("-- must be followed by the target's command");
      break;
    }
    if (a == "-h" || a == "-help" || a == "--help") {
      *help = true;
      return s;
    }
    // Go's flag package: -name or --name, with the value as the next word or after '='.
    if (a.size() < 2 || a[0] != '-')
      throw UsageError("unexpected argument \"" + std::string(a) + "\"");
    a.remove_prefix(a.starts_with("--") ? 2 : 1);
    std::size_t eq = a.find('=');
    std::string name(a.substr(0, eq));
    auto it = flags.find(name);
    if (it == flags.end()) throw UsageError("flag provided but not defined: -" + name);
    std::string value;
    if (eq != std::string_view::npos) {
      value = a.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      throw UsageError("flag needs an argument: -" + name);
    }
    it->second(value);
  }

  if (!s.exec.empty() && !s.argv.empty())
    throw UsageError("give the target's command with --exec or after --, not both");
  if (s.target.empty()) {
    if (!s.launches_target()) throw UsageError("--target is required (the URL to load)");
    s.target = "http://127.0.0.1:{port}/";
  }
  if (!s.launches_target() && (s.target + s.debug_url).find("{port}") != std::string::npos) {
    throw UsageError("{port} in --target or --debug-url needs a target program (--exec or --)");
  }
  check_url("target", s.target);
  if (!s.debug_url.empty()) check_url("debug-url", s.debug_url);
  if (s.threshold == 0 && s.growth == 0) {
    throw UsageError("enable a leak trigger: --threshold > 0 or --growth > 0");
  }
  return s;
}

std::string usage() {
  return R"(usage: gocxx-pressure --target URL [flags]
       gocxx-pressure [--target URL] [flags] --exec 'COMMAND {port}'
       gocxx-pressure [--target URL] [flags] -- PROGRAM ARGS... ({port} in any word)

Drives open-loop HTTP load at a fixed rate through a fault-injecting proxy, samples the
target's goroutine count, collects goroutine dumps and a trace when it leaks, and writes a
report directory (report.md, report.html, samples.csv, dumps, traces).

load:
  --target URL          URL to request (http only); {port}: the port picked for --exec/--
  --rate N/s            requests per second, open loop: 500, 500/s, 30000/m (default 100/s)
  --duration D          how long to send (Go duration: 60s, 1m30s; default 30s)
  --timeout D           per-request timeout (default 10s)
  --max-in-flight N     requests outstanding at most; more count as errors (default 10000)
faults (in the proxy, on the client side of every proxied connection):
  --latency D           added delay (gocxx::net::Faults latency=D)
  --jitter P%           each delay varies by up to +-P% (jitter=P%); without a latency
                        set, it varies a latency of 10ms
  --faults SPEC         any gocxx::net::Faults spec: "reset=0.1%,latency=20ms"
  --listen ADDR         the proxy's address (default 127.0.0.1:0: a free port)
leak detection (the gocxx leak watchdog's options):
  --debug-url URL       where /debug/pprof/ and /metrics are (default: the target's host)
  --count-from SRC      auto (pprof, else /metrics), pprof or metrics (default auto)
  --interval D          sampling interval (default 1s)
  --threshold N         leak when more than N goroutines (default 5000; 0: off)
  --hysteresis F        a threshold episode ends at N*F or fewer (default 0.9)
  --growth G            leak when the count grows >= G/s ... (default 0: off)
  --growth-samples K    ... in each of K consecutive intervals (default 5)
  --trace-seconds N     trace taken per episode, 1 to 60 seconds (default 5; 0: none)
  --settle D            after the load, wait D before the last sample and dump (default 2s)
target program (started, watched and stopped by gocxx-pressure; output in REPORT/target.log):
  --exec CMD            run CMD with /bin/sh -c; {port} is replaced by a free loopback port
  -- PROGRAM ARGS...    run PROGRAM directly, {port} replaced in each word
  --startup-timeout D   how long the target may take to answer (default 15s)
report:
  --report DIR          report directory (default pressure-report)

exit status: 0 clean, 1 leak suspected, 2 bad usage, 3 target unreachable, failed to start
or died during the run, 4 the report could not be written
)";
}

}  // namespace gocxx::pressure
