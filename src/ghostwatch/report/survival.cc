#include "ghostwatch/report/survival.h"

#include <algorithm>
#include <cassert>

#include "ghostwatch/report/stats.h"

namespace gw::report {
namespace {

struct SurvivalTime {
  Duration time = 0;
  bool event = false;
  Arm arm = Arm::kTreatment;
};

// Follow-up of one episode: from its trigger to its reply (an event), its
// contract's end (censored) or the data end (censored), whichever the data
// shows first. Negative times (a close stamped before the trigger) count as 0.
SurvivalTime survival_time_of(const ReportEpisode& e, Instant data_end) {
  SurvivalTime s;
  s.arm = e.arm;
  Instant end = data_end;
  if (e.outcome != Outcome::kOpen && e.closed_at <= data_end) {
    end = e.closed_at;
    s.event = e.outcome == Outcome::kReplied;
  }
  s.time = std::max<Duration>(0, end - e.trigger);
  return s;
}

// The Kaplan-Meier curve of one arm over `times` (sorted by time): at a time
// shared by events and censorings, the censored are still at risk.
KmCurve survival_curve(const std::vector<SurvivalTime>& times, Arm arm) {
  KmCurve curve;
  for (const SurvivalTime& s : times) {
    if (s.arm != arm) continue;
    ++curve.episodes;
    ++(s.event ? curve.events : curve.censored);
  }
  std::int64_t at_risk = curve.episodes;
  double survival = 1;
  for (std::size_t i = 0; i < times.size();) {
    const Duration t = times[i].time;
    std::int64_t events = 0, leaving = 0;
    for (; i < times.size() && times[i].time == t; ++i) {
      if (times[i].arm != arm) continue;
      ++leaving;
      if (times[i].event) ++events;
    }
    if (events > 0) {
      survival *= 1 - static_cast<double>(events) / static_cast<double>(at_risk);
      curve.steps.push_back({t, at_risk, events, survival});
      if (!curve.median && survival <= 0.5) curve.median = t;
    }
    at_risk -= leaving;
  }
  return curve;
}

LogRankTest survival_logrank(const std::vector<SurvivalTime>& times) {
  LogRankTest test;
  std::array<double, 2> at_risk{};
  for (const SurvivalTime& s : times) ++at_risk[static_cast<std::size_t>(s.arm)];
  constexpr auto kT = static_cast<std::size_t>(Arm::kTreatment);
  double variance = 0;
  for (std::size_t i = 0; i < times.size();) {
    const Duration t = times[i].time;
    std::array<double, 2> events{}, leaving{};
    for (; i < times.size() && times[i].time == t; ++i) {
      const auto a = static_cast<std::size_t>(times[i].arm);
      ++leaving[a];
      if (times[i].event) ++events[a];
    }
    const double n = at_risk[0] + at_risk[1];
    const double d = events[0] + events[1];
    if (d > 0) {
      test.observed_treatment += events[kT];
      test.expected_treatment += d * at_risk[kT] / n;
      if (n > 1) variance += d * (at_risk[kT] / n) * (1 - at_risk[kT] / n) * (n - d) / (n - 1);
    }
    at_risk[0] -= leaving[0];
    at_risk[1] -= leaving[1];
  }
  if (variance > 0) {
    const double o_minus_e = test.observed_treatment - test.expected_treatment;
    test.chi2 = o_minus_e * o_minus_e / variance;
    test.p_value = chi2_1_sf(*test.chi2);
  }
  return test;
}

}  // namespace

double KmCurve::survival_at(Duration t) const {
  auto after = std::upper_bound(steps.begin(), steps.end(), t,
                                [](Duration value, const KmStep& step) { return value < step.time; });
  return after == steps.begin() ? 1.0 : std::prev(after)->survival;
}

SurvivalAnalysis analyse_survival(const std::vector<const ReportEpisode*>& population, Instant data_end) {
  std::vector<SurvivalTime> times;
  for (const ReportEpisode* e : population) {
    assert(e->trigger != kNoInstant);
    if (data_end != kNoInstant && e->trigger <= data_end) times.push_back(survival_time_of(*e, data_end));
  }
  std::sort(times.begin(), times.end(), [](const SurvivalTime& a, const SurvivalTime& b) { return a.time < b.time; });
  SurvivalAnalysis analysis;
  for (const Arm a : {Arm::kTreatment, Arm::kControl}) {
    analysis.arms[static_cast<std::size_t>(a)] = survival_curve(times, a);
  }
  analysis.logrank = survival_logrank(times);
  return analysis;
}

}  // namespace gw::report
