// The pprof goroutine profile (debug::write_goroutine_profile): the bytes are decoded here with
// a small protobuf reader and checked against profile.proto's rules and the goroutines written.
// tests/pprof/check.sh runs `go tool pprof` itself on a profile of tests/pprof_target.cpp.
#include <gocxx/debug.hpp>
#include <zlib.h>

#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "test_util.hpp"

using gocxx::debug::Frame;
using gocxx::debug::Goroutine;
using gocxx::debug::GoroutineState;
using gocxx::detail::WaitReason;
using gocxx::test::go_until_parked;
using gocxx::test::run_with;

namespace {

// ---- A protobuf reader: just enough of the wire format for perftools.profiles.Profile.

struct Field {
  int number = 0;
  std::uint64_t value = 0;   // varint fields
  std::string_view bytes;    // length-delimited fields
  bool delimited = false;
};

std::uint64_t read_varint(std::string_view& in) {
  std::uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in.empty()) throw std::runtime_error("truncated varint");
    auto byte = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    v |= std::uint64_t{byte & 0x7fu} << shift;
    if (!(byte & 0x80)) return v;
  }
  throw std::runtime_error("varint too long");
}

std::vector<Field> fields(std::string_view in) {
  std::vector<Field> out;
  while (!in.empty()) {
    std::uint64_t key = read_varint(in);
    Field f;
    f.number = static_cast<int>(key >> 3);
    switch (key & 7) {
      case 0: f.value = read_varint(in); break;
      case 2: {
        std::uint64_t n = read_varint(in);
        if (n > in.size()) throw std::runtime_error("truncated field");
        f.bytes = in.substr(0, n);
        f.delimited = true;
        in.remove_prefix(n);
        break;
      }
      default: throw std::runtime_error("unexpected wire type " + std::to_string(key & 7));
    }
    out.push_back(f);
  }
  return out;
}

// A repeated varint field, packed or not.
void append_varints(const Field& f, std::vector<std::uint64_t>& out) {
  if (!f.delimited) {
    out.push_back(f.value);
    return;
  }
  for (std::string_view in = f.bytes; !in.empty();) out.push_back(read_varint(in));
}

struct Line {
  std::uint64_t function_id = 0;
  std::int64_t line = 0;
};
struct Location {
  std::uint64_t id = 0, mapping_id = 0, address = 0;
  std::vector<Line> lines;
};
struct Function {
  std::uint64_t id = 0;
  std::int64_t name = 0, system_name = 0, filename = 0;
};
struct Mapping {
  std::uint64_t id = 0, start = 0, limit = 0;
  std::int64_t filename = 0;
  bool has_functions = false, has_filenames = false, has_line_numbers = false,
       has_inline_frames = false;
};
struct Sample {
  std::vector<std::uint64_t> location_ids;
  std::vector<std::uint64_t> values;
  std::map<std::string, std::string> labels;  // resolved strings
};
struct ValueType {
  std::string type, unit;
};

struct Profile {
  std::vector<ValueType> sample_types;
  ValueType period_type;
  std::int64_t period = 0, time_nanos = 0;
  std::vector<Sample> samples;
  std::vector<Mapping> mappings;
  std::map<std::uint64_t, Location> locations;
  std::map<std::uint64_t, Function> functions;
  std::vector<std::string> strings;

  const std::string& str(std::int64_t i) const { return strings.at(static_cast<std::size_t>(i)); }
  // The function names of a sample's stack, leaf first, inlined calls expanded.
  std::vector<std::string> stack(const Sample& s) const {
    std::vector<std::string> names;
    for (std::uint64_t id : s.location_ids) {
      for (const Line& l : locations.at(id).lines) {
        names.push_back(str(functions.at(l.function_id).name));
      }
    }
    return names;
  }
};

Profile parse(std::string_view data) {
  Profile p;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> type_indices;  // resolved at the end
  std::pair<std::uint64_t, std::uint64_t> period_indices{};
  std::vector<std::vector<std::pair<std::uint64_t, std::uint64_t>>> label_indices;
  auto value_type = [](std::string_view in) {
    std::pair<std::uint64_t, std::uint64_t> vt{};
    for (const Field& f : fields(in)) (f.number == 1 ? vt.first : vt.second) = f.value;
    return vt;
  };
  int time_fields = 0;
  for (const Field& f : fields(data)) {
    switch (f.number) {
      case 1: type_indices.push_back(value_type(f.bytes)); break;
      case 2: {
        Sample s;
        label_indices.emplace_back();
        for (const Field& sf : fields(f.bytes)) {
          if (sf.number == 1) append_varints(sf, s.location_ids);
          if (sf.number == 2) append_varints(sf, s.values);
          if (sf.number == 3) {
            std::pair<std::uint64_t, std::uint64_t> kv{};
            for (const Field& lf : fields(sf.bytes)) {
              if (lf.number == 1) kv.first = lf.value;
              if (lf.number == 2) kv.second = lf.value;
            }
            label_indices.back().push_back(kv);
          }
        }
        p.samples.push_back(std::move(s));
        break;
      }
      case 3: {
        Mapping m;
        for (const Field& mf : fields(f.bytes)) {
          switch (mf.number) {
            case 1: m.id = mf.value; break;
            case 2: m.start = mf.value; break;
            case 3: m.limit = mf.value; break;
            case 5: m.filename = static_cast<std::int64_t>(mf.value); break;
            case 7: m.has_functions = mf.value; break;
            case 8: m.has_filenames = mf.value; break;
            case 9: m.has_line_numbers = mf.value; break;
            case 10: m.has_inline_frames = mf.value; break;
          }
        }
        p.mappings.push_back(m);
        break;
      }
      case 4: {
        Location l;
        for (const Field& lf : fields(f.bytes)) {
          if (lf.number == 1) l.id = lf.value;
          if (lf.number == 2) l.mapping_id = lf.value;
          if (lf.number == 3) l.address = lf.value;
          if (lf.number == 4) {
            Line line;
            for (const Field& x : fields(lf.bytes)) {
              if (x.number == 1) line.function_id = x.value;
              if (x.number == 2) line.line = static_cast<std::int64_t>(x.value);
            }
            l.lines.push_back(line);
          }
        }
        EXPECT_NE(l.id, 0u);
        EXPECT_TRUE(p.locations.emplace(l.id, l).second) << "duplicate location " << l.id;
        break;
      }
      case 5: {
        Function fn;
        for (const Field& ff : fields(f.bytes)) {
          if (ff.number == 1) fn.id = ff.value;
          if (ff.number == 2) fn.name = static_cast<std::int64_t>(ff.value);
          if (ff.number == 3) fn.system_name = static_cast<std::int64_t>(ff.value);
          if (ff.number == 4) fn.filename = static_cast<std::int64_t>(ff.value);
        }
        EXPECT_NE(fn.id, 0u);
        EXPECT_TRUE(p.functions.emplace(fn.id, fn).second) << "duplicate function " << fn.id;
        break;
      }
      case 6: p.strings.emplace_back(f.bytes); break;
      case 9:
        p.time_nanos = static_cast<std::int64_t>(f.value);
        ++time_fields;
        break;
      case 11: period_indices = value_type(f.bytes); break;
      case 12: p.period = static_cast<std::int64_t>(f.value); break;
    }
  }
  EXPECT_EQ(time_fields, 1);  // pprof rejects a second one as concatenated profiles
  for (auto [t, u] : type_indices) p.sample_types.push_back({p.str(t), p.str(u)});
  p.period_type = {p.str(period_indices.first), p.str(period_indices.second)};
  for (std::size_t i = 0; i < p.samples.size(); ++i) {
    for (auto [k, v] : label_indices[i]) p.samples[i].labels[p.str(k)] = p.str(v);
  }
  return p;
}

// The rules pprof's CheckValid enforces, and what a symbolized goroutine profile must be.
void check_valid(const Profile& p) {
  ASSERT_FALSE(p.strings.empty());
  EXPECT_EQ(p.strings[0], "");
  ASSERT_EQ(p.sample_types.size(), 1u);
  EXPECT_EQ(p.sample_types[0].type, "goroutine");
  EXPECT_EQ(p.sample_types[0].unit, "count");
  EXPECT_EQ(p.period_type.type, "goroutine");
  EXPECT_EQ(p.period_type.unit, "count");
  EXPECT_EQ(p.period, 1);
  EXPECT_GT(p.time_nanos, 0);
  ASSERT_FALSE(p.mappings.empty());
  std::map<std::uint64_t, const Mapping*> mappings;
  for (const Mapping& m : p.mappings) {
    EXPECT_NE(m.id, 0u);
    EXPECT_TRUE(mappings.emplace(m.id, &m).second);
    EXPECT_TRUE(m.has_functions && m.has_filenames && m.has_line_numbers && m.has_inline_frames);
  }
  EXPECT_EQ(p.mappings[0].id, 1u);
  EXPECT_NE(p.str(p.mappings[0].filename).find("pprof_test"), std::string::npos)
      << p.str(p.mappings[0].filename);
  for (const auto& [id, l] : p.locations) {
    EXPECT_FALSE(l.lines.empty());
    if (l.mapping_id) {
      ASSERT_TRUE(mappings.count(l.mapping_id));
      const Mapping* m = mappings[l.mapping_id];
      EXPECT_TRUE(l.address >= m->start && l.address < m->limit);
    }
    for (const Line& line : l.lines) EXPECT_TRUE(p.functions.count(line.function_id));
  }
  for (const auto& [id, f] : p.functions) {
    EXPECT_FALSE(p.str(f.name).empty());
    EXPECT_EQ(f.system_name, f.name);
  }
  for (const Sample& s : p.samples) {
    ASSERT_EQ(s.values.size(), 1u);
    EXPECT_GT(s.values[0], 0u);
    EXPECT_FALSE(s.location_ids.empty());
    for (std::uint64_t id : s.location_ids) EXPECT_TRUE(p.locations.count(id)) << id;
  }
}

std::string gunzip(const std::string& in) {
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  std::string out;
  char buf[4096];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
  }
  EXPECT_EQ(rc, Z_STREAM_END);
  inflateEnd(&zs);
  return out;
}

std::string profile_bytes(const std::vector<Goroutine>& snapshot, bool gzip) {
  std::ostringstream out;
  gocxx::debug::write_goroutine_profile(out, snapshot, gzip);
  return out.str();
}

bool contains(const std::vector<std::string>& names, const std::string& part) {
  for (const std::string& n : names) {
    if (n.find(part) != std::string::npos) return true;
  }
  return false;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += n + "\n";
  return out;
}

// ---- Goroutines with known stacks. The blocking call is not the last statement (a tail call
// would drop the frame).

[[gnu::noinline]] void pprof_sender(gocxx::Chan<int> ch) {
  ch.send(1);
  asm volatile("");
}

[[gnu::noinline]] void pprof_waiter(gocxx::sync::WaitGroup& wg) {
  wg.wait();
  asm volatile("");
}

Frame frame(const char* function, int line, std::uintptr_t pc) {
  Frame f;
  f.function = function;
  f.file = "/src/app.cpp";
  f.line = line;
  f.pc = pc;
  return f;
}

Goroutine record(GoroutineState state, const char* reason, std::vector<Frame> frames) {
  Goroutine g;
  g.state = state;
  g.wait_reason = reason;
  g.frames = std::move(frames);
  return g;
}

}  // namespace

TEST(PprofProfile, OneSamplePerStackAndStateWithCounts) {
  run_with(2, [] {
    gocxx::Chan<int> ch;
    gocxx::sync::WaitGroup wg;
    wg.add(1);
    for (int i = 0; i < 3; ++i) go_until_parked(WaitReason::kChanSend, [ch] { pprof_sender(ch); });
    for (int i = 0; i < 2; ++i) {
      go_until_parked(WaitReason::kSyncWaitGroupWait, [&wg] { pprof_waiter(wg); });
    }
    std::ostringstream out;
    gocxx::debug::write_goroutine_profile(out, false);
    Profile p = parse(out.str());
    check_valid(p);
    std::map<std::string, std::uint64_t> by_state;
    std::uint64_t total = 0;
    for (const Sample& s : p.samples) {
      ASSERT_EQ(s.labels.count("state"), 1u);
      by_state[s.labels.at("state")] += s.values[0];
      total += s.values[0];
      std::vector<std::string> stack = p.stack(s);
      if (s.labels.at("state") == "chan send") {
        EXPECT_EQ(s.values[0], 3u);  // one sample: the three stacks are identical
        EXPECT_TRUE(contains(stack, "pprof_sender")) << join(stack);
      } else if (s.labels.at("state") == "sync.WaitGroup.Wait") {
        EXPECT_EQ(s.values[0], 2u);
        EXPECT_TRUE(contains(stack, "pprof_waiter")) << join(stack);
      } else if (s.labels.at("state") == "running") {
        EXPECT_TRUE(contains(stack, "OneSamplePerStackAndStateWithCounts")) << join(stack);
      }
    }
    EXPECT_EQ(by_state["chan send"], 3u);
    EXPECT_EQ(by_state["sync.WaitGroup.Wait"], 2u);
    EXPECT_EQ(by_state["running"], 1u);  // the caller
    EXPECT_EQ(total, 6u);
    // Samples are ordered as Go orders them: largest count first.
    ASSERT_FALSE(p.samples.empty());
    EXPECT_EQ(p.samples[0].values[0], 3u);
    for (int i = 0; i < 3; ++i) ch.recv();
    wg.done();
    gocxx::test::join_goroutines();
  });
}

TEST(PprofProfile, GzipIsTheDefaultAndHoldsTheSameProfile) {
  run_with(2, [] {
    gocxx::Chan<int> ch;
    go_until_parked(WaitReason::kChanSend, [ch] { pprof_sender(ch); });
    std::ostringstream out;
    gocxx::debug::write_goroutine_profile(out);
    std::string gz = out.str();
    ASSERT_GE(gz.size(), 2u);
    EXPECT_EQ(static_cast<unsigned char>(gz[0]), 0x1f);  // the magic pprof sniffs
    EXPECT_EQ(static_cast<unsigned char>(gz[1]), 0x8b);
    Profile p = parse(gunzip(gz));
    check_valid(p);
    std::uint64_t senders = 0;
    for (const Sample& s : p.samples) {
      if (s.labels.at("state") == "chan send" && contains(p.stack(s), "pprof_sender")) {
        senders += s.values[0];
      }
    }
    EXPECT_EQ(senders, 1u);
    ch.recv();
    gocxx::test::join_goroutines();
  });
}

// A snapshot with known frames: inlined calls (frames sharing a PC) become one Location with
// several Lines, a recursive call at one call site repeats its Location, and a goroutine
// without frames gets a stand-in function so that pprof still counts it.
TEST(PprofProfile, LocationsFromSnapshotFrames) {
  const std::vector<Frame> blocked = {frame("inner", 10, 0x1000), frame("outer", 20, 0x1000),
                                      frame("caller", 30, 0x2000)};
  std::vector<Frame> recursive = {frame("rec", 40, 0x3000), frame("rec", 40, 0x3000),
                                  frame("rec", 40, 0x3000), frame("caller", 30, 0x2000)};
  Goroutine unavailable = record(GoroutineState::running, "", {});
  unavailable.stack_available = false;
  std::vector<Goroutine> snapshot = {
      record(GoroutineState::waiting, "chan send", blocked),
      record(GoroutineState::waiting, "chan send", blocked),
      record(GoroutineState::runnable, "", blocked),  // same stack, other state: its own sample
      record(GoroutineState::waiting, "select", recursive),
      unavailable,
      record(GoroutineState::runnable, "", {}),
  };
  Profile p = parse(profile_bytes(snapshot, false));
  check_valid(p);
  ASSERT_EQ(p.samples.size(), 5u);
  const Sample& first = p.samples[0];
  EXPECT_EQ(first.values[0], 2u);
  EXPECT_EQ(first.labels.at("state"), "chan send");
  ASSERT_EQ(first.location_ids.size(), 2u);
  const Location& inlined = p.locations.at(first.location_ids[0]);
  EXPECT_EQ(inlined.address, 0xfffu);  // inside the call instruction: the return address - 1
  ASSERT_EQ(inlined.lines.size(), 2u);
  EXPECT_EQ(p.str(p.functions.at(inlined.lines[0].function_id).name), "inner");
  EXPECT_EQ(inlined.lines[0].line, 10);
  EXPECT_EQ(p.str(p.functions.at(inlined.lines[1].function_id).name), "outer");
  EXPECT_EQ(p.str(p.functions.at(inlined.lines[1].function_id).filename), "/src/app.cpp");
  EXPECT_EQ(p.stack(first), (std::vector<std::string>{"inner", "outer", "caller"}));

  EXPECT_EQ(p.samples[1].labels.at("state"), "runnable");
  EXPECT_EQ(p.samples[1].location_ids, first.location_ids);

  const Sample& rec = p.samples[2];
  EXPECT_EQ(rec.labels.at("state"), "select");
  ASSERT_EQ(rec.location_ids.size(), 4u);
  EXPECT_EQ(rec.location_ids[0], rec.location_ids[1]);
  EXPECT_EQ(rec.location_ids[1], rec.location_ids[2]);
  EXPECT_EQ(rec.location_ids[3], first.location_ids[1]);  // "caller" at 0x2000: one Location
  EXPECT_EQ(p.locations.at(rec.location_ids[0]).lines.size(), 1u);

  EXPECT_EQ(p.stack(p.samples[3]), std::vector<std::string>{"[stack unavailable]"});
  EXPECT_EQ(p.samples[3].labels.at("state"), "running");
  EXPECT_EQ(p.stack(p.samples[4]), std::vector<std::string>{"[no user frames]"});
  EXPECT_EQ(p.samples[4].labels.at("state"), "runnable");
}

TEST(PprofProfile, EmptySnapshotIsAValidProfile) {
  Profile p = parse(profile_bytes({}, false));
  check_valid(p);
  EXPECT_TRUE(p.samples.empty());
  Profile z = parse(gunzip(profile_bytes({}, true)));
  check_valid(z);
}

TEST(PprofProfile, StreamFailureThrows) {
  std::vector<Goroutine> snapshot = {record(GoroutineState::runnable, "", {})};
  for (bool gzip : {false, true}) {
    std::ostringstream out;
    out.setstate(std::ios::badbit);
    try {
      gocxx::debug::write_goroutine_profile(out, snapshot, gzip);
      ADD_FAILURE() << "no exception (gzip=" << gzip << ")";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("write_goroutine_profile"), std::string::npos)
          << e.what();
    }
  }
}
