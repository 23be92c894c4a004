// The experiment report's numbers (docs/report.md gives every definition):
// the population (in-segment episodes with at least one decision, each
// triggered at its earliest decision, in its episode's arm: intention to
// treat), the SRM test on its freelancers, the four outcome metrics compared
// between arms with freelancer-clustered variances (each also with CUPED on
// the freelancers' pre-period and an always-valid interval), the cost side
// (sends per arm; with the events file, opt-outs), time to reply
// (survival.h), and, with the events file, the metrics by country and kind.
// A pure computation over a loaded ReportInput. Thread-safe.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "ghostwatch/core/time.h"
#include "ghostwatch/policy/policy.h"
#include "ghostwatch/report/case_outcomes.h"
#include "ghostwatch/report/report_input.h"
#include "ghostwatch/report/report_users.h"
#include "ghostwatch/report/stats.h"
#include "ghostwatch/report/survival.h"

namespace gw::report {

struct ReportOptions {
  std::string campaign;
  double holdout_percent = 0;
  std::optional<Instant> until;  // the data end; default: ReportInput::max_time
  // The pre-period of CUPED ends here: the policy's campaign start; default:
  // the earliest decision in the input.
  std::optional<Instant> campaign_start;
  Duration first_step_after = 0;  // the ladder's first `after`: a pre-period episode's would-be trigger
  // With --events: the population freelancers' attributes and opt-outs
  // (keyed by id, first_trigger filled by freelancer_first_triggers).
  const ReportFreelancers* freelancers = nullptr;
};

// The options a campaign's policy sets: its name, holdout, start and first
// step. `until` and `freelancers` are left to the caller.
ReportOptions report_options_for(const Policy& policy);

// The population of one arm and what was sent to it.
struct ArmSummary {
  std::int64_t episodes = 0;
  std::int64_t freelancers = 0;
  std::int64_t nudges_sent = 0;         // nudge decisions with status sent
  std::int64_t escalated_episodes = 0;  // episodes with an escalate decision with status sent
};

// CUPED of one metric (docs/report.md, "CUPED"): the covariate x of an
// episode is its freelancer's mean of the metric over their pre-period
// episodes, or the mean x of the population episodes that have one.
struct CupedResult {
  CupedComparison cuped;
  std::int64_t episodes_with_pre_period = 0;  // population episodes whose freelancer has pre-period episodes
};

struct MetricResult {
  std::string name;  // reply_24h, reply_48h, reply_72h, bad_outcome
  Comparison comparison;
  SequentialInterval sequential;
  std::optional<CupedResult> cuped;  // nullopt in breakdowns, and when no population episode has a pre-period
};

// The metrics of the population episodes of one group (a country, a kind).
struct GroupResult {
  std::string group;                       // "" when the attribute was never given
  std::array<std::int64_t, 2> episodes{};  // per arm, indexed by Arm
  std::vector<MetricResult> metrics;       // without CUPED
};

// Population episodes triggered on one UTC day, per arm.
struct DailyTriggers {
  std::int64_t day = 0;                    // days since 1970-01-01
  std::array<std::int64_t, 2> episodes{};  // per arm, indexed by Arm
};

// With --events: the share of population freelancers who opted out after
// their first trigger, by the data end; each freelancer is one cluster.
struct OptOutResult {
  std::array<std::int64_t, 2> opted_out{};  // per arm, indexed by Arm
  Comparison comparison;
};

struct ExperimentReport {
  std::string campaign;
  double holdout_percent = 0;
  Instant data_end = kNoInstant;   // kNoInstant: no --until and no timestamp in the inputs
  std::array<ArmSummary, 2> arms;  // indexed by Arm
  SrmTest srm;
  std::vector<MetricResult> metrics;
  SurvivalAnalysis survival;
  // Every day from the first trigger's to the last one's, days without any included.
  std::vector<DailyTriggers> daily_triggers;
  Instant pre_period_end = kNoInstant;           // the CUPED pre-period's end; kNoInstant when undefined
  std::optional<OptOutResult> opt_out;           // with --events
  std::vector<GroupResult> by_country, by_kind;  // with --events; ordered by group
  // With --cases: per arm (indexed by Arm), what the support team made of
  // the escalations (case_outcomes.h).
  std::optional<std::array<ArmCases, 2>> cases;

  const ArmSummary& arm(Arm a) const { return arms[static_cast<std::size_t>(a)]; }
};

ExperimentReport compute_experiment(const ReportInput& input, const ReportOptions& options);

// The population's episodes, in input order (exposed for the survival analysis and tests).
std::vector<const ReportEpisode*> population(const ReportInput& input);

// Every population freelancer with first_trigger set, for load_report_users.
ReportFreelancers freelancer_first_triggers(const ReportInput& input);

}  // namespace gw::report
