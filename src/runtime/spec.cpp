// Settings strings (spec.hpp).
#include "spec.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

namespace gocxx::detail::spec {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A whole string as a finite number; nullopt otherwise.
std::optional<double> parse_number(std::string_view s) {
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

constexpr std::int64_t kMaxNs = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kSecond = 1000000000;

std::int64_t unit_ns(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\u00b5s" || unit == "\u03bcs") return 1000;
  if (unit == "ms") return 1000000;
  if (unit == "s") return kSecond;
  if (unit == "m") return 60 * kSecond;
  if (unit == "h") return 3600 * kSecond;
  return 0;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::vector<Item> split(std::string_view spec, std::string_view what) {
  std::vector<Item> items;
  for (std::string_view rest = spec;;) {
    std::size_t comma = rest.find(',');
    Item item{.text = trim(rest.substr(0, comma)), .name = {}, .value = {}};
    if (item.text.empty()) {
      throw std::invalid_argument(std::string(what) + "empty item in \"" + std::string(spec) + "\"");
    }
    std::size_t eq = item.text.find('=');
    if (eq == std::string_view::npos) bad(what, item, "want name=value");
    item.name = trim(item.text.substr(0, eq));
    item.value = trim(item.text.substr(eq + 1));
    for (const Item& earlier : items) {
      if (earlier.name == item.name) bad(what, item, std::string(item.name) + " is given twice");
    }
    items.push_back(item);
    if (comma == std::string_view::npos) return items;
    rest.remove_prefix(comma + 1);
  }
}

void bad(std::string_view what, const Item& item, const std::string& why) {
  throw std::invalid_argument(std::string(what) + "\"" + std::string(item.text) + "\": " + why);
}

double parse_probability(std::string_view what, const Item& item) {
  std::string_view s = item.value;
  bool percent = !s.empty() && s.back() == '%';
  std::optional<double> v = parse_number(percent ? s.substr(0, s.size() - 1) : s);
  if (!v) {
    bad(what, item, "invalid probability \"" + std::string(s) +
                        "\" (want a percentage like 10% or a fraction like 0.1)");
  }
  double p = percent ? *v / 100 : *v;
  if (!(p >= 0 && p <= 1)) {
    bad(what, item, std::string(s) + " is out of range (want 0% to 100%, or 0 to 1)");
  }
  return p;
}

std::string format_probability(double p) {
  char buf[64];
  for (int decimals = 0; decimals <= 20; ++decimals) {
    std::snprintf(buf, sizeof buf, "%.*f", decimals, p * 100);
    std::optional<double> v = parse_number(buf);
    if (v && *v / 100 == p) return std::string(buf) + "%";
  }
  return shortest(p);
}

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

std::int64_t parse_duration(std::string_view what, const Item& item) {
  std::optional<std::int64_t> ns = parse_duration(item.value);
  if (!ns) {
    bad(what, item, "invalid duration \"" + std::string(item.value) +
                        "\" (want a number and a unit: 20ms, 1.5s, 100us)");
  }
  return *ns;
}

std::string format_duration(std::int64_t ns) {
  if (ns == 0) return "0s";
  static constexpr std::pair<std::int64_t, const char*> kUnits[] = {
      {3600 * kSecond, "h"}, {60 * kSecond, "m"}, {kSecond, "s"},
      {1000000, "ms"},       {1000, "us"},        {1, "ns"}};
  for (auto [unit, name] : kUnits) {
    if (ns % unit == 0) return std::to_string(ns / unit) + name;
  }
  return std::to_string(ns) + "ns";  // not reached: every count is a whole number of ns
}

std::uint64_t parse_uint64(std::string_view what, const Item& item, std::string_view noun) {
  std::string_view s = item.value;
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) {
    bad(what, item, "invalid " + std::string(noun) + " \"" + std::string(s) +
                        "\" (want a whole number from 0 to 2^64-1)");
  }
  return v;
}

std::string shortest(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

}  // namespace gocxx::detail::spec
