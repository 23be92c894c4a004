// Tuning the trees on a validation split inside the training period
// (`train`'s default): the choice depends on the training period alone
// (test labels flipped, the same trees), is deterministic, is the cheapest
// trial within the tolerance of the best, a part without both labels is
// refused with a message naming it, and --rounds, --max-depth or --no-tune
// fix the trees instead.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>

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
