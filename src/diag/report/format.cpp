// Number formats of the report (render.hpp). std::to_chars: the report must not change with
// the program's locale.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>

#include "diag/report/render.hpp"

namespace gocxx::report::detail {

namespace {

// v to 3 significant digits, without trailing zeros.
std::string three_digits(double v) {
  double a = std::fabs(v);
  int decimals = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 || a == 0 ? 2
                                            : std::min(9, 2 - static_cast<int>(std::floor(std::log10(a))));
  std::string s = fixed(v, decimals);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

}  // namespace

// Not gocxx::html::escape_string (Go's html.EscapeString): this one must also keep the control
// characters XML forbids out of the SVG.
std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        // Control characters other than tab and newline are not allowed in XML (the SVG).
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') {
          out += "\xEF\xBF\xBD";  // U+FFFD
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string fixed(double v, int decimals) {
  if (!std::isfinite(v)) return std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
  if (res.ec != std::errc()) return "?";  // beyond 1e60: no chart or table has such numbers
  std::string s(buf, res.ptr);
  if (s.find_first_not_of("-0.") == std::string::npos) s = decimals > 0 ? "0." + std::string(decimals, '0') : "0";
  return s;
}

std::string compact(double v) {
  double a = std::fabs(v);
  if (a >= 1e9) return three_digits(v / 1e9) + "G";
  if (a >= 1e6) return three_digits(v / 1e6) + "M";
  if (a >= 1e4) return three_digits(v / 1e3) + "k";
  if (a >= 1000) return fixed(v, 0);
  return three_digits(v);
}

std::string duration(std::int64_t ns) {
  double v = static_cast<double>(ns);
  double a = std::fabs(v);
  if (a < 1e3) return std::to_string(ns) + " ns";
  if (a < 1e6) return three_digits(v / 1e3) + " µs";
  if (a < 1e9) return three_digits(v / 1e6) + " ms";
  if (a < 60e9) return three_digits(v / 1e9) + " s";
  std::int64_t s = ns / 1'000'000'000;
  if (s < 3600) return std::to_string(s / 60) + " min " + std::to_string(s % 60) + " s";
  return std::to_string(s / 3600) + " h " + std::to_string(s % 3600 / 60) + " min";
}

std::string percent(double part, double whole) {
  if (whole == 0) return "-";
  return three_digits(100 * part / whole) + "%";
}

}  // namespace gocxx::report::detail
