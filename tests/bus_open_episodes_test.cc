// Open episodes in bus mode (docs/operations.md, "Workers"): two `serve
// --store postgres://... --bus nats://... --clock events` workers apply a
// simulated marketplace, and the API of either one lists every episode,
// open and closed, as `replay --until` of the same events writes them;
// killing a worker, whose partitions the other takes over and applies on,
// neither duplicates nor loses an open episode.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <thread>

#include "ghostwatch/bus/event_router.h"
#include "nats_server.h"
#include "pg_server.h"
#include "serve_process.h"
#include "serve_support.h"

namespace gw::test {
namespace {

constexpr int kOpenTestPartitions = 4;

struct OpenEpisodesRun {
  std::string nats, db;
  std::string dir;  // a TempDir's path, the test's
  std::string policy, events;
  std::vector<std::string> replay_episodes;  // replay's lines, in its order
  std::vector<std::string> replay_open;      // its open ones (by contract id bytes)

  std::unique_ptr<ServeProcess> worker(const std::string& id) const {
    return std::make_unique<ServeProcess>(std::vector<std::string>{"--config", policy, "--store", db, "--bus", nats,
                                                                   "--clock", "events", "--worker-id", id},
                                          dir + "/" + id + ".log");
  }
  CommandOutput publish(const std::string& file) const {
    return run_ghostwatch("publish --config " + policy + " --bus " + nats + " --store " + db + " " + file);
  }
};

// Servers, events in `dir` and replay's answer; nullopt (skip) without the
// servers.
std::optional<OpenEpisodesRun> open_episodes_run(const TempDir& dir, int seed) {
  auto nats = nats_url();
  auto db = nats ? pg_database_url() : std::nullopt;
  if (!nats || !db) return std::nullopt;
  delete_stream(*nats, "GHOSTWATCH_EVENTS");
  OpenEpisodesRun run;
  run.nats = *nats;
  run.db = *db;
  run.dir = dir.path();
  run.policy = dir.file("policy.toml");
  write_file(run.policy,
             read_file(kExamplePolicy) + "\n[bus]\npartitions = " + std::to_string(kOpenTestPartitions) + "\n");
  run.events = dir.file("events.ndjson");
  simulate(run.events, seed, 120, 50, 12);
  const std::string episodes = dir.file("episodes.ndjson");
  EXPECT_EQ(run_command(std::string(GHOSTWATCH_BINARY) + " replay --config " + run.policy + " --events " + run.events +
                        " --until " + kUntil + " --episodes " + episodes + " 2>/dev/null"),
            0);
  run.replay_episodes = bodies(read_file(episodes), 1);
  for (const std::string& line : run.replay_episodes) {
    if (line.find("\"outcome\":\"open\"") != std::string::npos) run.replay_open.push_back(line);
  }
  return run;
}

std::vector<std::string> sorted_records(std::vector<std::string> lines) {
  std::sort(lines.begin(), lines.end());
  return lines;
}

std::int64_t open_test_sql(const std::string& db, const std::string& query) {
  pqxx::connection c(db);
  pqxx::nontransaction tx(c);
  return tx.exec1(query)[0].as<std::int64_t>();
}

// Waits until every partition has committed the last message the stream
// holds for it (the advance, which goes to every partition).
bool partitions_reach_stream_end(const OpenEpisodesRun& run, int seconds) {
  std::map<std::string, std::uint64_t> last;
  for (const StoredMessage& m : read_stream(run.nats, "GHOSTWATCH_EVENTS")) last[m.subject] = m.stream_seq;
  if (last.size() != static_cast<std::size_t>(kOpenTestPartitions)) return false;
  std::string cases;
  for (int p = 0; p < kOpenTestPartitions; ++p) {
    cases += fmt::format(" OR (partition = {} AND stream_seq = {})", p,
                         last[bus::subject_of(static_cast<std::uint32_t>(p))]);
  }
  const std::string query = "SELECT COUNT(*) FROM partition_positions WHERE false" + cases;
  for (int i = 0; i < seconds * 10; ++i) {
    if (open_test_sql(run.db, query) == kOpenTestPartitions) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

void advance_to_the_end(const ServeProcess& worker) {
  auto advanced = worker.client().Post(std::string("/v1/advance?to=") + kUntil, "", "text/plain");
  ASSERT_TRUE(advanced);
  ASSERT_EQ(advanced->status, 202) << advanced->body;
}

// The contracts of `?status=open`, page by page.
std::vector<std::string> listed_open_contracts(const ServeProcess& worker) {
  std::vector<std::string> out;
  std::string after;
  for (int page = 0; page < 1000; ++page) {
    auto r = worker.client().Get("/v1/episodes?status=open&limit=7" + (after.empty() ? "" : "&after=" + after));
    EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
    if (!r || r->status != 200) break;
    const auto body = nlohmann::json::parse(r->body);
    for (const auto& item : body["items"]) {
      EXPECT_EQ(item["outcome"], "open");
      out.push_back(item["contract"]);
    }
    if (body["next_after"].is_null()) break;
    after = httplib::detail::encode_query_param(body["next_after"].get<std::string>());
  }
  return out;
}

std::vector<std::string> contracts_of(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (const std::string& line : lines) out.push_back(nlohmann::json::parse(line)["contract"]);
  return out;
}

// What a worker's API says of the episodes, checked against replay's.
void expect_api_equals_replay(const OpenEpisodesRun& run, const ServeProcess& worker, const std::string& name) {
  SCOPED_TRACE(name);
  auto c = worker.client();
  auto all = c.Get("/v1/episodes?format=ndjson");
  ASSERT_TRUE(all && all->status == 200);
  EXPECT_EQ(sorted_records(bodies(all->body, 1)), sorted_records(run.replay_episodes));
  auto open = c.Get("/v1/episodes?format=ndjson&status=open");
  ASSERT_TRUE(open && open->status == 200);
  EXPECT_EQ(bodies(open->body, 1), run.replay_open) << "the open ones in replay's order";
  EXPECT_EQ(listed_open_contracts(worker), contracts_of(run.replay_open));
  auto metrics = c.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find(fmt::format("\nghostwatch_open_episodes {}\n", run.replay_open.size())),
            std::string::npos)
      << metrics->body.substr(0, 2000);
}

TEST(BusOpenEpisodesTest, EitherWorkerListsTheEpisodesOneReplayWrites) {
  TempDir dir;
  auto run = open_episodes_run(dir, 17);
  if (!run) GTEST_SKIP() << (nats_url() ? kNoPostgres : kNoNats);
  ASSERT_GT(run->replay_open.size(), 10u) << "the marketplace must leave episodes open";
  ASSERT_GT(run->replay_episodes.size(), run->replay_open.size() + 100);
  auto w1 = run->worker("w1");
  auto w2 = run->worker("w2");
  ASSERT_TRUE(w1->running() && w2->running()) << w1->log() << w2->log();

  const CommandOutput published = run->publish(run->events);
  ASSERT_EQ(published.status, 0) << published.out;
  advance_to_the_end(*w1);
  ASSERT_TRUE(partitions_reach_stream_end(*run, 120)) << w1->log() << w2->log();

  expect_api_equals_replay(*run, *w1, "w1");
  expect_api_equals_replay(*run, *w2, "w2");
  // The dashboard's At risk and overview count every one of them.
  auto at_risk = w2->client().Get("/v1/at-risk?limit=1");
  ASSERT_TRUE(at_risk && at_risk->status == 200)
      << (at_risk ? at_risk->body : "no answer: " + httplib::to_string(at_risk.error())) << "\n"
      << w2->log();
  EXPECT_EQ(nlohmann::json::parse(at_risk->body)["total"], run->replay_open.size()) << at_risk->body;
  auto overview = w1->client().Get("/v1/overview");
  ASSERT_TRUE(overview && overview->status == 200)
      << (overview ? overview->body : "no answer: " + httplib::to_string(overview.error())) << "\n"
      << w1->log();
  const auto o = nlohmann::json::parse(overview->body);
  EXPECT_EQ(o["open_episodes"], run->replay_open.size());
  // Its reply rates count the closed in-segment episodes only.
  std::size_t closed_in_segment = 0;
  for (const std::string& line : run->replay_episodes) {
    const auto e = nlohmann::json::parse(line);
    closed_in_segment += e["outcome"] != "open" && e["in_segment"] == true;
  }
  const auto& all = o["reply_rates"]["all"];
  EXPECT_EQ(all["treatment"]["closed"].get<std::size_t>() + all["control"]["closed"].get<std::size_t>(),
            closed_in_segment)
      << overview->body;
}

TEST(BusOpenEpisodesTest, AKilledWorkersPartitionsKeepTheirOpenEpisodesOnceEach) {
  TempDir dir;
  auto run = open_episodes_run(dir, 23);
  if (!run) GTEST_SKIP() << (nats_url() ? kNoPostgres : kNoNats);
  ASSERT_GT(run->replay_open.size(), 10u);
  // The events in two halves: the second is published as w2 dies.
  const std::vector<std::string> lines = bodies(read_file(run->events), 1);
  std::string first, second;
  for (std::size_t i = 0; i < lines.size(); ++i) (i < lines.size() / 2 ? first : second) += lines[i];
  write_file(dir.file("first.ndjson"), first);
  write_file(dir.file("second.ndjson"), second);

  auto w1 = run->worker("w1");
  auto w2 = run->worker("w2");
  ASSERT_TRUE(w1->running() && w2->running());
  bool shared = false;
  for (int i = 0; i < 300 && !shared; ++i) {
    shared = open_test_sql(run->db, "SELECT COUNT(*) FROM workers WHERE partitions <> ''") == 2;
    if (!shared) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(shared) << "both workers must hold partitions before one dies\n" << w1->log() << w2->log();

  ASSERT_EQ(run->publish(dir.file("first.ndjson")).status, 0);
  ASSERT_TRUE(partitions_reach_stream_end(*run, 120)) << w1->log() << w2->log();
  ASSERT_GT(open_test_sql(run->db, "SELECT COUNT(*) FROM open_episodes"), 0);

  const CommandOutput published = run->publish(dir.file("second.ndjson"));
  w2->kill(SIGKILL);
  w2->wait();
  ASSERT_EQ(published.status, 0) << published.out;
  advance_to_the_end(*w1);
  // w2's partitions reach the end only once w1 took them over.
  ASSERT_TRUE(partitions_reach_stream_end(*run, 120)) << w1->log();

  expect_api_equals_replay(*run, *w1, "w1 after the takeover");
  EXPECT_EQ(open_test_sql(run->db, "SELECT COUNT(*) FROM open_episodes"),
            static_cast<std::int64_t>(run->replay_open.size()));
  // A restarted worker replaces its partitions' rows with what its engine
  // holds: the same.
  auto w3 = run->worker("w3");
  ASSERT_TRUE(w3->running());
  bool taken = false;
  for (int i = 0; i < 300 && !taken; ++i) {
    taken = open_test_sql(run->db, "SELECT COUNT(*) FROM workers WHERE id = 'w3' AND partitions <> ''") == 1;
    if (!taken) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(taken) << w3->log();
  expect_api_equals_replay(*run, *w3, "w3 after taking partitions");
}

}  // namespace
}  // namespace gw::test
