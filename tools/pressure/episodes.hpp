// When a goroutine count is a leak, by the rules of the gocxx leak watchdog
// (include/gocxx/watchdog.hpp), applied to samples of another process's count:
//   threshold: an episode starts at the first sample above `threshold` and holds until a
//              sample at or below threshold * hysteresis;
//   growth:    an episode starts when each of `growth_samples` consecutive intervals grew by
//              at least growth_per_second (per second of the interval), and holds until
//              `growth_samples` consecutive intervals that did not.
// observe() returns the reason when an episode begins (once per episode), as the watchdog
// writes one report per episode.
#pragma once

#include <deque>
#include <optional>
#include <string>

namespace gocxx::pressure {

struct EpisodeRules {
  int threshold = 5000;  // 0: off
  double hysteresis = 0.9;
  double growth_per_second = 0;  // 0: off
  int growth_samples = 5;
};

class EpisodeDetector {
 public:
  explicit EpisodeDetector(EpisodeRules rules) : r_(rules) {}

  // A sample: `count` goroutines at `seconds` since the start.
  std::optional<std::string> observe(int count, double seconds);
  bool in_episode() const { return threshold_on_ || growth_on_; }

 private:
  struct Point {
    int count;
    double seconds;
  };
  bool grew(std::size_t i) const;  // window_[i] -> window_[i + 1] at the rate or faster

  EpisodeRules r_;
  std::deque<Point> window_;
  bool threshold_on_ = false;
  bool growth_on_ = false;
  int quiet_ = 0;  // consecutive intervals without growth during a growth episode
};

}  // namespace gocxx::pressure
