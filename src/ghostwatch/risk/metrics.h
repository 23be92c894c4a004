// How good a risk score is on labelled episodes: ROC-AUC (ties count half),
// PR-AUC (average precision, the step-wise area), the Brier score, and a
// calibration table over deciles of the score. Thread-safe: pure functions.
#pragma once

#include <cstddef>
#include <vector>

namespace gw::risk {

struct CalibrationBin {
  std::size_t episodes = 0;
  double mean_score = 0;     // mean predicted probability in the bin
  double observed_rate = 0;  // share of label 1 in the bin
};

struct ScoreMetrics {
  std::size_t episodes = 0;
  std::size_t positives = 0;
  double roc_auc = 0;
  double pr_auc = 0;
  double brier = 0;
  // Episodes sorted by score and cut into 10 bins of (nearly) equal size,
  // lowest scores first; episodes with equal scores may straddle a cut.
  std::vector<CalibrationBin> calibration;
};

// REQUIRES: scores.size() == labels.size(); scores are probabilities.
// With no positive or no negative label the AUCs are NaN.
ScoreMetrics score_metrics(const std::vector<double>& scores, const std::vector<bool>& labels);

}  // namespace gw::risk
