// The store's value types: names, clocks, and what SessionRecord derives for resume.
#include <algorithm>

#include "engine/store.hpp"

namespace assess {

Time now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

const char* to_string(SessionState s) {
  switch (s) {
    case SessionState::active:
      return "active";
    case SessionState::finished:
      return "finished";
    case SessionState::abandoned:
      return "abandoned";
  }
  return "?";
}

const char* to_string(ItemParams::Source s) {
  return s == ItemParams::Source::calibrated ? "calibrated" : "declared";
}

std::optional<std::chrono::milliseconds> Presentation::remaining(Time at) const {
  if (time_limit.count() == 0) return std::nullopt;
  return std::max(std::chrono::milliseconds(0), time_limit - (at - presented_at));
}

std::optional<Presentation> SessionRecord::pending() const {
  // Items are presented one at a time, so only the last can be unanswered.
  if (presented.empty()) return std::nullopt;
  if (!responses.empty() && responses.back().seq == presented.back().seq) return std::nullopt;
  return presented.back();
}

int SessionRecord::next_seq() const { return presented.empty() ? 1 : presented.back().seq + 1; }

std::optional<Estimate> SessionRecord::latest_estimate(std::string_view dimension) const {
  for (auto it = estimates.rbegin(); it != estimates.rend(); ++it) {
    if (it->dimension == dimension) return *it;
  }
  return std::nullopt;
}

}  // namespace assess
