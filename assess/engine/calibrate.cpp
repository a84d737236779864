#include "engine/calibrate.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>

namespace assess::irt {

namespace {

struct Answer {
  std::size_t item;
  bool correct;
};

// The item's log prior and its first two derivatives in a, for log a ~ N(mean, sd²).
struct SlopePrior {
  double mean, sd;
  double log_density(double a) const {
    const double z = (std::log(a) - mean) / sd;
    return -0.5 * z * z;
  }
  double gradient(double a) const { return -(std::log(a) - mean) / (sd * sd * a); }
  // Positive beyond a = e^(mean+1); clipped to 0 there so that Newton's matrix stays definite.
  double curvature(double a) const {
    return std::min(0.0, -(1.0 - (std::log(a) - mean)) / (sd * sd * a * a));
  }
};

// One item's M-step: maximise Σ_q r_q log P_q + (n_q − r_q) log(1 − P_q) + log prior(a) over
// (a, d), z = a·θ + d. Returns the new (a, d).
std::pair<double, double> maximise(double a, double d, std::span<const double> nodes,
                                   std::span<const double> n, std::span<const double> r,
                                   const SlopePrior& prior) {
  auto objective = [&](double a_, double d_) {
    double f = prior.log_density(a_);
    for (std::size_t q = 0; q < nodes.size(); ++q) {
      const ItemParams p{a_, -d_ / a_};
      f += r[q] * log_likelihood(p, nodes[q], true) +
           (n[q] - r[q]) * log_likelihood(p, nodes[q], false);
    }
    return f;
  };
  double f = objective(a, d);
  for (int step = 0; step < 50; ++step) {
    double ga = prior.gradient(a), gd = 0, haa = prior.curvature(a), had = 0, hdd = 0;
    for (std::size_t q = 0; q < nodes.size(); ++q) {
      const double p = probability({a, -d / a}, nodes[q]);
      const double resid = r[q] - n[q] * p;
      const double w = n[q] * p * (1 - p);
      ga += resid * nodes[q];
      gd += resid;
      haa -= w * nodes[q] * nodes[q];
      had -= w * nodes[q];
      hdd -= w;
    }
    const double det = haa * hdd - had * had;
    if (!(det > 0)) break;  // flat: the counts carry no information (cannot happen with n > 0)
    // Newton step −H⁻¹g for the 2×2 H.
    double da = -(hdd * ga - had * gd) / det;
    double dd = -(haa * gd - had * ga) / det;
    double scale = 1;
    double na = a + da, nd = d + dd, nf = 0;
    for (int halve = 0; halve < 30; ++halve) {
      na = a + scale * da;
      nd = d + scale * dd;
      if (na > 0 && (nf = objective(na, nd)) >= f) break;
      scale *= 0.5;
    }
    if (!(na > 0) || nf < f) break;  // no ascent left at double precision
    const double moved = std::max(std::abs(na - a), std::abs(nd - d));
    a = na;
    d = nd;
    f = nf;
    if (moved < 1e-10) break;
  }
  return {a, d};
}

}  // namespace

const char* to_string(Fit f) {
  switch (f) {
    case Fit::declared: return "declared";
    case Fit::degenerate: return "degenerate";
    case Fit::estimated: return "estimated";
  }
  return "?";
}

Calibration calibrate(std::span<const ItemParams> declared, std::span<const Observation> data,
                      const CalibrationConfig& config) {
  if (!(config.log_a_sd > 0) || config.max_iterations < 1 || !(config.tolerance > 0)) {
    throw std::invalid_argument("calibrate: need log_a_sd > 0, max_iterations >= 1, tolerance > 0");
  }
  const std::size_t items = declared.size();
  for (std::size_t i = 0; i < items; ++i) {
    if (!(declared[i].a > 0)) {
      throw std::invalid_argument("calibrate: item " + std::to_string(i) + ": a must be > 0");
    }
  }

  // Sessions in order of first appearance, each with its answers.
  std::map<std::size_t, std::size_t> session_index;
  std::vector<std::vector<Answer>> sessions;
  std::set<std::pair<std::size_t, std::size_t>> seen;
  Calibration out;
  out.items.resize(items);
  std::vector<std::size_t> right(items);
  for (const Observation& o : data) {
    if (o.item >= items) {
      throw std::invalid_argument("calibrate: item index " + std::to_string(o.item) +
                                  " out of range (" + std::to_string(items) + " items)");
    }
    if (!seen.insert({o.session, o.item}).second) {
      throw std::invalid_argument("calibrate: session " + std::to_string(o.session) +
                                  " answered item " + std::to_string(o.item) + " twice");
    }
    auto [it, fresh] = session_index.try_emplace(o.session, sessions.size());
    if (fresh) sessions.emplace_back();
    sessions[it->second].push_back({o.item, o.correct});
    out.items[o.item].responses += 1;
    right[o.item] += o.correct ? 1 : 0;
  }

  std::vector<bool> free(items, false);
  for (std::size_t i = 0; i < items; ++i) {
    ItemCalibration& c = out.items[i];
    c.params = declared[i];
    if (c.responses < config.min_responses) continue;
    if (right[i] == 0 || right[i] == c.responses) {
      c.fit = Fit::degenerate;
      continue;
    }
    c.fit = Fit::estimated;
    free[i] = true;
  }

  const Quadrature quad(config.population);
  const auto nodes = quad.nodes();
  const std::size_t nq = nodes.size();
  const SlopePrior prior{config.log_a_mean, config.log_a_sd};
  std::vector<double> log_p(items * nq), log_q(items * nq), post(nq);
  std::vector<double> n(items * nq), r(items * nq);

  // One pass over the sessions with the current parameters: the marginal log-likelihood, and
  // `visit(session, posterior)` for each session.
  auto e_step = [&](auto&& visit) {
    for (std::size_t i = 0; i < items; ++i) {
      for (std::size_t q = 0; q < nq; ++q) {
        log_p[i * nq + q] = log_likelihood(out.items[i].params, nodes[q], true);
        log_q[i * nq + q] = log_likelihood(out.items[i].params, nodes[q], false);
      }
    }
    double loglik = 0;
    for (const std::vector<Answer>& s : sessions) {
      double top = -INFINITY;
      for (std::size_t q = 0; q < nq; ++q) {
        double l = std::log(quad.weights()[q]);
        for (const Answer& a : s) l += (a.correct ? log_p : log_q)[a.item * nq + q];
        post[q] = l;
        top = std::max(top, l);
      }
      double mass = 0;
      for (double& p : post) mass += (p = std::exp(p - top));
      for (double& p : post) p /= mass;
      loglik += top + std::log(mass);
      visit(s, post);
    }
    double logpost = loglik;
    for (std::size_t i = 0; i < items; ++i) {
      if (free[i]) logpost += prior.log_density(out.items[i].params.a);
    }
    out.log_likelihood.push_back(loglik);
    out.log_posterior.push_back(logpost);
  };

  const bool any_free = std::find(free.begin(), free.end(), true) != free.end();
  while (any_free && out.iterations < config.max_iterations && !out.converged) {
    std::fill(n.begin(), n.end(), 0.0);
    std::fill(r.begin(), r.end(), 0.0);
    e_step([&](const std::vector<Answer>& s, std::span<const double> w) {
      for (const Answer& a : s) {
        if (!free[a.item]) continue;
        for (std::size_t q = 0; q < nq; ++q) {
          n[a.item * nq + q] += w[q];
          if (a.correct) r[a.item * nq + q] += w[q];
        }
      }
    });
    double moved = 0;
    for (std::size_t i = 0; i < items; ++i) {
      if (!free[i]) continue;
      ItemParams& p = out.items[i].params;
      const auto [a, d] = maximise(p.a, -p.a * p.b, nodes, std::span(n).subspan(i * nq, nq),
                                   std::span(r).subspan(i * nq, nq), prior);
      const ItemParams next{a, -d / a};
      moved = std::max({moved, std::abs(next.a - p.a), std::abs(next.b - p.b)});
      p = next;
    }
    out.iterations += 1;
    out.converged = moved < config.tolerance;
  }
  if (!any_free) out.converged = true;

  // Final pass: the trace's last entry, and each session's score vector for the SEs.
  struct Info {
    double aa = 0, ad = 0, dd = 0;
  };
  std::vector<Info> info(items);
  e_step([&](const std::vector<Answer>& s, std::span<const double> w) {
    for (const Answer& a : s) {
      if (!free[a.item]) continue;
      // ∂/∂(a, d) of log Σ_q w_q L(θ_q) = E_posterior[(u − P(θ)) · (θ, 1)].
      double sa = 0, sd = 0;
      for (std::size_t q = 0; q < nq; ++q) {
        const double resid =
            (a.correct ? 1.0 : 0.0) - probability(out.items[a.item].params, nodes[q]);
        sa += w[q] * resid * nodes[q];
        sd += w[q] * resid;
      }
      Info& x = info[a.item];
      x.aa += sa * sa;
      x.ad += sa * sd;
      x.dd += sd * sd;
    }
  });
  for (std::size_t i = 0; i < items; ++i) {
    if (!free[i]) continue;
    ItemCalibration& c = out.items[i];
    const double a = c.params.a, d = -a * c.params.b;
    const double iaa = info[i].aa - prior.curvature(a), iad = info[i].ad, idd = info[i].dd;
    const double det = iaa * idd - iad * iad;
    if (!(det > 0)) continue;  // singular: leave the SEs at 0 rather than invent them
    const double var_a = idd / det, var_d = iaa / det, cov_ad = -iad / det;
    // b = −d/a: ∇b = (d/a², −1/a).
    const double ga = d / (a * a), gd = -1.0 / a;
    c.se_a = std::sqrt(var_a);
    c.se_b = std::sqrt(std::max(0.0, ga * ga * var_a + 2 * ga * gd * cov_ad + gd * gd * var_d));
  }
  return out;
}

}  // namespace assess::irt
