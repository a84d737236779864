// The goroutine profile in pprof's profile.proto format (docs/diagnostics.md, "pprof goroutine
// profile"), as Go's pprof.Lookup("goroutine").WriteTo(w, 0) writes it: sample type and period
// goroutine/count, one sample per distinct stack and label set with the number of goroutines,
// locations already symbolized (one per PC, inlined calls as extra Lines, innermost first) and
// the mappings marked has_functions, so pprof never looks for the binary.
//
// The protobuf encoding is written by hand rather than with libprotobuf: a profile is six
// message types of varints and length-delimited fields, written once and never read back, and
// pprof needs no descriptors or reflection; a library would only add a dependency and a
// generated-code step. Field numbers are those of perftools.profiles (google/pprof
// proto/profile.proto).
#include <link.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstring>
#include <map>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "diag/goroutines.hpp"
#include "gocxx/debug.hpp"

namespace gocxx::diag {

namespace {

using debug::Frame;
using debug::Goroutine;

constexpr const char* kWhere = "gocxx::debug::write_goroutine_profile: ";

// Functions standing in for stacks that cannot be shown, so that -top still counts them.
constexpr const char* kStackUnavailable = "[stack unavailable]";  // running on another thread
constexpr const char* kNoUserFrames = "[no user frames]";  // not started, or only runtime frames

// One protobuf message being encoded: fields are appended in the wire format.
class Message {
 public:
  // A varint field (uint64, int64 with non-negative values, bool), omitted when zero as proto3
  // does.
  void uint(int field, std::uint64_t value) {
    if (value == 0) return;
    key(field, 0);
    varint(value);
  }
  void bytes(int field, std::string_view value) {
    key(field, 2);
    varint(value.size());
    buf_.append(value);
  }
  void message(int field, const Message& m) { bytes(field, m.buf_); }
  // A packed repeated varint field (proto3's default encoding of repeated scalars).
  void packed(int field, const std::vector<std::uint64_t>& values) {
    Message body;
    for (std::uint64_t v : values) body.varint(v);
    message(field, body);
  }
  void append(const Message& fields) { buf_ += fields.buf_; }
  const std::string& data() const { return buf_; }

 private:
  void key(int field, int wire_type) { varint(static_cast<std::uint64_t>(field) << 3 | wire_type); }
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      buf_.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    buf_.push_back(static_cast<char>(v));
  }
  std::string buf_;
};

// Field numbers of the perftools.profiles messages used here.
namespace pb {
namespace profile {
constexpr int kSampleType = 1, kSample = 2, kMapping = 3, kLocation = 4, kFunction = 5,
              kStringTable = 6, kTimeNanos = 9, kPeriodType = 11, kPeriod = 12;
}
namespace value_type {
constexpr int kType = 1, kUnit = 2;
}
namespace sample {
constexpr int kLocationId = 1, kValue = 2, kLabel = 3;
}
namespace label {
constexpr int kKey = 1, kStr = 2;
}
namespace mapping {
constexpr int kId = 1, kMemoryStart = 2, kMemoryLimit = 3, kFileOffset = 4, kFilename = 5,
              kBuildId = 6, kHasFunctions = 7, kHasFilenames = 8, kHasLineNumbers = 9,
              kHasInlineFrames = 10;
}
namespace location {
constexpr int kId = 1, kMappingId = 2, kAddress = 3, kLine = 4;
}
namespace line {
constexpr int kFunctionId = 1, kLine = 2;
}
namespace function {
constexpr int kId = 1, kName = 2, kSystemName = 3, kFilename = 4;
}
}  // namespace pb

// An executable segment of a loaded object: what a profile.proto Mapping describes.
struct Module {
  std::uintptr_t start = 0, limit = 0, file_offset = 0;
  std::string file, build_id;
};

std::string executable_path() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

// The GNU build ID note of an object, in hex (as Go and pprof show it), or "".
std::string build_id(const dl_phdr_info* info) {
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    auto at = reinterpret_cast<const char*>(info->dlpi_addr + ph.p_vaddr);
    const char* end = at + ph.p_memsz;
    auto align4 = [](std::size_t n) { return (n + 3) & ~std::size_t{3}; };
    while (at + sizeof(ElfW(Nhdr)) <= end) {
      ElfW(Nhdr) note;
      std::memcpy(&note, at, sizeof note);
      const char* name = at + sizeof note;
      const char* desc = name + align4(note.n_namesz);
      at = desc + align4(note.n_descsz);
      if (at > end) break;
      if (note.n_type == NT_GNU_BUILD_ID && note.n_namesz == 4 &&
          std::memcmp(name, "GNU", 4) == 0) {
        static constexpr char kHex[] = "0123456789abcdef";
        std::string hex;
        for (std::size_t j = 0; j < note.n_descsz; ++j) {
          auto byte = static_cast<unsigned char>(desc[j]);
          hex += kHex[byte >> 4];
          hex += kHex[byte & 15];
        }
        return hex;
      }
    }
  }
  return "";
}

// The executable segments of every loaded object, the main executable's first (pprof takes the
// first mapping for the main binary: its "File:" line).
std::vector<Module> loaded_modules() {
  std::vector<Module> modules;
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* arg) {
        auto& out = *static_cast<std::vector<Module>*>(arg);
        bool main_program = out.empty();  // the first object listed is the executable
        std::string file = info->dlpi_name && *info->dlpi_name ? info->dlpi_name : "";
        if (main_program) file = executable_path();
        std::string id;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X)) continue;
          if (id.empty()) id = build_id(info);
          Module m;
          m.start = info->dlpi_addr + ph.p_vaddr;
          m.limit = m.start + ph.p_memsz;
          m.file_offset = ph.p_offset;
          m.file = file;
          m.build_id = id;
          out.push_back(std::move(m));
        }
        if (main_program && out.empty()) {  // no executable segment: still keep it first
          Module m;
          m.file = file;
          out.push_back(std::move(m));
        }
        return 0;
      },
      &modules);
  return modules;
}

// The length of the shortest period of frames[begin, end): frames of one PC repeat when a
// function calls itself from the same call site, and each repetition is one call.
std::size_t period(const std::vector<Frame>& frames, std::size_t begin, std::size_t end) {
  std::size_t n = end - begin;
  auto same = [](const Frame& a, const Frame& b) {
    return a.function == b.function && a.line == b.line && a.file == b.file;
  };
  for (std::size_t p = 1; p < n; ++p) {
    if (n % p != 0) continue;
    bool periodic = true;
    for (std::size_t i = begin + p; i < end && periodic; ++i) {
      periodic = same(frames[i], frames[i - p]);
    }
    if (periodic) return p;
  }
  return n;
}

class ProfileBuilder {
 public:
  ProfileBuilder() : modules_(loaded_modules()), used_modules_(modules_.size()) { str(""); }

  std::string build(const std::vector<Goroutine>& goroutines) {
    // One sample per distinct (stack, state), largest first, as Go writes its goroutine profile.
    // Locations, functions and strings are numbered as the stacks are first met, goroutine by
    // goroutine, so build the stacks before anything else.
    auto key = [this, &goroutines](std::size_t i) {
      return GroupKey(stack(goroutines[i]), goroutines[i].status());
    };
    std::vector<GoroutineGroup> groups = group_goroutines(goroutines.size(), key);
    Message profile;
    profile.message(pb::profile::kSampleType, value_type("goroutine", "count"));
    profile.message(pb::profile::kPeriodType, value_type("goroutine", "count"));
    profile.uint(pb::profile::kPeriod, 1);
    auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    profile.uint(pb::profile::kTimeNanos, static_cast<std::uint64_t>(now.count()));
    std::int64_t state_key = str("state");
    for (const GoroutineGroup& group : groups) {
      Message sample;
      sample.packed(pb::sample::kLocationId, group.key.first);
      sample.packed(pb::sample::kValue, {group.count});
      Message label;
      label.uint(pb::label::kKey, static_cast<std::uint64_t>(state_key));
      label.uint(pb::label::kStr, static_cast<std::uint64_t>(str(group.key.second)));
      sample.message(pb::sample::kLabel, label);
      profile.message(pb::profile::kSample, sample);
    }
    for (std::size_t i = 0; i < modules_.size(); ++i) {
      if (i == 0 || used_modules_[i]) profile.message(pb::profile::kMapping, mapping(i));
    }
    profile.append(locations_);  // already encoded Location fields
    profile.append(functions_);
    for (const std::string& s : strings_) profile.bytes(pb::profile::kStringTable, s);
    return profile.data();
  }

 private:
  // A goroutine's stack as location ids, innermost first, a call that recurses from the same
  // call site once per level: the stack of its GroupKey.
  static_assert(std::is_same_v<std::uint64_t, std::uintptr_t>, "GroupKey holds location ids");
  std::vector<std::uint64_t> stack(const Goroutine& g) {
    std::vector<std::uint64_t> stack;
    const std::vector<Frame>& frames = g.frames;
    for (std::size_t i = 0; i < frames.size();) {
      std::size_t end = i + 1;
      while (end < frames.size() && frames[end].pc == frames[i].pc) ++end;
      std::size_t p = period(frames, i, end);
      std::uint64_t id = location(frames, i, i + p);
      for (std::size_t k = i; k < end; k += p) stack.push_back(id);
      i = end;
    }
    if (stack.empty()) {
      stack.push_back(pseudo_location(g.stack_available ? kNoUserFrames : kStackUnavailable));
    }
    return stack;
  }

  std::int64_t str(const std::string& s) {
    auto [it, inserted] = string_index_.try_emplace(s, static_cast<std::int64_t>(strings_.size()));
    if (inserted) strings_.push_back(s);
    return it->second;
  }

  Message value_type(const std::string& type, const std::string& unit) {
    Message m;
    m.uint(pb::value_type::kType, static_cast<std::uint64_t>(str(type)));
    m.uint(pb::value_type::kUnit, static_cast<std::uint64_t>(str(unit)));
    return m;
  }

  std::uint64_t function(const std::string& name, const std::string& file) {
    auto [it, inserted] = function_ids_.try_emplace({name, file}, function_ids_.size() + 1);
    if (inserted) {
      Message f;
      f.uint(pb::function::kId, it->second);
      auto name_index = static_cast<std::uint64_t>(str(name.empty() ? "?" : name));
      f.uint(pb::function::kName, name_index);
      // No separate mangled name: both the same, as pprof's proto/README.md asks.
      f.uint(pb::function::kSystemName, name_index);
      f.uint(pb::function::kFilename, static_cast<std::uint64_t>(str(file)));
      functions_.message(pb::profile::kFunction, f);
    }
    return it->second;
  }

  // The Location of the PC frames[begin, end) were found at: its inlined calls, innermost first.
  std::uint64_t location(const std::vector<Frame>& frames, std::size_t begin, std::size_t end) {
    std::uintptr_t pc = frames[begin].pc;
    auto [it, inserted] = location_ids_.try_emplace(pc, next_location_id_);
    if (!inserted) return it->second;
    ++next_location_id_;
    Message loc;
    loc.uint(pb::location::kId, it->second);
    // A return address follows the call: pprof wants an address inside the call instruction,
    // as Go writes it (the PC minus one).
    std::uintptr_t address = pc ? pc - 1 : 0;
    for (std::size_t i = 0; i < modules_.size(); ++i) {
      if (address >= modules_[i].start && address < modules_[i].limit) {
        loc.uint(pb::location::kMappingId, i + 1);
        used_modules_[i] = true;
        break;
      }
    }
    loc.uint(pb::location::kAddress, address);
    for (std::size_t i = begin; i < end; ++i) {
      Message line;
      line.uint(pb::line::kFunctionId, function(frames[i].function, frames[i].file));
      int number = frames[i].line;
      line.uint(pb::line::kLine, number > 0 ? static_cast<std::uint64_t>(number) : 0);
      loc.message(pb::location::kLine, line);
    }
    locations_.message(pb::profile::kLocation, loc);
    return it->second;
  }

  std::uint64_t pseudo_location(const char* name) {
    auto [it, inserted] = pseudo_location_ids_.try_emplace(name, next_location_id_);
    if (!inserted) return it->second;
    ++next_location_id_;
    Message line;
    line.uint(pb::line::kFunctionId, function(name, ""));
    Message loc;
    loc.uint(pb::location::kId, it->second);
    loc.message(pb::location::kLine, line);
    locations_.message(pb::profile::kLocation, loc);
    return it->second;
  }

  Message mapping(std::size_t index) {
    const Module& m = modules_[index];
    Message out;
    out.uint(pb::mapping::kId, index + 1);
    out.uint(pb::mapping::kMemoryStart, m.start);
    out.uint(pb::mapping::kMemoryLimit, m.limit);
    out.uint(pb::mapping::kFileOffset, m.file_offset);
    out.uint(pb::mapping::kFilename, static_cast<std::uint64_t>(str(m.file)));
    out.uint(pb::mapping::kBuildId, static_cast<std::uint64_t>(str(m.build_id)));
    // Everything is symbolized here, inlined calls included: pprof must not symbolize again.
    for (int field : {pb::mapping::kHasFunctions, pb::mapping::kHasFilenames,
                      pb::mapping::kHasLineNumbers, pb::mapping::kHasInlineFrames}) {
      out.uint(field, 1);
    }
    return out;
  }

  std::vector<Module> modules_;
  std::vector<bool> used_modules_;  // by module index: a location refers to it
  std::vector<std::string> strings_;
  std::unordered_map<std::string, std::int64_t> string_index_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> function_ids_;
  std::unordered_map<std::uintptr_t, std::uint64_t> location_ids_;
  std::map<std::string, std::uint64_t> pseudo_location_ids_;
  std::uint64_t next_location_id_ = 1;
  Message locations_, functions_;  // encoded Location / Function fields of the Profile
};

void write_all(std::ostream& out, const char* data, std::size_t size) {
  out.write(data, static_cast<std::streamsize>(size));
  if (!out) throw std::runtime_error(std::string(kWhere) + "writing to the stream failed");
}

// Go writes its profiles through gzip.BestSpeed; so does this.
void write_gzip(std::ostream& out, const std::string& data) {
  z_stream zs{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
  int rc = deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  if (rc != Z_OK) {
    throw std::runtime_error(std::string(kWhere) + "zlib deflateInit2 failed: " + zError(rc));
  }
  struct End {
    z_stream* zs;
    ~End() { deflateEnd(zs); }
  } end{&zs};
  std::size_t fed = 0;
  std::vector<char> chunk(1 << 16);  // on the heap: goroutine stacks may be small
  while (rc != Z_STREAM_END) {
    if (zs.avail_in == 0 && fed < data.size()) {
      std::size_t n = std::min<std::size_t>(data.size() - fed, 1u << 30);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + fed));
      zs.avail_in = static_cast<uInt>(n);
      fed += n;
    }
    zs.next_out = reinterpret_cast<Bytef*>(chunk.data());
    zs.avail_out = static_cast<uInt>(chunk.size());
    rc = deflate(&zs, fed == data.size() ? Z_FINISH : Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
      throw std::runtime_error(std::string(kWhere) + "zlib deflate failed: " +
                               (zs.msg ? zs.msg : zError(rc)));
    }
    write_all(out, chunk.data(), chunk.size() - zs.avail_out);
  }
}

}  // namespace

}  // namespace gocxx::diag

namespace gocxx::debug {

void write_goroutine_profile(std::ostream& out, const std::vector<Goroutine>& snapshot, bool gzip) {
  std::string profile = diag::ProfileBuilder().build(snapshot);
  if (gzip) {
    diag::write_gzip(out, profile);
  } else {
    diag::write_all(out, profile.data(), profile.size());
  }
}

void write_goroutine_profile(std::ostream& out, bool gzip) {
  write_goroutine_profile(out, goroutines(), gzip);
}

}  // namespace gocxx::debug
