// Live scoring in replay: with a model every episode record carries the
// risk `score` gives it, [segment] min_risk keeps steps to the riskiest
// episodes, and without a model the records are exactly the spec's.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>

#include "ghostwatch/policy/policy.h"
#include "ghostwatch/replay/replay.h"
#include "ghostwatch/risk/risk_model.h"
#include "ghostwatch/risk/training.h"
#include "risk_support.h"

namespace gw::test {
namespace {

constexpr const char* kLadderOnly = R"(
[[ladder]]
after = "24h"
action = "nudge"
template = "r1"
)";

constexpr const char* kRiskLivePolicy = R"(
[segment]
min_risk = 0.3

[[ladder]]
after = "24h"
action = "nudge"
template = "r1"
)";

struct RiskLiveWorld {
  TempDir dir;
  risk::EpisodeHistory history;
  std::optional<risk::RiskModel> model;

  explicit RiskLiveWorld(int rounds = 20, int max_depth = 3) {
    write_file(dir.file("events.ndjson"), risk_small_marketplace(3));
    history = risk_history_of(dir, read_file(dir.file("events.ndjson")));
    risk::TrainOptions o;
    o.test_from = *parse_rfc3339("2019-08-14T00:00:00Z");
    o.params.rounds = rounds;
    o.params.max_depth = max_depth;
    auto report = risk::train_risk_model(history, o);
    EXPECT_TRUE(report.is_ok()) << report.message();
    write_file(dir.file("model.json"), report->model_json);
    auto m = risk::RiskModel::load(dir.file("model.json"));
    EXPECT_TRUE(m.is_ok()) << m.message();
    model.emplace(std::move(*m));
  }

  std::vector<nlohmann::json> replay(const Policy& policy, bool with_model, const std::string& what) {
    ReplayOptions options;
    options.events_path = dir.file("events.ndjson");
    options.episodes_path = dir.file("episodes.ndjson");
    options.actions_path = dir.file("actions.ndjson");
    options.risk_model = with_model ? &*model : nullptr;
    auto stats = run_replay(policy, options);
    EXPECT_TRUE(stats.is_ok()) << stats.message();
    std::vector<nlohmann::json> out;
    std::istringstream lines(read_file(dir.file(what + ".ndjson")));
    for (std::string line; std::getline(lines, line);) out.push_back(nlohmann::json::parse(line));
    return out;
  }
};

Policy risk_live_policy(const char* toml) {
  auto p = parse_policy(toml, "policy.toml");
  EXPECT_TRUE(p.is_ok()) << p.message();
  return *p;
}

// Every episode record of replay --model carries the risk `score` gives it.
void ExpectReplayScoresAsScore(RiskLiveWorld& w) {
  std::map<std::pair<std::string, std::uint32_t>, double> expected;
  std::vector<const risk::EpisodeFeatures*> rows;
  for (const risk::EpisodeRow& row : w.history.rows) rows.push_back(&row.features);
  const std::vector<double> scores = w.model->score(rows);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    expected[{w.history.rows[i].contract, w.history.rows[i].episode}] = scores[i];
  }
  const Policy policy = risk_live_policy(kLadderOnly);
  const auto episodes = w.replay(policy, true, "episodes");
  ASSERT_EQ(episodes.size(), expected.size());
  for (const nlohmann::json& e : episodes) {
    const double want = expected.at({e["contract"].get<std::string>(), e["episode"].get<std::uint32_t>()});
    ASSERT_NEAR(e["risk"].get<double>(), want, 1e-6) << e.dump();  // a float, to six decimals
  }
  for (const nlohmann::json& e : w.replay(policy, false, "episodes")) ASSERT_FALSE(e.contains("risk")) << e.dump();
}

TEST(RiskLive, EpisodesCarryTheScoreOfScore) {
  RiskLiveWorld w;
  ExpectReplayScoresAsScore(w);
}

TEST(RiskLive, AModelThatSkipsTheClientsMessagesScoresAsScore) {
  // Three stumps: replay's feature store keeps no decayed client messages.
  RiskLiveWorld w(3, 1);
  ASSERT_FALSE(w.model->reads(risk::NumericFeature::kClientMessages1h));
  ASSERT_FALSE(w.model->reads(risk::NumericFeature::kClientMessages24h));
  ExpectReplayScoresAsScore(w);
}

TEST(RiskLive, MinRiskKeepsStepsToTheRiskiest) {
  RiskLiveWorld w;
  const Policy policy = risk_live_policy(kRiskLivePolicy);
  std::map<std::pair<std::string, std::uint32_t>, double> risk;
  std::size_t below = 0;
  for (const nlohmann::json& e : w.replay(policy, true, "episodes")) {
    const double r = e["risk"].get<double>();
    risk[{e["contract"].get<std::string>(), e["episode"].get<std::uint32_t>()}] = r;
    if (r < 0.3) {
      ++below;
      EXPECT_FALSE(e["in_segment"].get<bool>()) << e.dump();
    }
  }
  EXPECT_GT(below, 0u);
  const auto decisions = w.replay(policy, true, "actions");
  EXPECT_FALSE(decisions.empty());
  for (const nlohmann::json& d : decisions) {
    EXPECT_GE(risk.at({d["contract"].get<std::string>(), d["episode"].get<std::uint32_t>()}), 0.3 - 5e-7) << d.dump();
  }
}

TEST(RiskLive, MinRiskIsAProbabilityAndNeedsAModel) {
  auto bad = parse_policy("[segment]\nmin_risk = 1.5\n" + std::string(kLadderOnly), "policy.toml");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.message().find("segment.min_risk: must be a number from 0 to 1"), std::string::npos) << bad.message();

  TempDir dir;
  write_file(dir.file("policy.toml"), kRiskLivePolicy);
  write_file(dir.file("events.ndjson"), risk_small_marketplace(3, 2));
  const CommandOutput r =
      run_ghostwatch("replay --config " + dir.file("policy.toml") + " --events " + dir.file("events.ndjson"));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("segment.min_risk: needs a risk model (--model)"), std::string::npos) << r.out;
}

constexpr const char* kRiskTierPolicy = R"(
[[ladder]]
after = "24h"
action = "nudge"
template = "r1"

[[risk_tiers]]
min_risk = 0.3

[[risk_tiers.ladder]]
after = "12h"
action = "nudge"
template = "urgent"
)";

TEST(RiskLive, TheRiskiestEpisodesFollowTheirTiersLadder) {
  RiskLiveWorld w;
  const Policy policy = risk_live_policy(kRiskTierPolicy);
  std::map<std::pair<std::string, std::uint32_t>, std::pair<double, Instant>> episodes;  // risk, opened_at
  for (const nlohmann::json& e : w.replay(policy, true, "episodes")) {
    episodes[{e["contract"].get<std::string>(), e["episode"].get<std::uint32_t>()}] = {
        e["risk"].get<double>(), *parse_rfc3339(e["opened_at"].get<std::string>())};
  }
  std::size_t urgent = 0, usual = 0;
  for (const nlohmann::json& d : w.replay(policy, true, "actions")) {
    const auto& [risk, opened_at] = episodes.at({d["contract"].get<std::string>(), d["episode"].get<std::uint32_t>()});
    const Instant at = *parse_rfc3339(d["at"].get<std::string>());
    if (risk >= 0.3) {
      ++urgent;
      EXPECT_EQ(d["template"], "urgent") << d.dump();
      EXPECT_EQ(at, opened_at + 12 * kHour) << d.dump();
    } else {
      ++usual;
      EXPECT_EQ(d["template"], "r1") << d.dump();
      EXPECT_EQ(at, opened_at + 24 * kHour) << d.dump();
    }
  }
  EXPECT_GT(urgent, 0u);
  EXPECT_GT(usual, 0u);
}

TEST(RiskLive, RiskTiersAreCheckedAndNeedAModel) {
  const auto refused = [](const std::string& tiers) {
    auto p = parse_policy(std::string(kLadderOnly) + tiers, "policy.toml");
    return p.is_ok() ? std::string() : p.message();
  };
  EXPECT_NE(refused("[[risk_tiers]]\n[[risk_tiers.ladder]]\nafter = \"1h\"\naction = \"nudge\"\ntemplate = \"x\"\n")
                .find("risk_tiers[1].min_risk: is required"),
            std::string::npos);
  EXPECT_NE(refused("[[risk_tiers]]\nmin_risk = 0.5\n").find("risk_tiers[1].ladder: at least one"), std::string::npos);
  const std::string tier = "[[risk_tiers.ladder]]\nafter = \"1h\"\naction = \"nudge\"\ntemplate = \"x\"\n";
  EXPECT_NE(refused("[[risk_tiers]]\nmin_risk = 0.5\n" + tier + "[[risk_tiers]]\nmin_risk = 0.4\n" + tier)
                .find("risk_tiers[2].min_risk: must be above risk_tiers[1].min_risk"),
            std::string::npos);
  EXPECT_EQ(refused("[[risk_tiers]]\nmin_risk = 0.5\n" + tier), "");

  TempDir dir;
  write_file(dir.file("policy.toml"), kRiskTierPolicy);
  write_file(dir.file("events.ndjson"), risk_small_marketplace(3, 2));
  const CommandOutput r =
      run_ghostwatch("replay --config " + dir.file("policy.toml") + " --events " + dir.file("events.ndjson"));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("risk_tiers: needs a risk model (--model)"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace gw::test
