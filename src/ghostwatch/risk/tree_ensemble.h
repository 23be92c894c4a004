// TreeEnsemble: an XGBoost `binary:logistic` gbtree model (the JSON that
// XGBoosterSaveModelToBuffer writes) evaluated natively, with XGBoost's own
// rules: a missing value takes the node's default branch; a numeric split
// goes left when value < condition (in float); a categorical split goes
// right when the value is one of the node's categories and left otherwise
// (also for a value that is not a valid category). The probability is the
// sigmoid of the base margin plus the leaves reached. It agrees with
// XGBoost to float rounding (tested) and scores one episode without
// building a DMatrix, which is what scoring at each opening needs
// (docs/risk-model.md, "Cost"). Thread-safe: const.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "ghostwatch/core/status.h"

namespace gw::risk {

class TreeEnsemble {
 public:
  // Errors name what is missing or inconsistent in the model.
  static Result<TreeEnsemble> parse(std::string_view booster_json);

  std::size_t features() const { return features_; }
  // REQUIRES: `row` holds features() values; NaN is missing.
  double predict(const float* row) const;

 private:
  struct Node {
    float value = 0;         // the split condition, or the leaf's value
    std::int32_t left = -1;  // -1: a leaf
    std::int32_t right = -1;
    std::uint32_t feature = 0;
    std::uint32_t categories_begin = 0, categories_end = 0;  // in categories_, sorted
    bool default_left = false;
    bool categorical = false;
  };

  std::vector<Node> nodes_;
  std::vector<std::uint32_t> roots_;
  std::vector<float> categories_;
  double base_margin_ = 0;
  std::size_t features_ = 0;
};

}  // namespace gw::risk
