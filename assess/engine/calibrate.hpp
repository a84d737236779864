// Item calibration: re-estimates the 2PL parameters (a, b) of one dimension's items from the
// logged responses by marginal maximum likelihood with the EM algorithm (Bock & Aitkin 1981).
//
//   std::vector<assess::irt::ItemParams> declared = ...;        // a = 1, b = level − 3
//   std::vector<assess::irt::Observation> data = ...;            // (session, item, correct)
//   assess::irt::Calibration c = assess::irt::calibrate(declared, data);
//   for (const auto& item : c.items) if (item.fit == assess::irt::Fit::estimated) store(item);
//
// The data are a sparse sessions × items matrix: an adaptive test gives each session a dozen
// items, and which ones depends on the answers. That missingness is ignorable under the model
// (it depends only on observed answers), so the marginal likelihood over the observed cells is
// the right one to maximise.
//
// Model and identification: θ ~ N(0, 1) in the population of sessions (discretised on the same
// 61-point quadrature as the EAP scores), which fixes the scale. A prior log a ~ N(log_a_mean,
// log_a_sd²) (BILOG-MG's default slope prior, MAP in log a) keeps slopes finite for items
// that nearly separate the sample; b has no prior. Only items with at least min_responses
// answers, and both right and wrong ones, are estimated; the others keep their declared values
// and still take part in every session's posterior.
//
// EM: the E-step computes each session's posterior over the nodes and from it, per estimated
// item and node, the expected number of answers n_iq and of right answers r_iq; the M-step
// maximises Σ_q r_iq log P_i(θ_q) + (n_iq − r_iq) log(1 − P_i(θ_q)) + log prior(a_i) for each
// item separately by Newton–Raphson in (a, d = −a·b) with step halving. Converged when no
// estimated a or b moves by more than `tolerance` in one cycle (mirt's default is 1e-4 too);
// else stopped after max_iterations with converged = false. The log posterior is non-decreasing
// from cycle to cycle (EM's guarantee; the trace shows it).
//
// Standard errors: from the cross-product of the sessions' score vectors (the empirical
// information, mirt's SE.type = "crossprod"), per item (cross-item covariances ignored), plus
// the prior's curvature, mapped from (a, d) to (a, b) by the delta method.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "engine/irt.hpp"

namespace assess::irt {

struct Observation {
  std::size_t session;  // any id: sessions are the persons
  std::size_t item;     // index into the declared parameters
  bool correct;
};

struct CalibrationConfig {
  std::size_t min_responses = 200;
  double log_a_mean = 0.0;
  double log_a_sd = 0.5;
  Prior population;  // the latent distribution; N(0, 1) on 61 nodes
  int max_iterations = 1000;
  double tolerance = 1e-4;
};

enum class Fit {
  declared,    // fewer than min_responses answers: kept as declared
  degenerate,  // every answer right (or every one wrong): b is not identified; kept
  estimated,
};
const char* to_string(Fit);

struct ItemCalibration {
  ItemParams params;  // new values when estimated, else the declared ones
  double se_a = 0;    // 0 unless estimated
  double se_b = 0;
  std::size_t responses = 0;
  Fit fit = Fit::declared;
};

struct Calibration {
  std::vector<ItemCalibration> items;  // one per declared item, same order
  // Per EM cycle, for the parameters entering it; the last entry is for the final parameters.
  std::vector<double> log_likelihood;  // marginal log-likelihood of all observed answers
  std::vector<double> log_posterior;   // plus the log a priors of the estimated items
  int iterations = 0;
  bool converged = false;
};

// Throws std::invalid_argument for an item index out of range, a (session, item) pair given
// twice, a declared a <= 0, or a bad config.
Calibration calibrate(std::span<const ItemParams> declared, std::span<const Observation> data,
                      const CalibrationConfig& config = {});

}  // namespace assess::irt
