// `serve --bus --model` (docs/risk-model.md, "Scoring in the event log's
// workers"): two workers apply a simulated marketplace published to the
// event log, each partition scoring its episodes as they open, under a
// policy that reads the risk ([segment] min_risk and a risk tier). The
// decisions and closed episodes, risk included, equal `replay --model
// --until` of the same events, and the dashboard's At risk (each episode
// on its tier's ladder) equals one `serve --model`'s. A new model file and
// SIGHUP switch every partition: the episodes opened after it are scored
// with the new model.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bus_worker_support.h"
#include "ghostwatch/bus/event_router.h"
#include "nats_server.h"
#include "pg_server.h"
#include "serve_risk_support.h"

namespace gw::test {
namespace {

constexpr int kModelPartitions = 4;

// `replay --model` of the world's events through kUntil: its decisions and
// episode lines.
struct ModelReplay {
  std::vector<std::string> actions, episodes;
};

ModelReplay replay_with_model(const TempDir& dir, const std::string& config, const std::string& model) {
  const ServeRiskWorld& w = ServeRiskWorld::get();
  const CommandOutput out = run_ghostwatch("replay --config " + config + " --events " + w.dir.file("events.ndjson") +
                                           " --model " + model + " --until " + kUntil + " --actions " +
                                           dir.file("actions.ndjson") + " --episodes " + dir.file("episodes.ndjson"));
  EXPECT_EQ(out.status, 0) << out.out;
  return {bodies(read_file(dir.file("actions.ndjson")), 1), bodies(read_file(dir.file("episodes.ndjson")), 1)};
}

// The example policy with [segment] min_risk = `low` and a risk tier from
// `high` on, whose ladder nudges with the template "urgent" after 12 h.
std::string policy_on_risk(double low, double high) {
  std::string text = read_file(kExamplePolicy);
  text.replace(text.find("[segment]\n"), 10, fmt::format("[segment]\nmin_risk = {}\n", low));
  return text + fmt::format(
                    "\n[[risk_tiers]]\nmin_risk = {}\n[[risk_tiers.ladder]]\nafter = \"12h\"\naction = \"nudge\"\n"
                    "template = \"urgent\"\n",
                    high);
}

// A `serve --bus --clock events --model` worker whose config is `policy`
// with a [bus] section of kModelPartitions partitions on `nats`.
class ModelWorkers {
 public:
  ModelWorkers(const TempDir& dir, const std::string& policy, const std::string& nats, const std::string& db,
               std::string model)
      : dir_(dir), config_(dir.file("worker.toml")), db_(db), model_(std::move(model)) {
    write_file(config_, policy + fmt::format("\n[bus]\nurl = \"{}\"\npartitions = {}\n", nats, kModelPartitions));
  }
  std::unique_ptr<ServeProcess> start(const std::string& id) const {
    return std::make_unique<ServeProcess>(std::vector<std::string>{"--config", config_, "--store", db_, "--clock",
                                                                   "events", "--model", model_, "--worker-id", id},
                                          dir_.file(id + ".log"));
  }
  const std::string& config() const { return config_; }

 private:
  const TempDir& dir_;
  std::string config_, db_, model_;
};

TEST(BusModelTest, WorkersScoreAndDecideAsReplayModel) {
  auto nats = nats_url();
  if (!nats) GTEST_SKIP() << kNoNats;
  auto db = pg_database_url();
  if (!db) GTEST_SKIP() << kNoPostgres;
  delete_stream(*nats, "GHOSTWATCH_EVENTS");
  const ServeRiskWorld& world = ServeRiskWorld::get();
  const std::string model = world.dir.file("model-a.json");
  TempDir dir;

  // Thresholds from the scores themselves: the lowest 30 % outside the
  // segment, the highest 20 % on the tier's ladder.
  std::vector<double> risks;
  for (const std::string& line : replay_with_model(dir, kExamplePolicy, model).episodes) {
    risks.push_back(nlohmann::json::parse(line)["risk"].get<double>());
  }
  ASSERT_GT(risks.size(), 100u);
  std::sort(risks.begin(), risks.end());
  const std::string policy = dir.file("policy.toml");
  write_file(policy, policy_on_risk(risks[risks.size() * 3 / 10], risks[risks.size() * 8 / 10]));
  const ModelReplay expected = replay_with_model(dir, policy, model);

  const ModelWorkers workers(dir, read_file(policy), *nats, *db, model);
  const std::string& config = workers.config();
  auto w1 = workers.start("w1"), w2 = workers.start("w2");
  ASSERT_TRUE(w1->running()) << w1->log();
  ASSERT_TRUE(w2->running()) << w2->log();
  const CommandOutput published =
      run_ghostwatch("publish --config " + config + " --store " + *db + " " + world.dir.file("events.ndjson"));
  ASSERT_EQ(published.status, 0) << published.out;
  for (const auto* w : {w1.get(), w2.get()}) {  // each front's At risk evaluates through its advance
    auto advanced = w->client().Post(std::string("/v1/advance?to=") + kUntil, "", "text/plain");
    ASSERT_TRUE(advanced && advanced->status == 202) << (advanced ? advanced->body : "no answer");
  }
  ASSERT_TRUE(wait_for_every_partition(*db, *nats, kModelPartitions, 300)) << w1->log() << "\n" << w2->log();

  auto c = w2->client();
  const std::vector<std::string> decisions = sorted(bodies(c.Get("/v1/decisions?format=ndjson")->body, 1));
  const std::vector<std::string> closed = sorted(bodies(c.Get("/v1/episodes?format=ndjson&status=closed")->body, 1));
  ASSERT_GT(expected.actions.size(), 100u);
  EXPECT_EQ(difference(sorted(expected.actions), decisions), "");
  EXPECT_EQ(difference(sorted(closed_only(expected.episodes)), closed), "");
  // Every episode was scored, and both rules on risk were at work.
  std::size_t outside = 0, urgent = 0;
  for (const std::string& line : closed) {
    const auto e = nlohmann::json::parse(line);
    ASSERT_TRUE(e.contains("risk")) << line;
    outside += e["in_segment"] == false;
  }
  for (const std::string& line : decisions) urgent += nlohmann::json::parse(line).value("template", "") == "urgent";
  EXPECT_GT(outside, 0u);
  EXPECT_GT(urgent, 0u);

  // At risk: one serve --model fed the same events lists the same.
  ServeProcess single({"--config", policy, "--data", dir.file("single"), "--clock", "events", "--model", model},
                      dir.file("single.log"));
  ASSERT_TRUE(single.running()) << single.log();
  for (const std::string& body : bodies(world.events, 500)) {
    auto r = single.client().Post("/v1/events", body, kNdjson);
    ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
  }
  auto advanced = single.client().Post(std::string("/v1/advance?to=") + kUntil, "", "text/plain");
  ASSERT_TRUE(advanced && advanced->status == 200);
  const std::string at_risk = single.client().Get("/v1/at-risk?sort=risk&limit=1000")->body;
  std::size_t on_tier = 0;  // the tier's ladder escalates to no team
  const nlohmann::json listed = nlohmann::json::parse(at_risk);
  for (const auto& item : listed["items"]) {
    on_tier += item["in_segment"] == true && item["team"].is_null();
  }
  EXPECT_GT(on_tier, 0u) << at_risk;
  EXPECT_EQ(w1->client().Get("/v1/at-risk?sort=risk&limit=1000")->body, at_risk);
  EXPECT_EQ(w2->client().Get("/v1/at-risk?sort=risk&limit=1000")->body, at_risk);
}

TEST(BusModelTest, SighupReloadsTheModelInEveryPartition) {
  auto nats = nats_url();
  if (!nats) GTEST_SKIP() << kNoNats;
  auto db = pg_database_url();
  if (!db) GTEST_SKIP() << kNoPostgres;
  delete_stream(*nats, "GHOSTWATCH_EVENTS");
  const ServeRiskWorld& world = ServeRiskWorld::get();
  TempDir dir;
  const std::string model = dir.file("model.json");
  write_file(model, world.model_a);
  write_file(dir.file("model-b.json"), world.model_b);
  const std::vector<std::string> lines = bodies(world.events, 1);
  std::string first_half, second_half;
  for (std::size_t i = 0; i < lines.size(); ++i) (i < lines.size() / 2 ? first_half : second_half) += lines[i];
  write_file(dir.file("first.ndjson"), first_half);
  write_file(dir.file("second.ndjson"), second_half);

  const ModelWorkers workers(dir, read_file(kExamplePolicy), *nats, *db, model);
  const std::string& config = workers.config();
  auto w1 = workers.start("w1"), w2 = workers.start("w2");
  ASSERT_TRUE(w1->running()) << w1->log();
  ASSERT_TRUE(w2->running()) << w2->log();
  auto publish = [&](const std::string& file) {
    const CommandOutput out = run_ghostwatch("publish --config " + config + " --store " + *db + " " + file);
    ASSERT_EQ(out.status, 0) << out.out;
  };
  // Every partition has committed the stream up to its last message.
  auto applied_all = [&] {
    std::map<std::string, std::uint64_t> last;
    for (const StoredMessage& m : read_stream(*nats, "GHOSTWATCH_EVENTS")) last[m.subject] = m.stream_seq;
    for (std::uint32_t p = 0; p < kModelPartitions; ++p) {
      if (sql_count(*db, fmt::format("SELECT COUNT(*) FROM partition_positions WHERE partition = {} AND stream_seq "
                                     ">= {}",
                                     p, last[bus::subject_of(p)])) != 1) {
        return false;
      }
    }
    return true;
  };
  publish(dir.file("first.ndjson"));
  ASSERT_TRUE(wait_until(applied_all, 120)) << w1->log() << "\n" << w2->log();

  // Model B in the file; every worker gets SIGHUP; each partition switches
  // (logged in its operation log, as recovery reads it; a partition that
  // moved meanwhile starts under model B).
  write_file(model, world.model_b);
  w1->kill(SIGHUP);
  w2->kill(SIGHUP);
  auto switched = [&] {
    pqxx::connection c(*db);
    pqxx::nontransaction tx(c);
    return tx.exec_params1(
                 "SELECT COUNT(DISTINCT partition) FROM log WHERE partition >= 0 AND kind = $1 AND lines = "
                 "$2",
                 static_cast<int>(LogKind::kModel), world.model_b)[0]
               .as<int>() == kModelPartitions;
  };
  ASSERT_TRUE(wait_until(switched, 60)) << w1->log() << "\n" << w2->log();
  publish(dir.file("second.ndjson"));
  auto advanced = w1->client().Post(std::string("/v1/advance?to=") + kUntil, "", "text/plain");
  ASSERT_TRUE(advanced && advanced->status == 202) << (advanced ? advanced->body : "no answer");
  ASSERT_TRUE(wait_for_every_partition(*db, *nats, kModelPartitions, 300)) << w1->log() << "\n" << w2->log();

  // Episodes opened in the first half keep model A's score, later ones get B's.
  const CommandOutput first =
      run_ghostwatch(std::string("replay --config ") + kExamplePolicy + " --events " + dir.file("first.ndjson") +
                     " --episodes " + dir.file("first-episodes.ndjson"));
  ASSERT_EQ(first.status, 0) << first.out;
  const auto opened_first = serve_risk_by_episode(bodies(read_file(dir.file("first-episodes.ndjson")), 1));
  const auto by_a =
      serve_risk_by_episode(replay_with_model(dir, kExamplePolicy, world.dir.file("model-a.json")).episodes);
  const auto by_b = serve_risk_by_episode(replay_with_model(dir, kExamplePolicy, dir.file("model-b.json")).episodes);
  ASSERT_GT(opened_first.size(), 10u);
  std::size_t scored_by_b = 0;
  for (const auto& [key, risk] :
       serve_risk_by_episode(bodies(w2->client().Get("/v1/episodes?format=ndjson")->body, 1))) {
    const bool old = opened_first.count(key) > 0;
    EXPECT_EQ(risk, (old ? by_a : by_b).at(key)) << key.first << " #" << key.second << (old ? " (A)" : " (B)");
    scored_by_b += !old;
  }
  EXPECT_GT(scored_by_b, 10u);
}

}  // namespace
}  // namespace gw::test
