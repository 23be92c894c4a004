// `ghostwatch report`: the experiment report of a campaign from the episode
// and decision records of a replay (docs/report.md).
#include <fmt/format.h>

#include <memory>
#include <optional>
#include <string>

#include "ghostwatch/cli/commands.h"
#include "ghostwatch/core/atomic_file.h"
#include "ghostwatch/core/time.h"
#include "ghostwatch/policy/policy.h"
#include "ghostwatch/report/experiment.h"
#include "ghostwatch/report/report_html.h"
#include "ghostwatch/report/report_input.h"
#include "ghostwatch/report/report_json.h"

namespace gw::cli {
namespace {

struct ReportArgs {
  std::string config;
  std::string episodes, actions, cases, events;
  std::string until;
  std::string json;
  std::string html;
};

Status write_report_file(const std::string& path, const std::string& text) {
  AtomicFile file;
  if (Status opened = file.open(path); !opened) return opened;
  file.write(text);
  return file.commit();
}

int run_report(const ReportArgs& args) {
  auto policy = load_policy(args.config);
  if (!policy) {
    print_command_error("report", "bad config: " + policy.message());
    return kExitUsage;
  }
  report::ReportOptions options = report::report_options_for(*policy);
  if (!args.until.empty()) {
    options.until = parse_rfc3339(args.until);
    if (!options.until) {
      print_command_error("report", "--until: must be an RFC 3339 timestamp, not \"" + args.until + "\"");
      return kExitUsage;
    }
  }
  auto input = report::load_report_input(args.episodes, args.actions);
  if (!input) {
    print_command_error("report", input.message());
    return kExitUsage;
  }
  report::ReportFreelancers freelancers;
  if (!args.events.empty()) {
    freelancers = report::freelancer_first_triggers(*input);
    if (Status loaded = report::load_report_users(args.events, freelancers); !loaded) {
      print_command_error("report", loaded.message());
      return kExitUsage;
    }
    options.freelancers = &freelancers;
  }
  report::ExperimentReport result = report::compute_experiment(*input, options);
  if (!args.cases.empty()) {
    auto cases = report::load_report_cases(args.cases);
    if (!cases) {
      print_command_error("report", cases.message());
      return kExitUsage;
    }
    result.cases = report::case_outcomes(*input, *cases);
  }
  if (Status written = write_report_file(args.json, report::experiment_json(result)); !written) {
    print_command_error("report", written.message());
    return kExitFailure;
  }
  if (!args.html.empty()) {
    if (Status written = write_report_file(args.html, report::experiment_html(result)); !written) {
      print_command_error("report", written.message());
      return kExitFailure;
    }
  }
  const report::SrmTest& srm = result.srm;
  if (srm.p_value && *srm.p_value < report::kSrmAlarmP) {
    fmt::print(stderr,
               "ghostwatch report: WARNING: SAMPLE RATIO MISMATCH: {} treatment and {} control freelancers, "
               "expected {:.1f} and {:.1f} for a {}% holdout (chi2 = {:.2f}, p = {:.2g}). The arms are not what "
               "the assignment promises: do not trust the report's comparisons until the cause is found.\n",
               srm.treatment, srm.control, srm.expected_treatment, srm.expected_control, result.holdout_percent,
               srm.chi2.value_or(0), *srm.p_value);
  }
  fmt::print(stderr, "ghostwatch report: {} population episodes ({} treatment, {} control), written to {}\n",
             result.arm(Arm::kTreatment).episodes + result.arm(Arm::kControl).episodes,
             result.arm(Arm::kTreatment).episodes, result.arm(Arm::kControl).episodes,
             args.html.empty() ? args.json : args.json + " and " + args.html);
  return kExitOk;
}

}  // namespace

void add_report_command(CLI::App& app, int& exit_status) {
  auto args = std::make_shared<ReportArgs>();
  CLI::App* cmd = app.add_subcommand("report", "The experiment report of a campaign from replay's outputs");
  cmd->add_option("--config", args->config, "Policy TOML file (campaign name, holdout share)")->required();
  cmd->add_option("--episodes", args->episodes, "Episode records (NDJSON) from replay --episodes")->required();
  cmd->add_option("--actions", args->actions, "Decision records (NDJSON) from replay --actions")->required();
  cmd->add_option("--cases", args->cases, "Cases (NDJSON) from serve's GET /v1/cases?format=ndjson");
  cmd->add_option("--events", args->events,
                  "The events replayed (NDJSON): adds the opt-out rate and the breakdowns by country and kind");
  cmd->add_option("--until", args->until, "The data end (RFC 3339); default: the latest time in the inputs");
  cmd->add_option("--json", args->json, "Write the report (JSON) here")->required();
  cmd->add_option("--out", args->html, "Also write the report as one self-contained HTML page here");
  cmd->callback([args, &exit_status] { exit_status = run_report(*args); });
}

}  // namespace gw::cli
