#include "ghostwatch/risk/feature_encoding.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace gw::risk {

FeatureEncoding::FeatureEncoding(std::array<std::vector<std::string>, kCategoricalFeatureCount> vocabularies)
    : vocabularies_(std::move(vocabularies)) {
  for (std::size_t f = 0; f < kCategoricalFeatureCount; ++f) {
    for (std::size_t i = 0; i < vocabularies_[f].size(); ++i) codes_[f][vocabularies_[f][i]] = static_cast<int>(i);
  }
}

FeatureEncoding FeatureEncoding::fit(const std::vector<const EpisodeFeatures*>& train) {
  std::array<std::vector<std::string>, kCategoricalFeatureCount> vocabularies;
  for (std::size_t f = 0; f < kCategoricalFeatureCount; ++f) {
    std::map<std::string, std::size_t> counts;
    for (const EpisodeFeatures* row : train) ++counts[row->categorical[f]];
    std::vector<std::pair<std::string, std::size_t>> ranked(counts.begin(), counts.end());
    // Most frequent first; ties by value, so the order never depends on the input's.
    std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    for (const auto& [value, count] : ranked) {
      if (count < kMinCategoryCount || vocabularies[f].size() == kMaxCategories) break;
      vocabularies[f].push_back(value);
    }
  }
  return FeatureEncoding(std::move(vocabularies));
}

int FeatureEncoding::code(CategoricalFeature f, const std::string& value) const {
  const auto& codes = codes_[static_cast<std::size_t>(f)];
  auto it = codes.find(value);
  return it == codes.end() ? -1 : it->second;
}

FeatureMatrix FeatureEncoding::matrix(const std::vector<const EpisodeFeatures*>& rows) const {
  FeatureMatrix m;
  m.rows = rows.size();
  m.columns = kFeatureCount;
  m.types = std::string(kNumericFeatureCount, 'q') + std::string(kCategoricalFeatureCount, 'c');
  for (std::string_view name : kFeatureNames) m.names.emplace_back(name);
  m.values.resize(m.rows * m.columns);
  for (std::size_t i = 0; i < rows.size(); ++i) encode(coded(*rows[i]), &m.values[i * m.columns]);
  return m;
}

BasicEpisodeFeatures<int> FeatureEncoding::coded(const EpisodeFeatures& f) const {
  BasicEpisodeFeatures<int> c;
  c.numeric = f.numeric;
  for (std::size_t i = 0; i < kCategoricalFeatureCount; ++i) {
    c.categorical[i] = code(static_cast<CategoricalFeature>(i), f.categorical[i]);
  }
  return c;
}

void FeatureEncoding::encode(const std::array<double, kNumericFeatureCount>& numeric,
                             const std::array<int, kCategoricalFeatureCount>& codes, float* out) {
  for (double v : numeric) *out++ = static_cast<float>(v);
  for (int c : codes) *out++ = code_value(c);
}

}  // namespace gw::risk
