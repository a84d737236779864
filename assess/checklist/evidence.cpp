#include "checklist/evidence.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <unordered_map>

namespace assess::checklist {
namespace {

// Calls f(line, 1-based number) for each line, without its '\n' (or "\r\n").
template <class F>
void for_each_line(std::string_view text, F f) {
  std::size_t number = 0;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (line.ends_with('\r')) line.remove_suffix(1);
    f(line, ++number);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

bool read_double(std::string_view& s, double& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc()) return false;
  s.remove_prefix(static_cast<std::size_t>(p - s.data()));
  return true;
}

bool eat(std::string_view& s, std::string_view prefix) {
  if (!s.starts_with(prefix)) return false;
  s.remove_prefix(prefix.size());
  return true;
}

// "gc N @T.s P%: A+B+C ms clock" at the start of the line (after any prefix a log shipper
// adds): the three clock figures, or false.
bool gctrace_clock(std::string_view line, double clock[3]) {
  std::size_t at = line.find("gc ");
  if (at == std::string_view::npos) return false;
  std::string_view s = line.substr(at + 3);
  double n = 0, t = 0, pct = 0;
  if (!read_double(s, n) || !eat(s, " @") || !read_double(s, t) || !eat(s, "s ") ||
      !read_double(s, pct) || !eat(s, "%: "))
    return false;
  for (int i = 0; i < 3; ++i)
    if (!read_double(s, clock[i]) || !eat(s, i < 2 ? "+" : " ms clock")) return false;
  return true;
}

}  // namespace

Figures figures(std::vector<double> values) {
  Figures f;
  f.count = values.size();
  if (values.empty()) return f;
  std::sort(values.begin(), values.end());
  auto rank = [&](double p) {
    std::size_t r = static_cast<std::size_t>(std::ceil(p * static_cast<double>(values.size())));
    return values[std::clamp<std::size_t>(r, 1, values.size()) - 1];
  };
  f.p50 = rank(0.50);
  f.p99 = rank(0.99);
  f.max = values.back();
  return f;
}

GcTrace parse_gctrace(std::string_view log) {
  GcTrace gc;
  for_each_line(log, [&](std::string_view line, std::size_t number) {
    double clock[3];
    if (!gctrace_clock(line, clock)) return;
    if (gc.first_line == 0) gc.first_line = number;
    gc.pauses_ms.push_back(clock[0] + clock[2]);
    gc.max_stw_ms = std::max({gc.max_stw_ms, clock[0], clock[2]});
    if (line.ends_with("(forced)")) ++gc.forced;
  });
  return gc;
}

bool is_runtime_line(std::string_view line) {
  double clock[3];
  return gctrace_clock(line, clock) || line.starts_with("scvg") || line.starts_with("GC forced");
}

Dump parse_goroutine_dump(std::string_view text) {
  Dump d;
  bool frame_expected = false;
  std::size_t first = 0;
  for_each_line(text, [&](std::string_view line, std::size_t number) {
    std::string_view s = line;
    double id = 0;
    if (eat(s, "goroutine ") && read_double(s, id) && eat(s, " [") && s.ends_with("]:")) {
      if (frame_expected && d.error.empty())
        d.error = "goroutine header at line " + std::to_string(first) + " has no stack frames";
      std::string state(s.substr(0, s.size() - 2));
      state = state.substr(0, state.find(", "));  // ", 5 minutes", ", locked to thread"
      ++d.states[state];
      ++d.goroutines;
      frame_expected = true;
      first = number;
    } else if (!line.empty()) {
      if (d.goroutines == 0 && d.error.empty())
        d.error = "line " + std::to_string(number) + " is not a goroutine header: \"" +
                  std::string(line.substr(0, 80)) + "\"";
      frame_expected = false;
    }
  });
  if (d.goroutines == 0 && d.error.empty()) d.error = "no `goroutine N [state]:` block";
  if (frame_expected && d.error.empty())
    d.error = "goroutine header at line " + std::to_string(first) + " has no stack frames";
  d.ok = d.error.empty();
  return d;
}

SchedLatency scheduler_latency(const nlohmann::json& trace) {
  if (!trace.is_object() || !trace.contains("traceEvents") || !trace["traceEvents"].is_array())
    throw std::invalid_argument("not a Chrome Trace Event JSON object (no traceEvents array)");
  SchedLatency s;
  if (auto od = trace.find("otherData"); od != trace.end() && od->is_object())
    s.dropped_events = od->value("dropped_events", std::int64_t{0});
  std::unordered_map<std::int64_t, double> starts;  // flow id -> when it became runnable (µs)
  for (const nlohmann::json& e : trace["traceEvents"]) {
    if (!e.is_object() || e.value("cat", "") != "sched" || !e.contains("id") || !e.contains("ts")) continue;
    const std::string ph = e.value("ph", "");
    const std::int64_t id = e["id"].get<std::int64_t>();
    const double ts = e["ts"].get<double>();
    if (ph == "s") {
      starts[id] = ts;
      (e.value("name", "") == "go" ? s.created : s.unblocked)++;
    } else if (ph == "f") {
      if (auto it = starts.find(id); it != starts.end()) {
        s.delays_ms.push_back((ts - it->second) / 1000.0);
        starts.erase(it);
      }
    }
  }
  return s;
}

LogStats read_log(std::string_view log) {
  LogStats st;
  for_each_line(log, [&](std::string_view line, std::size_t number) {
    if (line.find_first_not_of(" \t") == std::string_view::npos) return;
    if (is_runtime_line(line)) {
      ++st.runtime_lines;
      return;
    }
    ++st.lines;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) {
      if (st.first_plain_line == 0) {
        st.first_plain_line = number;
        st.first_plain = std::string(line.substr(0, 120));
      }
      return;
    }
    ++st.json_objects;
    if (j.contains("trace_id")) ++st.with_trace_id;
  });
  return st;
}

std::size_t find_trace_id(std::string_view log, std::string_view id) {
  std::size_t found = 0;
  for_each_line(log, [&](std::string_view line, std::size_t number) {
    if (found || line.find(id) == std::string_view::npos) return;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("trace_id") && j["trace_id"].is_string() && j["trace_id"] == id)
      found = number;
  });
  return found;
}

}  // namespace assess::checklist
