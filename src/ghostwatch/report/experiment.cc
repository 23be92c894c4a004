#include "ghostwatch/report/experiment.h"

#include <string_view>
#include <unordered_map>

namespace gw::report {
namespace {

// Dense cluster ids: one per distinct freelancer, shared by both arms.
class ReportFreelancerIds {
 public:
  std::uint32_t id(std::string_view freelancer) {
    return ids_.emplace(freelancer, static_cast<std::uint32_t>(ids_.size())).first->second;
  }

 private:
  std::unordered_map<std::string_view, std::uint32_t> ids_;
};

bool report_is_bad_outcome(const ReportEpisode& e) {
  return e.outcome == Outcome::kContractEnded && (e.reason == "cancelled" || e.reason == "replaced");
}

// reply within `window` of the trigger; nullopt when the window ends after the data end.
std::optional<double> report_reply_within(const ReportEpisode& e, Duration window, Instant data_end) {
  if (data_end == kNoInstant || e.trigger > data_end - window) return std::nullopt;
  return e.outcome == Outcome::kReplied && e.closed_at <= e.trigger + window ? 1.0 : 0.0;
}

}  // namespace

std::vector<const ReportEpisode*> population(const ReportInput& input) {
  std::vector<const ReportEpisode*> out;
  for (const ReportEpisode& e : input.episodes) {
    if (e.in_segment && e.decisions > 0) out.push_back(&e);
  }
  return out;
}

ExperimentReport compute_experiment(const ReportInput& input, const ReportOptions& options) {
  ExperimentReport report;
  report.campaign = options.campaign;
  report.holdout_percent = options.holdout_percent;
  report.data_end = options.until ? *options.until : input.max_time;

  const std::vector<const ReportEpisode*> episodes = population(input);
  ReportFreelancerIds ids;
  std::vector<std::uint32_t> cluster(episodes.size());
  std::array<std::vector<bool>, 2> seen;  // per arm: cluster ids counted
  for (std::size_t i = 0; i < episodes.size(); ++i) {
    const ReportEpisode& e = *episodes[i];
    cluster[i] = ids.id(e.freelancer);
    const auto a = static_cast<std::size_t>(e.arm);
    ArmSummary& s = report.arms[a];
    ++s.episodes;
    s.nudges_sent += e.nudges_sent;
    if (e.escalations_sent > 0) ++s.escalated_episodes;
    if (seen[a].size() <= cluster[i]) seen[a].resize(cluster[i] + 1);
    if (!seen[a][cluster[i]]) {
      seen[a][cluster[i]] = true;
      ++s.freelancers;
    }
  }
  report.srm =
      srm_test(report.arm(Arm::kTreatment).freelancers, report.arm(Arm::kControl).freelancers, options.holdout_percent);

  const auto metric = [&](std::string name, const auto& y_of) {
    std::array<std::vector<Observation>, 2> obs;
    for (std::size_t i = 0; i < episodes.size(); ++i) {
      const std::optional<double> y = y_of(*episodes[i]);
      if (y) obs[static_cast<std::size_t>(episodes[i]->arm)].push_back({cluster[i], *y});
    }
    const auto arm_rate = [&obs](Arm a) { return clustered_rate(std::move(obs[static_cast<std::size_t>(a)])); };
    report.metrics.push_back({std::move(name), compare_arms(arm_rate(Arm::kTreatment), arm_rate(Arm::kControl))});
  };
  for (const int hours : {24, 48, 72}) {
    metric("reply_" + std::to_string(hours) + "h",
           [&](const ReportEpisode& e) { return report_reply_within(e, hours * kHour, report.data_end); });
  }
  metric("bad_outcome",
         [](const ReportEpisode& e) { return std::optional<double>(report_is_bad_outcome(e) ? 1.0 : 0.0); });
  report.survival = analyse_survival(episodes, report.data_end);
  return report;
}

}  // namespace gw::report
