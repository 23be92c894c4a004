// How episode features become model input: numeric features as they are,
// categorical ones as codes into vocabularies learnt from the training
// episodes (the most frequent values first; a value outside the vocabulary
// is missing). The vocabularies travel with the model, so scoring encodes
// exactly as training did. Thread-safe once built: const.
#pragma once

#include <array>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

#include "ghostwatch/risk/booster.h"
#include "ghostwatch/risk/features.h"

namespace gw::risk {

class FeatureEncoding {
 public:
  // At most this many values per categorical feature, each seen at least
  // kMinCategoryCount times in training.
  static constexpr std::size_t kMaxCategories = 40;
  static constexpr std::size_t kMinCategoryCount = 5;

  FeatureEncoding() = default;
  explicit FeatureEncoding(std::array<std::vector<std::string>, kCategoricalFeatureCount> vocabularies);
  static FeatureEncoding fit(const std::vector<const EpisodeFeatures*>& train);

  const std::vector<std::string>& vocabulary(CategoricalFeature f) const {
    return vocabularies_[static_cast<std::size_t>(f)];
  }
  // The code of `value`, or -1 when outside the vocabulary.
  int code(CategoricalFeature f, const std::string& value) const;
  FeatureMatrix matrix(const std::vector<const EpisodeFeatures*>& rows) const;
  // `f` with its categorical values as their codes.
  BasicEpisodeFeatures<int> coded(const EpisodeFeatures& f) const;
  // One row of kFeatureCount values at `out`, as matrix() lays rows out.
  static void encode(const BasicEpisodeFeatures<int>& f, float* out) { encode(f.numeric, f.categorical, out); }
  // The same from the numeric values and the categorical codes apart.
  static void encode(const std::array<double, kNumericFeatureCount>& numeric,
                     const std::array<int, kCategoricalFeatureCount>& codes, float* out);
  // A categorical code's value in a row: NaN (missing) outside the vocabulary.
  static float code_value(int code) {
    return code < 0 ? std::numeric_limits<float>::quiet_NaN() : static_cast<float>(code);
  }

 private:
  std::array<std::vector<std::string>, kCategoricalFeatureCount> vocabularies_;
  std::array<std::unordered_map<std::string, int>, kCategoricalFeatureCount> codes_;
};

}  // namespace gw::risk
