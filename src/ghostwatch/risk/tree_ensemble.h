// TreeEnsemble: an XGBoost `binary:logistic` gbtree model (the JSON that
// XGBoosterSaveModelToBuffer writes) evaluated natively, with XGBoost's own
// rules: a missing value takes the node's default branch; a numeric split
// goes left when value < condition (in float); a categorical split goes
// right when the value is one of the node's categories and left otherwise
// (also for a value that is not a valid category). The probability is the
// sigmoid of the base margin plus the leaves reached. It agrees with
// XGBoost to float rounding (tested) and scores one episode without
// building a DMatrix, which is what scoring at each opening needs
// (docs/risk-model.md, "Cost").
//
// Layout: every tree is padded to a complete tree of the ensemble's depth
// (a leaf above the bottom becomes splits that always go left down to its
// copy), and trees are interleaved in groups of kLanes, so that a walk step
// is `node = 2 * node + 1 + goes_right` for eight trees at once: with AVX2
// (chosen at run time) one vector compare per level for the first four
// levels, elsewhere (and below those) the same steps, a level of the
// group's trees at a time (the last group's padding lanes skipped). Tree
// t's leaf is added to sum t % kLanes (in double), and the sums to the
// base margin in lane order, so both ways give the same bits.
//
// Limits, refused by parse(): trees at most kMaxDepth deep, categories
// below 64, at most 65 536 features. Thread-safe: const.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "ghostwatch/core/status.h"

namespace gw::risk {

class TreeEnsemble {
 public:
  static constexpr std::size_t kLanes = 8;
  static constexpr std::size_t kMaxDepth = 8;
  static constexpr std::size_t kMaxCategory = 63;

  // Errors name what is missing, inconsistent or beyond the limits.
  static Result<TreeEnsemble> parse(std::string_view booster_json);

  std::size_t features() const { return features_; }
  // Whether some split tests `feature`: when none does, predictions do not
  // depend on its value. REQUIRES: feature < features().
  bool reads(std::size_t feature) const { return reads_[feature]; }
  // REQUIRES: `row` holds features() values; NaN is missing.
  double predict(const float* row) const { return (this->*walk_)(row); }
  // The same without SIMD, on any machine (predict() uses it where AVX2 is
  // missing; the tests compare the two).
  double predict_portable(const float* row) const;

 private:
  // A split's word: the feature in the low 16 bits, then two flags.
  static constexpr std::uint32_t kMissingRight = 1u << 16;
  static constexpr std::uint32_t kCategorical = 1u << 17;

  std::size_t nodes_per_tree() const { return (std::size_t{1} << depth_) - 1; }
  // Index of lane `lane`'s split `node` (breadth-first) in group `group`.
  std::size_t split_at(std::size_t group, std::size_t node, std::size_t lane) const {
    return (group * nodes_per_tree() + node) * kLanes + lane;
  }
  std::size_t leaf_at(std::size_t group, std::size_t leaf, std::size_t lane) const {
    return ((group << depth_) + leaf) * kLanes + lane;
  }
  struct ParsedTree;  // one tree as XGBoost lists it, checked
  static Result<ParsedTree> parse_tree(const nlohmann::json& tree, const std::string& name, std::size_t features);
  // Fills the arrays below from the parsed trees (depth_ set).
  void lay_out(const std::vector<ParsedTree>& trees);
  // The walk's step (1: right) at split `at`, whose word is `word`, for
  // `value`, the row's value of its feature: as the AVX2 path computes it
  // per lane. A numeric split's costs no branch on the value; a
  // categorical one's categories are read only for it.
  std::size_t goes_right(std::size_t at, std::uint32_t word, float value) const;
  double finish(const std::array<double, kLanes>& sums) const;
  // How many of group `group`'s lanes hold trees: kLanes but in the last
  // group, whose lanes past the last tree are padding (leaves all +0).
  std::size_t trees_in(std::size_t group) const { return std::min(kLanes, trees_ - group * kLanes); }
  // Each lane's node (breadth-first) in its tree.
  using Nodes = std::array<std::uint32_t, kLanes>;
  // The value of lane `lane`'s leaf at `node` (nodes_per_tree() and beyond).
  float leaf(std::size_t group, std::uint32_t node, std::size_t lane) const {
    return leaves_[leaf_at(group, node - nodes_per_tree(), lane)];
  }
  // Steps lanes [0, lanes) of `group` from level `from` to the bottom, a
  // level of them at a time (their loads overlap), from `nodes`, which
  // ends with their leaves' places (nodes_per_tree() and beyond).
  void descend(std::size_t group, std::size_t from, std::size_t lanes, Nodes& nodes, const float* row) const;
  // The AVX2 path, for up to 8 * kRowBlocks features (the model has 22):
  // the row stays in registers, and each of the first kLevels levels'
  // splits (a level costs 2^level blends per array: at most kAvxLevels,
  // which cover tuning's usual depths, 2 to 4, and the fixed default, 3),
  // and then the leaves, are picked by blends. Deeper trees go on from
  // level kAvxLevels a lane at a time, as the portable walk steps. It is
  // compiled for each count of levels and of row blocks (1 to kRowBlocks;
  // avx2_walk picks the levels), so that the vector walk has no loop or
  // branch left.
  static constexpr std::size_t kRowBlocks = 4;
  static constexpr std::size_t kAvxLevels = 4;
  template <std::size_t kLevels, std::size_t kBlocks>
  double predict_avx2(const float* row) const;
  // What predict() calls, chosen once when the trees are laid out: the
  // AVX2 walk for the model's depth and row blocks where the machine has
  // AVX2 and the model is within its limits, else the portable one.
  using Walk = double (TreeEnsemble::*)(const float*) const;
  Walk chosen_walk() const;
  template <std::size_t kBlocks>
  Walk avx2_walk() const;

  // Per split, [group][node][lane]: the split word, the threshold (NaN in
  // padding: never right), and the categories going right as two 32-bit
  // halves of a 64-bit set.
  std::vector<std::uint32_t> splits_;
  std::vector<float> thresholds_;
  std::vector<std::uint32_t> categories_low_, categories_high_;
  std::vector<float> leaves_;  // [group][leaf][lane]
  std::size_t trees_ = 0;
  std::size_t groups_ = 0;
  std::size_t depth_ = 0;
  // Per group, bit l: a categorical split at level l (the AVX2 walk skips
  // the categorical test of a level without one).
  std::vector<std::uint8_t> categorical_levels_;
  double base_margin_ = 0;
  std::size_t features_ = 0;
  std::vector<bool> reads_;  // by feature
  Walk walk_ = &TreeEnsemble::predict_portable;
};

}  // namespace gw::risk
