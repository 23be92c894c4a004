#include "ghostwatch/report/report_json.h"

#include <nlohmann/json.hpp>

namespace gw::report {
namespace {

using Json = nlohmann::ordered_json;

Json report_number(std::optional<double> v) {
  if (!v || !std::isfinite(*v)) return nullptr;
  return *v;
}

Json report_arm_json(const ArmSummary& s) { return Json{{"episodes", s.episodes}, {"freelancers", s.freelancers}}; }

Json report_cost_json(const ArmSummary& s) {
  Json j;
  j["nudges_sent"] = s.nudges_sent;
  j["nudges_sent_per_freelancer"] =
      s.freelancers > 0 ? Json(static_cast<double>(s.nudges_sent) / static_cast<double>(s.freelancers)) : nullptr;
  j["escalated_episodes"] = s.escalated_episodes;
  j["escalation_rate"] =
      s.episodes > 0 ? Json(static_cast<double>(s.escalated_episodes) / static_cast<double>(s.episodes)) : nullptr;
  return j;
}

Json report_metric_json(const Comparison& c) {
  return Json{{"treatment", report_number(c.treatment.rate)},
              {"control", report_number(c.control.rate)},
              {"diff", report_number(c.diff)},
              {"relative", report_number(c.relative)},
              {"se", report_number(c.se)},
              {"ci_low", report_number(c.ci_low)},
              {"ci_high", report_number(c.ci_high)},
              {"p_value", report_number(c.p_value)},
              {"n_treatment", c.treatment.n},
              {"n_control", c.control.n},
              {"freelancers_treatment", c.treatment.clusters},
              {"freelancers_control", c.control.clusters}};
}

Json report_sequential_json(const SequentialInterval& s) {
  return Json{{"tau", s.tau},
              {"ci_low", report_number(s.ci_low)},
              {"ci_high", report_number(s.ci_high)},
              {"p_value", report_number(s.p_value)}};
}

Json report_cuped_json(const CupedResult& r) {
  const Comparison& c = r.cuped.adjusted;
  Json j{{"theta", r.cuped.theta},
         {"episodes_with_pre_period", r.episodes_with_pre_period},
         {"treatment", report_number(c.treatment.rate)},
         {"control", report_number(c.control.rate)},
         {"diff", report_number(c.diff)},
         {"se", report_number(c.se)},
         {"ci_low", report_number(c.ci_low)},
         {"ci_high", report_number(c.ci_high)},
         {"p_value", report_number(c.p_value)}};
  return j;
}

Json report_full_metric_json(const MetricResult& m) {
  Json j = report_metric_json(m.comparison);
  j["sequential"] = report_sequential_json(m.sequential);
  j["cuped"] = m.cuped ? report_cuped_json(*m.cuped) : Json(nullptr);
  if (m.cuped && m.comparison.se && m.cuped->cuped.adjusted.se && *m.comparison.se > 0) {
    const double ratio = *m.cuped->cuped.adjusted.se / *m.comparison.se;
    j["cuped"]["variance_reduction"] = 1 - ratio * ratio;
  }
  return j;
}

Json report_groups_json(const std::vector<GroupResult>& groups) {
  Json out = Json::array();
  for (const GroupResult& g : groups) {
    Json metrics = Json::object();
    for (const MetricResult& m : g.metrics) metrics[m.name] = report_metric_json(m.comparison);
    out.push_back(Json{{"group", g.group.empty() ? Json(nullptr) : Json(g.group)},
                       {"episodes_treatment", g.episodes[static_cast<std::size_t>(Arm::kTreatment)]},
                       {"episodes_control", g.episodes[static_cast<std::size_t>(Arm::kControl)]},
                       {"metrics", std::move(metrics)}});
  }
  return out;
}

Json report_hours(std::optional<Duration> d) {
  if (!d) return nullptr;
  return static_cast<double>(*d) / static_cast<double>(kHour);
}

Json report_curve_json(const KmCurve& c) {
  Json j{{"episodes", c.episodes},
         {"events", c.events},
         {"censored", c.censored},
         {"median_hours", report_hours(c.median)}};
  for (const int hours : {24, 48, 72}) j["survival_" + std::to_string(hours) + "h"] = c.survival_at(hours * kHour);
  return j;
}

}  // namespace

std::string experiment_json(const ExperimentReport& report) {
  Json j;
  j["campaign"] = report.campaign;
  j["holdout_percent"] = report.holdout_percent;
  j["data_end"] = report.data_end == kNoInstant ? Json(nullptr) : Json(format_rfc3339(report.data_end));
  j["population"] = Json{{"treatment", report_arm_json(report.arm(Arm::kTreatment))},
                         {"control", report_arm_json(report.arm(Arm::kControl))}};
  j["srm"] = Json{{"treatment", report.srm.treatment},
                  {"control", report.srm.control},
                  {"expected_treatment", report.srm.expected_treatment},
                  {"expected_control", report.srm.expected_control},
                  {"chi2", report_number(report.srm.chi2)},
                  {"p_value", report_number(report.srm.p_value)}};
  Json metrics = Json::object();
  for (const MetricResult& m : report.metrics) metrics[m.name] = report_full_metric_json(m);
  j["metrics"] = std::move(metrics);
  const LogRankTest& lr = report.survival.logrank;
  j["survival"] = Json{{"treatment", report_curve_json(report.survival.arm(Arm::kTreatment))},
                       {"control", report_curve_json(report.survival.arm(Arm::kControl))},
                       {"logrank",
                        {{"observed_treatment", lr.observed_treatment},
                         {"expected_treatment", lr.expected_treatment},
                         {"chi2", report_number(lr.chi2)},
                         {"p_value", report_number(lr.p_value)}}}};
  j["cost"] = Json{{"treatment", report_cost_json(report.arm(Arm::kTreatment))},
                   {"control", report_cost_json(report.arm(Arm::kControl))}};
  Json daily = Json::array();
  for (const DailyTriggers& d : report.daily_triggers) {
    const std::string date = format_rfc3339(d.day * kDay).substr(0, 10);
    daily.push_back(Json{{"date", date},
                         {"treatment", d.episodes[static_cast<std::size_t>(Arm::kTreatment)]},
                         {"control", d.episodes[static_cast<std::size_t>(Arm::kControl)]}});
  }
  j["daily_triggers"] = std::move(daily);
  j["pre_period_end"] =
      report.pre_period_end == kNoInstant ? Json(nullptr) : Json(format_rfc3339(report.pre_period_end));
  if (report.opt_out) {
    Json o = report_metric_json(report.opt_out->comparison);
    o["opted_out_treatment"] = report.opt_out->opted_out[static_cast<std::size_t>(Arm::kTreatment)];
    o["opted_out_control"] = report.opt_out->opted_out[static_cast<std::size_t>(Arm::kControl)];
    j["cost"]["opt_out"] = std::move(o);
    j["breakdowns"] =
        Json{{"country", report_groups_json(report.by_country)}, {"kind", report_groups_json(report.by_kind)}};
  }
  if (report.cases) {
    Json cases = Json::object();
    for (const Arm a : {Arm::kTreatment, Arm::kControl}) {
      const ArmCases& c = (*report.cases)[static_cast<std::size_t>(a)];
      cases[std::string(arm_name(a))] =
          Json{{"episodes_with_case", c.episodes_with_case}, {"by_outcome", c.by_outcome}, {"by_status", c.by_status}};
    }
    j["cases"] = std::move(cases);
  }
  return j.dump(2) + "\n";
}

}  // namespace gw::report
