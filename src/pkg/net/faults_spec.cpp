// Faults' spec syntax (gocxx/net.hpp): "latency=20ms,jitter=10%,reset=0.1%" parsed, validated
// and written back. One table lists every field with its name and value type, so parse,
// string and validate cannot disagree about a name.
#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "gocxx/net.hpp"
#include "runtime/spec.hpp"

namespace gocxx::net {

namespace {

namespace spec = gocxx::detail::spec;

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

constexpr std::string_view kWhat = "faults: ";

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

std::uint64_t parse_size(const spec::Item& item, bool rate) {
  std::string_view s = item.value, number = s;
  if (rate && number.ends_with("/s")) number.remove_suffix(2);
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), n);
  std::string_view unit = number.substr(static_cast<std::size_t>(end - number.data()));
  std::uint64_t scale = ec == std::errc() ? size_unit(unit) : 0;
  if (scale == 0) {
    spec::bad(kWhat, item,
              "invalid " + std::string(rate ? "rate" : "size") + " \"" + std::string(s) +
                  "\" (want bytes" + (rate ? " per second" : "") + ", like 512, 64KiB, 1MB" +
                  (rate ? "/s" : "") + ")");
  }
  if (n > std::numeric_limits<std::uint64_t>::max() / scale) {
    spec::bad(kWhat, item, std::string(s) + " is too large");
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

void set_field(Faults& f, const Field& field, const spec::Item& item) {
  switch (field.type) {
    case Type::kDuration:
      f.*std::get<time::Duration Faults::*>(field.member) =
          time::Duration(spec::parse_duration(kWhat, item));
      return;
    case Type::kProbability:
      f.*std::get<double Faults::*>(field.member) = spec::parse_probability(kWhat, item);
      return;
    case Type::kSize:
    case Type::kRate:
      f.*std::get<std::uint64_t Faults::*>(field.member) =
          parse_size(item, field.type == Type::kRate);
      return;
    case Type::kSeed:
      f.seed = spec::parse_uint64(kWhat, item, "seed");
      return;
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
          return spec::format_duration(v.count());
        } else if constexpr (std::is_same_v<Member, double Faults::*>) {
          return spec::format_probability(v);
        } else {
          if (field.type == Type::kSeed) return std::to_string(v);
          return format_size(v) + (field.type == Type::kRate ? "/s" : "");
        }
      },
      field.member);
}

}  // namespace

Faults Faults::parse(std::string_view text) {
  Faults f;
  if (text.find_first_not_of(" \t") == std::string_view::npos) return f;
  for (const spec::Item& item : spec::split(text, kWhat)) {
    const Field* field = std::find_if(std::begin(kFields), std::end(kFields),
                                      [&](const Field& k) { return item.name == k.name; });
    if (field == std::end(kFields)) {
      spec::bad(kWhat, item,
                "unknown fault \"" + std::string(item.name) + "\" (want one of: " + known_names() + ")");
    }
    set_field(f, *field, item);
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
        fail(std::string(field.name) + "=" + spec::shortest(v) + " is out of range (want 0 to 1)");
      }
    }
    if (auto* d = std::get_if<time::Duration Faults::*>(&field.member)) {
      std::int64_t ns = (this->**d).count();
      if (ns < 0) fail(std::string(field.name) + " is negative (" + std::to_string(ns) + "ns)");
    }
  }
  if (latency == time::Duration::zero()) {
    if (jitter != 0) fail("jitter=" + spec::format_probability(jitter) + " needs latency");
    if (latency_prob != 1) {
      fail("latency_prob=" + spec::format_probability(latency_prob) + " needs latency");
    }
  }
  if (slice == 0 && slice_delay != time::Duration::zero()) {
    fail("slice_delay=" + spec::format_duration(slice_delay.count()) + " needs slice");
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
