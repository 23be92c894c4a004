#include "ghostwatch/risk/tree_ensemble.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace gw::risk {
namespace {

// XGBoost writes NaN as the condition of a categorical split, which is not
// JSON: such a token (between '[' or ',' and ',' or ']') becomes null.
std::string nan_as_null(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 3, "NaN") == 0 && i > 0 && (text[i - 1] == '[' || text[i - 1] == ',') && i + 3 < text.size() &&
        (text[i + 3] == ',' || text[i + 3] == ']')) {
      out += "null";
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

Status model_error(const std::string& what) { return Status::error("XGBoost model: " + what); }

// A number that XGBoost may have written as a JSON number or as a string.
bool number_of(const nlohmann::json& j, double& out) {
  if (j.is_number()) {
    out = j.get<double>();
    return true;
  }
  if (!j.is_string()) return false;
  try {
    std::size_t used = 0;
    const std::string& s = j.get_ref<const std::string&>();
    out = std::stod(s, &used);
    return used == s.size();
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

// Children come after their parent and have one parent, so walks end; the
// depth is that of the deepest leaf.
struct TreeEnsemble::ParsedTree {
  struct Node {
    int left = -1, right = -1;  // -1: a leaf
    std::uint32_t word = 0;     // the split word (feature and flags)
    float value = 0;            // the threshold, or the leaf's value
    std::uint64_t categories = 0;
  };
  std::vector<Node> nodes;
  std::size_t depth = 0;
};

Result<TreeEnsemble::ParsedTree> TreeEnsemble::parse_tree(const nlohmann::json& tree, const std::string& name,
                                                          std::size_t features) {
  const auto& left = tree.at("left_children");
  const auto& right = tree.at("right_children");
  const auto& conditions = tree.at("split_conditions");
  const auto& indices = tree.at("split_indices");
  const auto& default_left = tree.at("default_left");
  const auto& types = tree.at("split_type");
  const std::size_t n = left.size();
  if (n == 0 || right.size() != n || conditions.size() != n || indices.size() != n || default_left.size() != n ||
      types.size() != n) {
    return model_error(name + ": node arrays of different lengths");
  }
  ParsedTree t;
  t.nodes.resize(n);
  std::vector<std::size_t> depth(n, 0);
  std::vector<bool> has_parent(n, false);
  for (std::size_t i = 0; i < n; ++i) {
    ParsedTree::Node& node = t.nodes[i];
    node.left = left[i].get<int>();
    node.right = right[i].get<int>();
    const bool leaf = node.left == -1;
    const int self = static_cast<int>(i), size = static_cast<int>(n);
    if (!leaf) {
      if (node.left <= self || node.right <= self || node.left >= size || node.right >= size ||
          has_parent[static_cast<std::size_t>(node.left)] || has_parent[static_cast<std::size_t>(node.right)]) {
        return model_error(name + ": node " + std::to_string(i) + " has children out of order");
      }
      for (const int child : {node.left, node.right}) {
        has_parent[static_cast<std::size_t>(child)] = true;
        depth[static_cast<std::size_t>(child)] = depth[i] + 1;
      }
      const auto feature = indices[i].get<std::uint32_t>();
      if (feature >= features) return model_error(name + ": a split on a feature beyond num_feature");
      node.word = feature;
      if (default_left[i].get<int>() == 0) node.word |= kMissingRight;
      if (types[i].get<int>() == 1) node.word |= kCategorical;
    } else {
      t.depth = std::max(t.depth, depth[i]);
    }
    if (leaf || (node.word & kCategorical) == 0) {
      double v = 0;
      if (!number_of(conditions[i], v)) return model_error(name + ": a split condition is not a number");
      node.value = static_cast<float>(v);
    }
  }
  const auto& cat_nodes = tree.at("categories_nodes");
  const auto& cat_segments = tree.at("categories_segments");
  const auto& cat_sizes = tree.at("categories_sizes");
  const auto& cats = tree.at("categories");
  if (cat_segments.size() != cat_nodes.size() || cat_sizes.size() != cat_nodes.size()) {
    return model_error(name + ": categories arrays of different lengths");
  }
  for (std::size_t k = 0; k < cat_nodes.size(); ++k) {
    const auto node = cat_nodes[k].get<std::size_t>();
    const auto begin = cat_segments[k].get<std::size_t>(), size = cat_sizes[k].get<std::size_t>();
    if (node >= n || begin + size > cats.size()) return model_error(name + ": categories out of range");
    for (std::size_t c = begin; c < begin + size; ++c) {
      const auto category = cats[c].get<std::int64_t>();
      if (category < 0 || category > static_cast<std::int64_t>(kMaxCategory)) {
        return model_error(name + ": a category above " + std::to_string(kMaxCategory));
      }
      t.nodes[node].categories |= std::uint64_t{1} << category;
    }
  }
  return t;
}

std::size_t TreeEnsemble::goes_right(std::size_t at, std::uint32_t word, float value) const {
  if ((word & kCategorical) == 0) {
    // Without a branch on the value: a compare with NaN is false, so a
    // missing value takes the flag.
    return static_cast<std::size_t>(value >= thresholds_[at]) |
           (static_cast<std::size_t>(std::isnan(value)) & static_cast<std::size_t>((word & kMissingRight) != 0));
  }
  if (std::isnan(value)) return (word & kMissingRight) != 0 ? 1 : 0;
  const std::uint64_t categories = (std::uint64_t{categories_high_[at]} << 32) | categories_low_[at];
  return value >= 0 && value < 64 && value == std::floor(value) && ((categories >> static_cast<int>(value)) & 1) != 0;
}

Result<TreeEnsemble> TreeEnsemble::parse(std::string_view booster_json) {
  const nlohmann::json doc = nlohmann::json::parse(nan_as_null(booster_json), nullptr, false);
  if (doc.is_discarded()) return model_error("not JSON");
  try {
    const nlohmann::json& learner = doc.at("learner");
    if (learner.at("objective").at("name") != "binary:logistic") return model_error("objective is not binary:logistic");
    const nlohmann::json& booster = learner.at("gradient_booster");
    if (booster.at("name") != "gbtree") return model_error("booster is not gbtree");
    TreeEnsemble e;
    double base_score = 0, features = 0;
    const nlohmann::json& param = learner.at("learner_model_param");
    if (!number_of(param.at("base_score"), base_score) || base_score <= 0 || base_score >= 1 ||
        !number_of(param.at("num_feature"), features) || features < 1) {
      return model_error("learner_model_param: base_score must lie in (0, 1) and num_feature be positive");
    }
    if (features > 65536) return model_error("num_feature: more than 65536 features");
    e.base_margin_ = std::log(base_score / (1 - base_score));
    e.features_ = static_cast<std::size_t>(features);
    std::vector<ParsedTree> trees;
    for (const nlohmann::json& tree : booster.at("model").at("trees")) {
      const std::string name = "tree " + std::to_string(trees.size());
      auto t = parse_tree(tree, name, e.features_);
      if (!t) return t.status();
      if (t->depth > kMaxDepth) return model_error(name + ": deeper than " + std::to_string(kMaxDepth) + " levels");
      e.depth_ = std::max(e.depth_, t->depth);
      trees.push_back(std::move(*t));
    }
    e.lay_out(trees);
    e.walk_ = e.chosen_walk();
    return e;
  } catch (const nlohmann::json::exception& ex) {
    return model_error(std::string("unexpected layout: ") + ex.what());
  }
}

void TreeEnsemble::lay_out(const std::vector<ParsedTree>& trees) {
  trees_ = trees.size();
  groups_ = (trees.size() + kLanes - 1) / kLanes;
  const std::size_t splits = groups_ * nodes_per_tree() * kLanes;
  splits_.assign(splits, 0);
  thresholds_.assign(splits, std::numeric_limits<float>::quiet_NaN());
  categories_low_.assign(splits, 0);
  categories_high_.assign(splits, 0);
  leaves_.assign((groups_ << depth_) * kLanes, 0.0f);
  categorical_levels_.assign(groups_, 0);
  reads_.assign(features_, false);
  for (std::size_t t = 0; t < trees.size(); ++t) {
    const std::size_t group = t / kLanes, lane = t % kLanes;
    // (XGBoost's node, its place in the complete tree, its level)
    std::vector<std::array<std::size_t, 3>> todo{{0, 0, 0}};
    while (!todo.empty()) {
      const auto [i, place, level] = todo.back();
      todo.pop_back();
      const ParsedTree::Node& node = trees[t].nodes[i];
      if (level == depth_) {
        leaves_[leaf_at(group, place - nodes_per_tree(), lane)] = node.value;
      } else if (node.left == -1) {
        todo.push_back({i, 2 * place + 1, level + 1});  // padding: a split that always goes left
      } else {
        const std::size_t at = split_at(group, place, lane);
        splits_[at] = node.word;
        thresholds_[at] = node.value;
        categories_low_[at] = static_cast<std::uint32_t>(node.categories);
        categories_high_[at] = static_cast<std::uint32_t>(node.categories >> 32);
        if ((node.word & kCategorical) != 0) categorical_levels_[group] |= static_cast<std::uint8_t>(1u << level);
        reads_[node.word & 0xFFFF] = true;
        todo.push_back({static_cast<std::size_t>(node.left), 2 * place + 1, level + 1});
        todo.push_back({static_cast<std::size_t>(node.right), 2 * place + 2, level + 1});
      }
    }
  }
}

double TreeEnsemble::finish(const std::array<double, kLanes>& sums) const {
  double margin = base_margin_;
  for (double s : sums) margin += s;
  return 1.0 / (1.0 + std::exp(-margin));
}

void TreeEnsemble::descend(std::size_t group, std::size_t from, std::size_t lanes, Nodes& nodes,
                           const float* row) const {
  // Level by level across the group's trees: their steps are independent,
  // so the core overlaps them instead of waiting on one tree's loads.
  for (std::size_t level = from; level < depth_; ++level) {
    for (std::size_t lane = 0; lane < lanes; ++lane) {
      const std::size_t at = split_at(group, nodes[lane], lane);
      const std::uint32_t word = splits_[at];
      nodes[lane] = static_cast<std::uint32_t>(2 * nodes[lane] + 1 + goes_right(at, word, row[word & 0xFFFF]));
    }
  }
}

double TreeEnsemble::predict_portable(const float* row) const {
  std::array<double, kLanes> sums{};
  for (std::size_t group = 0; group < groups_; ++group) {
    // Padding lanes' sums stay +0 unwalked.
    const std::size_t trees = trees_in(group);
    Nodes nodes{};
    descend(group, 0, trees, nodes, row);
    for (std::size_t lane = 0; lane < trees; ++lane) {
      sums[lane] += leaf(group, nodes[lane], lane);
    }
  }
  return finish(sums);
}

#if defined(__x86_64__)
namespace {

// Lane j's node at `kLevel` of a complete tree (a split, or a leaf at the
// bottom), from the level's 2^kLevel vectors at `base` (node n's at
// base + 8 n) and the walk's steps so far (`right[l]`: all ones where level
// l went right): blends, lowest bit first.
template <std::size_t kLevel>
__attribute__((target("avx2"), always_inline)) inline __m256 node_of(const float* base, const __m256* right) {
  // Vector types lose their alignment attributes in std::array.
  __m256 candidates[std::size_t{1} << kLevel];  // NOLINT(modernize-avoid-c-arrays)
  for (std::size_t n = 0; n < (std::size_t{1} << kLevel); ++n) candidates[n] = _mm256_loadu_ps(base + 8 * n);
  for (std::size_t l = kLevel; l-- > 0;) {
    for (std::size_t n = 0; n < (std::size_t{1} << l); ++n) {
      candidates[n] = _mm256_blendv_ps(candidates[2 * n], candidates[2 * n + 1], right[l]);
    }
  }
  return candidates[0];
}

template <std::size_t kLevel>
__attribute__((target("avx2"), always_inline)) inline __m256i word_of(const std::uint32_t* base, const __m256* right) {
  return _mm256_castps_si256(node_of<kLevel>(reinterpret_cast<const float*>(base), right));
}

// What the AVX2 walk reads: a group's splits (at [node][lane] from these
// pointers) and the row, in registers of 8 features.
struct AvxGroup {
  const std::uint32_t* words;
  const float* thresholds;
  const std::uint32_t* categories_low;
  const std::uint32_t* categories_high;
  std::uint32_t categorical_levels;  // bit l: a categorical split at level l
  const __m256* row_blocks;
};

// Fills right[kLevel..kDepth) with the walk's steps: all ones where a
// lane's tree goes right (goes_right, eight trees at once).
template <std::size_t kLevel, std::size_t kDepth, std::size_t kBlocks, std::uint32_t kMissingRight,
          std::uint32_t kCategorical>
__attribute__((target("avx2"), always_inline)) inline void walk(const AvxGroup& g, __m256* right) {
  const __m256i one = _mm256_set1_epi32(1);
  const std::size_t first = ((std::size_t{1} << kLevel) - 1) * 8;
  const __m256i word = word_of<kLevel>(g.words + first, right);
  const __m256i feature = _mm256_and_si256(word, _mm256_set1_epi32(0xFFFF));
  // A feature's value: a permute per block of 8, by the low 3 bits of its index.
  __m256 value = _mm256_permutevar8x32_ps(g.row_blocks[0], feature);
  for (std::size_t b = 1; b < kBlocks; ++b) {
    const __m256i beyond = _mm256_cmpgt_epi32(feature, _mm256_set1_epi32(static_cast<int>(8 * b - 1)));
    value = _mm256_blendv_ps(value, _mm256_permutevar8x32_ps(g.row_blocks[b], feature), _mm256_castsi256_ps(beyond));
  }
  const __m256i missing_right = _mm256_set1_epi32(static_cast<int>(kMissingRight));
  const __m256 nan_right =
      _mm256_and_ps(_mm256_cmp_ps(value, value, _CMP_UNORD_Q),
                    _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(word, missing_right), missing_right)));
  const __m256 threshold = node_of<kLevel>(g.thresholds + first, right);
  __m256 step = _mm256_or_ps(_mm256_cmp_ps(value, threshold, _CMP_GE_OQ), nan_right);
  if ((g.categorical_levels & (1u << kLevel)) != 0) {
    // A category is an integer 0..63: truncated, it converts back to
    // itself; shifts by 32 or more (negative counts too) give 0.
    const __m256i category = _mm256_cvttps_epi32(value);
    const __m256 integral = _mm256_cmp_ps(_mm256_cvtepi32_ps(category), value, _CMP_EQ_OQ);
    const __m256i low = word_of<kLevel>(g.categories_low + first, right);
    const __m256i high = word_of<kLevel>(g.categories_high + first, right);
    const __m256i in_set =
        _mm256_and_si256(_mm256_or_si256(_mm256_srlv_epi32(low, category),
                                         _mm256_srlv_epi32(high, _mm256_sub_epi32(category, _mm256_set1_epi32(32)))),
                         one);
    const __m256 category_right =
        _mm256_or_ps(_mm256_and_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(in_set, one)), integral), nan_right);
    const __m256i categorical = _mm256_set1_epi32(static_cast<int>(kCategorical));
    step = _mm256_blendv_ps(step, category_right,
                            _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(word, categorical), categorical)));
  }
  right[kLevel] = step;
  if constexpr (kLevel + 1 < kDepth) walk<kLevel + 1, kDepth, kBlocks, kMissingRight, kCategorical>(g, right);
}

}  // namespace

template <std::size_t kLevels, std::size_t kBlocks>
__attribute__((target("avx2"))) double TreeEnsemble::predict_avx2(const float* row) const {
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  // The row in registers; lanes past the last feature stay 0.
  __m256 row_blocks[kBlocks];  // NOLINT(modernize-avoid-c-arrays)
  for (std::size_t b = 0; b < kBlocks; ++b) {
    const __m256i present = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(features_ - 8 * b)), lanes);
    row_blocks[b] = _mm256_maskload_ps(row + 8 * b, present);
  }
  __m256d sums_low = _mm256_setzero_pd(), sums_high = _mm256_setzero_pd();
  for (std::size_t group = 0; group < groups_; ++group) {
    const std::size_t splits = split_at(group, 0, 0);
    const AvxGroup g{splits_.data() + splits,          thresholds_.data() + splits, categories_low_.data() + splits,
                     categories_high_.data() + splits, categorical_levels_[group],  row_blocks};
    __m256 right[kLevels];  // NOLINT(modernize-avoid-c-arrays)
    walk<0, kLevels, kBlocks, kMissingRight, kCategorical>(g, right);
    __m256 values;
    // Trees deeper than kAvxLevels go on a lane at a time (the blends
    // would double per level).
    if (kLevels < kAvxLevels || depth_ == kLevels) {
      values = node_of<kLevels>(leaves_.data() + leaf_at(group, 0, 0), right);
    } else {
      // Each lane's node at level kLevels: 2 node + 1, + 1 where it went right (all ones: -1).
      __m256i node = _mm256_setzero_si256();
      for (std::size_t l = 0; l < kLevels; ++l) {
        node = _mm256_sub_epi32(_mm256_add_epi32(_mm256_add_epi32(node, node), _mm256_set1_epi32(1)),
                                _mm256_castps_si256(right[l]));
      }
      alignas(32) Nodes nodes;
      _mm256_store_si256(reinterpret_cast<__m256i*>(nodes.data()), node);
      const std::size_t trees = trees_in(group);
      descend(group, kLevels, trees, nodes, row);
      alignas(32) std::array<float, kLanes> leaves{};  // padding lanes add +0, as their leaves
      for (std::size_t lane = 0; lane < trees; ++lane) leaves[lane] = leaf(group, nodes[lane], lane);
      values = _mm256_load_ps(leaves.data());
    }
    sums_low = _mm256_add_pd(sums_low, _mm256_cvtps_pd(_mm256_castps256_ps128(values)));
    sums_high = _mm256_add_pd(sums_high, _mm256_cvtps_pd(_mm256_extractf128_ps(values, 1)));
  }
  std::array<double, kLanes> sums;
  _mm256_storeu_pd(&sums[0], sums_low);
  _mm256_storeu_pd(&sums[4], sums_high);
  return finish(sums);
}

template <std::size_t kBlocks>
TreeEnsemble::Walk TreeEnsemble::avx2_walk() const {
  static_assert(kAvxLevels == 4);
  switch (depth_) {
    case 0: return &TreeEnsemble::predict_portable;  // leaves alone
    case 1: return &TreeEnsemble::predict_avx2<1, kBlocks>;
    case 2: return &TreeEnsemble::predict_avx2<2, kBlocks>;
    case 3: return &TreeEnsemble::predict_avx2<3, kBlocks>;
    default: return &TreeEnsemble::predict_avx2<kAvxLevels, kBlocks>;
  }
}

TreeEnsemble::Walk TreeEnsemble::chosen_walk() const {
  if (!__builtin_cpu_supports("avx2")) return &TreeEnsemble::predict_portable;
  switch ((features_ + 7) / 8) {
    case 1: return avx2_walk<1>();
    case 2: return avx2_walk<2>();
    case 3: return avx2_walk<3>();
    case 4: return avx2_walk<4>();
    default: return &TreeEnsemble::predict_portable;
  }
}
#else
TreeEnsemble::Walk TreeEnsemble::chosen_walk() const { return &TreeEnsemble::predict_portable; }
#endif

}  // namespace gw::risk
