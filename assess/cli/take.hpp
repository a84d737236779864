// `assess take`: the terminal front end of an assessment (take.cpp).
#pragma once

#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>

#include "engine/session.hpp"

namespace assess::cli {

struct TakeOptions {
  std::string candidate;                   // handle: created on first use
  std::string name;                        // display name for a new candidate
  SessionConfig config;                    // dimensions, max items, seed, pressure
  std::optional<SessionId> resume;         // resume this session instead of starting one
  std::filesystem::path work_dir;          // where fix items' files are written for editing
};

// Runs the assessment to its end (then prints the report) or until the candidate leaves.
// Call inside gocxx::run. Returns the exit status.
int take(const TakeOptions& options, const Context& ctx, std::istream& in, std::ostream& out);

}  // namespace assess::cli
