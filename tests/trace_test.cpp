// The execution trace (gocxx/trace.hpp): the file is parsed here (a small JSON parser below) and
// checked for the structure Perfetto and chrome://tracing need, and for the scheduler events a
// small program must produce. No timing is asserted.
#include <gocxx/trace.hpp>

#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>

#include "test_util.hpp"

using namespace std::chrono_literals;
using gocxx::detail::WaitReason;
using gocxx::test::go_until_parked;
using gocxx::test::run_with;
using ::testing::HasSubstr;

namespace {

// ---- a minimal JSON parser (enough to check the trace's structure) ---------------------------

struct Json {
  enum Type { kNull, kBool, kNumber, kString, kArray, kObject } type = kNull;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Json> array;
  std::vector<std::pair<std::string, Json>> object;

  const Json* find(const std::string& key) const {
    for (const auto& [k, v] : object) {
      if (k == key) return &v;
    }
    return nullptr;
  }
  bool has(const std::string& key) const { return find(key) != nullptr; }
  const Json& at(const std::string& key) const {
    const Json* v = find(key);
    if (!v) throw std::runtime_error("missing key " + key);
    return *v;
  }
  std::string str(const std::string& key) const {
    const Json* v = find(key);
    return v && v->type == kString ? v->string : "";
  }
  double num(const std::string& key) const {
    const Json& v = at(key);
    if (v.type != kNumber) throw std::runtime_error(key + " is not a number");
    return v.number;
  }
};

class JsonParser {
 public:
  explicit JsonParser(const std::string& text) : s_(text) {}

  Json parse() {
    Json v = value();
    skip_ws();
    if (i_ != s_.size()) fail("trailing characters");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error("JSON: " + what + " at offset " + std::to_string(i_));
  }
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  char peek() {
    skip_ws();
    if (i_ >= s_.size()) fail("unexpected end");
    return s_[i_];
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++i_;
  }
  // The comma-separated items of an object or array up to `close`, the opener consumed here.
  template <class Item>
  void items(char close, Item item) {
    ++i_;
    if (peek() == close) {
      ++i_;
      return;
    }
    for (;;) {
      item();
      if (peek() != ',') break;
      ++i_;
    }
    expect(close);
  }
  Json value() {
    char c = peek();
    Json v;
    if (c == '{') {
      v.type = Json::kObject;
      items('}', [&] {
        if (peek() != '"') fail("expected a key");
        std::string key = string();
        expect(':');
        v.object.emplace_back(std::move(key), value());
      });
      return v;
    }
    if (c == '[') {
      v.type = Json::kArray;
      items(']', [&] { v.array.push_back(value()); });
      return v;
    }
    if (c == '"') {
      v.type = Json::kString;
      v.string = string();
      return v;
    }
    for (const char* lit : {"true", "false", "null"}) {
      std::size_t n = std::strlen(lit);
      if (s_.compare(i_, n, lit) == 0) {
        i_ += n;
        v.type = lit[0] == 'n' ? Json::kNull : Json::kBool;
        v.boolean = lit[0] == 't';
        return v;
      }
    }
    // A number, as JSON spells it: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    std::size_t start = i_;
    if (s_[i_] == '-') ++i_;
    auto digits = [&] {
      std::size_t from = i_;
      while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
      if (i_ == from) fail("expected digits");
    };
    if (i_ < s_.size() && s_[i_] == '0') {
      ++i_;
    } else {
      digits();
    }
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      digits();
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      digits();
    }
    v.type = Json::kNumber;
    v.number = std::strtod(s_.substr(start, i_ - start).c_str(), nullptr);
    return v;
  }
  std::string string() {
    expect('"');
    std::string out;
    for (;;) {
      if (i_ >= s_.size()) fail("unterminated string");
      char c = s_[i_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) fail("unterminated escape");
      char e = s_[i_++];
      switch (e) {
        case '"': case '\\': case '/': out += e; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          if (i_ + 4 > s_.size()) fail("short \\u escape");
          unsigned code = std::stoul(s_.substr(i_, 4), nullptr, 16);
          i_ += 4;
          out += code < 0x80 ? static_cast<char>(code) : '?';
          break;
        }
        default: fail("bad escape");
      }
    }
  }

  const std::string& s_;
  std::size_t i_ = 0;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string temp_path(const std::string& name) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir && *dir ? dir : "/tmp") + "/gocxx_trace_test_" + std::to_string(getpid()) +
         "_" + name + ".json";
}

// ---- the structural check ---------------------------------------------------------------------

// What a valid trace holds, gathered for the tests' own assertions.
struct Trace {
  Json doc;
  std::vector<const Json*> events;
  std::map<int, std::string> thread_names;  // tid -> name
  std::uint64_t dropped = 0;

  std::vector<const Json*> with(const std::string& ph) const {
    std::vector<const Json*> out;
    for (const Json* e : events) {
      if (e->str("ph") == ph) out.push_back(e);
    }
    return out;
  }
  // Instants whose name starts with `prefix` ("go ", "block ", "unblock ").
  std::vector<const Json*> instants(const std::string& prefix) const {
    std::vector<const Json*> out;
    for (const Json* e : with("i")) {
      if (e->str("name").rfind(prefix, 0) == 0) out.push_back(e);
    }
    return out;
  }
  bool has_reason(const std::string& prefix, const std::string& reason) const {
    for (const Json* e : instants(prefix)) {
      if (e->at("args").str("reason") == reason) return true;
    }
    return false;
  }
};

// Parses the file and checks what every trace must satisfy; failures are test failures.
Trace load_and_check(const std::string& path) {
  Trace t;
  std::string text = read_file(path);
  EXPECT_FALSE(text.empty()) << path;
  try {
    t.doc = JsonParser(text).parse();
  } catch (const std::exception& e) {
    ADD_FAILURE() << path << ": " << e.what();
    return t;
  }
  EXPECT_EQ(t.doc.type, Json::kObject);
  // Perfetto's tokenizer ignores everything after a top-level key it does not know.
  for (const auto& [key, value] : t.doc.object) {
    EXPECT_TRUE(key == "displayTimeUnit" || key == "otherData" || key == "traceEvents") << key;
  }
  EXPECT_EQ(t.doc.object.at(0).first, "displayTimeUnit");  // honoured only if first
  const Json& other = t.doc.at("otherData");
  t.dropped = static_cast<std::uint64_t>(other.num("dropped_events"));
  const Json& events = t.doc.at("traceEvents");
  EXPECT_EQ(events.type, Json::kArray);
  for (const Json& e : events.array) t.events.push_back(&e);

  std::map<std::pair<int, int>, double> last_ts;  // per (pid, tid): time order in the file
  std::map<std::string, double> last_counter;
  std::map<int, std::vector<std::pair<double, double>>> slices;  // tid -> (ts, dur)
  std::map<std::string, const Json*> flow_starts;  // "cat/name/id"
  std::map<std::string, const Json*> flow_ends;
  for (const Json* e : t.events) {
    EXPECT_EQ(e->type, Json::kObject);
    std::string ph = e->str("ph");
    EXPECT_EQ(ph.size(), 1u);
    EXPECT_TRUE(e->has("pid"));
    if (ph == "M") {
      std::string name = e->str("name");
      if (name == "thread_name") t.thread_names[int(e->num("tid"))] = e->at("args").str("name");
      continue;
    }
    double ts = e->num("ts");
    EXPECT_GE(ts, 0);
    if (ph == "C") {
      std::string name = e->str("name");
      EXPECT_GE(e->at("args").num("count"), 0);
      EXPECT_GE(ts, last_counter[name]);
      last_counter[name] = ts;
      continue;
    }
    std::pair<int, int> track{int(e->num("pid")), int(e->num("tid"))};
    EXPECT_GE(ts, last_ts[track]) << "events of one track out of order: " << e->str("name");
    last_ts[track] = ts;
    if (ph == "X") {
      double dur = e->num("dur");
      EXPECT_GE(dur, 0);
      EXPECT_EQ(e->str("name").rfind("G", 0), 0u) << e->str("name");
      EXPECT_TRUE(e->at("args").has("goid"));
      slices[track.second].emplace_back(ts, dur);
    } else if (ph == "s" || ph == "f") {
      std::string key = e->str("cat") + "/" + e->str("name") + "/" +
                        std::to_string(static_cast<std::uint64_t>(e->num("id")));
      auto& side = ph == "s" ? flow_starts : flow_ends;
      EXPECT_TRUE(side.emplace(key, e).second) << "flow id used twice: " << key;
      if (ph == "f") EXPECT_EQ(e->str("bp"), "e");
    } else {
      EXPECT_EQ(ph, "i") << "unexpected phase";
      EXPECT_TRUE(e->has("name"));
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
    const Json* f = it->second;
    EXPECT_LE(s->num("ts"), f->num("ts")) << key;
    bool at_slice_start = false;
    for (const auto& [ts, dur] : slices[int(f->num("tid"))]) at_slice_start |= ts == f->num("ts");
    EXPECT_TRUE(at_slice_start) << "flow end not at a slice start: " << key;
  }
  for (const auto& [key, f] : flow_ends) EXPECT_TRUE(flow_starts.count(key)) << key;
  EXPECT_EQ(t.thread_names[0], "P0");
  return t;
}

// ---- the traced program ---------------------------------------------------------------------

[[gnu::noinline]] void start_echo(gocxx::Chan<int> ping, gocxx::Chan<int> pong) {
  gocxx::go([ping, pong]() mutable {
    for (int v : ping) pong.send(v);
  });
}

void ping_pong(int rounds) {
  gocxx::Chan<int> ping, pong;
  start_echo(ping, pong);
  for (int i = 0; i < rounds; ++i) {
    ping.send(i);
    pong.recv();
  }
  ping.close();
}

// Goroutines ping-ponging over channels, one blocked on a WaitGroup and released, a sleep, a
// blocking call and a plain thread.
void traced_program() {
  ping_pong(200);
  gocxx::sync::WaitGroup wg;
  wg.add(1);
  gocxx::Chan<int> done;
  go_until_parked(WaitReason::kSyncWaitGroupWait, [&wg, done]() mutable {
    wg.wait();
    done.send(1);
  });
  wg.done();
  done.recv();
  gocxx::time::sleep(2ms);
  gocxx::blocking([] { return ::usleep(1000); });
  // A plain thread that sends (and so records on the "no P" track) and exits while tracing.
  gocxx::Chan<int> from_thread;
  std::thread sender([from_thread]() mutable { from_thread.send(7); });
  from_thread.recv();
  sender.join();
  gocxx::test::join_goroutines();
}

TEST(Trace, SchedulerEventsAreRecorded) {
  std::string path = temp_path("events");
  run_with(2, [&] {
    EXPECT_FALSE(gocxx::trace::enabled());
    gocxx::trace::start(path);
    EXPECT_TRUE(gocxx::trace::enabled());
    traced_program();
    gocxx::trace::stop();
    EXPECT_FALSE(gocxx::trace::enabled());
  });
  Trace t = load_and_check(path);
  EXPECT_EQ(t.dropped, 0u);
  EXPECT_EQ(t.thread_names[0], "P0");
  EXPECT_EQ(t.thread_names[1], "P1");

  auto slices = t.with("X");
  ASSERT_FALSE(slices.empty());
  std::set<std::string> ends;
  bool echo_named = false;
  for (const Json* x : slices) {
    ends.insert(x->at("args").str("end"));
    echo_named |= x->str("name").find("start_echo") != std::string::npos;
  }
  EXPECT_TRUE(echo_named) << "slices are named after the function that called go()";
  EXPECT_TRUE(ends.count("block"));
  EXPECT_TRUE(ends.count("exit"));
  EXPECT_TRUE(ends.count("blocking"));

  EXPECT_GE(t.instants("go ").size(), 2u);  // the echo and the WaitGroup waiter
  for (const char* reason : {"chan receive", "sync.WaitGroup.Wait", "sleep"}) {
    EXPECT_TRUE(t.has_reason("block ", reason)) << reason;
    EXPECT_TRUE(t.has_reason("unblock ", reason)) << reason;
  }
  // The sleeper (main) is woken by the timer thread: that unblock is on the "no P" track.
  bool sleep_wake_off_p = false;
  for (const Json* e : t.instants("unblock ")) {
    if (e->at("args").str("reason") == "sleep") {
      sleep_wake_off_p |= t.thread_names[int(e->num("tid"))].rfind("no P", 0) == 0;
    }
  }
  EXPECT_TRUE(sleep_wake_off_p);
  EXPECT_FALSE(t.with("s").empty());
  EXPECT_FALSE(t.with("C").empty());
  std::remove(path.c_str());
}

TEST(Trace, BoundedMemoryDropsEventsAndStaysValid) {
  std::string path = temp_path("bounded");
  run_with(2, [&] {
    gocxx::trace::start(path, gocxx::trace::Options{.max_bytes = 1});  // one chunk
    ping_pong(gocxx::test::scaled(20000) + 2000);
    gocxx::trace::stop();
  });
  Trace t = load_and_check(path);
  EXPECT_GT(t.dropped, 0u);
  EXPECT_FALSE(t.with("X").empty());
  bool truncated = false;
  for (const Json* e : t.with("i")) truncated |= e->str("name").rfind("trace truncated", 0) == 0;
  EXPECT_TRUE(truncated);
  std::remove(path.c_str());
}

TEST(Trace, StartTwiceIsALogicErrorAndStopIsIdempotent) {
  std::string path = temp_path("twice");
  run_with(1, [&] {
    gocxx::trace::start(path);
    EXPECT_THROW(gocxx::trace::start(path), std::logic_error);
    EXPECT_TRUE(gocxx::trace::enabled());
    gocxx::trace::stop();
    gocxx::trace::stop();
    EXPECT_FALSE(gocxx::trace::enabled());
  });
  load_and_check(path);
  gocxx::trace::stop();  // outside a run, nothing active: still nothing
  std::remove(path.c_str());
}

TEST(Trace, UnopenablePathIsARuntimeError) {
  std::string path = "/nonexistent-gocxx-dir/trace.json";
  try {
    gocxx::trace::start(path);
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr(path));
    EXPECT_THAT(e.what(), HasSubstr("No such file or directory"));
  }
  EXPECT_FALSE(gocxx::trace::enabled());
}

TEST(Trace, EnvironmentVariableTracesTheRun) {
  std::string path = temp_path("env");
  ::setenv("GOCXX_TRACE", path.c_str(), 1);
  run_with(2, [] {
    EXPECT_TRUE(gocxx::trace::enabled());
    ping_pong(50);
  });
  ::unsetenv("GOCXX_TRACE");
  EXPECT_FALSE(gocxx::trace::enabled());  // the end of the run wrote it
  Trace t = load_and_check(path);
  bool main_slice = false;
  for (const Json* x : t.with("X")) main_slice |= x->str("name").rfind("G1 ", 0) == 0;
  EXPECT_TRUE(main_slice);
  std::remove(path.c_str());
}

TEST(Trace, UnusableEnvironmentPathIsReportedAndTheRunGoesOn) {
  ::setenv("GOCXX_TRACE", "/nonexistent-gocxx-dir/trace.json", 1);
  ::testing::internal::CaptureStderr();
  bool ran = false;
  run_with(1, [&] {
    ran = true;
    EXPECT_FALSE(gocxx::trace::enabled());
  });
  std::string err = ::testing::internal::GetCapturedStderr();
  ::unsetenv("GOCXX_TRACE");
  EXPECT_TRUE(ran);
  EXPECT_THAT(err, HasSubstr("GOCXX_TRACE=/nonexistent-gocxx-dir/trace.json"));
}

TEST(Trace, StartedBeforeARunIsStoppedByItsEnd) {
  std::string path = temp_path("before");
  gocxx::trace::start(path);
  run_with(2, [] { ping_pong(20); });
  EXPECT_FALSE(gocxx::trace::enabled());
  Trace t = load_and_check(path);
  EXPECT_FALSE(t.with("X").empty());
  std::remove(path.c_str());
}

}  // namespace
