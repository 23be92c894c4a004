// Tuning the trees on a validation split inside the training period
// (`ghostwatch train`'s default, docs/risk-model.md "Tuning"). The training
// episodes, in the order they opened, are cut in time: the last
// `validation_share` of them validate (episodes opened at one instant stay
// on one side), the earlier ones fit. For each depth of the grid, trees are
// grown to `max_rounds` on the fit part and the validation ROC-AUC is read
// every `step` rounds. The choice is the cheapest trial (fewest rounds x
// depth: the evaluator's work per episode) whose ROC-AUC is within
// `tolerance` of the best trial's. The test period is never looked at.
// Deterministic: the same episodes, grid and seed give the same choice.
#pragma once

#include <cstddef>
#include <vector>

#include "ghostwatch/core/status.h"
#include "ghostwatch/core/time.h"
#include "ghostwatch/risk/booster.h"
#include "ghostwatch/risk/episode_history.h"

namespace gw::risk {

// Labelled episodes in the order they opened.
struct LabelledEpisodes {
  std::vector<const EpisodeFeatures*> features;
  std::vector<float> labels;  // 0 or 1
  std::vector<Instant> opened_at;
  std::size_t positives = 0;

  void add(const EpisodeRow& row, bool label);
  std::size_t size() const { return labels.size(); }
};

struct TuningGrid {
  std::vector<int> depths{2, 3, 4, 6};
  int max_rounds = 300;
  int step = 10;
  double tolerance = 0.002;  // ROC-AUC a cheaper trial may give up
  double validation_share = 0.2;
};

struct TuningTrial {
  int max_depth = 0;
  int rounds = 0;
  double roc_auc = 0;  // on the validation part
};

struct TuningReport {
  Instant validation_from = 0;  // the first validation episode's opening
  std::size_t fit_episodes = 0;
  std::size_t validation_episodes = 0;
  std::vector<TuningTrial> best_per_depth;  // in the grid's order
  TuningTrial best;                         // the highest ROC-AUC
  TuningTrial chosen;
  double tolerance = 0;  // the grid's
};

// `base` gives every parameter but depth and rounds. REQUIRES: a grid with
// at least one depth and max_rounds >= step > 0. Errors: a fit or
// validation part without both labels, and XGBoost's.
Result<TuningReport> tune_trees(const LabelledEpisodes& train, const BoosterParams& base, const TuningGrid& grid);

}  // namespace gw::risk
