// The statistics of the experiment report (docs/report.md): a rate per arm
// with its cluster-robust variance, the normal-approximation comparison of two
// arms, and the sample-ratio-mismatch test. A value that is not defined for
// the data (a rate of no observations, a variance of fewer than two
// clusters, a p-value of a zero standard error) is nullopt, never NaN.
// Thread-safe: pure functions.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

namespace gw::report {

// The 97.5 % quantile of the standard normal distribution.
inline constexpr double kZ975 = 1.959964;

// 2 (1 - Phi(|z|)), the two-sided p-value of a standard normal statistic.
inline double normal_two_sided_p(double z) { return std::erfc(std::fabs(z) / std::sqrt(2.0)); }
// The survival function of the chi-square distribution with 1 degree of freedom.
inline double chi2_1_sf(double x) { return std::erfc(std::sqrt(x / 2.0)); }

// One observation: its cluster (a dense id, e.g. the freelancer's) and y.
struct Observation {
  std::uint32_t cluster = 0;
  double y = 0;
};

struct ArmRate {
  std::int64_t n = 0;              // observations
  std::int64_t clusters = 0;       // distinct clusters among them
  std::optional<double> rate;      // mean of y; nullopt when n = 0
  std::optional<double> variance;  // nullopt when clusters < 2
};

// rate = mean y; variance = (G / (G - 1)) * sum over clusters g of
// (sum over i in g of (y_i - rate))^2 / n^2.
ArmRate clustered_rate(std::vector<Observation> observations);

struct Comparison {
  ArmRate treatment, control;
  std::optional<double> diff;             // treatment rate - control rate
  std::optional<double> relative;         // diff / control rate; nullopt when the control rate is 0
  std::optional<double> se;               // sqrt(var_t + var_c)
  std::optional<double> ci_low, ci_high;  // diff -/+ kZ975 * se
  std::optional<double> p_value;          // normal_two_sided_p(diff / se); nullopt when se = 0
};

Comparison compare_arms(ArmRate treatment, ArmRate control);

// CUPED (Deng et al. 2013): y adjusted by a pre-period covariate x of the
// same unit, z = y - theta (x - mean x), theta = sum (x - mean x)(y - mean y)
// / sum (x - mean x)^2 over the observations of both arms pooled (0 when x
// does not vary). The adjusted comparison is compare_arms of the clustered
// rates of z: the same expected difference (x is not affected by the
// treatment), a smaller variance the more x predicts y. The variance treats
// theta as known, as CUPED does (its estimation error vanishes with n).
struct CovariateObservation {
  std::uint32_t cluster = 0;
  double y = 0;
  double x = 0;
};

struct CupedComparison {
  double theta = 0;
  Comparison adjusted;
};

CupedComparison cuped_compare(const std::vector<CovariateObservation>& treatment,
                              const std::vector<CovariateObservation>& control);

// The always-valid (sequential) 95 % interval of a difference: the mixture
// sequential probability ratio test of Johari et al. (2017, "Peeking at A/B
// tests"), with a normal mixing distribution N(0, tau^2) over the effect and
// V = se^2. Its likelihood ratio against "difference = theta" is
//   L = sqrt(V / (V + tau^2)) exp(tau^2 (diff - theta)^2 / (2 V (V + tau^2))),
// the interval is every theta with L < 1 / alpha (alpha = 0.05):
//   diff -/+ sqrt(V (V + tau^2) / tau^2 (2 ln(1 / alpha) + ln((V + tau^2) / V))),
// and the always-valid p-value is min(1, 1 / L at theta = 0). Under the normal
// approximation the intervals computed at every look cover the true
// difference all at once with probability >= 95 %, so a team may look every
// day and stop when it likes. nullopt where the comparison has no se (or se = 0).
struct SequentialInterval {
  double tau = 0;
  std::optional<double> ci_low, ci_high, p_value;
};

// The mixing scale: effects of a few points on a rate, where the interval is
// tightest relative to the fixed-sample one.
inline constexpr double kSequentialTau = 0.05;

SequentialInterval sequential_interval(const Comparison& c, double tau = kSequentialTau);

// Sample-ratio mismatch: observed freelancers per arm against the configured
// holdout share, chi-square with 1 degree of freedom. An arm expected to be
// empty contributes nothing when it is empty and makes chi2 infinite (p = 0)
// when it is not; with no freelancers at all chi2 and p are nullopt.
struct SrmTest {
  std::int64_t treatment = 0, control = 0;
  double expected_treatment = 0, expected_control = 0;
  std::optional<double> chi2, p_value;
};

// An SRM p-value below it is taken as evidence of a broken assignment.
inline constexpr double kSrmAlarmP = 0.001;

SrmTest srm_test(std::int64_t treatment, std::int64_t control, double holdout_percent);

}  // namespace gw::report
