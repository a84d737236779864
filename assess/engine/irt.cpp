#include "engine/irt.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace assess::irt {

double probability(ItemParams item, double theta) {
  return 1.0 / (1.0 + std::exp(-item.a * (theta - item.b)));
}

double information(ItemParams item, double theta) {
  const double p = probability(item, theta);
  return item.a * item.a * p * (1.0 - p);
}

double log_likelihood(ItemParams item, double theta, bool correct) {
  // log σ(z) = −log(1 + e^−z); written so that the exponent is never positive.
  const double z = item.a * (theta - item.b) * (correct ? 1.0 : -1.0);
  return z >= 0 ? -std::log1p(std::exp(-z)) : z - std::log1p(std::exp(z));
}

Quadrature::Quadrature(const Prior& prior) {
  if (!(prior.sd > 0) || prior.points < 2 || !(prior.lo < prior.hi)) {
    throw std::invalid_argument("irt: bad prior: need sd > 0, points >= 2 and lo < hi (got sd " +
                                std::to_string(prior.sd) + ", points " +
                                std::to_string(prior.points) + ", [" + std::to_string(prior.lo) +
                                ", " + std::to_string(prior.hi) + "])");
  }
  const auto n = static_cast<std::size_t>(prior.points);
  nodes_.resize(n);
  weights_.resize(n);
  const double step = (prior.hi - prior.lo) / static_cast<double>(n - 1);
  for (std::size_t q = 0; q < n; ++q) {
    nodes_[q] = prior.lo + step * static_cast<double>(q);
    const double z = (nodes_[q] - prior.mean) / prior.sd;
    weights_[q] = std::exp(-0.5 * z * z);
  }
  const double total = std::accumulate(weights_.begin(), weights_.end(), 0.0);
  for (double& w : weights_) w /= total;
}

Estimate eap(std::span<const Response> responses, const Quadrature& quadrature) {
  const auto nodes = quadrature.nodes();
  const auto weights = quadrature.weights();
  // Log space: twelve answers at extreme nodes multiply to below what a double can hold.
  std::vector<double> log_post(nodes.size());
  for (std::size_t q = 0; q < nodes.size(); ++q) {
    double l = std::log(weights[q]);
    for (const Response& r : responses) l += log_likelihood(r.item, nodes[q], r.correct);
    log_post[q] = l;
  }
  const double top = *std::max_element(log_post.begin(), log_post.end());
  double mass = 0, first = 0, second = 0;
  for (std::size_t q = 0; q < nodes.size(); ++q) {
    const double w = std::exp(log_post[q] - top);
    mass += w;
    first += w * nodes[q];
    second += w * nodes[q] * nodes[q];
  }
  const double mean = first / mass;
  const double var = std::max(0.0, second / mass - mean * mean);
  return {mean, std::sqrt(var)};
}

Estimate eap(std::span<const Response> responses) {
  static const Quadrature standard{};
  return eap(responses, standard);
}

double expected_score(std::span<const ItemParams> items, double theta) {
  double sum = 0;
  for (const ItemParams& item : items) sum += probability(item, theta);
  return sum;
}

double theta_for_score(std::span<const ItemParams> items, double target) {
  const auto n = static_cast<double>(items.size());
  if (!(target > 0 && target < n)) {
    throw std::invalid_argument("irt: expected score " + std::to_string(target) +
                                " is not strictly between 0 and " + std::to_string(items.size()));
  }
  // Widen until the bracket holds the target, then halve it to double precision.
  double lo = -8, hi = 8;
  while (expected_score(items, lo) > target) lo *= 2;
  while (expected_score(items, hi) < target) hi *= 2;
  for (int i = 0; i < 200 && hi - lo > 1e-12; ++i) {
    const double mid = 0.5 * (lo + hi);
    (expected_score(items, mid) < target ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

std::span<const ItemParams> ladder() {
  static constexpr std::array<ItemParams, 5> items{
      {{1.0, -2.0}, {1.0, -1.0}, {1.0, 0.0}, {1.0, 1.0}, {1.0, 2.0}}};
  return items;
}

double cut_theta(double pass_line) { return theta_for_score(ladder(), pass_line); }

double ladder_score(double theta) {
  // The tolerance keeps θ = cut_theta(k) (found to 1e-12) at score k despite rounding.
  return std::floor(10 * expected_score(ladder(), theta) + 1e-9) / 10;
}

const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::undecided: return "undecided";
    case Verdict::pass: return "pass";
    case Verdict::fail: return "fail";
  }
  return "?";
}

Verdict classify(Estimate estimate, double cut, double z) {
  if (estimate.theta - z * estimate.se > cut) return Verdict::pass;
  if (estimate.theta + z * estimate.se < cut) return Verdict::fail;
  return Verdict::undecided;
}

const char* to_string(Stop s) {
  switch (s) {
    case Stop::running: return "running";
    case Stop::classified: return "classified";
    case Stop::max_items: return "max_items";
    case Stop::exhausted: return "exhausted";
  }
  return "?";
}

std::uint64_t Rng::next() {
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::size_t Rng::below(std::size_t n) {
  // Multiply-shift (Lemire 2019) without the rejection step: for the handful of choices made
  // here the bias is below 2^-58.
  return static_cast<std::size_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

Rng Rng::stream(std::uint64_t seed, std::uint64_t n) {
  Rng mix(seed ^ (n * 0xd1b54a32d192ed03ULL));
  return Rng(mix.next());
}

std::size_t select(std::span<const ItemParams> candidates, double theta, int top_k, Rng& rng) {
  if (candidates.empty()) throw std::invalid_argument("irt: select: no candidate items");
  if (top_k < 1) throw std::invalid_argument("irt: select: top_k must be >= 1");
  std::vector<std::size_t> order(candidates.size());
  std::iota(order.begin(), order.end(), 0);
  std::vector<double> info(candidates.size());
  for (std::size_t i = 0; i < candidates.size(); ++i) info[i] = information(candidates[i], theta);
  const std::size_t k = std::min(order.size(), static_cast<std::size_t>(top_k));
  std::partial_sort(
      order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
      [&](std::size_t x, std::size_t y) { return info[x] != info[y] ? info[x] > info[y] : x < y; });
  return order[rng.below(k)];
}

}  // namespace assess::irt
