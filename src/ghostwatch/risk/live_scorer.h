// LiveRiskScorer: the risk model scoring each episode as the engine opens
// it, from a FeatureStore kept beside that engine (the same features as
// `train` and `score` compute). The driver keeps the store in step: see
// FeatureStore's driving order, with the store's on_episode_opened called
// from here. Not thread-safe.
#pragma once

#include <string>

#include "ghostwatch/engine/episode_scorer.h"
#include "ghostwatch/risk/feature_store.h"
#include "ghostwatch/risk/risk_model.h"

namespace gw::risk {

class LiveRiskScorer : public EpisodeScorer {
 public:
  // `store` and `model` must outlive the scorer.
  LiveRiskScorer(FeatureStore& store, const RiskModel& model) : store_(store), model_(model) {}

  float score(const EpisodeRecord& opening) override {
    return static_cast<float>(model_.score(store_.on_episode_opened(opening)));
  }

 private:
  FeatureStore& store_;
  const RiskModel& model_;
};

}  // namespace gw::risk
