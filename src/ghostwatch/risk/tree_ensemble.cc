#include "ghostwatch/risk/tree_ensemble.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

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
    e.base_margin_ = std::log(base_score / (1 - base_score));
    e.features_ = static_cast<std::size_t>(features);
    for (const nlohmann::json& tree : booster.at("model").at("trees")) {
      const std::string name = "tree " + std::to_string(e.roots_.size());
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
      const auto root = static_cast<std::uint32_t>(e.nodes_.size());
      e.roots_.push_back(root);
      for (std::size_t i = 0; i < n; ++i) {
        Node node;
        const int l = left[i].get<int>(), r = right[i].get<int>();
        const bool leaf = l == -1;
        // Children come after their parent, so every walk ends.
        const int self = static_cast<int>(i), size = static_cast<int>(n);
        if (!leaf && (l <= self || r <= self || l >= size || r >= size)) {
          return model_error(name + ": node " + std::to_string(i) + " has children out of order");
        }
        node.left = leaf ? -1 : static_cast<std::int32_t>(root) + l;
        node.right = leaf ? -1 : static_cast<std::int32_t>(root) + r;
        node.feature = indices[i].get<std::uint32_t>();
        if (!leaf && node.feature >= e.features_)
          return model_error(name + ": a split on a feature beyond num_feature");
        node.default_left = default_left[i].get<int>() != 0;
        node.categorical = !leaf && types[i].get<int>() == 1;
        if (!node.categorical) {
          double v = 0;
          if (!number_of(conditions[i], v)) return model_error(name + ": a split condition is not a number");
          node.value = static_cast<float>(v);
        }
        e.nodes_.push_back(node);
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
        Node& split = e.nodes_[root + node];
        split.categories_begin = static_cast<std::uint32_t>(e.categories_.size());
        for (std::size_t c = begin; c < begin + size; ++c) e.categories_.push_back(cats[c].get<float>());
        split.categories_end = static_cast<std::uint32_t>(e.categories_.size());
        std::sort(e.categories_.begin() + split.categories_begin, e.categories_.end());
      }
    }
    return e;
  } catch (const nlohmann::json::exception& ex) {
    return model_error(std::string("unexpected layout: ") + ex.what());
  }
}

double TreeEnsemble::predict(const float* row) const {
  double margin = base_margin_;
  for (std::uint32_t root : roots_) {
    const Node* node = &nodes_[root];
    while (node->left >= 0) {
      const float v = row[node->feature];
      bool go_left;
      if (std::isnan(v)) {
        go_left = node->default_left;
      } else if (node->categorical) {
        const auto begin = categories_.begin() + node->categories_begin;
        const auto end = categories_.begin() + node->categories_end;
        go_left = !std::binary_search(begin, end, v);
      } else {
        go_left = v < node->value;
      }
      node = &nodes_[go_left ? node->left : node->right];
    }
    margin += node->value;
  }
  return 1.0 / (1.0 + std::exp(-margin));
}

}  // namespace gw::risk
