// Time to reply per arm (docs/report.md, "survival"): Kaplan-Meier curves of
// the time from an episode's trigger to its reply, censored at the contract's
// end or at the data end, their medians, and the log-rank test between the
// arms. Episodes triggered after the data end are not followed. A pure
// computation; thread-safe.
#pragma once

#include <array>
#include <optional>
#include <vector>

#include "ghostwatch/core/time.h"
#include "ghostwatch/report/report_input.h"

namespace gw::report {

// The curve after the events at `time`: S(time) = product over event times
// t <= time of (1 - events(t) / at_risk(t)).
struct KmStep {
  Duration time = 0;
  std::int64_t at_risk = 0;
  std::int64_t events = 0;
  double survival = 1;
};

struct KmCurve {
  std::int64_t episodes = 0;
  std::int64_t events = 0;  // replies seen by the data end
  std::int64_t censored = 0;
  std::vector<KmStep> steps;       // one per distinct event time, ascending
  std::optional<Duration> median;  // the first event time with S <= 0.5; nullopt when S stays above

  // S(t): 1 before the first event.
  double survival_at(Duration t) const;
};

struct LogRankTest {
  double observed_treatment = 0;        // replies in treatment
  double expected_treatment = 0;        // under equal hazards
  std::optional<double> chi2, p_value;  // nullopt when the variance is 0 (no event time with both arms at risk)
};

struct SurvivalAnalysis {
  std::array<KmCurve, 2> arms;  // indexed by Arm
  LogRankTest logrank;

  const KmCurve& arm(Arm a) const { return arms[static_cast<std::size_t>(a)]; }
};

// REQUIRES: every episode has a trigger (is in the population).
SurvivalAnalysis analyse_survival(const std::vector<const ReportEpisode*>& population, Instant data_end);

}  // namespace gw::report
