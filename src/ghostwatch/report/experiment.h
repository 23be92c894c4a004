// The experiment report's numbers (docs/report.md gives every definition):
// the population (in-segment episodes with at least one decision, each
// triggered at its earliest decision, in its episode's arm: intention to
// treat), the SRM test on its freelancers, the four outcome metrics compared
// between arms with freelancer-clustered variances, and the cost side (sends
// per arm), and time to reply (survival.h). A pure computation over a loaded ReportInput. Thread-safe.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "ghostwatch/core/time.h"
#include "ghostwatch/report/case_outcomes.h"
#include "ghostwatch/report/report_input.h"
#include "ghostwatch/report/stats.h"
#include "ghostwatch/report/survival.h"

namespace gw::report {

struct ReportOptions {
  std::string campaign;
  double holdout_percent = 0;
  std::optional<Instant> until;  // the data end; default: ReportInput::max_time
};

// The population of one arm and what was sent to it.
struct ArmSummary {
  std::int64_t episodes = 0;
  std::int64_t freelancers = 0;
  std::int64_t nudges_sent = 0;         // nudge decisions with status sent
  std::int64_t escalated_episodes = 0;  // episodes with an escalate decision with status sent
};

struct MetricResult {
  std::string name;  // reply_24h, reply_48h, reply_72h, bad_outcome
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
  // With --cases: per arm (indexed by Arm), what the support team made of
  // the escalations (case_outcomes.h).
  std::optional<std::array<ArmCases, 2>> cases;

  const ArmSummary& arm(Arm a) const { return arms[static_cast<std::size_t>(a)]; }
};

ExperimentReport compute_experiment(const ReportInput& input, const ReportOptions& options);

// The population's episodes, in input order (exposed for the survival analysis and tests).
std::vector<const ReportEpisode*> population(const ReportInput& input);

}  // namespace gw::report
