// Tests of the report's statistics (ghostwatch/report/stats.h) on examples
// small enough to compute by hand; the expected p-values are scipy's.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "ghostwatch/report/stats.h"

namespace gw::report {
namespace {

TEST(ReportStats, ClusteredVarianceOfThreeFreelancers) {
  // A: 1, 1; B: 0; C: 1, 0, 0. n = 6, rate = 0.5; cluster residual sums
  // 1.0, -0.5, -0.5; squares 1.5; (3 / 2) * 1.5 / 36 = 0.0625.
  const ArmRate r = clustered_rate({{0, 1}, {1, 0}, {2, 1}, {0, 1}, {2, 0}, {2, 0}});
  EXPECT_EQ(r.n, 6);
  EXPECT_EQ(r.clusters, 3);
  EXPECT_DOUBLE_EQ(*r.rate, 0.5);
  EXPECT_DOUBLE_EQ(*r.variance, 0.0625);
}

TEST(ReportStats, SparseClusterIdsGiveTheSameVariance) {
  // The example above with ids far apart (the sorting path, not the array by id).
  const ArmRate r = clustered_rate({{0, 1}, {4000000, 0}, {9000000, 1}, {0, 1}, {9000000, 0}, {9000000, 0}});
  EXPECT_EQ(r.clusters, 3);
  EXPECT_DOUBLE_EQ(*r.variance, 0.0625);
}

TEST(ReportStats, ComparisonOfTwoArms) {
  const ArmRate t = clustered_rate({{0, 1}, {0, 1}, {1, 0}, {2, 1}, {2, 0}, {2, 0}});  // 0.5, var 0.0625
  // D: 0, 0; E: 1; F: 0. n = 4, rate 0.25; residual sums -0.5, 0.75, -0.25;
  // squares 0.875; (3 / 2) * 0.875 / 16 = 0.08203125.
  const ArmRate c = clustered_rate({{3, 0}, {3, 0}, {4, 1}, {5, 0}});
  EXPECT_DOUBLE_EQ(*c.variance, 0.08203125);
  const Comparison cmp = compare_arms(t, c);
  EXPECT_DOUBLE_EQ(*cmp.diff, 0.25);
  EXPECT_DOUBLE_EQ(*cmp.relative, 1.0);
  EXPECT_NEAR(*cmp.se, 0.3801726581436387, 1e-12);
  EXPECT_NEAR(*cmp.ci_low, -0.4951247237458387, 1e-12);
  EXPECT_NEAR(*cmp.ci_high, 0.9951247237458387, 1e-12);
  EXPECT_NEAR(*cmp.p_value, 0.5107977981738965, 1e-12);  // 2 * scipy.stats.norm.sf(0.25 / se)
}

TEST(ReportStats, SequentialIntervalIsTheMixtureSprtAndWiderThanTheFixedOne) {
  Comparison c;
  c.diff = 0.03;
  c.se = 0.01;
  const SequentialInterval s = sequential_interval(c, 0.05);
  // V = 1e-4, tau^2 = 25e-4: half = sqrt(1e-4 * 26e-4 / 25e-4 * (2 ln 20 + ln 26)) = 0.031016...
  const double half = std::sqrt(1e-4 * 26e-4 / 25e-4 * (2 * std::log(20.0) + std::log(26.0)));
  EXPECT_NEAR(*s.ci_low, 0.03 - half, 1e-12);
  EXPECT_NEAR(*s.ci_high, 0.03 + half, 1e-12);
  EXPECT_GT(half, kZ975 * 0.01);
  // p = sqrt(26) exp(-25e-4 * 9e-4 / (2e-4 * 26e-4)) = 0.067418...
  EXPECT_NEAR(*s.p_value, std::sqrt(26.0) * std::exp(-25e-4 * 9e-4 / (2e-4 * 26e-4)), 1e-12);
  c.diff = 0.0;
  EXPECT_DOUBLE_EQ(*sequential_interval(c).p_value, 1.0);
  c.se.reset();
  EXPECT_FALSE(sequential_interval(c).ci_low.has_value());
}

TEST(ReportStats, CupedRemovesThePartOfYTheCovariatePredicts) {
  // y = x + arm effect 0.5 exactly: theta = 1 over both arms pooled (the
  // arms' x have the same mean), the adjusted outcome is constant per arm,
  // and the adjusted difference is the effect with no variance left.
  const std::vector<CovariateObservation> t = {{0, 1.5, 1}, {1, 0.5, 0}, {2, 2.5, 2}, {3, 1.5, 1}};
  const std::vector<CovariateObservation> c = {{4, 1, 1}, {5, 0, 0}, {6, 2, 2}, {7, 1, 1}};
  const CupedComparison r = cuped_compare(t, c);
  EXPECT_NEAR(r.theta, 1.0, 1e-12);
  EXPECT_NEAR(*r.adjusted.diff, 0.5, 1e-12);
  EXPECT_NEAR(*r.adjusted.se, 0.0, 1e-12);
  // A covariate that does not vary changes nothing.
  const std::vector<CovariateObservation> flat_t = {{0, 1, 3}, {1, 0, 3}};
  const std::vector<CovariateObservation> flat_c = {{2, 0, 3}, {3, 0, 3}};
  const CupedComparison flat = cuped_compare(flat_t, flat_c);
  EXPECT_EQ(flat.theta, 0.0);
  EXPECT_DOUBLE_EQ(*flat.adjusted.diff, 0.5);
}

TEST(ReportStats, UndefinedValuesAreAbsentNotNaN) {
  EXPECT_FALSE(clustered_rate({}).rate.has_value());
  const ArmRate one = clustered_rate({{7, 1}, {7, 0}});  // one cluster: no variance
  EXPECT_DOUBLE_EQ(*one.rate, 0.5);
  EXPECT_FALSE(one.variance.has_value());
  const Comparison no_ci = compare_arms(clustered_rate({{0, 1}, {1, 0}}), one);
  EXPECT_TRUE(no_ci.diff.has_value());
  EXPECT_FALSE(no_ci.se.has_value());
  EXPECT_FALSE(no_ci.ci_low.has_value());
  EXPECT_FALSE(no_ci.p_value.has_value());
  const Comparison zero_control = compare_arms(clustered_rate({{0, 1}, {1, 0}}), clustered_rate({{2, 0}, {3, 0}}));
  EXPECT_FALSE(zero_control.relative.has_value());
  const Comparison zero_se = compare_arms(clustered_rate({{0, 1}, {1, 1}}), clustered_rate({{2, 1}, {3, 1}}));
  EXPECT_DOUBLE_EQ(*zero_se.se, 0.0);
  EXPECT_DOUBLE_EQ(*zero_se.ci_low, 0.0);
  EXPECT_FALSE(zero_se.p_value.has_value());
  const Comparison empty_arm = compare_arms(clustered_rate({{0, 1}}), clustered_rate({}));
  EXPECT_FALSE(empty_arm.diff.has_value());
}

TEST(ReportStats, SrmAgainstTheHoldoutShare) {
  const SrmTest balanced = srm_test(900, 100, 10.0);
  EXPECT_DOUBLE_EQ(balanced.expected_control, 100.0);
  EXPECT_DOUBLE_EQ(*balanced.chi2, 0.0);
  EXPECT_DOUBLE_EQ(*balanced.p_value, 1.0);
  // (50^2 / 900) + (50^2 / 100); p is scipy.stats.chisquare([850, 150], [900, 100]).pvalue.
  const SrmTest skewed = srm_test(850, 150, 10.0);
  EXPECT_NEAR(*skewed.chi2, 27.77777777777778, 1e-12);
  EXPECT_NEAR(*skewed.p_value, 1.3608022911357298e-07, 1e-15);
  EXPECT_FALSE(srm_test(0, 0, 10.0).chi2.has_value());
  const SrmTest no_holdout = srm_test(10, 0, 0.0);  // nothing expected in control, nothing there
  EXPECT_DOUBLE_EQ(*no_holdout.chi2, 0.0);
  const SrmTest leak = srm_test(10, 1, 0.0);  // nothing expected in control, yet someone is there
  EXPECT_TRUE(std::isinf(*leak.chi2));
  EXPECT_DOUBLE_EQ(*leak.p_value, 0.0);
}

TEST(ReportStats, NormalAndChiSquareTails) {
  EXPECT_NEAR(normal_two_sided_p(1.959964), 0.05, 1e-7);
  EXPECT_NEAR(normal_two_sided_p(-1.959964), 0.05, 1e-7);
  EXPECT_NEAR(chi2_1_sf(1.959964 * 1.959964), 0.05, 1e-7);
  EXPECT_NEAR(chi2_1_sf(10.827566170662733), 0.001, 1e-12);  // scipy.stats.chi2.isf(0.001, 1)
}

}  // namespace
}  // namespace gw::report
