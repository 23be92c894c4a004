// LiveRiskScorer: the risk model scoring each episode as the engine opens
// it, from a FeatureStore kept beside that engine (the same features as
// `train` and `score` compute). The driver keeps the store in step: see
// FeatureStore's driving order, with the store's open() called from here.
// The model's code of each of the store's category ids is looked up once,
// at its first use. The store writes each opening's values straight into
// the model's input row. Not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "ghostwatch/engine/episode_scorer.h"
#include "ghostwatch/risk/feature_store.h"
#include "ghostwatch/risk/risk_model.h"

namespace gw::risk {

class LiveRiskScorer : public EpisodeScorer {
 public:
  // `store` and `model` must outlive the scorer.
  LiveRiskScorer(FeatureStore& store, const RiskModel& model) : store_(store), model_(model) {}

  float score(const EpisodeRecord& opening) override {
    // The store writes the numeric values into the model's row, the codes follow.
    std::array<float, kFeatureCount> row;
    const FeatureStore::Categories categories = store_.open(opening, row.data());
    for (std::size_t i = 0; i < kCategoricalFeatureCount; ++i) row[kNumericFeatureCount + i] = code(i, categories[i]);
    return static_cast<float>(model_.score_row(row.data()));
  }

 private:
  static constexpr float kUnknown = -1.0f;  // not looked up yet: no code's value (those are >= 0, or NaN)

  // The row's value of a category id: its code's (FeatureEncoding::code_value),
  // looked up at its first use.
  float code(std::size_t feature, std::uint32_t category) {
    std::vector<float>& values = values_[feature];
    if (category >= values.size()) values.resize(category + 1, kUnknown);
    if (values[category] == kUnknown) {
      values[category] = FeatureEncoding::code_value(
          model_.code(static_cast<CategoricalFeature>(feature), store_.category_text(category)));
    }
    return values[category];
  }

  FeatureStore& store_;
  const RiskModel& model_;
  std::array<std::vector<float>, kCategoricalFeatureCount> values_;  // by feature, then by the store's category id
};

}  // namespace gw::risk
