#include "ghostwatch/risk/metrics.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <numeric>

namespace gw::risk {

ScoreMetrics score_metrics(const std::vector<double>& scores, const std::vector<bool>& labels) {
  assert(scores.size() == labels.size());
  ScoreMetrics m;
  const std::size_t n = scores.size();
  m.episodes = n;
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });

  double brier = 0;
  for (std::size_t i = 0; i < n; ++i) {
    m.positives += labels[i];
    const double err = scores[i] - (labels[i] ? 1.0 : 0.0);
    brier += err * err;
  }
  m.brier = n == 0 ? std::numeric_limits<double>::quiet_NaN() : brier / static_cast<double>(n);
  const std::size_t negatives = n - m.positives;

  // ROC-AUC by the rank-sum (Mann-Whitney) with midranks for ties.
  double positive_rank_sum = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && scores[order[j]] == scores[order[i]]) ++j;
    const double midrank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (std::size_t k = i; k < j; ++k) positive_rank_sum += labels[order[k]] ? midrank : 0.0;
    i = j;
  }
  if (m.positives == 0 || negatives == 0) {
    m.roc_auc = m.pr_auc = std::numeric_limits<double>::quiet_NaN();
  } else {
    const double p = static_cast<double>(m.positives);
    m.roc_auc = (positive_rank_sum - p * (p + 1) / 2.0) / (p * static_cast<double>(negatives));
    // Average precision: from the highest score down, a group of tied
    // scores is one threshold.
    double ap = 0;
    std::size_t seen = 0, hits = 0;
    for (std::size_t j = n; j > 0;) {
      std::size_t i = j;
      std::size_t group_hits = 0;
      while (i > 0 && scores[order[i - 1]] == scores[order[j - 1]]) {
        --i;
        group_hits += labels[order[i]];
      }
      seen += j - i;
      hits += group_hits;
      ap += static_cast<double>(group_hits) / p * static_cast<double>(hits) / static_cast<double>(seen);
      j = i;
    }
    m.pr_auc = ap;
  }

  constexpr std::size_t kBins = 10;
  for (std::size_t b = 0; b < kBins && n > 0; ++b) {
    const std::size_t lo = n * b / kBins, hi = n * (b + 1) / kBins;
    if (lo == hi) continue;
    CalibrationBin bin;
    bin.episodes = hi - lo;
    double sum = 0, hits = 0;
    for (std::size_t k = lo; k < hi; ++k) {
      sum += scores[order[k]];
      hits += labels[order[k]];
    }
    bin.mean_score = sum / static_cast<double>(bin.episodes);
    bin.observed_rate = hits / static_cast<double>(bin.episodes);
    m.calibration.push_back(bin);
  }
  return m;
}

}  // namespace gw::risk
