// A trained risk model as model.json holds it: the XGBoost booster (its own
// JSON model, as a string: it writes NaN, which JSON lacks), the feature names and categorical vocabularies that encode
// input as training did, and the training report (split, metrics of the
// model and of its baselines, feature importance), which load() ignores.
// Scoring gives each episode the probability that it stays unanswered for
// 72 h, evaluating the trees natively (tree_ensemble.h). Thread-safe once
// loaded: const.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "ghostwatch/core/status.h"
#include "ghostwatch/risk/feature_encoding.h"
#include "ghostwatch/risk/features.h"
#include "ghostwatch/risk/tree_ensemble.h"

namespace gw::risk {

inline constexpr std::string_view kModelFormat = "ghostwatch-risk-model/1";

class RiskModel {
 public:
  RiskModel(FeatureEncoding encoding, TreeEnsemble trees) : encoding_(std::move(encoding)), trees_(std::move(trees)) {}

  // Errors name the file and what is wrong with it.
  static Result<RiskModel> load(const std::string& path);
  static Result<RiskModel> parse(std::string_view text, std::string_view source);

  std::vector<double> score(const std::vector<const EpisodeFeatures*>& rows) const;
  double score(const EpisodeFeatures& features) const { return score(encoding_.coded(features)); }
  // The same for features whose categorical values are their codes (code()).
  double score(const BasicEpisodeFeatures<int>& features) const;
  // The same for a row of kFeatureCount values as FeatureEncoding::encode
  // lays it out (live scoring has the store write it in place).
  double score_row(const float* row) const { return trees_.predict(row); }
  // Whether the score depends on `f` at all (some tree splits on it).
  bool reads(NumericFeature f) const { return trees_.reads(static_cast<std::size_t>(f)); }
  // The code of a categorical value; -1 outside the model's vocabulary.
  int code(CategoricalFeature f, const std::string& value) const { return encoding_.code(f, value); }

 private:
  FeatureEncoding encoding_;
  TreeEnsemble trees_;
};

}  // namespace gw::risk
