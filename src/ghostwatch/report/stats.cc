#include "ghostwatch/report/stats.h"

#include <algorithm>
#include <limits>

namespace gw::report {

ArmRate clustered_rate(std::vector<Observation> observations) {
  ArmRate r;
  r.n = static_cast<std::int64_t>(observations.size());
  if (r.n == 0) return r;
  double sum = 0;
  for (const Observation& o : observations) sum += o.y;
  const double rate = sum / static_cast<double>(r.n);
  r.rate = rate;
  // The residual sum of each cluster, in cluster order: accumulated in an
  // array by cluster id when the ids are dense enough (linear time: a report
  // over ten million episodes spent seconds sorting), else by sorting.
  double squares = 0;
  std::uint32_t max_cluster = 0;
  for (const Observation& o : observations) max_cluster = std::max(max_cluster, o.cluster);
  if (max_cluster / 4 < observations.size()) {
    std::vector<double> residual(std::size_t{max_cluster} + 1);
    std::vector<bool> present(std::size_t{max_cluster} + 1);
    for (const Observation& o : observations) {
      residual[o.cluster] += o.y - rate;
      present[o.cluster] = true;
    }
    for (std::size_t c = 0; c < residual.size(); ++c) {
      if (!present[c]) continue;
      squares += residual[c] * residual[c];
      ++r.clusters;
    }
  } else {
    std::sort(observations.begin(), observations.end(),
              [](const Observation& a, const Observation& b) { return a.cluster < b.cluster; });
    for (std::size_t i = 0; i < observations.size();) {
      double residual = 0;
      const std::uint32_t cluster = observations[i].cluster;
      for (; i < observations.size() && observations[i].cluster == cluster; ++i) residual += observations[i].y - rate;
      squares += residual * residual;
      ++r.clusters;
    }
  }
  if (r.clusters >= 2) {
    const double g = static_cast<double>(r.clusters);
    const double n = static_cast<double>(r.n);
    r.variance = g / (g - 1) * squares / (n * n);
  }
  return r;
}

Comparison compare_arms(ArmRate treatment, ArmRate control) {
  Comparison c;
  c.treatment = treatment;
  c.control = control;
  if (treatment.rate && control.rate) {
    c.diff = *treatment.rate - *control.rate;
    if (*control.rate != 0) c.relative = *c.diff / *control.rate;
    if (treatment.variance && control.variance) {
      c.se = std::sqrt(*treatment.variance + *control.variance);
      c.ci_low = *c.diff - kZ975 * *c.se;
      c.ci_high = *c.diff + kZ975 * *c.se;
      if (*c.se > 0) c.p_value = normal_two_sided_p(*c.diff / *c.se);
    }
  }
  return c;
}

CupedComparison cuped_compare(const std::vector<CovariateObservation>& treatment,
                              const std::vector<CovariateObservation>& control) {
  double n = 0, sum_x = 0, sum_y = 0;
  for (const auto* arm : {&treatment, &control}) {
    for (const CovariateObservation& o : *arm) {
      n += 1;
      sum_x += o.x;
      sum_y += o.y;
    }
  }
  CupedComparison c;
  const double mean_x = n > 0 ? sum_x / n : 0;
  const double mean_y = n > 0 ? sum_y / n : 0;
  double sxy = 0, sxx = 0;
  for (const auto* arm : {&treatment, &control}) {
    for (const CovariateObservation& o : *arm) {
      sxy += (o.x - mean_x) * (o.y - mean_y);
      sxx += (o.x - mean_x) * (o.x - mean_x);
    }
  }
  c.theta = sxx > 0 ? sxy / sxx : 0;
  const auto adjusted_rate = [&](const std::vector<CovariateObservation>& arm) {
    std::vector<Observation> z;
    z.reserve(arm.size());
    for (const CovariateObservation& o : arm) z.push_back({o.cluster, o.y - c.theta * (o.x - mean_x)});
    return clustered_rate(std::move(z));
  };
  c.adjusted = compare_arms(adjusted_rate(treatment), adjusted_rate(control));
  return c;
}

SequentialInterval sequential_interval(const Comparison& c, double tau) {
  SequentialInterval s;
  s.tau = tau;
  if (!c.diff || !c.se || *c.se <= 0) return s;
  constexpr double kAlpha = 0.05;
  const double v = *c.se * *c.se;
  const double t2 = tau * tau;
  const double half = std::sqrt(v * (v + t2) / t2 * (2 * std::log(1 / kAlpha) + std::log((v + t2) / v)));
  s.ci_low = *c.diff - half;
  s.ci_high = *c.diff + half;
  const double log_ratio = 0.5 * std::log(v / (v + t2)) + t2 * *c.diff * *c.diff / (2 * v * (v + t2));
  s.p_value = std::min(1.0, std::exp(-log_ratio));
  return s;
}

SrmTest srm_test(std::int64_t treatment, std::int64_t control, double holdout_percent) {
  SrmTest s;
  s.treatment = treatment;
  s.control = control;
  const double total = static_cast<double>(treatment + control);
  s.expected_control = total * holdout_percent / 100.0;
  s.expected_treatment = total - s.expected_control;
  if (total == 0) return s;
  double chi2 = 0;
  for (const auto& [observed, expected] : {std::pair{static_cast<double>(treatment), s.expected_treatment},
                                           std::pair{static_cast<double>(control), s.expected_control}}) {
    if (expected > 0) {
      chi2 += (observed - expected) * (observed - expected) / expected;
    } else if (observed > 0) {
      chi2 = std::numeric_limits<double>::infinity();
    }
  }
  s.chi2 = chi2;
  s.p_value = std::isinf(chi2) ? 0.0 : chi2_1_sf(chi2);
  return s;
}

}  // namespace gw::report
