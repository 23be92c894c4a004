// `ghostwatch score`: the risk of every episode opened at or after a time,
// from a trained model (docs/risk-model.md), as NDJSON
// {"contract":…,"episode":…,"risk":…} in the order the episodes opened.
#include <fmt/format.h>

#include <memory>
#include <string>

#include "ghostwatch/cli/commands.h"
#include "ghostwatch/core/atomic_file.h"
#include "ghostwatch/core/json_text.h"
#include "ghostwatch/core/time.h"
#include "ghostwatch/risk/feature_stream.h"
#include "ghostwatch/risk/risk_model.h"

namespace gw::cli {
namespace {

struct ScoreArgs {
  std::string model;
  std::string events;
  std::string from;
  std::string out;
};

struct ScoredEpisode {
  std::string contract;
  std::uint32_t episode;
  risk::EpisodeFeatures features;
};

// Keeps the episodes opened at or after `from`.
class ScoreObserver : public risk::EpisodeObserver {
 public:
  explicit ScoreObserver(Instant from) : from_(from) {}
  void on_opened(const EpisodeRecord& r, const risk::EpisodeFeatures& f) override {
    if (r.opened_at >= from_) episodes.push_back(ScoredEpisode{std::string(r.contract), r.episode, f});
  }
  void on_closed(const EpisodeRecord&) override {}
  std::vector<ScoredEpisode> episodes;

 private:
  Instant from_;
};

int run_score(const ScoreArgs& args) {
  const std::optional<Instant> from = parse_rfc3339(args.from);
  if (!from) {
    print_command_error("score", "--from: must be an RFC 3339 timestamp, not \"" + args.from + "\"");
    return kExitUsage;
  }
  auto model = risk::RiskModel::load(args.model);
  if (!model) {
    print_command_error("score", model.message());
    return kExitUsage;
  }
  ScoreObserver observer(*from);
  auto stats = risk::stream_episode_features(args.events, observer);
  if (!stats) {
    print_command_error("score", stats.message());
    return kExitUsage;
  }
  std::vector<const risk::EpisodeFeatures*> rows;
  for (const ScoredEpisode& e : observer.episodes) rows.push_back(&e.features);
  const std::vector<double> risks = model->score(rows);
  AtomicFile file;
  if (Status s = file.open(args.out); !s) {
    print_command_error("score", s.message());
    return kExitUsage;
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::string& out = file.buffer();
    out += "{\"contract\":";
    append_json_string(out, observer.episodes[i].contract);
    fmt::format_to(std::back_inserter(out), ",\"episode\":{},\"risk\":{:.6f}}}\n", observer.episodes[i].episode,
                   static_cast<float>(risks[i]));  // as replay --model writes it
    file.maybe_flush();
  }
  if (Status s = file.commit(); !s) {
    print_command_error("score", s.message());
    return kExitFailure;
  }
  fmt::print(stderr, "ghostwatch score: {} lines, {} rejected; {} episodes scored (opened at or after {})\n",
             stats->lines, stats->rejected, rows.size(), format_rfc3339(*from));
  return kExitOk;
}

}  // namespace

void add_score_command(CLI::App& app, int& exit_status) {
  CLI::App* cmd = app.add_subcommand("score", "Score every episode opened at or after a time with a risk model");
  auto args = std::make_shared<ScoreArgs>();
  cmd->add_option("--model", args->model, "The model file written by train")->required();
  cmd->add_option("--events", args->events, "NDJSON events ('-' for standard input)")->required();
  cmd->add_option("--from", args->from, "Score episodes opened at or after this time (RFC 3339)")->required();
  cmd->add_option("--out", args->out, "Where to write the scores (NDJSON)")->required();
  cmd->callback([args, &exit_status] { exit_status = run_score(*args); });
}

}  // namespace gw::cli
