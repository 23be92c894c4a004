#include "ghostwatch/risk/risk_model.h"

#include <array>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace gw::risk {

Result<RiskModel> RiskModel::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error(path + ": cannot read the model file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

Result<RiskModel> RiskModel::parse(std::string_view text, std::string_view source) {
  const std::string where(source);
  const nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return Status::error(where + ": not a JSON object");
  if (doc.value("format", "") != kModelFormat) {
    return Status::error(where + ": format: expected \"" + std::string(kModelFormat) + "\"");
  }
  const auto features = doc.find("features");
  if (features == doc.end() || !features->is_array() || features->size() != kFeatureCount) {
    return Status::error(where + ": features: expected the " + std::to_string(kFeatureCount) +
                         " features this version computes");
  }
  std::array<std::vector<std::string>, kCategoricalFeatureCount> vocabularies;
  for (std::size_t i = 0; i < kFeatureCount; ++i) {
    const nlohmann::json& f = (*features)[i];
    if (!f.is_object() || f.value("name", "") != kFeatureNames[i]) {
      return Status::error(where + ": features[" + std::to_string(i) + "]: expected the feature \"" +
                           std::string(kFeatureNames[i]) + "\"");
    }
    if (i < kNumericFeatureCount) continue;
    const auto categories = f.find("categories");
    if (categories == f.end() || !categories->is_array()) {
      return Status::error(where + ": features[" + std::to_string(i) + "].categories: expected an array of strings");
    }
    for (const nlohmann::json& c : *categories) {
      if (!c.is_string()) {
        return Status::error(where + ": features[" + std::to_string(i) + "].categories: expected strings");
      }
      vocabularies[i - kNumericFeatureCount].push_back(c.get<std::string>());
    }
  }
  const auto booster = doc.find("booster");
  if (booster == doc.end() || !booster->is_string()) {
    return Status::error(where + ": booster: expected XGBoost's JSON model as a string");
  }
  auto trees = TreeEnsemble::parse(booster->get_ref<const std::string&>());
  if (!trees) return Status::error(where + ": booster: " + trees.message());
  if (trees->features() != kFeatureCount) {
    return Status::error(where + ": booster: trained on " + std::to_string(trees->features()) + " features, not " +
                         std::to_string(kFeatureCount));
  }
  return RiskModel(FeatureEncoding(std::move(vocabularies)), std::move(*trees));
}

std::vector<double> RiskModel::score(const std::vector<const EpisodeFeatures*>& rows) const {
  const FeatureMatrix x = encoding_.matrix(rows);
  std::vector<double> risk(x.rows);
  for (std::size_t i = 0; i < x.rows; ++i) risk[i] = trees_.predict(&x.values[i * x.columns]);
  return risk;
}

double RiskModel::score(const BasicEpisodeFeatures<int>& features) const {
  std::array<float, kFeatureCount> row;
  FeatureEncoding::encode(features, row.data());
  return score_row(row.data());
}

}  // namespace gw::risk
