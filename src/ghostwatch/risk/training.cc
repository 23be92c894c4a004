#include "ghostwatch/risk/training.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "ghostwatch/risk/feature_encoding.h"
#include "ghostwatch/risk/logistic.h"
#include "ghostwatch/risk/risk_model.h"

namespace gw::risk {
namespace {

nlohmann::json metrics_json(const ScoreMetrics& m) {
  nlohmann::json j;
  j["episodes"] = m.episodes;
  j["positives"] = m.positives;
  j["roc_auc"] = m.roc_auc;
  j["pr_auc"] = m.pr_auc;
  j["brier"] = m.brier;
  j["calibration"] = nlohmann::json::array();
  for (const CalibrationBin& b : m.calibration) {
    j["calibration"].push_back(
        {{"episodes", b.episodes}, {"mean_score", b.mean_score}, {"observed_rate", b.observed_rate}});
  }
  return j;
}

std::vector<bool> as_bools(const std::vector<float>& labels) {
  std::vector<bool> out;
  for (float l : labels) out.push_back(l > 0.5f);
  return out;
}

Status check_split(const LabelledEpisodes& s, std::string_view side, Instant test_from) {
  if (s.positives == 0 || s.positives == s.labels.size()) {
    return Status::error("--test-from " + format_rfc3339(test_from) + ": the " + std::string(side) + " period has " +
                         std::to_string(s.labels.size()) + " labelled episodes, " + std::to_string(s.positives) +
                         " unanswered for 72 h: it needs both answered and unanswered ones");
  }
  return Status::ok();
}

std::string model_json(const TrainReport& r, const TrainOptions& o, const FeatureEncoding& encoding,
                       const std::string& booster_json) {
  nlohmann::json doc;
  doc["format"] = kModelFormat;
  doc["label"] = o.label;
  doc["features"] = nlohmann::json::array();
  for (std::size_t i = 0; i < kFeatureCount; ++i) {
    nlohmann::json f{{"name", kFeatureNames[i]}};
    if (i < kNumericFeatureCount) {
      f["type"] = "numeric";
    } else {
      f["type"] = "categorical";
      f["categories"] = encoding.vocabulary(static_cast<CategoricalFeature>(i - kNumericFeatureCount));
    }
    doc["features"].push_back(f);
  }
  const BoosterParams& p = r.params;
  doc["params"] = {{"rounds", p.rounds},
                   {"eta", p.eta},
                   {"max_depth", p.max_depth},
                   {"min_child_weight", p.min_child_weight},
                   {"subsample", p.subsample},
                   {"colsample_bytree", p.colsample_bytree},
                   {"seed", p.seed}};
  doc["split"] = {{"data_end", format_rfc3339(r.data_end)},       {"test_from", format_rfc3339(o.test_from)},
                  {"train_episodes", r.train_episodes},           {"test_episodes", r.test_episodes},
                  {"unlabelled_episodes", r.unlabelled_episodes}, {"train_positive_rate", r.train_positive_rate}};
  if (r.tuning) {
    const TuningReport& t = *r.tuning;
    auto trial = [](const TuningTrial& x) {
      return nlohmann::json{{"max_depth", x.max_depth}, {"rounds", x.rounds}, {"validation_roc_auc", x.roc_auc}};
    };
    doc["tuning"] = {{"validation_from", format_rfc3339(t.validation_from)},
                     {"fit_episodes", t.fit_episodes},
                     {"validation_episodes", t.validation_episodes},
                     {"best", trial(t.best)},
                     {"chosen", trial(t.chosen)}};
    for (std::size_t i = 0; i < t.best_per_depth.size(); ++i) {
      nlohmann::json depth = trial(t.best_per_depth[i]);
      depth["grown_rounds"] = t.grown_per_depth[i];
      doc["tuning"]["best_per_depth"].push_back(std::move(depth));
    }
  }
  for (const ScoredModel& m : r.models) doc["test_metrics"][m.name] = metrics_json(m.test);
  for (const auto& [name, share] : r.importance) doc["importance_total_gain_share"][name] = share;
  // As text: XGBoost writes NaN and Infinity, which are not JSON.
  doc["booster"] = booster_json;
  return doc.dump() + "\n";
}

}  // namespace

Result<TrainReport> train_risk_model(const EpisodeHistory& history, const TrainOptions& options) {
  if (options.label != kLabelUnanswered72h) {
    return Status::error("--label: unknown label '" + options.label + "' (known: unanswered72h)");
  }
  TrainReport report;
  report.data_end = history.stream.last_at;
  LabelledEpisodes train, test;
  for (const EpisodeRow& row : history.rows) {
    const std::optional<bool> label = unanswered72h(row, report.data_end);
    if (!label) {
      ++report.unlabelled_episodes;
      continue;
    }
    (row.opened_at < options.test_from ? train : test).add(row, *label);
  }
  if (Status s = check_split(train, "training", options.test_from); !s) return s;
  if (Status s = check_split(test, "test", options.test_from); !s) return s;
  report.train_episodes = train.labels.size();
  report.test_episodes = test.labels.size();
  report.train_positive_rate = static_cast<double>(train.positives) / static_cast<double>(train.labels.size());
  report.params = options.params;
  if (options.tune) {
    auto tuning = tune_trees(train, options.params, *options.tune, options.progress);
    if (!tuning) return tuning.status();
    report.params.max_depth = tuning->chosen.max_depth;
    report.params.rounds = tuning->chosen.rounds;
    report.tuning = std::move(*tuning);
  }

  const FeatureEncoding encoding = FeatureEncoding::fit(train.features);
  const FeatureMatrix train_x = encoding.matrix(train.features);
  const FeatureMatrix test_x = encoding.matrix(test.features);
  const std::vector<bool> test_labels = as_bools(test.labels);

  const auto stage = [&options](const std::string& what) {
    if (options.progress) options.progress(what);
  };
  stage(fmt::format("training the trees on {} episodes: depth {}, {} rounds", train.size(), report.params.max_depth,
                    report.params.rounds));
  auto booster = Booster::train(train_x, train.labels, report.params);
  if (!booster) return booster.status();
  stage(fmt::format("scoring the {} test episodes", test.size()));
  auto predicted = booster->predict(test_x);
  if (!predicted) return predicted.status();
  report.models.push_back({"xgboost", score_metrics({predicted->begin(), predicted->end()}, test_labels)});

  std::vector<double> rate;
  for (const EpisodeFeatures* f : test.features) {
    const double share = (*f)[NumericFeature::kFlUnanswered72Share];
    rate.push_back(std::isnan(share) ? report.train_positive_rate : share);
  }
  report.models.push_back({"freelancer_rate", score_metrics(rate, test_labels)});

  std::vector<bool> log_scale(kFeatureCount, false);
  for (std::size_t i = 0; i < kNumericFeatureCount; ++i) log_scale[i] = is_heavy_tailed(static_cast<NumericFeature>(i));
  stage("fitting the logistic regression baseline");
  const LogisticRegression logistic = LogisticRegression::fit(train_x, train.labels, log_scale);
  report.models.push_back({"logistic", score_metrics(logistic.predict(test_x), test_labels)});

  auto gain = booster->total_gain(train_x.names);
  if (!gain) return gain.status();
  double total = 0;
  for (const auto& [name, g] : *gain) total += g;
  for (const auto& [name, g] : *gain) report.importance.emplace_back(name, total > 0 ? g / total : 0.0);
  std::stable_sort(report.importance.begin(), report.importance.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });

  auto booster_json = booster->save_json();
  if (!booster_json) return booster_json.status();
  report.model_json = model_json(report, options, encoding, *booster_json);
  return report;
}

}  // namespace gw::risk
