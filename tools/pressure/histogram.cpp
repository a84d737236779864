#include "histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace gocxx::pressure {

int Histogram::bucket_of(std::uint64_t value) {
  if (value < kSubBuckets) return static_cast<int>(value);
  int shift = std::bit_width(value) - 1 - kSubBits;  // the power of two above 2^kSubBits
  // value >> shift is in [2^kSubBits, 2^(kSubBits+1)): its top bit selects the power, the rest
  // the sub-bucket; 2^kSubBits * shift skips the powers below.
  return static_cast<int>(kSubBuckets * static_cast<std::uint64_t>(shift) + (value >> shift));
}

std::uint64_t Histogram::bucket_lowest(int bucket) {
  auto b = static_cast<std::uint64_t>(bucket);
  if (b < 2 * kSubBuckets) return b;
  std::uint64_t shift = b / kSubBuckets - 1;
  return (b % kSubBuckets + kSubBuckets) << shift;
}

std::uint64_t Histogram::bucket_width(int bucket) {
  auto b = static_cast<std::uint64_t>(bucket);
  if (b < 2 * kSubBuckets) return 1;
  return std::uint64_t{1} << (b / kSubBuckets - 1);
}

void Histogram::record(std::uint64_t value, std::uint64_t count) {
  if (count == 0) return;
  counts_[bucket_of(value)] += count;
  count_ += count;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += static_cast<unsigned __int128>(value) * count;
}

void Histogram::merge(const Histogram& other) {
  for (int b = 0; b < kBuckets; ++b) counts_[b] += other.counts_[b];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

std::uint64_t Histogram::percentile(double p) const {
  if (count_ == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += counts_[b];
    if (seen >= rank) {
      std::uint64_t mid = bucket_lowest(b) + bucket_width(b) / 2;
      return std::clamp(mid, min_, max_);
    }
  }
  return max_;
}

}  // namespace gocxx::pressure
