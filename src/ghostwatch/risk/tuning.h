// Tuning the trees on a validation split inside the training period
// (`ghostwatch train`'s default, docs/risk-model.md "Tuning"). The training
// episodes, in the order they opened, are cut in time: the last
// `validation_share` of them validate (episodes opened at one instant stay
// on one side), the earlier ones fit. For each depth of the grid, trees are
// grown on the fit part `step` rounds at a time, the validation ROC-AUC
// read after each step, up to `max_rounds`, or until `patience` rounds have
// passed since the depth's best (deeper trees peak early: growing them on
// costs the most and changes nothing but on a curve that climbs again
// after that long a plateau). The choice is the cheapest trial (fewest rounds x
// depth: the evaluator's work per episode) whose ROC-AUC is within
// `tolerance` of the best trial's. The test period is never looked at.
// Deterministic: the same episodes, grid and seed give the same choice.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
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

// Told what a long computation is doing as it goes (a line for a terminal);
// an empty one is not called.
using StageProgress = std::function<void(const std::string& stage)>;

struct TuningGrid {
  std::vector<int> depths{2, 3, 4, 6};
  int max_rounds = 300;
  int step = 10;
  double tolerance = 0.002;  // ROC-AUC a cheaper trial may give up
  double validation_share = 0.2;
  int patience = 100;  // rounds after a depth's best at which it stops growing
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
  std::vector<int> grown_per_depth;         // rounds grown, in the grid's order
  TuningTrial best;                         // the highest ROC-AUC
  TuningTrial chosen;
  double tolerance = 0;  // the grid's
};

// `base` gives every parameter but depth and rounds. REQUIRES: a grid with
// at least one depth, max_rounds >= step > 0 and patience > 0. Errors: a fit or
// validation part without both labels, and XGBoost's.
// `progress` hears of every step of every depth.
Result<TuningReport> tune_trees(const LabelledEpisodes& train, const BoosterParams& base, const TuningGrid& grid,
                                const StageProgress& progress = {});

}  // namespace gw::risk
