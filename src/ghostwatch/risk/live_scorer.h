// LiveRiskScorer: the risk model scoring each episode as the engine opens
// it, from a FeatureStore kept beside that engine (the same features as
// `train` and `score` compute). The driver keeps the store in step: see
// FeatureStore's driving order, with the store's open() called from here.
// The model's code of each of the store's category ids is looked up once,
// at its first use. Not thread-safe.
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
    const FeatureStore::Features f = store_.open(opening);
    std::array<int, kCategoricalFeatureCount> codes;
    for (std::size_t i = 0; i < kCategoricalFeatureCount; ++i) codes[i] = code(i, f.categorical[i]);
    return static_cast<float>(model_.score(f.numeric, codes));
  }

 private:
  static constexpr int kUnknown = -2;  // not looked up yet (-1: outside the vocabulary)

  int code(std::size_t feature, std::uint32_t category) {
    std::vector<int>& codes = codes_[feature];
    if (category >= codes.size()) codes.resize(category + 1, kUnknown);
    if (codes[category] == kUnknown) {
      codes[category] = model_.code(static_cast<CategoricalFeature>(feature), store_.category_text(category));
    }
    return codes[category];
  }

  FeatureStore& store_;
  const RiskModel& model_;
  std::array<std::vector<int>, kCategoricalFeatureCount> codes_;  // by feature, then by the store's category id
};

}  // namespace gw::risk
