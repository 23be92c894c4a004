// serve with a risk model (docs/risk-model.md, "Live scoring in serve"): the
// service scores every episode exactly as `replay --model` does for the same
// events (--clock events), with [segment] min_risk and risk tiers deciding
// as they do there; a restart scores every episode as before, a new model
// (at a restart, or reloaded on SIGHUP) scores only the episodes opened after
// it came in; a policy that reads risk without a model is refused at start
// and on reload, naming the key. On both store backends (bus mode:
// bus_model_test.cc).
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ghostwatch/output/record_json.h"
#include "ghostwatch/policy/policy.h"
#include "ghostwatch/replay/replay.h"
#include "ghostwatch/risk/risk_model.h"
#include "ghostwatch/server/service.h"
#include "ghostwatch/store/sqlite/sqlite_store.h"
#include "serve_risk_support.h"
#include "serve_support.h"
#include "store_backends.h"

namespace gw::test {
namespace {

constexpr const char* kServeRiskLadder = R"(
[[ladder]]
after = "24h"
action = "nudge"
template = "r1"

[[ladder]]
after = "72h"
action = "escalate"
team = "support"
)";
std::vector<std::string> serve_risk_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// What replay --model (or without a model) writes for the world's events.
struct ServeRiskOutputs {
  std::vector<std::string> episodes, decisions;
};

ServeRiskOutputs serve_risk_replay(const std::string& policy_text, const std::string& model_text) {
  const ServeRiskWorld& w = ServeRiskWorld::get();
  TempDir out;
  auto policy = parse_policy(policy_text, "policy.toml");
  EXPECT_TRUE(policy.is_ok()) << policy.message();
  std::optional<risk::RiskModel> model;
  if (!model_text.empty()) model.emplace(*risk::RiskModel::parse(model_text, "model.json"));
  ReplayOptions o;
  o.events_path = w.dir.file("events.ndjson");
  o.until = parse_rfc3339(kUntil);
  o.episodes_path = out.file("episodes.ndjson");
  o.actions_path = out.file("actions.ndjson");
  o.risk_model = model ? &*model : nullptr;
  auto stats = run_replay(*policy, o);
  EXPECT_TRUE(stats.is_ok()) << stats.message();
  return {serve_risk_lines(read_file(o.episodes_path)), serve_risk_lines(read_file(o.actions_path))};
}

class ServeRisk : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (!opener_.available()) GTEST_SKIP() << kNoPostgres;
  }

  std::unique_ptr<Service> open(const std::string& policy_text, const std::string& model_text) {
    if (!store_) store_ = opener_.open();
    auto s = Service::open(policy_text, *store_, clock_, ClockMode::kEvents, std::nullopt, model_text, "model.json");
    EXPECT_TRUE(s.is_ok()) << s.message();
    return s ? std::move(*s) : nullptr;
  }
  // Closes the store too, as a process exit would.
  void crash(std::unique_ptr<Service>& s) {
    s.reset();
    store_.reset();
  }
  void ingest(Service& s, const std::vector<std::string>& bodies) {
    for (const std::string& b : bodies) ASSERT_EQ(s.ingest(b, "").status, 200);
  }
  // The first half of `all` goes in with model A, then the service crashes:
  // returns what it showed before.
  ServeRiskOutputs first_half_then_crash(const std::vector<std::string>& all, const std::string& model_a) {
    auto s = open(kServeRiskLadder, model_a);
    ingest(*s, {all.begin(), all.begin() + static_cast<std::ptrdiff_t>(all.size() / 2)});
    ServeRiskOutputs before = outputs(*s);
    crash(s);
    return before;
  }
  // The episodes as the API shows them: the store's closed ones, then the
  // service's open ones; and the decisions.
  ServeRiskOutputs outputs(Service& s) {
    ServeRiskOutputs out;
    const auto add = [](std::vector<std::string>& to, std::string line) {
      line.pop_back();
      to.push_back(std::move(line));
    };
    EXPECT_TRUE(store_->export_episodes({}, [&](const EpisodeRow& r) {
      std::string line;
      append_episode_json(line, r.view());
      add(out.episodes, std::move(line));
    }));
    for (const EpisodeRow& r : s.open_episodes({}, std::nullopt, SIZE_MAX).value()) {
      std::string line;
      append_episode_json(line, r.view());
      add(out.episodes, std::move(line));
    }
    EXPECT_TRUE(store_->export_decisions({}, [&](const DecisionRow& r) {
      std::string line;
      append_decision_json(line, r.view());
      add(out.decisions, std::move(line));
    }));
    return out;
  }

  // Checks that each episode of `mixed` has model A's score if it opened
  // before the switch (is in `opened_before`), else model B's, that some
  // were scored by B, and that the models differ on some.
  void expect_scored_by_their_model(const ServeRiskOutputs& mixed, const ServeRiskOutputs& opened_before) {
    const ServeRiskWorld& w = ServeRiskWorld::get();
    const auto by_a = serve_risk_by_episode(serve_risk_replay(kServeRiskLadder, w.model_a).episodes);
    const auto by_b = serve_risk_by_episode(serve_risk_replay(kServeRiskLadder, w.model_b).episodes);
    const auto before = serve_risk_by_episode(opened_before.episodes);
    std::size_t scored_by_b = 0, differs = 0;
    for (const auto& [key, risk] : serve_risk_by_episode(mixed.episodes)) {
      const bool old = before.count(key) > 0;
      EXPECT_EQ(risk, (old ? by_a : by_b).at(key)) << key.first << " #" << key.second << (old ? " (A)" : " (B)");
      scored_by_b += !old;
      differs += by_a.at(key) != by_b.at(key);
    }
    EXPECT_GT(scored_by_b, 0u);
    EXPECT_GT(differs, 0u);  // the models do differ
  }

  TempDir dir_;
  StoreOpener opener_{GetParam(), dir_};
  std::unique_ptr<Store> store_;
  SystemClock clock_;
};

TEST_P(ServeRisk, ScoresEveryEpisodeAsReplayModelDoes) {
  const ServeRiskWorld& w = ServeRiskWorld::get();
  auto s = open(kServeRiskLadder, w.model_a);
  ASSERT_TRUE(s->scores_risk());
  ingest(*s, bodies(w.events, 700));
  ASSERT_TRUE(s->advance_to(*parse_rfc3339(kUntil)));
  const ServeRiskOutputs served = outputs(*s);
  const ServeRiskOutputs replayed = serve_risk_replay(kServeRiskLadder, w.model_a);
  ASSERT_GT(replayed.episodes.size(), 100u);
  EXPECT_EQ(served.episodes, replayed.episodes);  // the same records, risk included, byte for byte
  EXPECT_EQ(served.decisions, replayed.decisions);
  for (const auto& [key, risk] : serve_risk_by_episode(served.episodes)) {
    ASSERT_GE(risk, 0.0) << key.first << " #" << key.second;
  }
}

TEST_P(ServeRisk, MinRiskAndRiskTiersDecideAsInReplay) {
  const ServeRiskWorld& w = ServeRiskWorld::get();
  // Thresholds from the scores themselves: the lowest 30 % outside the
  // segment, the highest 20 % on the tier's faster ladder.
  std::vector<double> risks;
  for (const auto& [key, risk] : serve_risk_by_episode(serve_risk_replay(kServeRiskLadder, w.model_a).episodes)) {
    risks.push_back(risk);
  }
  std::sort(risks.begin(), risks.end());
  const double low = risks[risks.size() * 3 / 10], high = risks[risks.size() * 8 / 10];
  ASSERT_LT(low, high);
  const std::string policy = fmt::format(
      "[segment]\nmin_risk = {}\n{}\n[[risk_tiers]]\nmin_risk = {}\n[[risk_tiers.ladder]]\nafter = \"12h\"\n"
      "action = \"nudge\"\ntemplate = \"urgent\"\n",
      low, kServeRiskLadder, high);

  auto s = open(policy, w.model_a);
  ingest(*s, bodies(w.events, 700));
  ASSERT_TRUE(s->advance_to(*parse_rfc3339(kUntil)));
  const ServeRiskOutputs served = outputs(*s);
  const ServeRiskOutputs replayed = serve_risk_replay(policy, w.model_a);
  EXPECT_EQ(served.episodes, replayed.episodes);
  EXPECT_EQ(served.decisions, replayed.decisions);
  // Both rules were at work: episodes left out for their risk, and
  // decisions from each ladder.
  std::size_t outside = 0, urgent = 0, usual = 0;
  for (const std::string& line : served.episodes) outside += nlohmann::json::parse(line)["in_segment"] == false;
  for (const std::string& line : served.decisions) {
    const auto d = nlohmann::json::parse(line);
    (d.value("template", "") == "urgent" ? urgent : usual) += 1;
  }
  EXPECT_GT(outside, 0u);
  EXPECT_GT(urgent, 0u);
  EXPECT_GT(usual, 0u);
}

TEST_P(ServeRisk, ARestartScoresEveryEpisodeAsBefore) {
  const ServeRiskWorld& w = ServeRiskWorld::get();
  const std::vector<std::string> all = bodies(w.events, 700);
  const std::size_t half = all.size() / 2;
  const ServeRiskOutputs before = first_half_then_crash(all, w.model_a);

  auto s = open(kServeRiskLadder, w.model_a);
  EXPECT_EQ(outputs(*s).episodes, before.episodes);  // recovered with the same risk
  ingest(*s, {all.begin() + static_cast<std::ptrdiff_t>(half), all.end()});
  ASSERT_TRUE(s->advance_to(*parse_rfc3339(kUntil)));
  // The feature store was rebuilt from the log too: later episodes are
  // scored as if the service had never stopped.
  const ServeRiskOutputs replayed = serve_risk_replay(kServeRiskLadder, w.model_a);
  const ServeRiskOutputs served = outputs(*s);
  EXPECT_EQ(served.episodes, replayed.episodes);
  EXPECT_EQ(served.decisions, replayed.decisions);
}

TEST_P(ServeRisk, ANewModelScoresTheEpisodesOpenedAfterItAndRecoveryKeepsBoth) {
  const ServeRiskWorld& w = ServeRiskWorld::get();
  const std::vector<std::string> all = bodies(w.events, 700);
  const std::size_t half = all.size() / 2;
  const ServeRiskOutputs before = first_half_then_crash(all, w.model_a);

  // Restarted with model B: what model A scored keeps its score.
  auto s = open(kServeRiskLadder, w.model_b);
  EXPECT_EQ(outputs(*s).episodes, before.episodes);
  ingest(*s, {all.begin() + static_cast<std::ptrdiff_t>(half), all.end()});
  const ServeRiskOutputs mixed = outputs(*s);
  expect_scored_by_their_model(mixed, before);
  crash(s);

  // The switch is in the log: recovery scores each episode with its model.
  s = open(kServeRiskLadder, w.model_b);
  EXPECT_EQ(outputs(*s).episodes, mixed.episodes);
  crash(s);
  // Without a model: the scores given stay, and nothing new is scored.
  s = open(kServeRiskLadder, "");
  EXPECT_FALSE(s->scores_risk());
  EXPECT_EQ(outputs(*s).episodes, mixed.episodes);
  ASSERT_EQ(s->ingest(R"({"type":"contract_started","at":"2019-08-21T00:00:00Z","contract":"late","client":"k-late",)"
                      R"("freelancer":"f-late"})"
                      "\n"
                      R"({"type":"message","at":"2019-08-21T01:00:00Z","contract":"late","from":"k-late"})"
                      "\n",
                      "")
                .status,
            200);
  EpisodeQuery late;
  late.contract = "late";
  const auto open_now = s->open_episodes(late, std::nullopt, 10).value();
  ASSERT_EQ(open_now.size(), 1u);
  EXPECT_LT(open_now[0].risk, 0.0f);
}

TEST_P(ServeRisk, AModelReloadedWhileRunningScoresTheEpisodesOpenedAfterIt) {
  const ServeRiskWorld& w = ServeRiskWorld::get();
  const std::vector<std::string> all = bodies(w.events, 700);
  const auto half = static_cast<std::ptrdiff_t>(all.size() / 2);
  auto s = open(kServeRiskLadder, w.model_a);
  ingest(*s, {all.begin(), all.begin() + half});
  const ServeRiskOutputs before = outputs(*s);

  // A model that does not load changes nothing.
  EXPECT_FALSE(s->reload_model("{}", "new-model.json"));
  EXPECT_EQ(s->reload_model(w.model_a, "model.json").value(), false) << "model A is still the one in force";
  EXPECT_EQ(s->reload_model(w.model_b, "model.json").value(), true);
  ingest(*s, {all.begin() + half, all.end()});
  const ServeRiskOutputs mixed = outputs(*s);
  expect_scored_by_their_model(mixed, before);
  crash(s);
  // The switch is in the log: recovery scores each episode with its model.
  s = open(kServeRiskLadder, w.model_b);
  EXPECT_EQ(outputs(*s).episodes, mixed.episodes);
}

TEST_P(ServeRisk, AModelCannotBeReloadedIntoAServiceThatNeverScored) {
  // Without a model from the start there are no features to score with.
  auto s = open(kServeRiskLadder, "");
  ingest(*s, {bodies(ServeRiskWorld::get().events, 700).front()});
  const auto refused = s->reload_model(ServeRiskWorld::get().model_a, "model.json");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.message().find("started without a risk model"), std::string::npos) << refused.message();
  EXPECT_FALSE(s->scores_risk());
}

INSTANTIATE_TEST_SUITE_P(Backends, ServeRisk, GW_ALL_BACKENDS);

TEST(ServeRiskCli, APolicyThatReadsRiskNeedsAModelAtStartAndOnReload) {
  TempDir dir;
  const std::string config = dir.file("policy.toml");
  std::string with_min_risk = read_file(kExamplePolicy);
  with_min_risk.replace(with_min_risk.find("[segment]\n"), 10, "[segment]\nmin_risk = 0.2\n");
  write_file(config, with_min_risk);
  // Without a model, the start is refused as replay refuses it.
  const CommandOutput refused =
      run_ghostwatch("serve --config " + config + " --data " + dir.file("d0") + " --listen 127.0.0.1:0");
  EXPECT_EQ(refused.status, 2);
  EXPECT_NE(
      refused.out.find("ghostwatch serve: bad config: " + config + ": segment.min_risk: needs a risk model (--model)"),
      std::string::npos)
      << refused.out;

  // A reload to a policy with risk tiers, without a model: refused, the
  // running policy stays.
  write_file(config, read_file(kExamplePolicy));
  ServeProcess serve({"--config", config, "--data", dir.file("d1")}, dir.file("serve.log"));
  ASSERT_TRUE(serve.running()) << serve.log();
  write_file(config, read_file(kExamplePolicy) +
                         "\n[[risk_tiers]]\nmin_risk = 0.5\n[[risk_tiers.ladder]]\nafter = \"12h\"\n"
                         "action = \"nudge\"\ntemplate = \"reminder-1\"\n");
  serve.kill(SIGHUP);
  for (int i = 0; i < 200 && serve.log().find("reload refused") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(serve.log().find("risk_tiers: needs a risk model (--model)"), std::string::npos) << serve.log();
  auto campaign = serve.client().Get("/v1/campaign");
  ASSERT_TRUE(campaign);
  EXPECT_EQ(campaign->body.find("risk"), std::string::npos) << campaign->body;

  // serve --model: SIGHUP reads the model file again; a model that does not
  // load is refused, and one that does is logged as reloaded.
  write_file(config, read_file(kExamplePolicy));
  write_file(dir.file("model.json"), ServeRiskWorld::get().model_a);
  ServeProcess scoring({"--config", config, "--model", dir.file("model.json"), "--data", dir.file("d3")},
                       dir.file("scoring.log"));
  ASSERT_TRUE(scoring.running()) << scoring.log();
  write_file(dir.file("model.json"), "{\"format\":\"something else\"}");
  scoring.kill(SIGHUP);
  for (int i = 0; i < 200 && scoring.log().find("reload refused") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(scoring.log().find(dir.file("model.json")), std::string::npos) << scoring.log();
  write_file(dir.file("model.json"), ServeRiskWorld::get().model_b);
  scoring.kill(SIGHUP);
  for (int i = 0; i < 200 && scoring.log().find("risk model reloaded") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(scoring.log().find("risk model reloaded"), std::string::npos) << scoring.log();

  // A model that does not load is refused at start.
  write_file(dir.file("bad-model.json"), "{\"format\":\"something else\"}");
  const CommandOutput bad = run_ghostwatch("serve --config " + config + " --model " + dir.file("bad-model.json") +
                                           " --data " + dir.file("d2") + " --listen 127.0.0.1:0");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.out.find("bad model: " + dir.file("bad-model.json")), std::string::npos) << bad.out;
}

// A database made before serve scored risk gains the column: its episodes
// read back unscored, new ones keep their score.
TEST(ServeRiskStore, AnOldSqliteDatabaseGainsTheRiskColumn) {
  TempDir dir;
  {
    SQLite::Database old(dir.file("old.db"), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    old.exec(
        "CREATE TABLE episodes(id INTEGER PRIMARY KEY, contract TEXT NOT NULL, episode INTEGER NOT NULL, "
        "freelancer TEXT NOT NULL, client TEXT NOT NULL, arm TEXT NOT NULL, in_segment INTEGER NOT NULL, "
        "opened_at INTEGER NOT NULL, closed_at INTEGER NOT NULL, outcome TEXT NOT NULL, steps_sent INTEGER NOT "
        "NULL, has_end_reason INTEGER NOT NULL, end_reason TEXT NOT NULL, UNIQUE(contract, episode));"
        "INSERT INTO episodes VALUES(1, 'c1', 1, 'f1', 'k1', 'treatment', 1, 0, 1000, 'replied', 0, 0, '');");
  }
  auto store = SqliteStore::open(dir.file("old.db"));
  ASSERT_TRUE(store.is_ok()) << store.message();
  Batch batch;
  EpisodeRow scored;
  scored.id = 2;
  scored.contract = "c2";
  scored.episode = 1;
  scored.outcome = Outcome::kReplied;
  scored.closed_at = 2000;
  scored.risk = 0.25f;
  batch.episodes.push_back(scored);
  ASSERT_TRUE((*store)->commit(batch));
  std::vector<float> risks;
  ASSERT_TRUE((*store)->export_episodes({}, [&](const EpisodeRow& r) { risks.push_back(r.risk); }));
  EXPECT_EQ(risks, (std::vector<float>{-1.0f, 0.25f}));
}

}  // namespace
}  // namespace gw::test
