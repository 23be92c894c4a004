// Tuning the trees on a validation split inside the training period
// (`train`'s default): the choice depends on the training period alone
// (test labels flipped, the same trees), is deterministic, is the cheapest
// trial within the tolerance of the best, a depth stops growing `patience`
// rounds after its best, every step is told as it goes, a part without
// both labels is refused with a message naming it, and --rounds,
// --max-depth or --no-tune fix the trees instead.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "ghostwatch/risk/training.h"
#include "ghostwatch/risk/tuning.h"
#include "risk_support.h"

namespace gw::test {
namespace {

constexpr const char* kTuneTestFrom = "2019-08-14T00:00:00Z";

risk::TrainOptions tuned_options() {
  risk::TrainOptions o;
  o.test_from = *parse_rfc3339(kTuneTestFrom);
  o.params.seed = 5;
  o.tune = risk::TuningGrid{{2, 3}, 60, 10};
  return o;
}

TEST(RiskTuning, ChoosesOnTheTrainingPeriodAloneAndDeterministically) {
  TempDir dir;
  const risk::EpisodeHistory h = risk_history_of(dir, risk_small_marketplace(3));
  const risk::TrainOptions options = tuned_options();
  auto a = risk::train_risk_model(h, options);
  auto b = risk::train_risk_model(h, options);
  ASSERT_TRUE(a.is_ok()) << a.message();
  ASSERT_TRUE(b.is_ok()) << b.message();
  EXPECT_EQ(a->model_json, b->model_json);

  ASSERT_TRUE(a->tuning.has_value());
  const risk::TuningReport& t = *a->tuning;
  EXPECT_EQ(t.fit_episodes + t.validation_episodes, a->train_episodes);
  EXPECT_LT(t.validation_from, options.test_from);
  EXPECT_GT(t.validation_episodes, a->train_episodes / 10);
  ASSERT_EQ(t.best_per_depth.size(), 2u);
  EXPECT_GE(t.chosen.roc_auc, t.best.roc_auc - t.tolerance);
  EXPECT_LE(t.chosen.rounds * t.chosen.max_depth, t.best.rounds * t.best.max_depth);
  EXPECT_EQ(a->params.rounds, t.chosen.rounds);
  EXPECT_EQ(a->params.max_depth, t.chosen.max_depth);
  const nlohmann::json doc = nlohmann::json::parse(a->model_json);
  EXPECT_EQ(doc["params"]["rounds"], t.chosen.rounds);
  EXPECT_EQ(doc["params"]["max_depth"], t.chosen.max_depth);
  EXPECT_EQ(doc["tuning"]["chosen"]["rounds"], t.chosen.rounds);

  // Every test-period label flipped: the same choice and the same trees;
  // only the test metrics move.
  risk::EpisodeHistory flipped = h;
  for (risk::EpisodeRow& row : flipped.rows) {
    const auto label = risk::unanswered72h(row, h.stream.last_at);
    if (!label || row.opened_at < options.test_from) continue;
    row.outcome = *label ? Outcome::kReplied : Outcome::kContractEnded;
    row.closed_at = row.opened_at + kSecond;
  }
  auto c = risk::train_risk_model(flipped, options);
  ASSERT_TRUE(c.is_ok()) << c.message();
  const nlohmann::json flipped_doc = nlohmann::json::parse(c->model_json);
  EXPECT_EQ(flipped_doc["tuning"], doc["tuning"]);
  EXPECT_EQ(flipped_doc["booster"], doc["booster"]);
  EXPECT_LT(c->models[0].test.roc_auc, 0.5);
  EXPECT_GT(a->models[0].test.roc_auc, 0.5);
}

TEST(RiskTuning, ADepthStopsGrowingPatienceRoundsAfterItsBest) {
  TempDir dir;
  const risk::EpisodeHistory h = risk_history_of(dir, risk_small_marketplace(3));
  risk::TrainOptions options = tuned_options();
  options.tune = risk::TuningGrid{{2, 6}, 150, 10, 0.002, 0.2, 30};
  auto r = risk::train_risk_model(h, options);
  ASSERT_TRUE(r.is_ok()) << r.message();
  const risk::TuningReport& t = *r->tuning;
  ASSERT_EQ(t.grown_per_depth.size(), 2u);
  bool stopped_early = false;
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(t.grown_per_depth[i], std::min(150, t.best_per_depth[i].rounds + 30)) << "depth " << i;
    stopped_early |= t.grown_per_depth[i] < 150;
  }
  EXPECT_TRUE(stopped_early) << "no depth peaked 30 rounds before the end: the test shows nothing";
  const nlohmann::json doc = nlohmann::json::parse(r->model_json);
  EXPECT_EQ(doc["tuning"]["best_per_depth"][1]["grown_rounds"], t.grown_per_depth[1]);

  // Growing on would not have found a better trial of a depth before the
  // round it stopped at: the same bests as a grid that grows every depth
  // to the end, wherever that one's best lies within what was grown.
  options.tune->patience = 150;
  auto full = risk::train_risk_model(h, options);
  ASSERT_TRUE(full.is_ok()) << full.message();
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(full->tuning->grown_per_depth[i], 150);
    const risk::TuningTrial& b = full->tuning->best_per_depth[i];
    if (b.rounds <= t.grown_per_depth[i]) {
      EXPECT_EQ(b.rounds, t.best_per_depth[i].rounds) << "depth " << i;
      EXPECT_EQ(b.roc_auc, t.best_per_depth[i].roc_auc) << "depth " << i;
    }
  }
}

TEST(RiskTuning, TellsEveryStepAndStageAsItGoes) {
  TempDir dir;
  const risk::EpisodeHistory h = risk_history_of(dir, risk_small_marketplace(3));
  risk::TrainOptions options = tuned_options();
  std::vector<std::string> stages;
  options.progress = [&stages](const std::string& stage) { stages.push_back(stage); };
  auto r = risk::train_risk_model(h, options);
  ASSERT_TRUE(r.is_ok()) << r.message();
  const risk::TuningReport& t = *r->tuning;
  // One line per tuning step of each depth, in order, then the final
  // trees, the test period and the baseline.
  std::size_t i = 0;
  for (std::size_t d = 0; d < t.best_per_depth.size(); ++d) {
    for (int rounds = 10; rounds <= t.grown_per_depth[d]; rounds += 10, ++i) {
      ASSERT_LT(i, stages.size());
      EXPECT_EQ(stages[i].rfind(fmt::format("tuning on {} episodes: depth {}, {} rounds, validation ROC-AUC 0.",
                                            t.fit_episodes, t.best_per_depth[d].max_depth, rounds),
                                0),
                0u)
          << stages[i];
    }
  }
  ASSERT_EQ(stages.size(), i + 3);
  EXPECT_EQ(stages[i], fmt::format("training the trees on {} episodes: depth {}, {} rounds", r->train_episodes,
                                   t.chosen.max_depth, t.chosen.rounds));
  EXPECT_EQ(stages[i + 1], fmt::format("scoring the {} test episodes", r->test_episodes));
  EXPECT_EQ(stages[i + 2], "fitting the logistic regression baseline");
}

TEST(RiskTuning, RefusesAValidationPartWithOneLabel) {
  std::vector<risk::EpisodeRow> rows(10);
  risk::LabelledEpisodes train;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    rows[i].opened_at = static_cast<Instant>(i) * kHour;
    train.add(rows[i], i % 2 == 0 && i < 8);
  }
  auto r = risk::tune_trees(train, risk::BoosterParams{}, risk::TuningGrid{{2}, 10, 10});
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.message().find("tuning: the validation part of the training period (validation from "
                             "1970-01-01T08:00:00Z) has 2 labelled episodes, 0 unanswered"),
            std::string::npos)
      << r.message();
}

TEST(RiskTuning, TheTrainCommandTunesByDefaultUnlessTheTreesAreFixed) {
  TempDir dir;
  write_file(dir.file("events.ndjson"), risk_small_marketplace(3));
  const std::string base = "train --events " + dir.file("events.ndjson") + " --test-from " + kTuneTestFrom + " --out " +
                           dir.file("model.json");
  const CommandOutput tuned = run_ghostwatch(base);
  ASSERT_EQ(tuned.status, 0) << tuned.out;
  EXPECT_NE(tuned.out.find("depth 6: best"), std::string::npos) << tuned.out;
  EXPECT_NE(tuned.out.find("chosen: depth "), std::string::npos) << tuned.out;
  const std::string tuned_model = read_file(dir.file("model.json"));
  const nlohmann::json model = nlohmann::json::parse(tuned_model);
  EXPECT_EQ(model["tuning"]["best_per_depth"].size(), 4u);
  EXPECT_EQ(model["params"]["rounds"], model["tuning"]["chosen"]["rounds"]);
  EXPECT_EQ(model["params"]["max_depth"], model["tuning"]["chosen"]["max_depth"]);

  ASSERT_EQ(run_ghostwatch(base + " --tune").status, 0);
  EXPECT_EQ(read_file(dir.file("model.json")), tuned_model);

  const auto fixed = [&](const std::string& flags) {
    const CommandOutput out = run_ghostwatch(base + " " + flags);
    EXPECT_EQ(out.status, 0) << out.out;
    EXPECT_EQ(out.out.find("tuning"), std::string::npos) << out.out;
    const nlohmann::json m = nlohmann::json::parse(read_file(dir.file("model.json")));
    EXPECT_FALSE(m.contains("tuning"));
    return std::pair{m["params"]["rounds"].get<int>(), m["params"]["max_depth"].get<int>()};
  };
  EXPECT_EQ(fixed("--no-tune"), (std::pair{100, 3}));
  EXPECT_EQ(fixed("--rounds 20"), (std::pair{20, 3}));
  EXPECT_EQ(fixed("--max-depth 2"), (std::pair{100, 2}));
  EXPECT_EQ(fixed("--no-tune --rounds 20 --max-depth 2"), (std::pair{20, 2}));

  const CommandOutput both = run_ghostwatch(base + " --tune --rounds 50");
  EXPECT_EQ(both.status, 2);
  EXPECT_NE(both.out.find("--rounds excludes --tune"), std::string::npos) << both.out;
  const CommandOutput contrary = run_ghostwatch(base + " --tune --no-tune");
  EXPECT_EQ(contrary.status, 2);
  EXPECT_NE(contrary.out.find("excludes"), std::string::npos) << contrary.out;
}

}  // namespace
}  // namespace gw::test
