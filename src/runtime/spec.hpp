// Settings strings: "name=value,name=value", the syntax of GOCXX_CHAOS (chaos.cpp) and
// GOCXX_FAULTS (pkg/net/faults_spec.cpp). One parser for both, so the two read numbers,
// percentages and durations alike and word their errors alike. Each error is a
// std::invalid_argument "<what>"<item>": <why>", naming the item as the user wrote it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gocxx::detail::spec {

struct Item {
  std::string_view text;   // the whole item, trimmed: "latency = 20ms"
  std::string_view name;   // "latency"
  std::string_view value;  // "20ms"
};

// The items of a spec, in order. Blanks around names and values are ignored; an empty item, one
// without '=', or a name given twice is an error. `what` prefixes errors ("faults: ").
std::vector<Item> split(std::string_view spec, std::string_view what);

[[noreturn]] void bad(std::string_view what, const Item& item, const std::string& why);

// "10%" or a fraction "0.1", from 0 to 1; anything else is an error naming the item.
double parse_probability(std::string_view what, const Item& item);
// The shortest percentage that reads back as exactly p ("10%"), else the fraction itself.
std::string format_probability(double p);

// Go's time.ParseDuration without a sign ("20ms", "1.5s", "1h30m", "0"); nullopt if malformed
// or beyond int64 nanoseconds.
std::optional<std::int64_t> parse_duration(std::string_view s);
// The largest unit that writes ns exactly ("1500us", "20ms", "2h"); "0s" for 0.
std::string format_duration(std::int64_t ns);
// A duration item's value, or an error naming the item.
std::int64_t parse_duration(std::string_view what, const Item& item);

// A whole decimal number from 0 to 2^64-1, or an error naming the item.
std::uint64_t parse_uint64(std::string_view what, const Item& item, std::string_view noun);

// The shortest text that reads back as exactly v.
std::string shortest(double v);

}  // namespace gocxx::detail::spec
