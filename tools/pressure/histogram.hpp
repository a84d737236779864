// An HDR-style latency histogram (after Gil Tene's HdrHistogram): log-linear buckets over
// nanoseconds, so that a percentile read back is within a fixed relative error of the true
// value from 1 ns to hours, in a fixed 58 KiB of counters.
//
//   Histogram h;
//   h.record(1'250'000);                  // 1.25 ms, in nanoseconds
//   std::uint64_t p99 = h.percentile(99);  // within Histogram::kRelativeError of the true p99
//
// Layout: values below 2^kSubBits (128) each have a bucket of their own (exact). Above, every
// power of two [2^k, 2^(k+1)) is split into 2^kSubBits equal sub-buckets, each 2^(k-kSubBits)
// wide. A bucket is thus at most 1/128 of its lower bound wide, and reporting its midpoint is
// off by at most half that: kRelativeError = 1/256 (0.39%). percentile() clamps to the exact
// min and max, so p0 and p100 are exact. The counters are on the heap: histograms travel in
// structs that live on goroutine stacks (256 KiB by default).
#pragma once

#include <cstdint>
#include <vector>

namespace gocxx::pressure {

class Histogram {
 public:
  static constexpr int kSubBits = 7;
  static constexpr std::uint64_t kSubBuckets = std::uint64_t{1} << kSubBits;
  static constexpr double kRelativeError = 1.0 / (2 * kSubBuckets);

  void record(std::uint64_t value, std::uint64_t count = 1);
  void merge(const Histogram& other);

  std::uint64_t count() const { return count_; }
  std::uint64_t min() const { return count_ ? min_ : 0; }
  std::uint64_t max() const { return max_; }
  double mean() const {
    return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0;
  }
  // The value below which p percent of the recorded values fall (p in [0, 100]; the value of
  // rank ceil(p/100 * count), as HdrHistogram's getValueAtPercentile); 0 when empty.
  std::uint64_t percentile(double p) const;

  // The bucket a value falls in, and the bucket's bounds [lowest, lowest + width).
  static int bucket_of(std::uint64_t value);
  static std::uint64_t bucket_lowest(int bucket);
  static std::uint64_t bucket_width(int bucket);

  // Buckets in use, for callers that print the distribution.
  template <class F>
  void for_each_bucket(F&& f) const {
    for (int b = 0; b < kBuckets; ++b) {
      if (counts_[b] != 0) f(bucket_lowest(b), bucket_width(b), counts_[b]);
    }
  }

 private:
  // 128 exact buckets, then 128 sub-buckets for each of the 57 powers of two from 2^7 to 2^63:
  // 7424 counters, 58 KiB.
  static constexpr int kBuckets = static_cast<int>(kSubBuckets * (64 - kSubBits + 1));

  std::vector<std::uint64_t> counts_ = std::vector<std::uint64_t>(kBuckets);
  std::uint64_t count_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
  unsigned __int128 sum_ = 0;
};

}  // namespace gocxx::pressure
