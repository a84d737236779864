// Extractors: read a diagnose item's key out of the artifact Go 1.19 produced (a goroutine dump
// or profile, a race report, -gcflags=-m output, go vet's output, gctrace lines).
//
//   assess::extract::Artifact art{.text = dump};
//   assess::extract::Key k = assess::extract::key(*item.diagnose, art);
//   if (k.choice) ... item.diagnose->choices[*k.choice] is the answer; k.shows says why
//   else ... the item is broken: k.problem ("choices \"main.a\" and \"main.b\" both match")
//
// Formats parsed (as Go 1.19 writes them):
// - goroutine dumps: pprof debug=2, runtime.Stack(buf, true), panic and deadlock reports:
//   "goroutine 18 [chan send, 2 minutes]:" then function lines ("main.(*T).run(0xc000...)")
//   each followed by a tab-indented file line, up to "created by ...";
// - goroutine profiles at debug=1: "5 @ 0x437596 ..." then "#\t0x4b3c84\tmain.producer+0x24\t...";
// - race reports: "WARNING: DATA RACE", "Write at 0x... by goroutine 7:", two-space-indented
//   function lines;
// - -gcflags=-m: "./main.go:20:2: moved to heap: p", "./main.go:32:13: x escapes to heap".
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/bank.hpp"

namespace assess::extract {

struct Goroutine {
  std::uint64_t id = 0;
  std::string wait_reason;             // "chan send", "select (no cases)": no duration, no "locked to thread"
  std::vector<std::string> functions;  // innermost first, without arguments: "main.(*T).run"
};
// Goroutine blocks of a dump (anything before, between or after them is skipped).
std::vector<Goroutine> parse_dump(std::string_view text);

struct ProfileRecord {
  long count = 0;
  std::vector<std::string> functions;  // innermost first, without "+0x24"
};
std::vector<ProfileRecord> parse_profile(std::string_view text);

// Goroutines grouped by their innermost frame in package main (goroutines with none are left
// out), largest group first, equal counts by function name. A dump is used where the text has
// one, else a debug=1 profile.
struct LeakGroup {
  std::string function;
  long count = 0;
  std::map<std::string, long> wait_reasons;  // dumps only
};
std::vector<LeakGroup> leak_groups(std::string_view text);

// The first race report's two accesses ("Write at" / "Read at", then "Previous write at" /
// "Previous read at"): the innermost main.* function of each stack.
struct RaceAccess {
  std::string access;    // "Write", "Read", "Previous write", "Previous read"
  std::string function;  // "" when the stack has no frame in package main
};
std::vector<RaceAccess> first_race(std::string_view text);

// Names reported "moved to heap: <name>" and expressions reported "<expr> escapes to heap".
std::set<std::string> heap_escapes(std::string_view text);

// A diagnose item's artifact: the text the candidate sees, and for vet artifacts the analyzers
// that reported (from `go vet -json`), so choices may name analyzers.
struct Artifact {
  std::string text;
  std::vector<std::string> vet_analyzers;
};

struct Key {
  std::optional<std::size_t> choice;  // index into the item's choices
  std::string shows;                  // what the extractor read, for reports
  std::string problem;                // set when there is no unique key: the item is broken
};
Key key(const DiagnoseSpec& spec, const Artifact& artifact);

}  // namespace assess::extract
