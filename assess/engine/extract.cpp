#include "engine/extract.hpp"

#include <algorithm>
#include <cctype>
#include <regex>

namespace assess::extract {

namespace {

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.push_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// "main.(*T).run(0xc000012345, {0x4fa0a8?})" -> "main.(*T).run": drops the final balanced
// argument list, keeping the parentheses of a method's receiver.
std::string strip_args(std::string_view frame) {
  frame = trim(frame);
  if (frame.empty() || frame.back() != ')') return std::string(frame);
  int depth = 0;
  for (std::size_t i = frame.size(); i-- > 0;) {
    if (frame[i] == ')') ++depth;
    if (frame[i] == '(' && --depth == 0) return std::string(frame.substr(0, i));
  }
  return std::string(frame);
}

bool in_main(std::string_view function) { return function.starts_with("main."); }

std::string innermost_main(const std::vector<std::string>& functions) {
  for (const std::string& f : functions)
    if (in_main(f)) return f;
  return {};
}

// "chan receive, 5 minutes, locked to thread" -> "chan receive"
std::string wait_reason_of(std::string_view bracket) {
  return std::string(trim(bracket.substr(0, bracket.find(','))));
}

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

}  // namespace

std::vector<Goroutine> parse_dump(std::string_view text) {
  static const std::regex header(R"(^goroutine (\d+) \[([^\]]*)\]:$)");
  std::vector<Goroutine> out;
  bool in_block = false, in_frames = false;
  for (std::string_view line : lines_of(text)) {
    std::match_results<std::string_view::const_iterator> m;
    if (std::regex_match(line.begin(), line.end(), m, header)) {
      out.push_back(Goroutine{std::stoull(m[1].str()), wait_reason_of(m[2].str()), {}});
      in_block = in_frames = true;
      continue;
    }
    if (!in_block) continue;
    if (trim(line).empty()) {
      in_block = false;
      continue;
    }
    if (line.front() == '\t' || line.front() == ' ') continue;  // a frame's file:line
    if (line.starts_with("created by ") || line.starts_with("...")) {
      in_frames = false;  // the creator is not on the goroutine's stack
      continue;
    }
    if (in_frames) out.back().functions.push_back(strip_args(line));
  }
  return out;
}

std::vector<ProfileRecord> parse_profile(std::string_view text) {
  static const std::regex record(R"(^(\d+) @( 0x[0-9a-f]+)+$)");
  static const std::regex frame(R"(^#\s+0x[0-9a-f]+\s+(\S+?)(\+0x[0-9a-f]+)?(\s.*)?$)");
  std::vector<ProfileRecord> out;
  bool in_record = false;
  for (std::string_view line : lines_of(text)) {
    std::match_results<std::string_view::const_iterator> m;
    if (std::regex_match(line.begin(), line.end(), m, record)) {
      out.push_back(ProfileRecord{std::stol(m[1].str()), {}});
      in_record = true;
    } else if (in_record && std::regex_match(line.begin(), line.end(), m, frame)) {
      out.back().functions.push_back(m[1].str());
    } else if (!line.starts_with("# labels:")) {
      in_record = false;
    }
  }
  return out;
}

std::vector<LeakGroup> leak_groups(std::string_view text) {
  std::map<std::string, LeakGroup> by_function;
  std::vector<Goroutine> dump = parse_dump(text);
  if (!dump.empty()) {
    for (const Goroutine& g : dump) {
      std::string f = innermost_main(g.functions);
      if (f.empty()) continue;
      LeakGroup& grp = by_function[f];
      grp.function = f;
      ++grp.count;
      ++grp.wait_reasons[g.wait_reason];
    }
  } else {
    for (const ProfileRecord& r : parse_profile(text)) {
      std::string f = innermost_main(r.functions);
      if (f.empty()) continue;
      LeakGroup& grp = by_function[f];
      grp.function = f;
      grp.count += r.count;
    }
  }
  std::vector<LeakGroup> out;
  for (auto& [f, g] : by_function) out.push_back(std::move(g));
  std::stable_sort(out.begin(), out.end(), [](const LeakGroup& a, const LeakGroup& b) { return a.count > b.count; });
  return out;
}

std::vector<RaceAccess> first_race(std::string_view text) {
  static const std::regex access(R"(^(Write|Read|Previous write|Previous read) at 0x[0-9a-f]+ by .*:$)");
  std::vector<RaceAccess> out;
  bool in_report = false, in_stack = false;
  for (std::string_view line : lines_of(text)) {
    if (line == "WARNING: DATA RACE") {
      if (!out.empty()) break;  // the first report only
      in_report = true;
      continue;
    }
    if (!in_report) continue;
    std::match_results<std::string_view::const_iterator> m;
    if (std::regex_match(line.begin(), line.end(), m, access)) {
      out.push_back(RaceAccess{m[1].str(), ""});
      in_stack = true;
      continue;
    }
    if (line.starts_with("==================")) break;
    if (!in_stack) continue;
    if (trim(line).empty() || line.starts_with("Goroutine ")) {
      in_stack = false;
      if (out.size() == 2) break;
      continue;
    }
    // "  main.increment()" is a function; "      /item/main.go:14 +0x66" its position.
    if (line.starts_with("  ") && !line.starts_with("   ") && out.back().function.empty()) {
      std::string f = strip_args(line);
      if (in_main(f)) out.back().function = f;
    }
  }
  return out;
}

std::set<std::string> heap_escapes(std::string_view text) {
  static const std::regex diag(R"(^\S+\.go:\d+:\d+: (.*)$)");
  std::set<std::string> out;
  for (std::string_view line : lines_of(text)) {
    std::match_results<std::string_view::const_iterator> m;
    if (!std::regex_match(line.begin(), line.end(), m, diag)) continue;
    std::string msg = m[1].str();
    static constexpr std::string_view moved = "moved to heap: ", escapes = " escapes to heap";
    if (msg.starts_with(moved)) out.insert(msg.substr(moved.size()));
    else if (msg.ends_with(escapes)) out.insert(msg.substr(0, msg.size() - escapes.size()));
  }
  return out;
}

namespace {

// The key is the one choice `matches` accepts; `shows` describes what the artifact showed.
Key unique_choice(const std::vector<std::string>& choices, std::string shows,
                  const auto& matches) {
  Key k;
  k.shows = std::move(shows);
  std::vector<std::size_t> hits;
  for (std::size_t i = 0; i < choices.size(); ++i)
    if (matches(choices[i])) hits.push_back(i);
  if (hits.size() == 1) {
    k.choice = hits[0];
  } else if (hits.empty()) {
    k.problem = "no choice matches what the artifact shows (" + k.shows + ")";
  } else {
    k.problem = "choices " + quoted(choices[hits[0]]) + " and " + quoted(choices[hits[1]]) +
                " both match what the artifact shows (" + k.shows + ")";
  }
  return k;
}

Key broken(std::string problem) {
  Key k;
  k.problem = std::move(problem);
  return k;
}

// The largest group, or a problem when there is none or the first two tie.
std::optional<LeakGroup> largest_group(std::string_view text, std::string& problem) {
  std::vector<LeakGroup> groups = leak_groups(text);
  if (groups.empty()) {
    problem = "the artifact shows no goroutine with a frame in package main";
    return std::nullopt;
  }
  if (groups.size() > 1 && groups[0].count == groups[1].count) {
    problem = "tie: " + groups[0].function + " and " + groups[1].function + " have " +
              std::to_string(groups[0].count) + " goroutines each";
    return std::nullopt;
  }
  return groups[0];
}

std::string join(const auto& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : ", ") + std::string(v);
  return out.empty() ? "nothing" : out;
}

}  // namespace

Key key(const DiagnoseSpec& spec, const Artifact& artifact) {
  const std::vector<std::string>& choices = spec.choices;
  const std::string& text = artifact.text;
  auto same = [](const std::string& a, const std::string& b) { return collapse_space(a) == collapse_space(b); };

  if (spec.extract == "leak_function" || spec.extract == "wait_reason") {
    std::string problem;
    std::optional<LeakGroup> g = largest_group(text, problem);
    if (!g) return broken(problem);
    std::string shows = g->function + ": " + std::to_string(g->count) + " goroutines";
    if (spec.extract == "leak_function")
      return unique_choice(choices, shows, [&](const std::string& c) { return same(c, g->function); });
    if (g->wait_reasons.empty()) return broken("wait_reason needs a debug=2 dump; the artifact has none");
    // The group's most common wait reason; a tie makes the question ambiguous.
    std::vector<std::pair<std::string, long>> reasons(g->wait_reasons.begin(), g->wait_reasons.end());
    std::stable_sort(reasons.begin(), reasons.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    if (reasons.size() > 1 && reasons[0].second == reasons[1].second)
      return broken("tie between wait reasons \"" + reasons[0].first + "\" and \"" + reasons[1].first +
                    "\" in " + g->function);
    const std::string reason = reasons[0].first;
    return unique_choice(choices, shows + " [" + reason + "]", [&](const std::string& c) { return same(c, reason); });
  }
  if (spec.extract == "moved_to_heap") {
    std::set<std::string> escapes = heap_escapes(text);
    return unique_choice(choices, "escaping: " + join(escapes), [&](const std::string& c) {
      return escapes.count(std::string(collapse_space(c))) > 0;
    });
  }
  if (spec.extract == "race_function") {
    std::vector<RaceAccess> race = first_race(text);
    if (race.empty()) return broken("the artifact has no race report");
    std::vector<std::string> fs;
    for (const RaceAccess& a : race)
      if (!a.function.empty()) fs.push_back(a.access + " in " + a.function);
    return unique_choice(choices, join(fs), [&](const std::string& c) {
      return std::any_of(race.begin(), race.end(), [&](const RaceAccess& a) { return same(c, a.function); });
    });
  }
  if (spec.extract == "vet_analyzer") {
    const std::vector<std::string>& analyzers = artifact.vet_analyzers;
    return unique_choice(choices, "vet reported: " + join(analyzers), [&](const std::string& c) {
      return text.find(c) != std::string::npos ||
             std::find(analyzers.begin(), analyzers.end(), c) != analyzers.end();
    });
  }
  if (spec.extract == "evidence") {
    // Nothing to name but the artifact itself: its start tells an item's author what ran.
    std::string start = text.substr(0, 160);
    std::replace(start.begin(), start.end(), '\n', '|');
    return unique_choice(choices, "the artifact begins \"" + start + "\"", [&](const std::string& c) {
      std::regex re(spec.evidence.at(c), std::regex::ECMAScript);
      return std::regex_search(text, re);
    });
  }
  return broken("unknown extractor \"" + spec.extract + "\"");
}

}  // namespace assess::extract
