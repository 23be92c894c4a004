// Tests of the experiment report's rules (ghostwatch/report/experiment.h):
// the population, the trigger, the left-out rule of reply_Xh at the data
// end, bad_outcome's reasons, SRM and the cost counts, on hand-made episodes.
#include <gtest/gtest.h>

#include <string>

#include "ghostwatch/report/experiment.h"

namespace gw::report {
namespace {

const Instant kReportT0 = *parse_rfc3339("2019-08-01T00:00:00Z");

// An in-segment episode of `freelancer` with one decision at `trigger`.
ReportEpisode report_episode(const std::string& freelancer, Arm arm, Instant trigger) {
  static std::int64_t next = 0;
  ReportEpisode e;
  e.contract = "c" + std::to_string(++next);
  e.episode = 1;
  e.freelancer = freelancer;
  e.arm = arm;
  e.in_segment = true;
  e.opened_at = trigger - kDay;
  e.decisions = 1;
  e.trigger = trigger;
  return e;
}

ReportEpisode report_replied(ReportEpisode e, Instant at) {
  e.outcome = Outcome::kReplied;
  e.closed_at = at;
  return e;
}

ReportEpisode report_ended(ReportEpisode e, Instant at, std::string reason) {
  e.outcome = Outcome::kContractEnded;
  e.closed_at = at;
  e.reason = std::move(reason);
  return e;
}

const MetricResult& report_metric(const ExperimentReport& r, const std::string& name) {
  for (const MetricResult& m : r.metrics) {
    if (m.name == name) return m;
  }
  throw std::runtime_error("no metric " + name);
}

ReportOptions report_options(std::optional<Instant> until = std::nullopt) {
  ReportOptions o;
  o.campaign = "test";
  o.holdout_percent = 50;
  o.until = until;
  return o;
}

TEST(ReportExperiment, PopulationIsInSegmentEpisodesWithADecision) {
  ReportInput input;
  input.episodes.push_back(report_episode("a", Arm::kTreatment, kReportT0));
  input.episodes.push_back(report_episode("a", Arm::kTreatment, kReportT0));
  ReportEpisode outside = report_episode("b", Arm::kTreatment, kReportT0);
  outside.in_segment = false;
  input.episodes.push_back(outside);
  ReportEpisode undecided = report_episode("c", Arm::kTreatment, kReportT0);
  undecided.decisions = 0;
  undecided.trigger = kNoInstant;
  input.episodes.push_back(undecided);
  input.episodes.push_back(report_episode("d", Arm::kControl, kReportT0));  // held_out decisions count
  const ExperimentReport r = compute_experiment(input, report_options(kReportT0 + 10 * kDay));
  EXPECT_EQ(r.arm(Arm::kTreatment).episodes, 2);
  EXPECT_EQ(r.arm(Arm::kTreatment).freelancers, 1);
  EXPECT_EQ(r.arm(Arm::kControl).episodes, 1);
  EXPECT_EQ(r.arm(Arm::kControl).freelancers, 1);
  EXPECT_EQ(report_metric(r, "bad_outcome").comparison.treatment.n, 2);
}

TEST(ReportExperiment, ReplyWindowsStartAtTheTriggerAndLeaveOutWhatTheDataCannotShow) {
  const Instant data_end = kReportT0 + 10 * kDay;
  ReportInput input;
  // Replied exactly 24 h after the trigger: counts for every window.
  input.episodes.push_back(report_replied(report_episode("a", Arm::kTreatment, kReportT0), kReportT0 + kDay));
  // Replied 1 ms too late for 24 h, in time for 48 h.
  input.episodes.push_back(report_replied(report_episode("b", Arm::kTreatment, kReportT0), kReportT0 + kDay + 1));
  // Its 72 h window ends exactly at the data end: kept in all three.
  input.episodes.push_back(report_episode("c", Arm::kTreatment, data_end - 3 * kDay));
  // Its 72 h window ends 1 ms after the data end: left out of reply_72h only.
  input.episodes.push_back(
      report_replied(report_episode("d", Arm::kTreatment, data_end - 3 * kDay + 1), data_end - 3 * kDay + 1 + kHour));
  // Its 24 h window already ends after the data end: left out of all three, still in bad_outcome.
  input.episodes.push_back(report_episode("e", Arm::kTreatment, data_end - kDay + 1));
  const ExperimentReport r = compute_experiment(input, report_options(data_end));
  const ArmRate& r24 = report_metric(r, "reply_24h").comparison.treatment;
  const ArmRate& r48 = report_metric(r, "reply_48h").comparison.treatment;
  const ArmRate& r72 = report_metric(r, "reply_72h").comparison.treatment;
  EXPECT_EQ(r24.n, 4);
  EXPECT_DOUBLE_EQ(*r24.rate, 2.0 / 4);  // a, d
  EXPECT_EQ(r48.n, 4);
  EXPECT_DOUBLE_EQ(*r48.rate, 3.0 / 4);  // a, b, d
  EXPECT_EQ(r72.n, 3);
  EXPECT_DOUBLE_EQ(*r72.rate, 2.0 / 3);  // a, b
  EXPECT_EQ(report_metric(r, "bad_outcome").comparison.treatment.n, 5);
  EXPECT_EQ(r.data_end, data_end);
}

TEST(ReportExperiment, DataEndDefaultsToTheLatestTimeInTheInputs) {
  ReportInput input;
  input.episodes.push_back(report_episode("a", Arm::kTreatment, kReportT0));
  input.max_time = kReportT0 + kDay;
  const ExperimentReport r = compute_experiment(input, report_options());
  EXPECT_EQ(r.data_end, kReportT0 + kDay);
  EXPECT_EQ(report_metric(r, "reply_24h").comparison.treatment.n, 1);
  EXPECT_EQ(report_metric(r, "reply_48h").comparison.treatment.n, 0);
  EXPECT_FALSE(report_metric(r, "reply_48h").comparison.treatment.rate.has_value());
}

TEST(ReportExperiment, BadOutcomeIsACancelledOrReplacedContract) {
  ReportInput input;
  const Instant t = kReportT0;
  input.episodes.push_back(report_ended(report_episode("a", Arm::kControl, t), t + kHour, "cancelled"));
  input.episodes.push_back(report_ended(report_episode("b", Arm::kControl, t), t + kHour, "replaced"));
  input.episodes.push_back(report_ended(report_episode("c", Arm::kControl, t), t + kHour, "completed"));
  input.episodes.push_back(report_ended(report_episode("d", Arm::kControl, t), t + kHour, ""));  // reason null
  input.episodes.push_back(report_replied(report_episode("e", Arm::kControl, t), t + kHour));
  input.episodes.push_back(report_episode("f", Arm::kControl, t));  // open
  const ExperimentReport r = compute_experiment(input, report_options(t));
  const ArmRate& bad = report_metric(r, "bad_outcome").comparison.control;
  EXPECT_EQ(bad.n, 6);
  EXPECT_DOUBLE_EQ(*bad.rate, 2.0 / 6);
}

TEST(ReportExperiment, ArmsAreComparedWithFreelancerClusters) {
  ReportInput input;
  const Instant t = kReportT0;
  // Treatment A: 1, 1; B: 0; C: 1, 0, 0 (stats_test: rate 0.5, variance 0.0625).
  for (const auto& [who, y] : {std::pair{"A", 1}, {"A", 1}, {"B", 0}, {"C", 1}, {"C", 0}, {"C", 0}}) {
    input.episodes.push_back(y ? report_ended(report_episode(who, Arm::kTreatment, t), t, "replaced")
                               : report_episode(who, Arm::kTreatment, t));
  }
  // Control D: 0, 0; E: 1; F: 0 (rate 0.25, variance 0.08203125).
  for (const auto& [who, y] : {std::pair{"D", 0}, {"D", 0}, {"E", 1}, {"F", 0}}) {
    input.episodes.push_back(y ? report_ended(report_episode(who, Arm::kControl, t), t, "cancelled")
                               : report_episode(who, Arm::kControl, t));
  }
  const ExperimentReport r = compute_experiment(input, report_options(t));
  const Comparison& c = report_metric(r, "bad_outcome").comparison;
  EXPECT_DOUBLE_EQ(*c.treatment.variance, 0.0625);
  EXPECT_DOUBLE_EQ(*c.control.variance, 0.08203125);
  EXPECT_DOUBLE_EQ(*c.diff, 0.25);
  EXPECT_NEAR(*c.p_value, 0.5107977981738965, 1e-12);
}

TEST(ReportExperiment, SrmCountsDistinctFreelancersPerArm) {
  ReportInput input;
  for (int i = 0; i < 85; ++i) input.episodes.push_back(report_episode("t" + std::to_string(i), Arm::kTreatment, 0));
  for (int i = 0; i < 15; ++i) {
    input.episodes.push_back(report_episode("c" + std::to_string(i), Arm::kControl, 0));
    input.episodes.push_back(report_episode("c" + std::to_string(i), Arm::kControl, 0));  // same freelancer
  }
  ReportOptions o = report_options(kReportT0);
  o.holdout_percent = 10;
  const ExperimentReport r = compute_experiment(input, o);
  EXPECT_EQ(r.srm.treatment, 85);
  EXPECT_EQ(r.srm.control, 15);
  EXPECT_DOUBLE_EQ(r.srm.expected_control, 10.0);
  EXPECT_NEAR(*r.srm.chi2, 25.0 / 90 + 25.0 / 10, 1e-12);
}

TEST(ReportExperiment, CostCountsSendsOfThePopulation) {
  ReportInput input;
  ReportEpisode a = report_episode("a", Arm::kTreatment, kReportT0);
  a.nudges_sent = 2;
  a.escalations_sent = 1;
  ReportEpisode b = report_episode("b", Arm::kTreatment, kReportT0);
  b.nudges_sent = 1;
  ReportEpisode outside = report_episode("c", Arm::kTreatment, kReportT0);
  outside.in_segment = false;
  outside.nudges_sent = 5;
  outside.escalations_sent = 1;
  input.episodes = {a, b, outside};
  const ExperimentReport r = compute_experiment(input, report_options(kReportT0));
  const ArmSummary& s = r.arm(Arm::kTreatment);
  EXPECT_EQ(s.nudges_sent, 3);
  EXPECT_EQ(s.escalated_episodes, 1);
  EXPECT_EQ(s.freelancers, 2);
}

}  // namespace
}  // namespace gw::report
