#include "ghostwatch/risk/tuning.h"

#include <fmt/format.h>

#include "ghostwatch/risk/feature_encoding.h"
#include "ghostwatch/risk/metrics.h"

namespace gw::risk {
namespace {

LabelledEpisodes slice(const LabelledEpisodes& all, std::size_t from, std::size_t to) {
  LabelledEpisodes out;
  for (std::size_t i = from; i < to; ++i) {
    out.features.push_back(all.features[i]);
    out.labels.push_back(all.labels[i]);
    out.opened_at.push_back(all.opened_at[i]);
    out.positives += all.labels[i] > 0.5f;
  }
  return out;
}

Status check_part(const LabelledEpisodes& part, std::string_view name, Instant validation_from) {
  if (part.positives == 0 || part.positives == part.size()) {
    return Status::error(fmt::format(
        "tuning: the {} part of the training period (validation from {}) has {} labelled episodes, {} unanswered "
        "for 72 h: it needs both answered and unanswered ones (a longer training period helps, or --no-tune)",
        name, format_rfc3339(validation_from), part.size(), part.positives));
  }
  return Status::ok();
}

// Cheaper: fewer rounds x depth; then the higher ROC-AUC.
bool cheaper(const TuningTrial& a, const TuningTrial& b) {
  const long ca = static_cast<long>(a.rounds) * a.max_depth, cb = static_cast<long>(b.rounds) * b.max_depth;
  return ca != cb ? ca < cb : a.roc_auc > b.roc_auc;
}

}  // namespace

void LabelledEpisodes::add(const EpisodeRow& row, bool label) {
  features.push_back(&row.features);
  labels.push_back(label ? 1.0f : 0.0f);
  opened_at.push_back(row.opened_at);
  positives += label;
}

Result<TuningReport> tune_trees(const LabelledEpisodes& train, const BoosterParams& base, const TuningGrid& grid,
                                const StageProgress& progress) {
  const std::size_t n = train.size();
  std::size_t cut = static_cast<std::size_t>(static_cast<double>(n) * (1.0 - grid.validation_share));
  while (cut > 0 && cut < n && train.opened_at[cut] == train.opened_at[cut - 1]) ++cut;
  TuningReport report;
  report.tolerance = grid.tolerance;
  report.validation_from = cut < n ? train.opened_at[cut] : kForever;
  const LabelledEpisodes fit = slice(train, 0, cut), validation = slice(train, cut, n);
  if (Status s = check_part(fit, "fit", report.validation_from); !s) return s;
  if (Status s = check_part(validation, "validation", report.validation_from); !s) return s;
  report.fit_episodes = fit.size();
  report.validation_episodes = validation.size();

  const FeatureEncoding encoding = FeatureEncoding::fit(fit.features);
  const FeatureMatrix fit_x = encoding.matrix(fit.features);
  const FeatureMatrix validation_x = encoding.matrix(validation.features);
  std::vector<bool> validation_labels;
  for (float l : validation.labels) validation_labels.push_back(l > 0.5f);

  std::vector<TuningTrial> trials;
  report.best.roc_auc = -1;
  for (int depth : grid.depths) {
    BoosterParams p = base;
    p.max_depth = depth;
    auto booster = Booster::start(fit_x, fit.labels, p);
    if (!booster) return booster.status();
    auto scores = RoundScores::make(validation_x);
    if (!scores) return scores.status();
    TuningTrial best_here{depth, 0, -1};
    for (int rounds = grid.step; rounds <= grid.max_rounds; rounds += grid.step) {
      if (Status s = booster->grow(grid.step); !s) return s;
      if (Status s = scores->extend(*booster, rounds); !s) return s;
      const TuningTrial t{depth, rounds, score_metrics(scores->probabilities(), validation_labels).roc_auc};
      trials.push_back(t);
      if (t.roc_auc > best_here.roc_auc) best_here = t;
      if (progress) {
        progress(fmt::format("tuning on {} episodes: depth {}, {} rounds, validation ROC-AUC {:.4f}", fit.size(), depth,
                             rounds, t.roc_auc));
      }
      if (rounds - best_here.rounds >= grid.patience) break;
    }
    report.best_per_depth.push_back(best_here);
    report.grown_per_depth.push_back(booster->rounds());
    if (best_here.roc_auc > report.best.roc_auc) report.best = best_here;
  }
  report.chosen = report.best;
  for (const TuningTrial& t : trials) {
    if (t.roc_auc >= report.best.roc_auc - grid.tolerance && cheaper(t, report.chosen)) report.chosen = t;
  }
  return report;
}

}  // namespace gw::risk
