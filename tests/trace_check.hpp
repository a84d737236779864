// The structural check of an execution trace file (Chrome Trace Event JSON, gocxx/trace.hpp),
// shared by trace_test and flight_recorder_test: what Perfetto and chrome://tracing need, and
// what every gocxx trace or flight-recorder window promises. Failures are test failures.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace gocxx::test {

using TraceJson = nlohmann::ordered_json;  // keeps the order of keys: displayTimeUnit first

// What a valid trace holds, gathered for the tests' own assertions.
struct Trace {
  TraceJson doc;
  std::vector<const TraceJson*> events;
  std::map<int, std::string> thread_names;  // tid -> name
  std::string recorder;                     // otherData: "trace" or "flight recorder"
  std::int64_t start_ns = 0, end_ns = 0;    // otherData: the window, CLOCK_MONOTONIC
  std::uint64_t dropped = 0;
  std::uint64_t overwritten = 0;

  static std::string str(const TraceJson& e, const char* key) {
    auto it = e.find(key);
    return it != e.end() && it->is_string() ? it->get<std::string>() : "";
  }
  std::vector<const TraceJson*> with(const std::string& ph) const {
    std::vector<const TraceJson*> out;
    for (const TraceJson* e : events) {
      if (str(*e, "ph") == ph) out.push_back(e);
    }
    return out;
  }
  // Instants whose name starts with `prefix` ("go ", "block ", "unblock ").
  std::vector<const TraceJson*> instants(const std::string& prefix) const {
    std::vector<const TraceJson*> out;
    for (const TraceJson* e : with("i")) {
      if (str(*e, "name").rfind(prefix, 0) == 0) out.push_back(e);
    }
    return out;
  }
  bool has_reason(const std::string& prefix, const std::string& reason) const {
    for (const TraceJson* e : instants(prefix)) {
      if (str(e->at("args"), "reason") == reason) return true;
    }
    return false;
  }
  // Whether any slice or instant names a goroutine created by `function`.
  bool mentions(const std::string& function) const {
    for (const TraceJson* e : events) {
      if (str(*e, "ph") != "M" && str(*e, "name").find(function) != std::string::npos) return true;
    }
    return false;
  }
};

// Whether an event's name names its goroutine "G<id> <creator>" ("G1 main", "go G7 app::f"),
// never a bare id.
inline bool names_goroutine(const std::string& name) {
  std::size_t i = 0;
  for (const char* prefix : {"go ", "block ", "unblock ", "long run "}) {
    if (name.rfind(prefix, 0) == 0) i = std::char_traits<char>::length(prefix);
  }
  if (i >= name.size() || name[i++] != 'G') return false;
  std::size_t digits = i;
  while (i < name.size() && name[i] >= '0' && name[i] <= '9') ++i;
  return i > digits && i + 1 < name.size() && name[i] == ' ' && name[i + 1] != ' ';
}

// Parses `text` (from `what`) and checks what every trace must satisfy.
inline Trace check_trace(const std::string& text, const std::string& what) {
  Trace t;
  EXPECT_FALSE(text.empty()) << what;
  try {
    t.doc = TraceJson::parse(text);
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": " << e.what();
    return t;
  }
  EXPECT_TRUE(t.doc.is_object());
  // Perfetto's tokenizer ignores everything after a top-level key it does not know.
  for (const auto& [key, value] : t.doc.items()) {
    EXPECT_TRUE(key == "displayTimeUnit" || key == "otherData" || key == "traceEvents") << key;
  }
  EXPECT_EQ(t.doc.begin().key(), "displayTimeUnit");  // honoured only if first
  const TraceJson& other = t.doc.at("otherData");
  t.recorder = Trace::str(other, "recorder");
  t.start_ns = other.at("start_ns").get<std::int64_t>();
  t.end_ns = other.at("end_ns").get<std::int64_t>();
  t.dropped = other.at("dropped_events").get<std::uint64_t>();
  t.overwritten = other.at("overwritten_events").get<std::uint64_t>();
  EXPECT_LE(t.start_ns, t.end_ns) << what;
  const double window_us = double(t.end_ns - t.start_ns) / 1000 + 0.001;
  const TraceJson& events = t.doc.at("traceEvents");
  EXPECT_TRUE(events.is_array());
  for (const TraceJson& e : events) t.events.push_back(&e);

  std::map<std::pair<int, int>, double> last_ts;  // per (pid, tid): time order in the file
  std::map<std::string, double> last_counter;
  std::map<int, std::vector<std::pair<double, double>>> slices;  // tid -> (ts, dur)
  std::map<std::string, const TraceJson*> flow_starts;  // "cat/name/id"
  std::map<std::string, const TraceJson*> flow_ends;
  for (const TraceJson* e : t.events) {
    EXPECT_TRUE(e->is_object());
    std::string ph = Trace::str(*e, "ph");
    EXPECT_EQ(ph.size(), 1u);
    EXPECT_TRUE(e->contains("pid"));
    if (ph == "M") {
      if (Trace::str(*e, "name") == "thread_name") {
        t.thread_names[e->at("tid").get<int>()] = Trace::str(e->at("args"), "name");
      }
      continue;
    }
    double ts = e->at("ts").get<double>();
    EXPECT_GE(ts, 0) << what;
    EXPECT_LE(ts, window_us) << "an event after the window's end: " << e->dump();
    std::string name = Trace::str(*e, "name");
    if (ph == "C") {
      EXPECT_GE(e->at("args").at("count").get<double>(), 0);
      EXPECT_GE(ts, last_counter[name]);
      last_counter[name] = ts;
      continue;
    }
    std::pair<int, int> track{e->at("pid").get<int>(), e->at("tid").get<int>()};
    EXPECT_GE(ts, last_ts[track]) << "events of one track out of order: " << name;
    last_ts[track] = ts;
    if (ph == "X") {
      double dur = e->at("dur").get<double>();
      EXPECT_GE(dur, 0);
      EXPECT_LE(ts + dur, window_us) << "a slice past the window's end: " << e->dump();
      EXPECT_TRUE(names_goroutine(name)) << "goroutine not named: " << name;
      EXPECT_TRUE(e->at("args").contains("goid"));
      slices[track.second].emplace_back(ts, dur);
    } else if (ph == "s" || ph == "f") {
      std::string key = Trace::str(*e, "cat") + "/" + name + "/" +
                        std::to_string(e->at("id").get<std::uint64_t>());
      auto& side = ph == "s" ? flow_starts : flow_ends;
      EXPECT_TRUE(side.emplace(key, e).second) << "flow id used twice: " << key;
      if (ph == "f") EXPECT_EQ(Trace::str(*e, "bp"), "e");
    } else {
      EXPECT_EQ(ph, "i") << "unexpected phase";
      EXPECT_FALSE(name.empty());
      if (Trace::str(*e, "s") == "t") {
        EXPECT_TRUE(names_goroutine(name)) << "goroutine not named: " << name;
      }
    }
  }
  // Slices of one track never overlap (Perfetto wants them nested; they are sequential).
  for (auto& [tid, list] : slices) {
    for (std::size_t i = 1; i < list.size(); ++i) {
      EXPECT_GE(list[i].first + 0.002, list[i - 1].first + list[i - 1].second)
          << "overlapping slices on tid " << tid;
    }
  }
  // Every flow starts and ends, never backwards, and ends where a slice starts.
  EXPECT_EQ(flow_starts.size(), flow_ends.size());
  for (const auto& [key, s] : flow_starts) {
    auto it = flow_ends.find(key);
    if (it == flow_ends.end()) {
      ADD_FAILURE() << "flow without an end: " << key;
      continue;
    }
    const TraceJson* f = it->second;
    double f_ts = f->at("ts").get<double>();
    EXPECT_LE(s->at("ts").get<double>(), f_ts) << key;
    bool at_slice_start = false;
    for (const auto& [ts, dur] : slices[f->at("tid").get<int>()]) at_slice_start |= ts == f_ts;
    EXPECT_TRUE(at_slice_start) << "flow end not at a slice start: " << key;
  }
  for (const auto& [key, f] : flow_ends) EXPECT_TRUE(flow_starts.count(key)) << key;
  EXPECT_EQ(t.thread_names[0], "P0");
  return t;
}

inline Trace load_and_check(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return check_trace(ss.str(), path);
}

}  // namespace gocxx::test
