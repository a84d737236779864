// Leak checks (gocxx/leakcheck.hpp): goleak's filters and retries over the goroutine registry.
//
// A look takes a raw snapshot (no symbolization), drops the caller and the baseline by
// identity, symbolizes only what is left, and then applies the function-name filters.
//
// Identity: (run, id). ids are unique within a run, and each run has a new generation number,
// so the pair names one goroutine for the life of the process even though Gs are pooled and
// ids restart at 1. A live goroutine belongs to the running gocxx::run; an abandoned one keeps
// the generation of the run that left it (its G is never reused, so reading it is safe).
#include <algorithm>
#include <iterator>
#include <sstream>
#include <utility>

#include "diag/goroutines.hpp"
#include "gocxx/leakcheck.hpp"
#include "gocxx/time.hpp"
#include "runtime/scheduler.hpp"

namespace gocxx::leakcheck {

namespace {

using Key = Baseline::Key;

// A raw snapshot whose records all carry their (run, id) key. A run that starts or ends
// during the snapshot would leave the live generation ambiguous: then it is taken again.
struct KeyedSnapshot {
  std::vector<diag::RawGoroutine> raws;
  std::vector<Key> keys;
};

KeyedSnapshot keyed_snapshot() {
  for (;;) {
    std::uint64_t live = detail::live_generation();
    KeyedSnapshot s;
    s.raws = diag::snapshot_raw();
    if (detail::live_generation() != live) continue;
    s.keys.reserve(s.raws.size());
    for (const diag::RawGoroutine& raw : s.raws) {
      s.keys.push_back(Key{raw.abandoned ? raw.generation : live, raw.id});
    }
    return s;
  }
}

bool name_matches(const std::string& function, const std::string& pattern) {
  if (!pattern.empty() && pattern.back() == '*') {
    return function.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0;
  }
  return function == pattern;
}

bool any_matches(const std::string& function, const std::vector<std::string>& patterns) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& p) { return name_matches(function, p); });
}

bool ignored_by_name(const Leak& g, const Options& options) {
  if (!g.frames.empty() && any_matches(g.frames.front().function, options.top_functions)) {
    return true;
  }
  for (const debug::Frame& f : g.frames) {
    if (any_matches(f.function, options.any_functions)) return true;
  }
  return any_matches(g.created_by.function, options.created_by);
}

std::string where(const debug::Frame& f) {
  std::string out = f.function.empty() ? "?" : f.function;
  out += " at ";
  out += f.file.empty() ? "?" : f.file;
  out += ':' + std::to_string(f.line);
  return out;
}

}  // namespace

// ---- Baseline ------------------------------------------------------------------------------

Baseline Baseline::current() {
  std::vector<Key> keys = keyed_snapshot().keys;
  std::sort(keys.begin(), keys.end());
  Baseline b;
  b.keys_ = std::make_shared<const std::vector<Key>>(std::move(keys));
  return b;
}

bool Baseline::contains(Key key) const {
  return keys_ && std::binary_search(keys_->begin(), keys_->end(), key);
}

void Baseline::merge(const Baseline& other) {
  if (!other.keys_ || other.keys_->empty()) return;
  if (!keys_ || keys_->empty()) {
    keys_ = other.keys_;
    return;
  }
  std::vector<Key> keys;
  keys.reserve(keys_->size() + other.keys_->size());
  std::set_union(keys_->begin(), keys_->end(), other.keys_->begin(), other.keys_->end(),
                 std::back_inserter(keys));
  keys_ = std::make_shared<const std::vector<Key>>(std::move(keys));
}

// ---- Options -------------------------------------------------------------------------------

Options& Options::ignore_top_function(std::string function) {
  top_functions.push_back(std::move(function));
  return *this;
}

Options& Options::ignore_any_function(std::string function) {
  any_functions.push_back(std::move(function));
  return *this;
}

Options& Options::ignore_created_by(std::string function) {
  created_by.push_back(std::move(function));
  return *this;
}

Options& Options::ignore_current() { return ignore(Baseline::current()); }

Options& Options::ignore(const Baseline& goroutines) {
  baseline.merge(goroutines);
  return *this;
}

// ---- find / check / verify_none ------------------------------------------------------------

std::vector<Leak> find(const Options& options) {
  const detail::G* self = detail::current_g();
  KeyedSnapshot s = keyed_snapshot();
  std::vector<diag::RawGoroutine> candidates;
  for (std::size_t i = 0; i < s.raws.size(); ++i) {
    if (s.raws[i].g == self) continue;  // the caller is never a leak
    if (options.baseline.contains(s.keys[i])) continue;
    candidates.push_back(std::move(s.raws[i]));
  }
  std::vector<Leak> leaks = diag::to_records(candidates);
  std::erase_if(leaks, [&](const Leak& g) { return ignored_by_name(g, options); });
  return leaks;
}

std::vector<Leak> check(const Options& options) {
  for (int attempt = 0;; ++attempt) {
    std::vector<Leak> leaks = find(options);
    if (leaks.empty()) return leaks;
    // Abandoned goroutines never run again: waiting cannot make them go away.
    bool can_change = std::any_of(leaks.begin(), leaks.end(),
                                  [](const Leak& g) { return !g.abandoned; });
    if (!can_change || attempt >= options.max_retries) return leaks;
    std::chrono::nanoseconds pause(std::int64_t{1000} << std::min(attempt, 30));  // 1 µs << n
    time::sleep(std::min(pause, options.max_sleep));
  }
}

LeakError::LeakError(std::vector<Leak> leaks)
    : std::runtime_error(describe(leaks)),
      leaks_(std::make_shared<const std::vector<Leak>>(std::move(leaks))) {}

void verify_none(const Options& options) {
  std::vector<Leak> leaks = check(options);
  if (!leaks.empty()) throw LeakError(std::move(leaks));
}

std::string describe(const std::vector<Leak>& leaks) {
  if (leaks.empty()) return {};
  auto now = std::chrono::steady_clock::now();
  std::ostringstream out;
  out << "found " << leaks.size() << " leaked goroutine" << (leaks.size() == 1 ? "" : "s")
      << ":\n";
  for (const Leak& g : leaks) {
    out << "\nGoroutine " << g.id << " in state " << g.status() << ", with ";
    if (!g.frames.empty()) {
      out << where(g.frames.front());
    } else {
      out << (g.stack_available ? "no frames" : "its stack unavailable");
    }
    out << " on top of the stack";
    if (!g.created_by.function.empty()) {
      out << ", created by " << where(g.created_by);
      if (diag::names_parent(g.parent_id)) out << " in goroutine " << g.parent_id;
    }
    if (g.abandoned) out << ", abandoned by a gocxx::run that has returned";
    out << ":\n" << diag::format_goroutine(g, now);
  }
  return out.str();
}

}  // namespace gocxx::leakcheck
