// Micro-benchmarks of the risk model's trees (TreeEnsemble): one
// prediction per iteration, the walk predict() chose for this machine and
// the portable one, for models of 10 trees of depth 3, 4 and 6 (tuning's
// usual depths and the benchmark file's) on the model's 22 columns (19
// numeric, 3 categorical, some values missing). The models are trained
// here, deterministically, on synthetic rows; the walks read 4096 rows in
// turn, so that the branches of a portable walk do not learn one row.
// Run: build/bench/ghostwatch_microbench --benchmark_filter=Tree
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "ghostwatch/risk/booster.h"
#include "ghostwatch/risk/tree_ensemble.h"

namespace {

constexpr std::size_t kNumeric = 19, kCategorical = 3, kColumns = kNumeric + kCategorical;
constexpr std::size_t kRows = 4096;

// Rows whose label depends on several numeric columns and a category.
gw::risk::FeatureMatrix synthetic_rows(std::vector<float>& labels) {
  gw::risk::FeatureMatrix x;
  x.rows = kRows;
  x.columns = kColumns;
  x.types = std::string(kNumeric, 'q') + std::string(kCategorical, 'c');
  for (std::size_t c = 0; c < kColumns; ++c) x.names.push_back("f" + std::to_string(c));
  std::uint64_t state = 12345;
  const auto next = [&state] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) / static_cast<double>(std::uint64_t{1} << 53);
  };
  for (std::size_t r = 0; r < kRows; ++r) {
    double score = 0;
    for (std::size_t c = 0; c < kColumns; ++c) {
      float v = c < kNumeric ? static_cast<float>(next() * 100) : static_cast<float>(static_cast<int>(next() * 12));
      if (c < kNumeric) score += (c % 3 == 0 ? 1 : -0.5) * std::sin(v / (5.0 + static_cast<double>(c)));
      if (c == kNumeric && (v == 2 || v == 7)) score += 1.5;
      if (next() < 0.05) v = std::numeric_limits<float>::quiet_NaN();
      x.values.push_back(v);
    }
    labels.push_back(score + next() * 2 > 1 ? 1.0f : 0.0f);
  }
  return x;
}

struct TrainedModel {
  gw::risk::FeatureMatrix rows;
  gw::risk::TreeEnsemble trees;
};

// Ten trees of `depth` on the synthetic rows; trained once per depth.
const TrainedModel& model_of_depth(int depth) {
  static std::map<int, TrainedModel> models;
  auto it = models.find(depth);
  if (it != models.end()) return it->second;
  std::vector<float> labels;
  gw::risk::FeatureMatrix x = synthetic_rows(labels);
  gw::risk::BoosterParams params;
  params.rounds = 10;
  params.max_depth = depth;
  params.min_child_weight = 1;
  params.seed = 1;
  auto booster = gw::risk::Booster::train(x, labels, params);
  if (!booster) std::abort();
  auto json = booster->save_json();
  if (!json) std::abort();
  auto trees = gw::risk::TreeEnsemble::parse(*json);
  if (!trees) std::abort();
  return models.emplace(depth, TrainedModel{std::move(x), std::move(*trees)}).first->second;
}

// Arguments: the depth, then the walk (0: the one predict() chose for this
// machine, 1: the portable one).
void BM_TreePredict(benchmark::State& state) {
  const TrainedModel& m = model_of_depth(static_cast<int>(state.range(0)));
  const bool portable = state.range(1) != 0;
  std::size_t r = 0;
  for (auto _ : state) {
    const float* row = &m.rows.values[r * kColumns];
    benchmark::DoNotOptimize(portable ? m.trees.predict_portable(row) : m.trees.predict(row));
    r = (r + 1) % kRows;
  }
}
BENCHMARK(BM_TreePredict)->ArgNames({"depth", "portable"})->ArgsProduct({{3, 4, 6}, {0, 1}});

}  // namespace
