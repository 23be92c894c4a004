// Training and scoring the risk model: the metrics on hand-computed cases,
// the same data and seed giving the same model bytes, and a model that
// scores the same after a save and load, through the library and the
// train/score commands.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "ghostwatch/risk/booster.h"
#include "ghostwatch/risk/feature_encoding.h"
#include "ghostwatch/risk/metrics.h"
#include "ghostwatch/risk/risk_model.h"
#include "ghostwatch/risk/training.h"
#include "ghostwatch/risk/tree_ensemble.h"
#include "risk_support.h"

namespace gw::test {
namespace {

constexpr const char* kRiskTestFrom = "2019-08-14T00:00:00Z";

risk::TrainOptions risk_options(std::uint64_t seed) {
  risk::TrainOptions o;
  o.test_from = *parse_rfc3339(kRiskTestFrom);
  o.params.seed = seed;
  o.params.rounds = 30;
  return o;
}

// A booster trained on a matrix, its JSON, and the trees read back from it.
struct TrainedTrees {
  risk::Booster booster;
  std::string json;
  risk::TreeEnsemble trees;
};

// Trains, saves and parses; nullopt (the test failed, with the step's
// message) when a step fails.
std::optional<TrainedTrees> train_trees(const risk::FeatureMatrix& x, const std::vector<float>& labels,
                                        const risk::BoosterParams& params) {
  auto booster = risk::Booster::train(x, labels, params);
  if (!booster.is_ok()) {
    ADD_FAILURE() << "train: " << booster.message();
    return std::nullopt;
  }
  auto json = booster->save_json();
  if (!json.is_ok()) {
    ADD_FAILURE() << "save_json: " << json.message();
    return std::nullopt;
  }
  auto trees = risk::TreeEnsemble::parse(*json);
  if (!trees.is_ok()) {
    ADD_FAILURE() << "parse: " << trees.message();
    return std::nullopt;
  }
  return TrainedTrees{std::move(*booster), std::move(*json), std::move(*trees)};
}

TEST(RiskMetrics, HandComputed) {
  const risk::ScoreMetrics m = risk::score_metrics({0.1, 0.4, 0.35, 0.8}, {false, false, true, true});
  EXPECT_EQ(m.episodes, 4u);
  EXPECT_EQ(m.positives, 2u);
  EXPECT_DOUBLE_EQ(m.roc_auc, 0.75);
  EXPECT_DOUBLE_EQ(m.pr_auc, (1.0 + 2.0 / 3.0) / 2.0);
  EXPECT_DOUBLE_EQ(m.brier, (0.01 + 0.16 + 0.4225 + 0.04) / 4);
  ASSERT_EQ(m.calibration.size(), 4u);  // fewer episodes than deciles: one per bin
  EXPECT_DOUBLE_EQ(m.calibration[0].mean_score, 0.1);
  EXPECT_DOUBLE_EQ(m.calibration[3].observed_rate, 1.0);

  const risk::ScoreMetrics tied = risk::score_metrics({0.5, 0.5, 0.5, 0.5}, {false, true, false, true});
  EXPECT_DOUBLE_EQ(tied.roc_auc, 0.5);
  EXPECT_DOUBLE_EQ(tied.pr_auc, 0.5);
  EXPECT_TRUE(std::isnan(risk::score_metrics({0.2, 0.3}, {true, true}).roc_auc));
}

TEST(RiskTraining, SameDataAndSeedGiveTheSameModel) {
  TempDir dir;
  const risk::EpisodeHistory h = risk_history_of(dir, risk_small_marketplace(3));
  auto a = risk::train_risk_model(h, risk_options(7));
  auto b = risk::train_risk_model(h, risk_options(7));
  auto c = risk::train_risk_model(h, risk_options(8));
  ASSERT_TRUE(a.is_ok()) << a.message();
  ASSERT_TRUE(b.is_ok() && c.is_ok());
  EXPECT_EQ(a->model_json, b->model_json);
  EXPECT_NE(a->model_json, c->model_json);  // rows and columns are subsampled by seed

  ASSERT_EQ(a->models.size(), 3u);
  EXPECT_EQ(a->models[0].name, "xgboost");
  EXPECT_EQ(a->models[1].name, "freelancer_rate");
  EXPECT_EQ(a->models[2].name, "logistic");
  for (const risk::ScoredModel& m : a->models) {
    EXPECT_EQ(m.test.episodes, a->test_episodes);
    EXPECT_GT(m.test.roc_auc, 0.6) << m.name;  // the simulated ghosters are learnable
  }
  EXPECT_FALSE(a->importance.empty());
}

TEST(RiskTraining, SavedModelScoresAsTrained) {
  TempDir dir;
  const risk::EpisodeHistory h = risk_history_of(dir, risk_small_marketplace(3));
  const risk::TrainOptions options = risk_options(1);
  auto report = risk::train_risk_model(h, options);
  ASSERT_TRUE(report.is_ok()) << report.message();
  auto model = risk::RiskModel::parse(report->model_json, "model.json");
  ASSERT_TRUE(model.is_ok()) << model.message();

  std::vector<const risk::EpisodeFeatures*> rows;
  std::vector<bool> labels;
  for (const risk::EpisodeRow& row : h.rows) {
    const auto label = risk::unanswered72h(row, h.stream.last_at);
    if (!label || row.opened_at < options.test_from) continue;
    rows.push_back(&row.features);
    labels.push_back(*label);
  }
  const std::vector<double> scores = model->score(rows);
  const risk::ScoreMetrics again = risk::score_metrics(scores, labels);
  EXPECT_NEAR(again.roc_auc, report->models[0].test.roc_auc, 1e-4);
  EXPECT_NEAR(again.brier, report->models[0].test.brier, 1e-6);

  // The native trees agree with XGBoost's own predictor on every row.
  const nlohmann::json doc = nlohmann::json::parse(report->model_json);
  auto booster = risk::Booster::load_json(doc["booster"].get<std::string>());
  ASSERT_TRUE(booster.is_ok()) << booster.message();
  const risk::FeatureEncoding encoding(
      {doc["features"][risk::kNumericFeatureCount]["categories"].get<std::vector<std::string>>(),
       doc["features"][risk::kNumericFeatureCount + 1]["categories"].get<std::vector<std::string>>()});
  auto xgboost = booster->predict(encoding.matrix(rows));
  ASSERT_TRUE(xgboost.is_ok()) << xgboost.message();
  ASSERT_EQ(xgboost->size(), scores.size());
  for (std::size_t i = 0; i < scores.size(); ++i) {
    ASSERT_NEAR(scores[i], (*xgboost)[i], 1e-6) << "row " << i;
    ASSERT_EQ(model->score(*rows[i]), scores[i]) << "row " << i;
  }
}

// 900 rows of two numeric columns and a categorical one, with NaNs in
// each, values that are not categories, and labels that need several
// splits to tell; `labels` gets theirs.
risk::FeatureMatrix mixed_matrix(std::vector<float>& labels) {
  risk::FeatureMatrix x;
  x.columns = 3;
  x.types = "qqc";
  x.names = {"a", "b", "kind"};
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (int i = 0; i < 900; ++i) {
    const float a = static_cast<float>((i * 37) % 101) / 7.0f, b = static_cast<float>((i * 13) % 29);
    const float kind = static_cast<float>(i % 9);
    x.values.push_back(i % 17 == 0 ? nan : a);
    x.values.push_back(i % 23 == 0 ? nan : b);
    x.values.push_back(i % 31 == 0 ? nan : kind);
    labels.push_back((a > 6 && b < 20) || kind == 2 || (i % 11 == 0) ? 1.0f : 0.0f);
  }
  x.rows = labels.size();
  return x;
}

TEST(RiskTraining, CategoricalSplitsAgreeWithXGBoost) {
  // Country decides the label: the trees must split on the category.
  risk::FeatureMatrix x;
  x.columns = 2;
  x.types = "qc";
  x.names = {"noise", "country"};
  std::vector<float> labels;
  for (int i = 0; i < 600; ++i) {
    const float country = static_cast<float>(i % 6);
    x.values.push_back(static_cast<float>(i % 7));
    x.values.push_back(i % 50 == 0 ? std::numeric_limits<float>::quiet_NaN() : country);
    labels.push_back(country == 1 || country == 4 ? 1.0f : 0.0f);
  }
  x.rows = labels.size();
  risk::BoosterParams params;
  params.rounds = 10;
  auto t = train_trees(x, labels, params);
  ASSERT_TRUE(t);
  ASSERT_NE(t->json.find("\"split_type\":[1"), std::string::npos) << "no categorical split at a root";
  const risk::TreeEnsemble& trees = t->trees;
  auto expected = t->booster.predict(x);
  ASSERT_TRUE(expected.is_ok());
  for (std::size_t i = 0; i < x.rows; ++i) {
    ASSERT_NEAR(trees.predict(&x.values[i * 2]), (*expected)[i], 1e-6) << "row " << i;
    ASSERT_EQ(trees.predict_portable(&x.values[i * 2]), trees.predict(&x.values[i * 2])) << "row " << i;
  }
}

TEST(RiskTraining, UnevenTreesAgreeWithXGBoostWithAndWithoutSimd) {
  // Deeper trees whose leaves lie at many depths (padding), NaNs, values
  // that are not categories, and more trees than a multiple of the lanes;
  // at most 4 deep (the AVX2 walk's vector levels), and 5 and 6 (below
  // those, a lane at a time).
  std::vector<float> labels;
  const risk::FeatureMatrix x = mixed_matrix(labels);
  for (const int depth : {4, 5, 6}) {
    risk::BoosterParams params;
    params.rounds = 13;
    params.max_depth = depth;
    auto t = train_trees(x, labels, params);
    ASSERT_TRUE(t);
    // A tree of more than 15 nodes (splits and leaves) is at least 4 deep.
    int most_nodes = 0;
    const std::regex num_nodes("\"num_nodes\":\"([0-9]+)\"");
    for (std::sregex_iterator m(t->json.begin(), t->json.end(), num_nodes), end; m != end; ++m) {
      most_nodes = std::max(most_nodes, std::stoi((*m)[1]));
    }
    ASSERT_GT(most_nodes, 15) << "no tree 4 deep";
    const risk::TreeEnsemble& trees = t->trees;
    auto expected = t->booster.predict(x);
    ASSERT_TRUE(expected.is_ok());
    for (std::size_t i = 0; i < x.rows; ++i) {
      ASSERT_NEAR(trees.predict(&x.values[i * 3]), (*expected)[i], 1e-6) << "row " << i;
      ASSERT_EQ(trees.predict_portable(&x.values[i * 3]), trees.predict(&x.values[i * 3])) << "row " << i;
    }
    for (const float odd : {-1.0f, 2.5f, 64.0f, 1e10f, -1e10f}) {
      const float row[3] = {1, 1, odd};
      ASSERT_EQ(trees.predict_portable(row), trees.predict(row)) << odd;
    }
  }
}

TEST(RiskTraining, TrainingInStagesGrowsTheSameTrees) {
  // Tuning grows its boosters 10 rounds at a time and stops where the
  // validation score no longer climbs: the trees must be train()'s.
  std::vector<float> labels;
  const risk::FeatureMatrix x = mixed_matrix(labels);
  risk::BoosterParams params;
  params.rounds = 25;
  params.seed = 3;  // subsampling draws per round: the stages must not shift them
  auto whole = risk::Booster::train(x, labels, params);
  ASSERT_TRUE(whole.is_ok()) << whole.message();
  auto staged = risk::Booster::start(x, labels, params);
  ASSERT_TRUE(staged.is_ok()) << staged.message();
  EXPECT_EQ(staged->rounds(), 0);
  for (const int step : {10, 10, 5}) ASSERT_TRUE(staged->grow(step).is_ok());
  EXPECT_EQ(staged->rounds(), 25);
  auto a = whole->save_json();
  auto b = staged->save_json();
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  EXPECT_EQ(*a, *b);
}

TEST(RiskTraining, RoundScoresAreXGBoostsPredictionsAfterEachRound) {
  // Tuning extends the validation scores a few rounds at a time; after r
  // rounds they must be the bits XGBoost's own prediction of r rounds
  // gives (NaNs, a categorical column, uneven steps, a depth that pads).
  std::vector<float> labels;
  const risk::FeatureMatrix x = mixed_matrix(labels);
  risk::BoosterParams params;
  params.rounds = 40;
  params.max_depth = 4;
  auto booster = risk::Booster::train(x, labels, params);
  ASSERT_TRUE(booster.is_ok()) << booster.message();
  auto scores = risk::RoundScores::make(x);
  ASSERT_TRUE(scores.is_ok()) << scores.message();
  for (const int rounds : {1, 10, 17, 30, 40}) {
    ASSERT_TRUE(scores->extend(*booster, rounds).is_ok());
    EXPECT_EQ(scores->rounds(), rounds);
    auto expected = booster->predict(x, rounds);
    ASSERT_TRUE(expected.is_ok()) << expected.message();
    const std::vector<double> got = scores->probabilities();
    ASSERT_EQ(got.size(), x.rows);
    for (std::size_t i = 0; i < x.rows; ++i) {
      ASSERT_EQ(got[i], static_cast<double>((*expected)[i])) << "row " << i << " after " << rounds << " rounds";
    }
  }
  // The scores moved: the rounds were not all the same tree.
  auto first = booster->predict(x, 1);
  ASSERT_TRUE(first.is_ok());
  EXPECT_NE(scores->probabilities()[0], static_cast<double>((*first)[0]));
}

TEST(RiskTraining, TreesReadOnlyTheFeaturesTheySplitOn) {
  // The label follows `a`; `constant` never varies, so no tree splits on it.
  risk::FeatureMatrix x;
  x.columns = 3;
  x.types = "qqq";
  x.names = {"a", "constant", "b"};
  std::vector<float> labels;
  for (int i = 0; i < 600; ++i) {
    const float a = static_cast<float>(i % 13);
    x.values.push_back(a);
    x.values.push_back(1.0f);
    x.values.push_back(static_cast<float>((i * 7) % 5));
    labels.push_back(a > 6 ? 1.0f : 0.0f);
  }
  x.rows = labels.size();
  risk::BoosterParams params;
  params.rounds = 10;
  auto t = train_trees(x, labels, params);
  ASSERT_TRUE(t);
  const risk::TreeEnsemble& trees = t->trees;
  EXPECT_TRUE(trees.reads(0));
  EXPECT_FALSE(trees.reads(1));
  // Whatever the unread feature's value, the same predictions.
  for (std::size_t i = 0; i < x.rows; ++i) {
    float row[3] = {x.values[i * 3], 1.0f, x.values[i * 3 + 2]};
    const double p = trees.predict(row);
    for (const float odd : {std::numeric_limits<float>::quiet_NaN(), -1e10f, 0.0f, 1e10f}) {
      row[1] = odd;
      ASSERT_EQ(trees.predict(row), p) << "row " << i;
      ASSERT_EQ(trees.predict_portable(row), p) << "row " << i;
    }
  }
}

TEST(RiskTraining, RefusesUnknownLabelAndOneSidedSplit) {
  TempDir dir;
  const risk::EpisodeHistory h = risk_history_of(dir, risk_small_marketplace(3));
  risk::TrainOptions options = risk_options(1);
  options.label = "ghosted";
  auto r = risk::train_risk_model(h, options);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.message().find("unknown label 'ghosted'"), std::string::npos) << r.message();
  options = risk_options(1);
  options.test_from = *parse_rfc3339("2001-01-01T00:00:00Z");
  r = risk::train_risk_model(h, options);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.message().find("the training period has 0 labelled episodes"), std::string::npos) << r.message();
}

TEST(RiskModelFile, RefusesAModelOfOtherFeatures) {
  auto m = risk::RiskModel::parse(R"({"format":"ghostwatch-risk-model/1","features":[]})", "old.json");
  ASSERT_FALSE(m.is_ok());
  EXPECT_NE(m.message().find("old.json: features:"), std::string::npos) << m.message();
  EXPECT_FALSE(risk::RiskModel::parse("{", "broken.json").is_ok());
}

TEST(RiskCommands, TrainThenScore) {
  TempDir dir;
  write_file(dir.file("events.ndjson"), risk_small_marketplace(3));
  const CommandOutput train = run_ghostwatch("train --events " + dir.file("events.ndjson") + " --test-from " +
                                             kRiskTestFrom + " --rounds 20 --out " + dir.file("model.json"));
  ASSERT_EQ(train.status, 0) << train.out;
  EXPECT_NE(train.out.find("freelancer_rate"), std::string::npos) << train.out;
  const nlohmann::json model = nlohmann::json::parse(read_file(dir.file("model.json")));
  EXPECT_EQ(model["features"][0]["name"], "fl_reply_median_s");
  EXPECT_TRUE(model["test_metrics"]["logistic"]["roc_auc"].is_number());

  const CommandOutput score =
      run_ghostwatch("score --model " + dir.file("model.json") + " --events " + dir.file("events.ndjson") + " --from " +
                     kRiskTestFrom + " --out " + dir.file("scores.ndjson"));
  ASSERT_EQ(score.status, 0) << score.out;
  std::istringstream lines(read_file(dir.file("scores.ndjson")));
  std::size_t n = 0;
  for (std::string line; std::getline(lines, line); ++n) {
    const nlohmann::json s = nlohmann::json::parse(line);
    EXPECT_TRUE(s["contract"].is_string());
    EXPECT_GE(s["episode"].get<int>(), 1);
    EXPECT_GE(s["risk"].get<double>(), 0.0);
    EXPECT_LE(s["risk"].get<double>(), 1.0);
  }
  EXPECT_GT(n, 100u);

  const CommandOutput bad =
      run_ghostwatch("score --model " + dir.file("events.ndjson") + " --events " + dir.file("events.ndjson") +
                     " --from " + kRiskTestFrom + " --out " + dir.file("x.ndjson"));
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.out.find("events.ndjson: not a JSON object"), std::string::npos) << bad.out;
}

}  // namespace
}  // namespace gw::test
