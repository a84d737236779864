// The grader: runs an item's Go code in the sandbox (Go 1.19, GOPATH mode) and grades an answer,
// producing Exercism v3 results.json with a gocxx "assess" section.
//
//   assess::Grader grader({.scratch_base = "/var/tmp", .cache = assess::GoCache::seeded,
//                          .gocache = cache_dir / "gocache"},
//                         assess::OracleCache(cache_dir / "oracles"));
//   nlohmann::json results = grader.grade(item, assess::Answer{.choice = 2});
//   results["status"];              // "pass" | "fail" | "error"
//   results["assess"]["verdict"];   // "pass", "answer", or the fix check that failed first
//
// Every grading gets its own scratch directory under scratch_base, removed afterwards:
// <scratch>/gopath/src/item/ holds the package (the sandbox's working directory),
// <scratch>/tmp/ is TMPDIR, <scratch>/gocache/ the GOCACHE unless it is shared. Paths in
// everything shown (artifacts, outputs, messages) are rewritten: <scratch>/gopath/src/item/ ->
// /item/, then <scratch>/ -> /scratch/, so they are the same from run to run.
//
// GOCACHE: `shared` uses one directory for every run (the bank check: trusted code only; a
// program could plant entries that a later build trusts, as Go 1.19 checks only an entry's
// size). `seeded` is for candidates: `gocache` is a snapshot of a warm cache (snapshot_gocache),
// mounted read-only in the sandbox, and each grading's GOCACHE holds symlinks to its files, so
// a run reads the warm entries, cannot change them, and what it adds dies with its scratch
// directory (~0.1 s a grading, where a copy of the bank's 160 MB cache takes seconds). `fresh`
// starts empty (a race build then compiles the standard library: ~15 s more).
//
// Pressure mode (seed ch. 5): grade(item, answer, {.on = true}) grades a fix item that has a
// pressure drill (item.json fix.pressure) with one more check after the others pass:
// `pressure`, its tests run again with seeded faults (assess/bank/_lib's Go package
// assess/pressure), load and a goroutine watch. results.json then has assess.pressure, the
// drill's evidence ("goroutines grew 9 → 52 ... " and the goroutine summary), never test source.
//
// Labs (engine/lab.hpp): a fix item with a lab section (item.json fix.lab) gets the `lab` check
// after all the others pass, in pressure mode and outside it: its service is built and run under
// gocxx-pressure (GoConfig::pressure_tool) in the sandbox; results.json then has assess.lab.
//
// GOPATH: <scratch>/gopath, the bank's _lib (bank_library) when it has one, go_libraries.
//
// Blocking: every sandbox run happens inside gocxx::blocking, so a Grader can be used from
// goroutines (several at once: a Grader is safe to share) as well as from plain threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/bank.hpp"
#include "engine/sandbox.hpp"

namespace assess {

enum class GoCache { shared, seeded, fresh };

// Where gradings make their scratch directories by default: /dev/shm where it is writable (a
// grading creates and deletes thousands of files, which a busy disk makes take seconds), else
// the temporary directory.
std::filesystem::path default_scratch_base();

struct GoConfig {
  std::filesystem::path scratch_base = default_scratch_base();
  GoCache cache = GoCache::fresh;
  std::filesystem::path gocache;  // shared: the GOCACHE; seeded: a snapshot_gocache snapshot
  std::filesystem::path go_libraries = "/usr/share/gocode";  // GOPATH's second entry (Debian's Go libraries)
  std::chrono::milliseconds build_wall{180'000};  // each go build / vet / test (plus test_timeout_s)
  std::chrono::milliseconds program_wall{10'000};  // each run of a predict or diagnose program
  // gocxx-pressure, which runs a lab's service (engine/lab.hpp); mounted read-only in the sandbox.
  std::filesystem::path pressure_tool = GOCXX_PRESSURE_TOOL;
};

// A candidate's answer. Choice items (predict "choice", diagnose) take `choice` (0-based) or the
// choice's text in `text`; predict "output" and "number" take `text`; fix items take `files`.
struct Answer {
  std::optional<std::size_t> choice = {};
  std::string text = {};
  Files files = {};  // editable file name -> its new content
  // {"choice": 2} | {"text": "2 1 0"} | {"files": {"service.go": "package main ..."}}
  static Answer from_json(const nlohmann::json& j);  // throws std::invalid_argument
};

// One sandbox run, as results.json reports it.
struct RunInfo {
  std::string status = "none";  // sandbox::to_string, or "none" when nothing ran
  std::chrono::milliseconds wall{0};
  std::vector<std::string> isolation;
  nlohmann::json to_json() const;
};

// What Go 1.19 says about a predict or diagnose item: the key and what it was read from.
struct Oracle {
  std::string outcome;   // predict: the outcome ("deadlock", "panic: ...", the output); diagnose: the artifact
  std::vector<std::string> vet_analyzers;  // diagnose "vet": the analyzers that reported
  std::optional<std::size_t> choice;       // choice items: the key's index
  std::string shows;     // diagnose: what the extractor read
  std::string problem;   // set: the item is broken (no unique key, nondeterministic, does not build, ...)
  RunInfo run;
  nlohmann::json to_json() const;
  static Oracle from_json(const nlohmann::json& j);
};

// How to grade: under pressure or not, and the faults' seed and rate (the environment of the
// pressure run: ASSESS_PRESSURE=1, ASSESS_PRESSURE_SEED, ASSESS_PRESSURE_RATE).
struct Pressure {
  bool on = false;
  std::uint64_t seed = 1;
  double rate = 0.10;  // the fraction of operations faulted: the seed's "10% network jitter"
};

// A solution's verdict on a fix item.
struct FixResult {
  std::string verdict;  // "pass", the first failing check (build, vet, race, leak, test, pressure, lab), or "error"
  std::vector<std::string> failed_tests;
  nlohmann::json tests = nlohmann::json::array();  // results.json "tests" entries
  std::string message;
  RunInfo run;  // the last sandbox run
  // results.json assess.pressure when the pressure check ran, else null: {"seed", "rate", "count",
  // "cpu", "run", "passed", "failed_tests", "wall_ms"}; failed, also "message" and, when there is
  // more to show than the message (a goroutine summary, a race report), "evidence".
  nlohmann::json pressure;
  // results.json assess.lab when the item's lab ran (engine/lab.hpp), else null.
  nlohmann::json lab;
};

// Oracles kept between runs: <dir>/<id>@<version>-<content hash>-<go version>.json, written by
// the bank check (or the first grading), read by `take` to show a diagnose artifact without
// running it again. Only sound oracles are kept.
class OracleCache {
 public:
  explicit OracleCache(std::filesystem::path dir);
  std::optional<Oracle> load(const Item& item, const std::string& go_version) const;
  void store(const Item& item, const std::string& go_version, const Oracle& oracle) const;
  std::filesystem::path path(const Item& item, const std::string& go_version) const;

 private:
  std::filesystem::path dir_;
};

class Grader {
 public:
  explicit Grader(GoConfig config, std::optional<OracleCache> cache = std::nullopt);

  // The item's oracle from the cache, else computed (predict: `runs` runs; diagnose: one
  // artifact) and cached when sound. Predict and diagnose items only.
  Oracle oracle(const Item& item);
  // Computes the oracle without the cache: predict with `runs` runs (0: the item's), diagnose
  // produced `runs` times (0: once), each key required to be the same.
  Oracle compute_oracle(const Item& item, int runs = 0);

  // start/ with `replacement` over the editable files and hidden/ added, through the item's
  // checks, then the pressure check when pressure.on and the item has a drill.
  FixResult run_fix(const Item& item, const Files& replacement, const Pressure& pressure = {});

  // results.json for the answer. Never throws for the candidate's answer or the code it runs;
  // "error" when the grader cannot grade (broken item, sandbox failure).
  nlohmann::json grade(const Item& item, const Answer& answer, const Pressure& pressure = {});

  // "go1.19.8": `go env GOVERSION`, asked once.
  const std::string& go_version();
  const GoConfig& config() const { return config_; }
  const OracleCache* cache() const { return cache_ ? &*cache_ : nullptr; }

 private:
  GoConfig config_;
  std::optional<OracleCache> cache_;
  std::once_flag version_once_;
  std::string go_version_;
};

// Copies the warm GOCACHE `from` to `to` (replacing it) as a snapshot for GoCache::seeded.
// Do it after a bank check, never while one writes `from`.
void snapshot_gocache(const std::filesystem::path& from, const std::filesystem::path& to);

// The predict outcome of a finished program (exit status, stdout, stderr), as the spec defines it.
std::string predict_outcome(const sandbox::Outcome& run);

// Paths made scratch-independent: <scratch>/gopath/src/item/ -> /item/, <scratch>/ -> /scratch/.
std::string rewrite_paths(std::string text, const std::filesystem::path& scratch);

// The lines of a program's output, without their newlines (the grader's and the lab's readers).
std::vector<std::string> split_lines(std::string_view text);
// At most n bytes, cut at a UTF-8 character boundary and marked "..." when cut: messages and
// evidence that results.json carries.
std::string clip(std::string s, std::size_t n);

}  // namespace assess
