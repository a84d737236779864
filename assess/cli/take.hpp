// `assess take`: the terminal front end of an assessment (take.cpp).
#pragma once

#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>

#include "engine/grader.hpp"
#include "engine/session.hpp"

namespace assess::cli {

struct TakeOptions {
  std::string candidate;                   // handle: created on first use
  std::string name;                        // display name for a new candidate
  SessionConfig config;                    // dimensions, max items, seed, pressure
  std::optional<SessionId> resume;         // resume this session instead of starting one
  std::filesystem::path work_dir;          // where fix items' files are written for editing
};

// The grader for candidates' answers, with `cache` the --cache directory: GoCache::seeded from a
// snapshot of the warm GOCACHE (<cache>/gocache, which `assess bank check` fills), made here when
// missing or older than the warm cache; GoCache::fresh when there is no warm cache.
Grader candidate_grader(const std::filesystem::path& cache);

// Runs the assessment to its end (then prints the report) or until the candidate leaves.
// Call inside gocxx::run. Returns the exit status.
int take(const TakeOptions& options, const Context& ctx, std::istream& in, std::ostream& out);

}  // namespace assess::cli
