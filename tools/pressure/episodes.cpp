#include "episodes.hpp"

#include <cstdio>

namespace gocxx::pressure {

bool EpisodeDetector::grew(std::size_t i) const {
  const Point& a = window_[i];
  const Point& b = window_[i + 1];
  if (b.seconds <= a.seconds || b.count <= a.count) return false;
  return (b.count - a.count) / (b.seconds - a.seconds) >= r_.growth_per_second;
}

std::optional<std::string> EpisodeDetector::observe(int count, double seconds) {
  bool was = in_episode();
  std::optional<std::string> reason;
  if (r_.threshold > 0) {
    if (count > r_.threshold) {
      if (!threshold_on_) {
        reason =
            "threshold: " + std::to_string(count) + " goroutines > " + std::to_string(r_.threshold);
      }
      threshold_on_ = true;
    } else if (count <= r_.threshold * r_.hysteresis) {
      threshold_on_ = false;
    }
  }
  if (r_.growth_per_second > 0) {
    window_.push_back({count, seconds});
    auto k = static_cast<std::size_t>(r_.growth_samples);
    if (window_.size() > k + 1) window_.pop_front();
    bool all_grew = window_.size() == k + 1;
    for (std::size_t i = 0; all_grew && i + 1 < window_.size(); ++i) all_grew = grew(i);
    if (all_grew) {
      if (!growth_on_ && !reason) {
        char buf[200];
        const Point& a = window_.front();
        std::snprintf(buf, sizeof buf,
                      "growth: %d -> %d goroutines in %d intervals (%.0f/s; limit %g/s in each)",
                      a.count, count, r_.growth_samples, (count - a.count) / (seconds - a.seconds),
                      r_.growth_per_second);
        reason = buf;
      }
      growth_on_ = true;
      quiet_ = 0;
    } else if (growth_on_ && window_.size() >= 2) {
      if (grew(window_.size() - 2)) {
        quiet_ = 0;
      } else if (++quiet_ >= r_.growth_samples) {
        growth_on_ = false;
      }
    }
  }
  // Only the start of an episode is reported, whichever trigger began it.
  if (was) return std::nullopt;
  return reason;
}

}  // namespace gocxx::pressure
