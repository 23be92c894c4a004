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
