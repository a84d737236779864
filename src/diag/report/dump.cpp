// analyze_dump and growth_by_site (gocxx/report.hpp): Go's goroutine dump text, read line by
// line and aggregated as it goes, so a dump of 100k goroutines keeps one entry per distinct
// site and stack, not per goroutine.
//
// The traceback format (debug=2, SIGQUIT, panics; gocxx writes the same):
//   goroutine 18 [chan receive, 2 minutes]:          also "goroutine 1 gp=0x.. m=0 [running]:"
//   main.worker(0x0?)                                a frame: function(args)
//   \t/src/app/main.go:23 +0x33                      and its location
//   created by main.startWorkers                     Go 1.21+ and gocxx: "... in goroutine 1"
//   \t/src/app/main.go:30 +0x39
// Anything between goroutines (a SIGQUIT's registers, "panic: ..." lines) is skipped.
// The profile format (debug=1): "goroutine profile: total N", then groups "N @ 0x.. 0x..",
// an optional "# labels: {...}" (gocxx puts the state there), and "#\t0xpc\tfn+0x..\tfile:line".
#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "gocxx/report.hpp"

namespace gocxx::report {

namespace {

constexpr std::size_t kOldest = 20;
constexpr const char* kMain = "(main)";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

std::uint64_t parse_uint(std::string_view s, bool& ok) {
  std::uint64_t v = 0;
  auto res = std::from_chars(s.data(), s.data() + s.size(), v);
  ok = res.ec == std::errc() && res.ptr == s.data() + s.size();
  return v;
}

// "main.worker(0x0?)" -> "main.worker": the last balanced parenthesized group goes.
std::string_view strip_args(std::string_view frame) {
  if (frame.empty() || frame.back() != ')') return frame;
  int depth = 0;
  for (std::size_t i = frame.size(); i-- > 0;) {
    if (frame[i] == ')') ++depth;
    if (frame[i] == '(' && --depth == 0) return frame.substr(0, i);
  }
  return frame;
}

// "\t/src/main.go:23 +0x33" -> "/src/main.go:23".
std::string_view strip_offset(std::string_view location) {
  location = trim(location);
  if (auto plus = location.rfind(" +0x"); plus != std::string_view::npos) location = location.substr(0, plus);
  return location;
}

// "created by main.f in goroutine 7" -> "main.f".
std::string_view creator_function(std::string_view line) {
  line.remove_prefix(std::string_view("created by ").size());
  if (auto in = line.find(" in goroutine "); in != std::string_view::npos) line = line.substr(0, in);
  return trim(line);
}

// Accumulates goroutines (or profile groups) into sites and stack groups.
class Aggregator {
 public:
  struct Goroutine {
    std::uint64_t id = 0;
    std::size_t count = 1;
    std::string state;
    std::int64_t minutes = 0;
    std::string function = kMain, location;
    std::string stack;      // as shown
    std::string stack_key;  // frames without arguments and offsets
  };

  void add(const Goroutine& g) {
    std::string key = g.function + ' ' + g.location;
    auto [it, fresh] = site_index_.try_emplace(key, sites_.size());
    if (fresh) {
      sites_.push_back({});
      sites_.back().function = g.function;
      sites_.back().location = g.location;
    }
    DumpSite& site = sites_[it->second];
    site.count += g.count;
    site.oldest_minutes = std::max(site.oldest_minutes, g.minutes);
    auto& groups = groups_[it->second];
    auto [git, gfresh] = groups.try_emplace(g.state + '\n' + g.stack_key, site.stacks.size());
    if (gfresh) site.stacks.push_back({g.state, 0, 0, g.id, g.stack});
    StackGroup& group = site.stacks[git->second];
    group.count += g.count;
    group.oldest_minutes = std::max(group.oldest_minutes, g.minutes);
    site_states_[it->second][g.state] += g.count;
    states_[g.state] += g.count;
    total_ += g.count;
    if (g.minutes >= 1) {
      oldest_.push_back({g.id, g.minutes, g.state, g.function});
      if (oldest_.size() > 4 * kOldest) trim_oldest();  // bounded, whatever the dump's size
    }
  }

  DumpAnalysis finish(DumpAnalysis::Format format) {
    DumpAnalysis a;
    a.format = format;
    a.total = total_;
    for (std::size_t i = 0; i < sites_.size(); ++i) {
      sites_[i].states = sorted(site_states_[i]);
      std::stable_sort(sites_[i].stacks.begin(), sites_[i].stacks.end(),
                       [](const StackGroup& x, const StackGroup& y) { return x.count > y.count; });
    }
    std::stable_sort(sites_.begin(), sites_.end(), [](const DumpSite& x, const DumpSite& y) {
      return x.count > y.count;
    });
    a.sites = std::move(sites_);
    a.states = sorted(states_);
    trim_oldest();
    a.oldest = std::move(oldest_);
    return a;
  }

  std::size_t total() const { return total_; }

 private:
  static std::vector<StateCount> sorted(const std::map<std::string, std::size_t>& counts) {
    std::vector<StateCount> v;
    for (const auto& [state, n] : counts) v.push_back({state, n});
    std::stable_sort(v.begin(), v.end(), [](const StateCount& x, const StateCount& y) {
      return x.count > y.count;
    });
    return v;
  }
  void trim_oldest() {
    auto longer = [](const OldWait& x, const OldWait& y) {
      return x.minutes != y.minutes ? x.minutes > y.minutes : x.id < y.id;
    };
    std::size_t keep = std::min(kOldest, oldest_.size());
    std::partial_sort(oldest_.begin(), oldest_.begin() + keep, oldest_.end(), longer);
    oldest_.resize(keep);
  }

  std::vector<DumpSite> sites_;
  std::unordered_map<std::string, std::size_t> site_index_;
  std::unordered_map<std::size_t, std::unordered_map<std::string, std::size_t>> groups_;
  std::unordered_map<std::size_t, std::map<std::string, std::size_t>> site_states_;
  std::map<std::string, std::size_t> states_;
  std::vector<OldWait> oldest_;
  std::size_t total_ = 0;
};

class Lines {
 public:
  explicit Lines(std::string_view text) : text_(text) {}
  bool next(std::string_view& line) {
    if (pos_ >= text_.size()) return false;
    std::size_t nl = text_.find('\n', pos_);
    if (nl == std::string_view::npos) nl = text_.size();
    line = text_.substr(pos_, nl - pos_);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos_ = nl + 1;
    ++number_;
    return true;
  }
  std::size_t number() const { return number_; }

 private:
  std::string_view text_;
  std::size_t pos_ = 0, number_ = 0;
};

[[noreturn]] void fail(std::size_t line, const std::string& what) {
  throw std::invalid_argument("gocxx::report::analyze_dump: line " + std::to_string(line) + ": " + what);
}

// "goroutine 18 [chan receive, 2 minutes]:" into g; false if the line is no header.
bool parse_header(std::string_view line, std::size_t number, Aggregator::Goroutine& g) {
  if (!starts_with(line, "goroutine ")) return false;
  std::string_view rest = line.substr(10);
  std::size_t digits = rest.find_first_not_of("0123456789");
  if (digits == 0 || starts_with(line, "goroutine profile:")) return false;
  bool ok;
  g.id = parse_uint(rest.substr(0, digits), ok);
  std::size_t open = rest.find(" [");
  if (!ok || open == std::string_view::npos || rest.size() < 2 || rest.substr(rest.size() - 2) != "]:") {
    fail(number, "malformed goroutine header: " + std::string(line.substr(0, 200)));
  }
  std::string_view inside = rest.substr(open + 2, rest.size() - open - 4);
  // "state, N minutes, locked to thread": the state is everything before the first ", ".
  std::size_t comma = inside.find(", ");
  g.state = std::string(inside.substr(0, comma));
  g.minutes = 0;
  while (comma != std::string_view::npos) {
    inside.remove_prefix(comma + 2);
    comma = inside.find(", ");
    std::string_view part = inside.substr(0, comma);
    if (auto sp = part.find(" minutes"); sp != std::string_view::npos) {
      std::uint64_t m = parse_uint(part.substr(0, sp), ok);
      if (ok) g.minutes = static_cast<std::int64_t>(m);
    }
  }
  return true;
}

DumpAnalysis parse_traceback(std::string_view text) {
  Aggregator agg;
  Lines lines(text);
  std::string_view line;
  Aggregator::Goroutine g;
  bool in_goroutine = false;
  bool after_created_by = false;
  auto finish = [&] {
    if (in_goroutine) agg.add(g);
    in_goroutine = false;
  };
  while (lines.next(line)) {
    Aggregator::Goroutine header;
    if (parse_header(line, lines.number(), header)) {
      finish();
      g = std::move(header);
      in_goroutine = true;
      after_created_by = false;
      continue;
    }
    if (!in_goroutine) continue;
    if (trim(line).empty()) {
      finish();
      continue;
    }
    if (!g.stack.empty()) g.stack += '\n';
    g.stack += line;
    if (line.front() == '\t') {
      std::string_view location = strip_offset(line);
      if (after_created_by) {
        g.location = location;
        after_created_by = false;
      } else {
        (g.stack_key += location) += '\n';
      }
    } else if (starts_with(line, "created by ")) {
      g.function = creator_function(line);
      after_created_by = true;
    } else {
      (g.stack_key += strip_args(line)) += '\n';
    }
  }
  finish();
  return agg.finish(DumpAnalysis::Format::kTraceback);
}

DumpAnalysis parse_profile(std::string_view text) {
  Aggregator agg;
  Lines lines(text);
  std::string_view line;
  lines.next(line);
  bool ok;
  std::size_t total = parse_uint(trim(line.substr(std::string_view("goroutine profile: total ").size())), ok);
  if (!ok) fail(lines.number(), "malformed profile header: " + std::string(line.substr(0, 200)));
  Aggregator::Goroutine g;
  bool in_group = false;
  auto finish = [&] {
    if (in_group) {
      if (g.state.empty()) g.state = "unknown";  // Go's debug=1 has no states; gocxx labels them
      agg.add(g);
    }
    in_group = false;
  };
  while (lines.next(line)) {
    if (trim(line).empty()) {
      finish();
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(line[0]))) {  // "30 @ 0x437d56 0x40641b"
      finish();
      g = {};
      g.function = "(no frames)";
      std::size_t at = line.find(" @");
      g.count = at == std::string_view::npos ? 0 : parse_uint(line.substr(0, at), ok);
      if (at == std::string_view::npos || !ok) fail(lines.number(), "malformed group: " + std::string(line.substr(0, 200)));
      in_group = true;
      continue;
    }
    if (!in_group || line[0] != '#') continue;
    if (starts_with(line, "# labels:")) {
      constexpr std::string_view kState = "\"state\":\"";
      if (auto s = line.find(kState); s != std::string_view::npos) {
        std::string_view v = line.substr(s + kState.size());
        g.state = v.substr(0, v.find('"'));
      }
      continue;
    }
    // "#\t0x4bda52\tmain.worker+0x32\t\t/src/main.go:23": the outermost frame comes last.
    std::vector<std::string_view> fields;
    for (std::size_t pos = 1; pos < line.size();) {
      std::size_t tab = line.find('\t', pos);
      if (tab == std::string_view::npos) tab = line.size();
      if (std::string_view f = trim(line.substr(pos, tab - pos)); !f.empty()) fields.push_back(f);
      pos = tab + 1;
    }
    if (fields.size() < 3) continue;
    std::string_view fn = fields[1].substr(0, fields[1].rfind("+0x"));
    g.function = fn;
    g.location = fields[2];
    if (!g.stack.empty()) g.stack += '\n';
    g.stack += std::string(fn) + "\n\t" + std::string(fields[2]);
    g.stack_key = g.stack;
  }
  finish();
  DumpAnalysis a = agg.finish(DumpAnalysis::Format::kProfile);
  a.total = std::max(total, a.total);  // the header's count is authoritative
  return a;
}

}  // namespace

std::string DumpSite::key() const { return location.empty() ? function : function + ' ' + location; }

DumpAnalysis analyze_dump(std::string_view text) {
  // Leading blank lines (a dump cut out of a log) are skipped.
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = std::min(text.find('\n', start), text.size());
    if (!trim(text.substr(start, nl - start)).empty()) break;
    start = nl + 1;
  }
  text.remove_prefix(std::min(start, text.size()));
  DumpAnalysis a = starts_with(text, "goroutine profile: total ") ? parse_profile(text)
                                                                  : parse_traceback(text);
  if (a.sites.empty() && a.total == 0) {
    throw std::invalid_argument(
        "gocxx::report::analyze_dump: no goroutines found: expected Go's goroutine dump "
        "(\"goroutine 1 [running]:\" ..., debug=2 or SIGQUIT) or profile (\"goroutine profile: "
        "total N\", debug=1)");
  }
  return a;
}

std::vector<SiteGrowth> growth_by_site(
    const std::vector<std::pair<double, DumpAnalysis>>& dumps_over_time) {
  std::vector<SiteGrowth> out;
  std::unordered_map<std::string, std::size_t> index;
  const std::size_t n = dumps_over_time.size();
  for (std::size_t d = 0; d < n; ++d) {
    for (const DumpSite& s : dumps_over_time[d].second.sites) {
      auto [it, fresh] = index.try_emplace(s.key(), out.size());
      if (fresh) out.push_back({s.function, s.location, std::vector<std::size_t>(n, 0)});
      out[it->second].counts[d] += s.count;
    }
  }
  double minutes = n >= 2 ? (dumps_over_time.back().first - dumps_over_time.front().first) / 60 : 0;
  for (SiteGrowth& g : out) {
    g.growth = n == 0 ? 0 : static_cast<std::int64_t>(g.counts.back()) - static_cast<std::int64_t>(g.counts.front());
    g.per_minute = minutes > 0 ? static_cast<double>(g.growth) / minutes : 0;
  }
  std::stable_sort(out.begin(), out.end(), [](const SiteGrowth& x, const SiteGrowth& y) {
    return x.growth != y.growth ? x.growth > y.growth : x.counts.back() > y.counts.back();
  });
  return out;
}

}  // namespace gocxx::report
