// A trained risk model as model.json holds it: the XGBoost booster (its own
// JSON model, as a string: it writes NaN, which JSON lacks), the feature names and categorical vocabularies that encode
// input as training did, and the training report (split, metrics of the
// model and of its baselines, feature importance), which load() ignores.
// Scoring gives each episode the probability that it stays unanswered for
// 72 h. Thread-safe once loaded: const (XGBoost predicts on one thread).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ghostwatch/core/status.h"
#include "ghostwatch/risk/booster.h"
#include "ghostwatch/risk/feature_encoding.h"
#include "ghostwatch/risk/features.h"

namespace gw::risk {

inline constexpr std::string_view kModelFormat = "ghostwatch-risk-model/1";

class RiskModel {
 public:
  RiskModel(FeatureEncoding encoding, Booster booster) : encoding_(std::move(encoding)), booster_(std::move(booster)) {}

  // Errors name the file and what is wrong with it.
  static Result<RiskModel> load(const std::string& path);
  static Result<RiskModel> parse(std::string_view text, std::string_view source);

  Result<std::vector<double>> score(const std::vector<const EpisodeFeatures*>& rows) const;

  const FeatureEncoding& encoding() const { return encoding_; }
  const Booster& booster() const { return booster_; }

 private:
  FeatureEncoding encoding_;
  Booster booster_;
};

}  // namespace gw::risk
