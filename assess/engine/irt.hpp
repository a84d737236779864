// The psychometric core of the assessment: the two-parameter logistic (2PL) item response
// model, expected-a-posteriori (EAP) ability estimates with their standard errors, maximum-
// information item selection with randomesque exposure control, and the classification stop
// against the cut derived from the seed's pass lines.
//
//   using namespace assess::irt;
//   std::vector<Response> answers{{{1.2, 0.0}, true}, {{0.9, 1.0}, false}};
//   Estimate e = eap(answers);                       // θ̂ (posterior mean) and SE (posterior SD)
//   double cut = cut_theta(4);                       // "≥ 4/5" on the seed's five-item ladder
//   Verdict v = classify(e, cut);                    // pass / fail / undecided (95% interval)
//   int score = ladder_score(e.theta);               // the "x/5" shown in the report
//
// Metric: logistic with D = 1 (as mirt, catsim and catR's default), P(θ) = 1/(1+exp(−a(θ−b))).
// Declared parameters use a = 1, b = level − 3; calibrate.hpp re-estimates them from responses.
// Everything here is pure and deterministic (selection draws from an explicitly seeded Rng).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace assess::irt {

struct ItemParams {
  double a = 1.0;  // discrimination (slope), > 0
  double b = 0.0;  // difficulty: the θ where P = 1/2
};

// P(correct | θ) under the 2PL, and Fisher information a²·P·(1−P).
double probability(ItemParams item, double theta);
double information(ItemParams item, double theta);
// log P (correct) or log(1 − P) (wrong), accurate where P is within 1e-16 of 0 or 1.
double log_likelihood(ItemParams item, double theta, bool correct);

// The ability distribution assumed before any answer: N(mean, sd²), discretised on `points`
// equally spaced nodes over [lo, hi] (catR's eapEst scheme; 61 points put a node every 0.133).
struct Prior {
  double mean = 0.0;
  double sd = 1.0;
  int points = 61;
  double lo = -4.0;
  double hi = 4.0;
};

// Quadrature nodes with the prior's density as weights, normalised to sum to 1. Throws
// std::invalid_argument for sd <= 0, fewer than 2 points or lo >= hi.
class Quadrature {
 public:
  explicit Quadrature(const Prior& prior = {});
  std::span<const double> nodes() const { return nodes_; }
  std::span<const double> weights() const { return weights_; }
  std::size_t size() const { return nodes_.size(); }

 private:
  std::vector<double> nodes_;
  std::vector<double> weights_;
};

struct Response {
  ItemParams item;
  bool correct = false;
};

struct Estimate {
  double theta = 0.0;  // posterior mean
  double se = 1.0;     // posterior standard deviation
};

// EAP (Bock & Mislevy 1982): θ̂ = Σ θ_q L(θ_q) w_q / Σ L(θ_q) w_q, SE = the posterior SD.
// Finite for every response pattern (all right or all wrong included), unlike the MLE.
Estimate eap(std::span<const Response> responses, const Quadrature& quadrature);
Estimate eap(std::span<const Response> responses);  // the default N(0,1), 61-point quadrature

// The test characteristic curve: the expected number correct, Σ P_i(θ).
double expected_score(std::span<const ItemParams> items, double theta);
// The θ where the expected score equals `target` (bisection; the curve is increasing). Throws
// std::invalid_argument unless 0 < target < items.size().
double theta_for_score(std::span<const ItemParams> items, double target);

// The seed's "5 stepped items" per dimension as a reference test: b = −2, −1, 0, 1, 2; a = 1.
std::span<const ItemParams> ladder();
// The cut θ for a pass line "≥ pass_line/5": where the ladder's expected score is pass_line.
double cut_theta(double pass_line);
// The reported "x/5": the ladder's expected score at θ rounded DOWN to one decimal (4.37 →
// 4.3), so that for the integer pass lines ladder_score(θ) >= pass_line exactly when
// θ >= cut_theta(pass_line). An expected score never reaches 5; at θ = 4, the edge of the
// default quadrature (so the largest EAP θ̂), it is 4.8.
double ladder_score(double theta);

enum class Verdict { undecided, pass, fail };
const char* to_string(Verdict);
// pass: θ̂ − z·SE > cut; fail: θ̂ + z·SE < cut; else undecided (z = 1.96: a 95% interval).
Verdict classify(Estimate estimate, double cut, double z = 1.96);

// When to stop a dimension: classified (verdict decided, at least min_items, and SE <= max_se),
// or max_items.
struct StopRule {
  int min_items = 3;
  int max_items = 12;
  double z = 1.96;
  double max_se = std::numeric_limits<double>::infinity();  // off, as the spec's rule
};
enum class Stop { running, classified, max_items, exhausted /* no eligible item left */ };
const char* to_string(Stop);

// splitmix64 (Steele, Lea & Flood 2014): a tiny generator whose output is fixed by the
// algorithm, so a seed replays the same session on every platform and standard library (the
// <random> distributions are implementation-defined).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  std::size_t below(std::size_t n);  // uniform in [0, n), n > 0
  double uniform();                  // uniform in [0, 1)
  // An independent stream for step `n` of a session seeded with `seed`.
  static Rng stream(std::uint64_t seed, std::uint64_t n);

 private:
  std::uint64_t state_;
};

// Maximum-information selection with randomesque exposure control (Kingsbury & Zara 1989):
// rank `candidates` by information at θ (ties: the earlier candidate first) and return the
// index of one of the top_k, uniformly at random. top_k = 1 is plain maximum information.
// Throws std::invalid_argument for no candidates or top_k < 1.
std::size_t select(std::span<const ItemParams> candidates, double theta, int top_k, Rng& rng);

}  // namespace assess::irt
