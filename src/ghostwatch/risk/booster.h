// Booster: gradient-boosted trees through XGBoost's C API, owning its
// handles. Training is deterministic (one thread, a fixed seed: the same
// rows, labels and seed give the same model bytes). Errors from the library
// come back as Status values with XGBoost's message. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ghostwatch/core/status.h"

namespace gw::risk {

// A dense row-major matrix of float features; NaN is missing.
struct FeatureMatrix {
  std::size_t rows = 0;
  std::size_t columns = 0;
  std::vector<float> values;  // rows * columns
  // Per column: 'q' numeric, 'c' categorical (a code 0, 1, ...).
  std::string types;
  std::vector<std::string> names;
};

// The defaults: 100 rounds at eta 0.15 score within noise of 300 at 0.05 on
// the histories of docs/risk-model.md, at a third of the cost per episode.
struct BoosterParams {
  int rounds = 100;
  double eta = 0.15;
  int max_depth = 3;
  double min_child_weight = 5;
  double subsample = 0.8;
  double colsample_bytree = 0.8;
  std::uint64_t seed = 0;
};

class RoundScores;

// Frees XGBoost's handles (XGDMatrixFree, XGBoosterFree).
struct XGBMatrixFree {
  void operator()(void* m) const;
};
struct XGBBoosterFree {
  void operator()(void* b) const;
};

class Booster {
 public:
  // `p.rounds` rounds; the first tree starts from the labels' mean
  // (base_score). REQUIRES: labels.size() == x.rows, labels are 0 or 1.
  static Result<Booster> train(const FeatureMatrix& x, const std::vector<float>& labels, const BoosterParams& p);
  // Training in stages (tuning): start() trains no round yet and keeps
  // XGBoost's copy of the rows, and each grow() trains more rounds on
  // them. The trees are those train() grows for the same total of rounds.
  static Result<Booster> start(const FeatureMatrix& x, const std::vector<float>& labels, const BoosterParams& p);
  // REQUIRES: a booster from start().
  Status grow(int rounds);
  // Rounds trained (or loaded: 0 when unknown).
  int rounds() const { return rounds_; }
  // `model_json` is what save_json returned.
  static Result<Booster> load_json(std::string_view model_json);

  Result<std::string> save_json() const;
  // Probabilities of label 1, one per row, from the first `rounds` rounds'
  // trees (0: all of them).
  Result<std::vector<float>> predict(const FeatureMatrix& x, int rounds = 0) const;
  // Total gain of the splits on each feature, by name (`names` in column
  // order); features never split on are absent.
  Result<std::map<std::string, double>> total_gain(const std::vector<std::string>& names) const;

 private:
  friend class RoundScores;
  Booster() = default;
  std::unique_ptr<void, XGBMatrixFree> rows_;  // from start(): what grow() trains on
  std::unique_ptr<void, XGBBoosterFree> handle_;
  int rounds_ = 0;
};

// The scores of a fixed set of rows after more and more of a booster's
// rounds (tuning reads the validation ROC-AUC every few rounds). The rows
// go to XGBoost once, and each extend() has it evaluate only the new
// rounds' trees, starting from the margins so far as XGBoost's own
// prediction would have them: the scores after r rounds are the bits of
// Booster::predict(x, r) (tested), at the cost of r trees a row instead
// of the sum over every step. Not thread-safe.
class RoundScores {
 public:
  static Result<RoundScores> make(const FeatureMatrix& x);

  // Adds the trees of rounds [rounds(), end) of `b`, which must be the
  // booster of every earlier extend(). REQUIRES: rounds() < end <= the
  // rounds `b` was trained for.
  Status extend(const Booster& b, int end);
  int rounds() const { return rounds_; }
  // Probabilities of label 1 after rounds() rounds, one per row.
  std::vector<double> probabilities() const;

 private:
  RoundScores() = default;
  std::unique_ptr<void, XGBMatrixFree> matrix_;
  std::vector<float> margins_;  // XGBoost's, in float as it adds them
  int rounds_ = 0;
};

}  // namespace gw::risk
