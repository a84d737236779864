// The store's input checks. Values are quoted in messages only when short and well-formed, so
// a message never carries a megabyte or broken UTF-8 itself.
#include "engine/store_input.hpp"

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>

namespace assess::input {

namespace {

[[noreturn]] void reject(const std::string& what) { throw std::invalid_argument(what); }

std::string quote(std::string_view v) {
  if (v.size() > 64 || invalid_utf8_at(v) != std::string_view::npos) {
    return "(" + std::to_string(v.size()) + " bytes)";
  }
  return "\"" + std::string(v) + "\"";
}

void check_size(std::string_view field, std::string_view v, std::size_t max) {
  if (v.size() > max) {
    reject(std::string(field) + " is " + std::to_string(v.size()) + " bytes, over the limit of " +
           std::to_string(max));
  }
}

void check_utf8(std::string_view field, std::string_view v) {
  if (std::size_t at = invalid_utf8_at(v); at != std::string_view::npos) {
    reject(std::string(field) + " is not valid UTF-8 (byte " + std::to_string(at) + " of " +
           std::to_string(v.size()) + ")");
  }
}

void check_finite(std::string_view field, double v) {
  // SQLite would store NaN as NULL: refuse it here, by name.
  if (!std::isfinite(v))
    reject(std::string(field) + " is " + std::to_string(v) + ", not a finite number");
}

void check_se(std::string_view field, double v) {
  check_finite(field, v);
  if (v < 0) reject(std::string(field) + " is negative (" + std::to_string(v) + ")");
}

void check_seq(std::string_view field, int seq) {
  if (seq < 1) reject(std::string(field) + " must be >= 1, got " + std::to_string(seq));
}

}  // namespace

std::size_t invalid_utf8_at(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    std::uint32_t cp, min;
    if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07, min = 0x10000;
    } else {
      return i;
    }
    if (s.size() - i < len) return i;
    for (std::size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::string_view::npos;
}

void check_id(std::string_view field, std::string_view v) {
  if (v.empty()) reject(std::string(field) + " is empty");
  check_size(field, v, kMaxIdBytes);
  auto ok = [](char c, bool first) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (!first && (c == '-' || c == '_' || c == '.'));
  };
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!ok(v[i], i == 0)) {
      reject(std::string(field) + " " + quote(v) + " must match [a-z0-9][a-z0-9._-]*");
    }
  }
}

void check_text(std::string_view field, std::string_view v, std::size_t max) {
  check_size(field, v, max);
  check_utf8(field, v);
  for (char c : v) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      reject(std::string(field) + " " + quote(v) + " contains a control character");
    }
  }
}

void check_label(std::string_view field, std::string_view v, std::size_t max) {
  if (v.empty()) reject(std::string(field) + " is empty");
  check_text(field, v, max);
  if (v.front() == ' ' || v.back() == ' ') {
    reject(std::string(field) + " " + quote(v) + " has leading or trailing spaces");
  }
}

void check_config(const SessionConfig& c) {
  if (c.dimensions.empty()) reject("config.dimensions is empty");
  std::set<std::string_view> seen;
  for (const std::string& d : c.dimensions) {
    check_id("config.dimensions entry", d);
    if (!seen.insert(d).second) reject("config.dimensions names \"" + d + "\" twice");
  }
  if (c.max_items < 1 || c.max_items > 1000) {
    reject("config.max_items must be in 1..1000, got " + std::to_string(c.max_items));
  }
  if (c.time_limit.count() < 0) reject("config.time_limit is negative");
}

void check_presentation(const Presentation& p) {
  check_seq("seq", p.seq);
  check_id("item", p.item);
  if (p.item_version < 1)
    reject("item_version must be >= 1, got " + std::to_string(p.item_version));
  check_id("dimension", p.dimension);
  if (p.time_limit.count() < 0) reject("time_limit is negative");
}

void check_answer(const AnswerRecord& a, const std::vector<Estimate>& estimates,
                  const std::vector<RuleFiring>& firings) {
  check_seq("seq", a.seq);
  check_size("answer", a.answer, kMaxAnswerBytes);
  check_utf8("answer", a.answer);
  if (a.answer.find('\0') != std::string::npos) reject("answer contains a NUL byte");
  check_finite("score", a.score);
  if (a.score < 0 || a.score > 1) reject("score must be in [0, 1], got " + std::to_string(a.score));
  if (a.answered_at.time_since_epoch().count() <= 0) reject("answered_at is not set");
  if (a.duration && a.duration->count() < 0) reject("duration is negative");
  check_size("results_json", a.results_json, kMaxResultsBytes);
  check_utf8("results_json", a.results_json);
  nlohmann::json results;
  try {
    results = nlohmann::json::parse(a.results_json);
  } catch (const nlohmann::json::parse_error& e) {
    reject(std::string("results_json is not JSON: ") + e.what());
  }
  if (!results.is_object()) reject("results_json is not a JSON object");
  for (const Estimate& e : estimates) {
    check_id("estimate dimension", e.dimension);
    check_finite("estimate theta", e.theta);
    check_se("estimate se", e.se);
    if (e.after_seq != 0 && e.after_seq != a.seq) {
      reject("estimate after_seq " + std::to_string(e.after_seq) + " is not the response's seq");
    }
  }
  for (const RuleFiring& f : firings) {
    check_label("rule name", f.rule, kMaxIdBytes);
    check_id("rule item", f.item);
    if (f.seq != 0 && f.seq != a.seq) {
      reject("rule firing seq " + std::to_string(f.seq) + " is not the response's seq");
    }
  }
}

void check_params(const ItemParams& p) {
  check_id("item", p.item);
  if (p.item_version < 1)
    reject("item_version must be >= 1, got " + std::to_string(p.item_version));
  check_finite("a", p.a);
  if (p.a <= 0) reject(p.item + ": a must be > 0, got " + std::to_string(p.a));
  check_finite("b", p.b);
  if (p.se_a) check_se("se_a", *p.se_a);
  if (p.se_b) check_se("se_b", *p.se_b);
  if (p.n < 0) reject("n is negative");
}

}  // namespace assess::input
