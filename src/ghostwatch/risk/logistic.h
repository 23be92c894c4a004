// The logistic-regression baseline: the same features as the trees, made
// linear-friendly: numeric columns (log1p of the heavy-tailed ones, sign
// kept) standardised with the training mean and deviation, a missing value
// set to the mean with an indicator column beside it, categorical codes
// one-hot. Fitted by Newton's method (IRLS) with a small ridge penalty, so
// the fit is unique and deterministic. Thread-safe once fitted: const.
#pragma once

#include <Eigen/Dense>
#include <vector>

#include "ghostwatch/risk/booster.h"

namespace gw::risk {

class LogisticRegression {
 public:
  // `log_scale[i]`: read numeric column i as log1p. REQUIRES: labels.size()
  // == x.rows, log_scale.size() == x.columns.
  static LogisticRegression fit(const FeatureMatrix& x, const std::vector<float>& labels,
                                const std::vector<bool>& log_scale);
  // Probabilities of label 1.
  std::vector<double> predict(const FeatureMatrix& x) const;

 private:
  struct Column {
    bool categorical = false;
    bool log_scale = false;
    double mean = 0, scale = 1;
    bool missing_indicator = false;
    int categories = 0;  // one-hot width of a categorical column
  };
  Eigen::MatrixXd design(const FeatureMatrix& x) const;

  std::vector<Column> columns_;
  Eigen::Index width_ = 1;  // the intercept
  Eigen::VectorXd weights_;
};

}  // namespace gw::risk
