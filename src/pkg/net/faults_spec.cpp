// Faults' spec syntax (gocxx/net.hpp): "latency=20ms,jitter=10%,reset=0.1%" parsed, validated
// and written back. One table lists every field with its name and value type, so parse,
// string and validate cannot disagree about a name.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "gocxx/net.hpp"

namespace gocxx::net {

namespace {

static_assert(std::is_same_v<std::size_t, std::uint64_t>, "Faults::slice shares the size parser");

enum class Type { kDuration, kProbability, kSize, kRate, kSeed };

struct Field {
  const char* name;
  Type type;
  std::variant<time::Duration Faults::*, double Faults::*, std::uint64_t Faults::*> member;
};

// The spec's names, in string()'s order.
const Field kFields[] = {
    {"latency", Type::kDuration, &Faults::latency},
    {"jitter", Type::kProbability, &Faults::jitter},
    {"latency_prob", Type::kProbability, &Faults::latency_prob},
    {"bandwidth", Type::kRate, &Faults::bandwidth},
    {"slice", Type::kSize, &Faults::slice},
    {"slice_delay", Type::kDuration, &Faults::slice_delay},
    {"reset", Type::kProbability, &Faults::reset},
    {"reset_conn", Type::kProbability, &Faults::reset_conn},
    {"timeout", Type::kProbability, &Faults::timeout},
    {"timeout_conn", Type::kProbability, &Faults::timeout_conn},
    {"slow_close", Type::kDuration, &Faults::slow_close},
    {"accept_fail", Type::kProbability, &Faults::accept_fail},
    {"dial_fail", Type::kProbability, &Faults::dial_fail},
    {"seed", Type::kSeed, &Faults::seed},
};

// Modifiers of another fault and the seed: setting only these injects nothing.
bool is_fault(const Field& field) {
  std::string_view n = field.name;
  return n != "jitter" && n != "latency_prob" && n != "slice_delay" && n != "seed";
}

std::string known_names() {
  std::string s;
  for (const Field& field : kFields) s += (s.empty() ? "" : ", ") + std::string(field.name);
  return s;
}

[[noreturn]] void bad(std::string_view item, const std::string& why) {
  throw std::invalid_argument("faults: \"" + std::string(item) + "\": " + why);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// ---- durations: Go's time.ParseDuration, without a sign ----------------------------------------

constexpr std::int64_t kMaxNs = std::numeric_limits<std::int64_t>::max();

std::int64_t unit_ns(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\u00b5s" || unit == "\u03bcs") return 1000;
  if (unit == "ms") return 1000000;
  if (unit == "s") return 1000000000;
  if (unit == "m") return 60 * std::int64_t{1000000000};
  if (unit == "h") return 3600 * std::int64_t{1000000000};
  return 0;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "20ms", "1.5s", "1h30m"; "0" alone needs no unit. nullopt if malformed or too large.
std::optional<std::int64_t> parse_duration(std::string_view s) {
  if (s == "0") return 0;
  if (s.empty()) return std::nullopt;
  std::int64_t total = 0;
  while (!s.empty()) {
    std::int64_t whole = 0, frac = 0;
    double scale = 1;
    bool digits = false;
    for (; !s.empty() && is_digit(s.front()); s.remove_prefix(1), digits = true) {
      if (whole > (kMaxNs - 9) / 10) return std::nullopt;
      whole = whole * 10 + (s.front() - '0');
    }
    if (!s.empty() && s.front() == '.') {
      s.remove_prefix(1);
      for (; !s.empty() && is_digit(s.front()); s.remove_prefix(1), digits = true) {
        if (frac > (kMaxNs - 9) / 10) continue;  // Go too drops digits beyond precision
        frac = frac * 10 + (s.front() - '0');
        scale *= 10;
      }
    }
    if (!digits) return std::nullopt;
    std::size_t unit_len = 0;
    while (unit_len < s.size() && s[unit_len] != '.' && !is_digit(s[unit_len])) ++unit_len;
    std::int64_t unit = unit_ns(s.substr(0, unit_len));
    if (unit == 0) return std::nullopt;
    s.remove_prefix(unit_len);
    if (whole > kMaxNs / unit) return std::nullopt;
    std::int64_t v = whole * unit;
    // The fraction as Go adds it: in floating point, truncated to whole nanoseconds.
    if (frac > 0) v += static_cast<std::int64_t>(static_cast<double>(frac) * (unit / scale));
    if (v < 0 || v > kMaxNs - total) return std::nullopt;
    total += v;
  }
  return total;
}

// The largest unit that writes d exactly ("1500us", "20ms", "2h"): no rounding, ASCII only.
std::string format_duration(time::Duration d) {
  std::int64_t ns = d.count();
  if (ns == 0) return "0s";
  static constexpr std::pair<std::int64_t, const char*> kUnits[] = {
      {3600 * std::int64_t{1000000000}, "h"}, {60 * std::int64_t{1000000000}, "m"},
      {1000000000, "s"}, {1000000, "ms"}, {1000, "us"}, {1, "ns"}};
  for (auto [unit, name] : kUnits) {
    if (ns % unit == 0) return std::to_string(ns / unit) + name;
  }
  return std::to_string(ns) + "ns";  // not reached: every count is a whole number of ns
}

// ---- probabilities: "10%" or a fraction "0.1" --------------------------------------------------

std::optional<double> parse_number(std::string_view s) {
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

double parse_probability(std::string_view item, std::string_view s) {
  bool percent = !s.empty() && s.back() == '%';
  std::optional<double> v = parse_number(percent ? s.substr(0, s.size() - 1) : s);
  if (!v) {
    bad(item, "invalid probability \"" + std::string(s) +
                  "\" (want a percentage like 10% or a fraction like 0.1)");
  }
  double p = percent ? *v / 100 : *v;
  if (!(p >= 0 && p <= 1)) {
    bad(item, std::string(s) + " is out of range (want 0% to 100%, or 0 to 1)");
  }
  return p;
}

std::string shortest(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

// The shortest percentage that reads back as exactly p, else the fraction itself.
std::string format_probability(double p) {
  char buf[64];
  for (int decimals = 0; decimals <= 20; ++decimals) {
    std::snprintf(buf, sizeof buf, "%.*f", decimals, p * 100);
    std::optional<double> v = parse_number(buf);
    if (v && *v / 100 == p) return std::string(buf) + "%";
  }
  return shortest(p);
}

// ---- sizes: "512", "4KiB", "1MB"; rates add an optional "/s" -----------------------------------

struct SizeUnit {
  const char* name;
  std::uint64_t bytes;
};
// The canonical spellings, largest first (format_size takes the first that divides exactly).
constexpr SizeUnit kSizeUnits[] = {{"GiB", 1ull << 30}, {"GB", 1000000000}, {"MiB", 1ull << 20},
                                   {"MB", 1000000},     {"KiB", 1ull << 10}, {"kB", 1000}};

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

// Any case; a lone K, M or G is decimal, as kB, MB and GB.
std::uint64_t size_unit(std::string_view unit) {
  std::string u = lowercase(unit);
  if (u.empty() || u == "b") return 1;
  for (const SizeUnit& known : kSizeUnits) {
    std::string name = lowercase(known.name);
    if (u == name || (name[1] == 'b' && u == name.substr(0, 1))) return known.bytes;
  }
  return 0;
}

std::uint64_t parse_size(std::string_view item, std::string_view s, bool rate) {
  std::string_view number = s;
  if (rate && number.ends_with("/s")) number.remove_suffix(2);
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), n);
  std::string_view unit = number.substr(static_cast<std::size_t>(end - number.data()));
  std::uint64_t scale = ec == std::errc() ? size_unit(unit) : 0;
  if (scale == 0) {
    bad(item, "invalid " + std::string(rate ? "rate" : "size") + " \"" + std::string(s) +
                  "\" (want bytes" + (rate ? " per second" : "") + ", like 512, 64KiB, 1MB" +
                  (rate ? "/s" : "") + ")");
  }
  if (n > std::numeric_limits<std::uint64_t>::max() / scale) {
    bad(item, std::string(s) + " is too large");
  }
  return n * scale;
}

std::string format_size(std::uint64_t n) {
  for (const SizeUnit& u : kSizeUnits) {
    if (n != 0 && n % u.bytes == 0) return std::to_string(n / u.bytes) + u.name;
  }
  return std::to_string(n);
}

// ---- one field ---------------------------------------------------------------------------------

void set_field(Faults& f, const Field& field, std::string_view item, std::string_view value) {
  switch (field.type) {
    case Type::kDuration: {
      std::optional<std::int64_t> ns = parse_duration(value);
      if (!ns) {
        bad(item, "invalid duration \"" + std::string(value) +
                      "\" (want a number and a unit: 20ms, 1.5s, 100us)");
      }
      f.*std::get<time::Duration Faults::*>(field.member) = time::Duration(*ns);
      return;
    }
    case Type::kProbability:
      f.*std::get<double Faults::*>(field.member) = parse_probability(item, value);
      return;
    case Type::kSize:
    case Type::kRate:
      f.*std::get<std::uint64_t Faults::*>(field.member) =
          parse_size(item, value, field.type == Type::kRate);
      return;
    case Type::kSeed: {
      std::uint64_t seed = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seed);
      if (ec != std::errc() || end != value.data() + value.size()) {
        bad(item, "invalid seed \"" + std::string(value) +
                      "\" (want a whole number from 0 to 2^64-1)");
      }
      f.seed = seed;
      return;
    }
  }
}

// The field's value as the spec writes it; empty if it has the default value.
std::string field_value(const Faults& f, const Field& field) {
  static const Faults kDefaults;
  return std::visit(
      [&](auto member) -> std::string {
        using Member = decltype(member);
        const auto& v = f.*member;
        if (v == kDefaults.*member) return "";
        if constexpr (std::is_same_v<Member, time::Duration Faults::*>) {
          return format_duration(v);
        } else if constexpr (std::is_same_v<Member, double Faults::*>) {
          return format_probability(v);
        } else {
          if (field.type == Type::kSeed) return std::to_string(v);
          return format_size(v) + (field.type == Type::kRate ? "/s" : "");
        }
      },
      field.member);
}

}  // namespace

Faults Faults::parse(std::string_view spec) {
  Faults f;
  if (trim(spec).empty()) return f;
  bool seen[std::size(kFields)] = {};
  for (std::string_view rest = spec;;) {
    std::size_t comma = rest.find(',');
    std::string_view item = trim(rest.substr(0, comma));
    if (item.empty()) {
      throw std::invalid_argument("faults: empty item in \"" + std::string(spec) + "\"");
    }
    std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) bad(item, "want name=value");
    std::string_view name = trim(item.substr(0, eq));
    std::size_t i = 0;
    while (i < std::size(kFields) && name != kFields[i].name) ++i;
    if (i == std::size(kFields)) {
      bad(item, "unknown fault \"" + std::string(name) + "\" (want one of: " + known_names() + ")");
    }
    if (seen[i]) bad(item, std::string(name) + " is given twice");
    seen[i] = true;
    set_field(f, kFields[i], item, trim(item.substr(eq + 1)));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  f.validate();
  return f;
}

std::string Faults::string() const {
  std::string out;
  for (const Field& field : kFields) {
    std::string value = field_value(*this, field);
    if (!value.empty()) out += (out.empty() ? "" : ",") + std::string(field.name) + "=" + value;
  }
  return out;
}

bool Faults::any() const {
  for (const Field& field : kFields) {
    if (is_fault(field) && !field_value(*this, field).empty()) return true;
  }
  return false;
}

void Faults::validate() const {
  auto fail = [](const std::string& what) { throw std::invalid_argument("faults: " + what); };
  for (const Field& field : kFields) {
    if (auto* p = std::get_if<double Faults::*>(&field.member)) {
      double v = this->**p;
      if (!(v >= 0 && v <= 1)) {
        fail(std::string(field.name) + "=" + shortest(v) + " is out of range (want 0 to 1)");
      }
    }
    if (auto* d = std::get_if<time::Duration Faults::*>(&field.member)) {
      std::int64_t ns = (this->**d).count();
      if (ns < 0) fail(std::string(field.name) + " is negative (" + std::to_string(ns) + "ns)");
    }
  }
  if (latency == time::Duration::zero()) {
    if (jitter != 0) fail("jitter=" + format_probability(jitter) + " needs latency");
    if (latency_prob != 1) {
      fail("latency_prob=" + format_probability(latency_prob) + " needs latency");
    }
  }
  if (slice == 0 && slice_delay != time::Duration::zero()) {
    fail("slice_delay=" + format_duration(slice_delay) + " needs slice");
  }
}

const char* fault_name(FaultKind k) {
  switch (k) {
    case FaultKind::latency: return "latency";
    case FaultKind::bandwidth: return "bandwidth";
    case FaultKind::slice: return "slice";
    case FaultKind::reset: return "reset";
    case FaultKind::timeout: return "timeout";
    case FaultKind::slow_close: return "slow_close";
    case FaultKind::accept_fail: return "accept_fail";
    case FaultKind::dial_fail: return "dial_fail";
  }
  return "?";
}

}  // namespace gocxx::net
