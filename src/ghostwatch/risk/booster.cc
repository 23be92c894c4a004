#include "ghostwatch/risk/booster.h"

#include <fmt/format.h>
#include <xgboost/c_api.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <memory>
#include <string>

namespace gw::risk {
namespace {

Status xgboost_error(std::string_view what) {
  return Status::error(std::string("xgboost: ") + std::string(what) + ": " + XGBGetLastError());
}

using MatrixHandle = std::unique_ptr<void, XGBMatrixFree>;

Result<MatrixHandle> make_matrix(const FeatureMatrix& x) {
  DMatrixHandle raw = nullptr;
  if (XGDMatrixCreateFromMat(x.values.data(), x.rows, x.columns, std::numeric_limits<float>::quiet_NaN(), &raw) != 0) {
    return xgboost_error("cannot build the feature matrix");
  }
  MatrixHandle m(raw);
  std::vector<const char*> type_ptrs, name_ptrs;
  for (std::size_t i = 0; i < x.columns; ++i) {
    type_ptrs.push_back(x.types[i] == 'c' ? "c" : "q");
    name_ptrs.push_back(x.names[i].c_str());
  }
  if (XGDMatrixSetStrFeatureInfo(m.get(), "feature_type", type_ptrs.data(), x.columns) != 0 ||
      XGDMatrixSetStrFeatureInfo(m.get(), "feature_name", name_ptrs.data(), x.columns) != 0) {
    return xgboost_error("cannot set the feature names and types");
  }
  return m;
}

Status set_params(void* h, const BoosterParams& p) {
  const std::pair<const char*, std::string> params[] = {
      {"objective", "binary:logistic"},
      {"tree_method", "hist"},
      {"nthread", "1"},
      {"verbosity", "0"},
      {"eta", fmt::format("{}", p.eta)},
      {"max_depth", fmt::format("{}", p.max_depth)},
      {"min_child_weight", fmt::format("{}", p.min_child_weight)},
      {"subsample", fmt::format("{}", p.subsample)},
      {"colsample_bytree", fmt::format("{}", p.colsample_bytree)},
      {"max_cat_to_onehot", "1"},
      {"seed", fmt::format("{}", p.seed)},
  };
  for (const auto& [name, value] : params) {
    if (XGBoosterSetParam(h, name, value.c_str()) != 0) return xgboost_error(std::string("parameter ") + name);
  }
  return Status::ok();
}

}  // namespace

void XGBMatrixFree::operator()(void* m) const { XGDMatrixFree(m); }
void XGBBoosterFree::operator()(void* b) const { XGBoosterFree(b); }

Result<Booster> Booster::train(const FeatureMatrix& x, const std::vector<float>& labels, const BoosterParams& p) {
  auto b = start(x, labels, p);
  if (!b) return b.status();
  if (Status s = b->grow(p.rounds); !s) return s;
  b->rows_.reset();
  return b;
}

Result<Booster> Booster::start(const FeatureMatrix& x, const std::vector<float>& labels, const BoosterParams& p) {
  auto m = make_matrix(x);
  if (!m) return m.status();
  if (XGDMatrixSetFloatInfo(m->get(), "label", labels.data(), labels.size()) != 0) return xgboost_error("labels");
  DMatrixHandle matrices[] = {m->get()};
  BoosterHandle raw = nullptr;
  if (XGBoosterCreate(matrices, 1, &raw) != 0) return xgboost_error("cannot create a booster");
  Booster b;
  b.handle_.reset(raw);
  b.rows_ = std::move(*m);
  if (Status s = set_params(raw, p); !s) return s;
  // The trees start from the labels' base rate, so that few rounds are
  // calibrated too (XGBoost 1.7 starts from 0.5).
  double positives = 0;
  for (float l : labels) positives += l;
  const double base_rate =
      std::clamp(positives / static_cast<double>(std::max<std::size_t>(labels.size(), 1)), 1e-3, 1 - 1e-3);
  if (XGBoosterSetParam(raw, "base_score", fmt::format("{}", base_rate).c_str()) != 0) {
    return xgboost_error("parameter base_score");
  }
  return b;
}

Status Booster::grow(int rounds) {
  assert(rows_ != nullptr);
  for (int i = 0; i < rounds; ++i, ++rounds_) {
    if (XGBoosterUpdateOneIter(handle_.get(), rounds_, rows_.get()) != 0) {
      return xgboost_error("training round " + std::to_string(rounds_));
    }
  }
  return Status::ok();
}

Result<Booster> Booster::load_json(std::string_view model_json) {
  BoosterHandle raw = nullptr;
  if (XGBoosterCreate(nullptr, 0, &raw) != 0) return xgboost_error("cannot create a booster");
  Booster b;
  b.handle_.reset(raw);
  if (XGBoosterLoadModelFromBuffer(raw, model_json.data(), model_json.size()) != 0) {
    return xgboost_error("cannot load the model");
  }
  if (XGBoosterSetParam(raw, "nthread", "1") != 0) return xgboost_error("parameter nthread");
  return b;
}

Result<std::string> Booster::save_json() const {
  bst_ulong size = 0;
  const char* bytes = nullptr;
  if (XGBoosterSaveModelToBuffer(handle_.get(), R"({"format": "json"})", &size, &bytes) != 0) {
    return xgboost_error("cannot save the model");
  }
  return std::string(bytes, size);
}

Result<std::vector<float>> Booster::predict(const FeatureMatrix& x, int rounds) const {
  auto m = make_matrix(x);
  if (!m) return m.status();
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* out = nullptr;
  const std::string config = fmt::format(
      R"({{"type": 0, "training": false, "iteration_begin": 0, "iteration_end": {}, "strict_shape": false}})", rounds);
  if (XGBoosterPredictFromDMatrix(handle_.get(), m->get(), config.c_str(), &shape, &dim, &out) != 0) {
    return xgboost_error("prediction");
  }
  return std::vector<float>(out, out + x.rows);
}

Result<RoundScores> RoundScores::make(const FeatureMatrix& x) {
  auto m = make_matrix(x);
  if (!m) return m.status();
  RoundScores s;
  s.matrix_.reset(m->release());
  s.margins_.assign(x.rows, 0.0f);
  return s;
}

Status RoundScores::extend(const Booster& b, int end) {
  assert(end > rounds_);
  // After the first range, each row starts from its margin so far instead
  // of the base score, and XGBoost adds the new trees to it one by one, as
  // it would after the earlier ones in a prediction of them all.
  if (rounds_ > 0 && XGDMatrixSetFloatInfo(matrix_.get(), "base_margin", margins_.data(), margins_.size()) != 0) {
    return xgboost_error("base margins");
  }
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* out = nullptr;
  const std::string config = fmt::format(
      R"({{"type": 1, "training": false, "iteration_begin": {}, "iteration_end": {}, "strict_shape": false}})", rounds_,
      end);
  if (XGBoosterPredictFromDMatrix(b.handle_.get(), matrix_.get(), config.c_str(), &shape, &dim, &out) != 0) {
    return xgboost_error("prediction of rounds " + std::to_string(rounds_) + " to " + std::to_string(end));
  }
  std::copy(out, out + margins_.size(), margins_.begin());
  rounds_ = end;
  return Status::ok();
}

std::vector<double> RoundScores::probabilities() const {
  // binary:logistic's transform, in float as XGBoost computes it.
  std::vector<double> p(margins_.size());
  for (std::size_t i = 0; i < margins_.size(); ++i) p[i] = 1.0f / (1.0f + std::exp(-margins_[i]));
  return p;
}

Result<std::map<std::string, double>> Booster::total_gain(const std::vector<std::string>& names) const {
  std::string config = R"({"importance_type": "total_gain", "feature_names": [)";
  for (std::size_t i = 0; i < names.size(); ++i) config += (i ? ",\"" : "\"") + names[i] + "\"";
  config += "]}";
  bst_ulong n = 0, dim = 0;
  const char** scored = nullptr;
  const bst_ulong* shape = nullptr;
  const float* scores = nullptr;
  if (XGBoosterFeatureScore(handle_.get(), config.c_str(), &n, &scored, &dim, &shape, &scores) != 0) {
    return xgboost_error("feature scores");
  }
  std::map<std::string, double> gain;
  for (bst_ulong i = 0; i < n; ++i) gain[scored[i]] = scores[i];
  return gain;
}

}  // namespace gw::risk
