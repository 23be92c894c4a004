// Tests of time to reply (ghostwatch/report/survival.h) on an example
// computed by hand: Kaplan-Meier steps, medians, censoring and log-rank.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ghostwatch/report/survival.h"

namespace gw::report {
namespace {

const Instant kSurvivalT0 = *parse_rfc3339("2019-08-01T00:00:00Z");

ReportEpisode survival_episode(Arm arm, Outcome outcome, Instant closed_at, Instant trigger = kSurvivalT0) {
  ReportEpisode e;
  e.contract = "c";
  e.freelancer = "f";
  e.arm = arm;
  e.in_segment = true;
  e.decisions = 1;
  e.trigger = trigger;
  e.outcome = outcome;
  e.closed_at = closed_at;
  return e;
}

TEST(ReportSurvival, KaplanMeierAndLogRankByHand) {
  const Instant t0 = kSurvivalT0;
  const Instant data_end = t0 + 5 * kHour;
  const std::vector<ReportEpisode> episodes = {
      // Treatment: replies at 1, 3 and 4 h; the contract ends at 2 h (censored).
      survival_episode(Arm::kTreatment, Outcome::kReplied, t0 + 1 * kHour),
      survival_episode(Arm::kTreatment, Outcome::kContractEnded, t0 + 2 * kHour),
      survival_episode(Arm::kTreatment, Outcome::kReplied, t0 + 3 * kHour),
      survival_episode(Arm::kTreatment, Outcome::kReplied, t0 + 4 * kHour),
      // Control: a reply at 2 h; a reply after the data end is censored at it (5 h).
      survival_episode(Arm::kControl, Outcome::kReplied, t0 + 2 * kHour),
      survival_episode(Arm::kControl, Outcome::kReplied, t0 + 6 * kHour),
      // Triggered after the data end: not followed.
      survival_episode(Arm::kControl, Outcome::kOpen, kNoInstant, data_end + 1),
  };
  std::vector<const ReportEpisode*> population;
  for (const ReportEpisode& e : episodes) population.push_back(&e);
  const SurvivalAnalysis s = analyse_survival(population, data_end);

  const KmCurve& t = s.arm(Arm::kTreatment);
  EXPECT_EQ(t.episodes, 4);
  EXPECT_EQ(t.events, 3);
  EXPECT_EQ(t.censored, 1);
  ASSERT_EQ(t.steps.size(), 3u);
  EXPECT_DOUBLE_EQ(t.steps[0].survival, 0.75);        // 1 h: 1 of 4
  EXPECT_EQ(t.steps[1].at_risk, 2);                   // 3 h: the censored one has left
  EXPECT_DOUBLE_EQ(t.steps[1].survival, 0.75 * 0.5);  // 3 h: 1 of 2
  EXPECT_DOUBLE_EQ(t.steps[2].survival, 0.0);         // 4 h: 1 of 1
  EXPECT_EQ(t.median, 3 * kHour);
  EXPECT_DOUBLE_EQ(t.survival_at(kHour - 1), 1.0);
  EXPECT_DOUBLE_EQ(t.survival_at(2 * kHour), 0.75);

  const KmCurve& c = s.arm(Arm::kControl);
  EXPECT_EQ(c.episodes, 2);
  EXPECT_EQ(c.events, 1);
  EXPECT_EQ(c.censored, 1);
  EXPECT_EQ(c.median, 2 * kHour);  // S = 0.5 exactly

  // Event times 1, 2, 3, 4 h with (at risk treatment, total): (4, 6), (3, 5), (2, 3), (1, 2):
  // E = 4/6 + 3/5 + 2/3 + 1/2 = 73/30; O = 3;
  // V = 1*(4/6)(2/6) + 1*(3/5)(2/5) + 1*(2/3)(1/3) + 1*(1/2)(1/2) = 841/900 (one event per time: (n-d)/(n-1) = 1).
  EXPECT_DOUBLE_EQ(s.logrank.observed_treatment, 3.0);
  EXPECT_NEAR(s.logrank.expected_treatment, 73.0 / 30, 1e-12);
  EXPECT_NEAR(*s.logrank.chi2, (17.0 / 30) * (17.0 / 30) / (841.0 / 900), 1e-12);
  EXPECT_NEAR(*s.logrank.p_value, std::erfc(std::sqrt(*s.logrank.chi2 / 2)), 1e-15);
}

TEST(ReportSurvival, NoMedianWhenTheCurveStaysAboveOneHalf) {
  const std::vector<ReportEpisode> episodes = {
      survival_episode(Arm::kTreatment, Outcome::kReplied, kSurvivalT0 + kHour),
      survival_episode(Arm::kTreatment, Outcome::kOpen, kNoInstant),
      survival_episode(Arm::kTreatment, Outcome::kOpen, kNoInstant),
  };
  std::vector<const ReportEpisode*> population;
  for (const ReportEpisode& e : episodes) population.push_back(&e);
  const SurvivalAnalysis s = analyse_survival(population, kSurvivalT0 + kDay);
  EXPECT_FALSE(s.arm(Arm::kTreatment).median.has_value());
  EXPECT_FALSE(s.logrank.chi2.has_value());  // no control arm: nothing to compare
}

}  // namespace
}  // namespace gw::report
