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
  for (const MetricResult& m : report.metrics) metrics[m.name] = report_metric_json(m.comparison);
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
