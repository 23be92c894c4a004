// Training and honest evaluation of the risk model (`ghostwatch train`):
// episodes whose label is known (opened at least 72 h before the data's
// end) are split in time: those opened before `test_from` train, those
// opened at or after it test. On the test episodes the trees are measured
// next to two baselines fitted on the same training episodes: the
// freelancer's historical unanswered rate alone (the fl_unanswered72_share
// feature; the training base rate where it is undefined) and a logistic
// regression on the same features. The same history, options and seed give
// the same model.json bytes. With `tune`, the trees' depth and rounds are
// chosen on a validation split inside the training period first
// (tuning.h); the test period stays out of every choice.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ghostwatch/core/status.h"
#include "ghostwatch/core/time.h"
#include "ghostwatch/risk/booster.h"
#include "ghostwatch/risk/episode_history.h"
#include "ghostwatch/risk/metrics.h"
#include "ghostwatch/risk/tuning.h"

namespace gw::risk {

inline constexpr std::string_view kLabelUnanswered72h = "unanswered72h";

struct TrainOptions {
  std::string label{kLabelUnanswered72h};  // the only label so far
  Instant test_from = 0;
  BoosterParams params;  // params.seed is the run's seed
  std::optional<TuningGrid> tune;  // set: depth and rounds come from tuning
  StageProgress progress;          // hears of each stage, and of each tuning step
};

struct ScoredModel {
  std::string name;  // xgboost, freelancer_rate, logistic
  ScoreMetrics test;
};

struct TrainReport {
  Instant data_end = 0;
  std::size_t train_episodes = 0;
  std::size_t test_episodes = 0;
  std::size_t unlabelled_episodes = 0;  // opened less than 72 h before the end
  double train_positive_rate = 0;
  BoosterParams params;                // the trees' (tuned ones included)
  std::optional<TuningReport> tuning;  // with TrainOptions::tune
  std::vector<ScoredModel> models;  // the trees first, then the baselines
  // Share of the trees' total split gain per feature, largest first.
  std::vector<std::pair<std::string, double>> importance;
  std::string model_json;  // model.json's bytes
};

// Errors: an unknown label, or a split that leaves either side without
// both labels.
Result<TrainReport> train_risk_model(const EpisodeHistory& history, const TrainOptions& options);

}  // namespace gw::risk
