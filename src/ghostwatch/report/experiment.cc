#include "ghostwatch/report/experiment.h"

#include <algorithm>
#include <map>
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
  std::uint32_t size() const { return static_cast<std::uint32_t>(ids_.size()); }

 private:
  std::unordered_map<std::string_view, std::uint32_t> ids_;
};

// An outcome metric: reply within `window` of the trigger, or (window 0) a bad outcome.
struct ReportMetricDef {
  std::string_view name;
  Duration window;
};
constexpr ReportMetricDef kReportMetrics[] = {
    {"reply_24h", 24 * kHour}, {"reply_48h", 48 * kHour}, {"reply_72h", 72 * kHour}, {"bad_outcome", 0}};

bool report_is_bad_outcome(const ReportEpisode& e) {
  return e.outcome == Outcome::kContractEnded && (e.reason == "cancelled" || e.reason == "replaced");
}

// y of a population episode; nullopt when a reply window ends after the data end.
std::optional<double> report_y(const ReportEpisode& e, const ReportMetricDef& m, Instant data_end) {
  if (m.window == 0) return report_is_bad_outcome(e) ? 1.0 : 0.0;
  if (data_end == kNoInstant || e.trigger > data_end - m.window) return std::nullopt;
  return e.outcome == Outcome::kReplied && e.closed_at <= e.trigger + m.window ? 1.0 : 0.0;
}

// y of an episode in the pre-period (docs/report.md, "CUPED"): its would-be
// trigger is opened_at + the first step's `after`; it counts when it was
// still unanswered then and the metric's outcome was settled by the
// pre-period's end.
std::optional<double> report_pre_y(const ReportEpisode& e, const ReportMetricDef& m, Duration first_after,
                                   Instant pre_end) {
  const Instant trigger = e.opened_at + first_after;
  if (e.closed_at != kNoInstant && e.closed_at <= trigger) return std::nullopt;
  if (m.window == 0) {
    if (trigger > pre_end) return std::nullopt;
    return report_is_bad_outcome(e) && e.closed_at <= pre_end ? 1.0 : 0.0;
  }
  if (trigger > pre_end - m.window) return std::nullopt;
  return e.outcome == Outcome::kReplied && e.closed_at <= trigger + m.window ? 1.0 : 0.0;
}

// Per cluster, the sum and count of pre-period y.
struct ReportPrePeriod {
  std::vector<double> sum;
  std::vector<std::uint32_t> count;
};

// One metric over `episodes` (clusters[i] is episodes[i]'s), with CUPED when `pre` is given.
MetricResult report_metric(const ReportMetricDef& m, const std::vector<const ReportEpisode*>& episodes,
                           const std::vector<std::uint32_t>& clusters, Instant data_end, const ReportPrePeriod* pre) {
  MetricResult r;
  r.name = m.name;
  std::vector<std::optional<double>> ys(episodes.size());
  double x_sum = 0;
  std::int64_t x_n = 0;
  for (std::size_t i = 0; i < episodes.size(); ++i) {
    ys[i] = report_y(*episodes[i], m, data_end);
    if (ys[i] && pre != nullptr && pre->count[clusters[i]] > 0) {
      x_sum += pre->sum[clusters[i]] / pre->count[clusters[i]];
      ++x_n;
    }
  }
  std::array<std::vector<Observation>, 2> obs;
  std::array<std::vector<CovariateObservation>, 2> cov;
  for (std::size_t i = 0; i < episodes.size(); ++i) {
    if (!ys[i]) continue;
    const auto a = static_cast<std::size_t>(episodes[i]->arm);
    obs[a].push_back({clusters[i], *ys[i]});
    if (x_n > 0) {
      const std::uint32_t c = clusters[i];
      const double x = pre->count[c] > 0 ? pre->sum[c] / pre->count[c] : x_sum / static_cast<double>(x_n);
      cov[a].push_back({c, *ys[i], x});
    }
  }
  constexpr auto kT = static_cast<std::size_t>(Arm::kTreatment);
  constexpr auto kC = static_cast<std::size_t>(Arm::kControl);
  r.comparison = compare_arms(clustered_rate(std::move(obs[kT])), clustered_rate(std::move(obs[kC])));
  r.sequential = sequential_interval(r.comparison);
  if (x_n > 0) r.cuped = CupedResult{cuped_compare(cov[kT], cov[kC]), x_n};
  return r;
}

// The population episodes grouped by an attribute of their freelancer, each with its metrics.
std::vector<GroupResult> report_groups(const std::vector<const ReportEpisode*>& episodes,
                                       const std::vector<std::uint32_t>& clusters, Instant data_end,
                                       const ReportFreelancers& freelancers, std::string ReportFreelancer::*attribute) {
  std::map<std::string, std::vector<std::size_t>> members;
  for (std::size_t i = 0; i < episodes.size(); ++i) {
    const auto f = freelancers.find(episodes[i]->freelancer);
    members[f == freelancers.end() ? std::string() : f->second.*attribute].push_back(i);
  }
  std::vector<GroupResult> groups;
  for (const auto& [group, indexes] : members) {
    GroupResult g;
    g.group = group;
    std::vector<const ReportEpisode*> mine;
    std::vector<std::uint32_t> mine_clusters;
    for (const std::size_t i : indexes) {
      mine.push_back(episodes[i]);
      mine_clusters.push_back(clusters[i]);
      ++g.episodes[static_cast<std::size_t>(episodes[i]->arm)];
    }
    for (const ReportMetricDef& m : kReportMetrics) {
      g.metrics.push_back(report_metric(m, mine, mine_clusters, data_end, nullptr));
    }
    groups.push_back(std::move(g));
  }
  return groups;
}

OptOutResult report_opt_out(const std::vector<const ReportEpisode*>& episodes,
                            const std::vector<std::uint32_t>& clusters, std::uint32_t cluster_count, Instant data_end,
                            const ReportFreelancers& freelancers) {
  OptOutResult r;
  std::array<std::vector<Observation>, 2> obs;
  std::vector<bool> seen(cluster_count);
  for (std::size_t i = 0; i < episodes.size(); ++i) {
    if (seen[clusters[i]]) continue;
    seen[clusters[i]] = true;
    const auto f = freelancers.find(episodes[i]->freelancer);
    const bool out = f != freelancers.end() && f->second.opted_out_at != kNoInstant && data_end != kNoInstant &&
                     f->second.opted_out_at <= data_end;
    const auto a = static_cast<std::size_t>(episodes[i]->arm);
    r.opted_out[a] += out ? 1 : 0;
    obs[a].push_back({clusters[i], out ? 1.0 : 0.0});
  }
  r.comparison = compare_arms(clustered_rate(std::move(obs[static_cast<std::size_t>(Arm::kTreatment)])),
                              clustered_rate(std::move(obs[static_cast<std::size_t>(Arm::kControl)])));
  return r;
}

std::vector<DailyTriggers> report_daily_triggers(const std::vector<const ReportEpisode*>& episodes) {
  std::vector<DailyTriggers> days;
  if (episodes.empty()) return days;
  std::int64_t first = floor_div(episodes.front()->trigger, kDay);
  std::int64_t last = first;
  for (const ReportEpisode* e : episodes) {
    first = std::min(first, floor_div(e->trigger, kDay));
    last = std::max(last, floor_div(e->trigger, kDay));
  }
  days.resize(static_cast<std::size_t>(last - first + 1));
  for (std::size_t i = 0; i < days.size(); ++i) days[i].day = first + static_cast<std::int64_t>(i);
  for (const ReportEpisode* e : episodes) {
    ++days[static_cast<std::size_t>(floor_div(e->trigger, kDay) - first)].episodes[static_cast<std::size_t>(e->arm)];
  }
  return days;
}

}  // namespace

std::vector<const ReportEpisode*> population(const ReportInput& input) {
  std::vector<const ReportEpisode*> out;
  for (const ReportEpisode& e : input.episodes) {
    if (e.in_segment && e.decisions > 0) out.push_back(&e);
  }
  return out;
}

ReportFreelancers freelancer_first_triggers(const ReportInput& input) {
  ReportFreelancers out;
  for (const ReportEpisode* e : population(input)) {
    ReportFreelancer& f = out[e->freelancer];
    if (f.first_trigger == kNoInstant || e->trigger < f.first_trigger) f.first_trigger = e->trigger;
  }
  return out;
}

ReportOptions report_options_for(const Policy& policy) {
  ReportOptions options;
  options.campaign = policy.name;
  options.holdout_percent = policy.holdout_percent;
  if (policy.start != kNoInstant) options.campaign_start = policy.start;
  options.first_step_after = policy.ladder.front().after;
  return options;
}

ExperimentReport compute_experiment(const ReportInput& input, const ReportOptions& options) {
  ExperimentReport report;
  report.campaign = options.campaign;
  report.holdout_percent = options.holdout_percent;
  report.data_end = options.until ? *options.until : input.max_time;

  // Cluster ids for every episode's freelancer (the pre-period reads episodes outside the population too).
  ReportFreelancerIds ids;
  std::vector<const ReportEpisode*> episodes;
  std::vector<std::uint32_t> cluster;
  std::vector<std::uint32_t> all_clusters(input.episodes.size());
  Instant first_decision = kNoInstant;
  for (std::size_t i = 0; i < input.episodes.size(); ++i) {
    const ReportEpisode& e = input.episodes[i];
    all_clusters[i] = ids.id(e.freelancer);
    if (e.decisions > 0 && (first_decision == kNoInstant || e.trigger < first_decision)) first_decision = e.trigger;
    if (e.in_segment && e.decisions > 0) {
      episodes.push_back(&e);
      cluster.push_back(all_clusters[i]);
    }
  }
  std::array<std::vector<bool>, 2> seen{std::vector<bool>(ids.size()), std::vector<bool>(ids.size())};
  for (std::size_t i = 0; i < episodes.size(); ++i) {
    const ReportEpisode& e = *episodes[i];
    const auto a = static_cast<std::size_t>(e.arm);
    ArmSummary& s = report.arms[a];
    ++s.episodes;
    s.nudges_sent += e.nudges_sent;
    if (e.escalations_sent > 0) ++s.escalated_episodes;
    if (!seen[a][cluster[i]]) {
      seen[a][cluster[i]] = true;
      ++s.freelancers;
    }
  }
  report.srm =
      srm_test(report.arm(Arm::kTreatment).freelancers, report.arm(Arm::kControl).freelancers, options.holdout_percent);

  report.pre_period_end = options.campaign_start ? *options.campaign_start : first_decision;
  for (const ReportMetricDef& m : kReportMetrics) {
    ReportPrePeriod pre{std::vector<double>(ids.size()), std::vector<std::uint32_t>(ids.size())};
    if (report.pre_period_end != kNoInstant) {
      for (std::size_t i = 0; i < input.episodes.size(); ++i) {
        if (const auto y = report_pre_y(input.episodes[i], m, options.first_step_after, report.pre_period_end)) {
          pre.sum[all_clusters[i]] += *y;
          ++pre.count[all_clusters[i]];
        }
      }
    }
    report.metrics.push_back(report_metric(m, episodes, cluster, report.data_end, &pre));
  }
  report.survival = analyse_survival(episodes, report.data_end);
  report.daily_triggers = report_daily_triggers(episodes);
  if (options.freelancers != nullptr) {
    const ReportFreelancers& f = *options.freelancers;
    report.opt_out = report_opt_out(episodes, cluster, ids.size(), report.data_end, f);
    report.by_country = report_groups(episodes, cluster, report.data_end, f, &ReportFreelancer::country);
    report.by_kind = report_groups(episodes, cluster, report.data_end, f, &ReportFreelancer::kind);
  }
  return report;
}

}  // namespace gw::report
