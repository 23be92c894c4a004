#include "ghostwatch/risk/logistic.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace gw::risk {
namespace {

constexpr double kRidge = 1.0;
constexpr int kMaxNewtonSteps = 30;

double logistic_value(double v, bool log_scale) { return log_scale ? std::copysign(std::log1p(std::fabs(v)), v) : v; }

}  // namespace

LogisticRegression LogisticRegression::fit(const FeatureMatrix& x, const std::vector<float>& labels,
                                           const std::vector<bool>& log_scale) {
  assert(labels.size() == x.rows && log_scale.size() == x.columns);
  LogisticRegression lr;
  lr.columns_.resize(x.columns);
  for (std::size_t j = 0; j < x.columns; ++j) {
    Column& c = lr.columns_[j];
    c.categorical = x.types[j] == 'c';
    c.log_scale = log_scale[j];
    double sum = 0, sum_sq = 0;
    std::size_t present = 0;
    for (std::size_t i = 0; i < x.rows; ++i) {
      const float raw = x.values[i * x.columns + j];
      if (std::isnan(raw)) continue;
      if (c.categorical) {
        c.categories = std::max(c.categories, static_cast<int>(raw) + 1);
        continue;
      }
      const double v = logistic_value(raw, c.log_scale);
      sum += v;
      sum_sq += v * v;
      ++present;
    }
    if (c.categorical) {
      lr.width_ += c.categories;
      continue;
    }
    c.missing_indicator = present < x.rows;
    if (present > 0) {
      c.mean = sum / static_cast<double>(present);
      const double var = sum_sq / static_cast<double>(present) - c.mean * c.mean;
      c.scale = var > 1e-12 ? std::sqrt(var) : 1.0;
    }
    lr.width_ += 1 + (c.missing_indicator ? 1 : 0);
  }

  const Eigen::MatrixXd X = lr.design(x);
  Eigen::VectorXd y(static_cast<Eigen::Index>(x.rows));
  for (std::size_t i = 0; i < x.rows; ++i) y[static_cast<Eigen::Index>(i)] = labels[i];
  Eigen::VectorXd w = Eigen::VectorXd::Zero(lr.width_);
  Eigen::VectorXd penalty = Eigen::VectorXd::Constant(lr.width_, kRidge);
  penalty[0] = 0;  // the intercept is not shrunk
  for (int step = 0; step < kMaxNewtonSteps; ++step) {
    const Eigen::VectorXd p = (1.0 + (-(X * w)).array().exp()).inverse().matrix();
    const Eigen::VectorXd gradient = X.transpose() * (y - p) - penalty.cwiseProduct(w);
    const Eigen::VectorXd sqrt_w = (p.array() * (1.0 - p.array())).sqrt().matrix();
    const Eigen::MatrixXd Xw = X.array().colwise() * sqrt_w.array();
    Eigen::MatrixXd hessian = Xw.transpose() * Xw;
    hessian.diagonal() += penalty;
    const Eigen::VectorXd delta = hessian.ldlt().solve(gradient);
    w += delta;
    if (delta.cwiseAbs().maxCoeff() < 1e-7) break;
  }
  lr.weights_ = w;
  return lr;
}

Eigen::MatrixXd LogisticRegression::design(const FeatureMatrix& x) const {
  Eigen::MatrixXd X = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(x.rows), width_);
  for (std::size_t i = 0; i < x.rows; ++i) {
    const auto r = static_cast<Eigen::Index>(i);
    X(r, 0) = 1.0;
    Eigen::Index k = 1;
    for (std::size_t j = 0; j < columns_.size(); ++j) {
      const Column& c = columns_[j];
      const float raw = x.values[i * x.columns + j];
      if (c.categorical) {
        if (!std::isnan(raw) && static_cast<int>(raw) < c.categories) X(r, k + static_cast<int>(raw)) = 1.0;
        k += c.categories;
        continue;
      }
      if (!std::isnan(raw)) X(r, k) = (logistic_value(raw, c.log_scale) - c.mean) / c.scale;
      ++k;
      if (c.missing_indicator) X(r, k++) = std::isnan(raw) ? 1.0 : 0.0;
    }
  }
  return X;
}

std::vector<double> LogisticRegression::predict(const FeatureMatrix& x) const {
  const Eigen::VectorXd margin = design(x) * weights_;
  std::vector<double> p(static_cast<std::size_t>(margin.size()));
  for (Eigen::Index i = 0; i < margin.size(); ++i) p[static_cast<std::size_t>(i)] = 1.0 / (1.0 + std::exp(-margin[i]));
  return p;
}

}  // namespace gw::risk
