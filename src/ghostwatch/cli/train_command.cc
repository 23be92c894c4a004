// `ghostwatch train`: trains the risk model on an event history and
// evaluates it, next to its baselines, on a later test period
// (docs/risk-model.md). The trees' depth and rounds are tuned on the
// training period unless --rounds, --max-depth or --no-tune fix them.
// Prints the evaluation; model.json holds the model and the same evaluation.
// While it runs, a line on stderr says what it is doing when stderr is a
// terminal (training on millions of episodes takes minutes).
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>

#include "ghostwatch/cli/commands.h"
#include "ghostwatch/core/atomic_file.h"
#include "ghostwatch/core/time.h"
#include "ghostwatch/risk/episode_history.h"
#include "ghostwatch/risk/training.h"
#include "ghostwatch/risk/tree_ensemble.h"

namespace gw::cli {
namespace {

struct TrainArgs {
  std::string events;
  std::string label{risk::kLabelUnanswered72h};
  std::string test_from;
  std::string out;
  std::uint64_t seed = 0;
  int rounds = risk::BoosterParams().rounds;
  int max_depth = risk::BoosterParams().max_depth;
  double eta = risk::BoosterParams().eta;
  bool no_tune = false;
};

void print_train_report(const risk::TrainReport& r) {
  fmt::print(
      "ghostwatch train: data end {}; {} training and {} test episodes ({} too recent to label); "
      "training base rate {:.3f}\n",
      format_rfc3339(r.data_end), r.train_episodes, r.test_episodes, r.unlabelled_episodes, r.train_positive_rate);
  if (r.tuning) {
    const risk::TuningReport& t = *r.tuning;
    fmt::print("tuning on the training period's last episodes ({} fit, {} validate from {}), validation ROC-AUC:\n",
               t.fit_episodes, t.validation_episodes, format_rfc3339(t.validation_from));
    for (std::size_t i = 0; i < t.best_per_depth.size(); ++i) {
      const risk::TuningTrial& x = t.best_per_depth[i];
      fmt::print("  depth {}: best {:.4f} at {} rounds (of {} grown)\n", x.max_depth, x.roc_auc, x.rounds,
                 t.grown_per_depth[i]);
    }
    fmt::print("  chosen: depth {}, {} rounds ({:.4f}; the cheapest within {} of the best)\n", t.chosen.max_depth,
               t.chosen.rounds, t.chosen.roc_auc, t.tolerance);
  }
  fmt::print("test period ({} episodes, {} unanswered for 72 h):\n", r.models[0].test.episodes,
             r.models[0].test.positives);
  fmt::print("  {:<16} {:>8} {:>8} {:>8}\n", "model", "ROC-AUC", "PR-AUC", "Brier");
  for (const risk::ScoredModel& m : r.models) {
    fmt::print("  {:<16} {:>8.4f} {:>8.4f} {:>8.4f}\n", m.name, m.test.roc_auc, m.test.pr_auc, m.test.brier);
  }
  fmt::print("calibration of {} on the test period (deciles of the score):\n", r.models[0].name);
  fmt::print("  {:>8} {:>10} {:>10}\n", "episodes", "predicted", "observed");
  for (const risk::CalibrationBin& b : r.models[0].test.calibration) {
    fmt::print("  {:>8} {:>10.3f} {:>10.3f}\n", b.episodes, b.mean_score, b.observed_rate);
  }
  fmt::print("what drives the trees (share of total split gain):\n");
  for (const auto& [name, share] : r.importance) fmt::print("  {:<28} {:>6.1f} %\n", name, 100.0 * share);
}

int run_train(const TrainArgs& args, bool tune) {
  risk::TrainOptions options;
  options.label = args.label;
  const std::optional<Instant> test_from = parse_rfc3339(args.test_from);
  if (!test_from) {
    print_command_error("train", "--test-from: must be an RFC 3339 timestamp, not \"" + args.test_from + "\"");
    return kExitUsage;
  }
  options.test_from = *test_from;
  options.params.seed = args.seed;
  options.params.rounds = args.rounds;
  options.params.max_depth = args.max_depth;
  options.params.eta = args.eta;
  if (tune) options.tune = risk::TuningGrid{};
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  const auto started = std::chrono::steady_clock::now();
  const auto show = [&](const std::string& stage) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    fmt::print(stderr, "\r\033[K  {} ({:.0f} s)", stage, seconds);
  };
  if (tty) {
    options.progress = show;
    show("reading the events and computing every episode's features");
  }
  auto history = risk::read_episode_history(args.events);
  if (!history) {
    if (tty) fmt::print(stderr, "\r\033[K");
    print_command_error("train", history.message());
    return kExitUsage;
  }
  auto report = risk::train_risk_model(*history, options);
  if (tty) fmt::print(stderr, "\r\033[K");
  if (!report) {
    print_command_error("train", report.message());
    return kExitUsage;
  }
  AtomicFile file;
  Status written = file.open(args.out);
  if (written) {
    file.write(report->model_json);
    written = file.commit();
  }
  if (!written) {
    print_command_error("train", written.message());
    return kExitFailure;
  }
  print_train_report(*report);
  return kExitOk;
}

}  // namespace

void add_train_command(CLI::App& app, int& exit_status) {
  CLI::App* cmd = app.add_subcommand("train", "Train the risk model on an event history and evaluate it");
  auto args = std::make_shared<TrainArgs>();
  cmd->add_option("--events", args->events, "NDJSON event history ('-' for standard input)")->required();
  cmd->add_option("--label", args->label, "What to predict")->capture_default_str();
  cmd->add_option("--test-from", args->test_from, "Episodes opened at or after this time (RFC 3339) are the test set")
      ->required();
  cmd->add_option("--out", args->out, "The model file to write (JSON)")->required();
  cmd->add_option("--seed", args->seed, "Random seed; the same data and seed give the same model")
      ->capture_default_str();
  CLI::Option* rounds = cmd->add_option("--rounds", args->rounds, "Boosting rounds, fixed (no tuning)")
                            ->capture_default_str()
                            ->check(CLI::Range(1, 10000));
  CLI::Option* depth = cmd->add_option("--max-depth", args->max_depth, "Depth of each tree, fixed (no tuning)")
                           ->capture_default_str()
                           ->check(CLI::Range(1, static_cast<int>(risk::TreeEnsemble::kMaxDepth)));
  const std::string tune_help =
      "Choose depth (2, 3, 4, 6) and rounds (10 to 300) on the training period's last fifth: the default, unless "
      "--rounds, --max-depth or --no-tune is given";
  CLI::Option* tune = cmd->add_flag("--tune", tune_help)->excludes(rounds)->excludes(depth);
  cmd->add_flag("--no-tune", args->no_tune, "Do not tune: --rounds and --max-depth as given or their defaults")
      ->excludes(tune);
  cmd->add_option("--eta", args->eta, "Learning rate")->capture_default_str()->check(CLI::Range(0.001, 1.0));
  cmd->callback([args, rounds, depth, &exit_status] {
    exit_status = run_train(*args, !args->no_tune && rounds->count() == 0 && depth->count() == 0);
  });
}

}  // namespace gw::cli
