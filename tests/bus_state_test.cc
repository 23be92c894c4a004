// Contracts, users and the dashboard's At risk in bus mode
// (docs/operations.md, "Workers"): two `serve --store postgres://...
// --bus nats://... --clock events` workers apply a simulated marketplace,
// and the API of either one answers GET /v1/contracts/{id}, GET
// /v1/users/{id} and GET /v1/at-risk as one `serve` fed the same events
// does (but for the ids the store gives episodes and decisions), with the
// same "now" in the overview, also on a worker that never published an
// advance.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "bus_worker_support.h"
#include "nats_server.h"
#include "pg_server.h"
#include "serve_process.h"

namespace gw::test {
namespace {

constexpr int kStatePartitions = 4;

// The contracts and users a log's lines name (rejected ones too), each once.
std::pair<std::set<std::string>, std::set<std::string>> state_ids(const std::string& events) {
  std::set<std::string> contracts, users;
  for (const std::string& line : bodies(events, 1)) {
    const auto e = nlohmann::json::parse(line, nullptr, false);
    if (!e.is_object() || !e.contains("type")) continue;
    if (e.contains("contract") && e["contract"].is_string()) contracts.insert(e["contract"].get<std::string>());
    for (const char* field : {"id", "user", "client", "freelancer"}) {
      if (e.contains(field) && e[field].is_string() && e["type"] != "message") {
        users.insert(e[field].get<std::string>());
      }
    }
  }
  return {contracts, users};
}

void post_state_events(const ServeProcess& serve, const std::vector<std::string>& parts) {
  auto c = serve.client();
  for (const std::string& body : parts) {
    auto r = c.Post("/v1/events", body, kNdjson);
    ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
  }
}

void advance_state(const ServeProcess& serve, int status) {
  auto r = serve.client().Post(std::string("/v1/advance?to=") + kUntil, "", "text/plain");
  ASSERT_TRUE(r && r->status == status) << (r ? r->body : "no answer");
}

// GET `path`'s status and JSON body (null when it has none).
std::pair<int, nlohmann::json> get_json(const ServeProcess& serve, const std::string& path) {
  auto r = serve.client().Get(path);
  if (!r) return {-1, nullptr};
  return {r->status, nlohmann::json::parse(r->body, nullptr, false)};
}

// A contract's answer without the ids its episodes and decisions have in
// the store (the workers' come from shared sequences).
nlohmann::json without_ids(nlohmann::json contract) {
  for (const char* list : {"episodes", "decisions"}) {
    if (!contract.contains(list)) continue;  // an error
    for (auto& item : contract[list]) item.erase("id");
  }
  return contract;
}

TEST(BusStateTest, EitherWorkerAnswersContractsUsersAndAtRiskAsOneServe) {
  auto nats = nats_url();
  auto db = nats ? pg_database_url() : std::nullopt;
  if (!nats || !db) GTEST_SKIP() << (nats ? kNoPostgres : kNoNats);
  delete_stream(*nats, "GHOSTWATCH_EVENTS");
  TempDir dir;
  simulate(dir.file("events.ndjson"), 41, 120, 50, 12);
  const std::vector<std::string> parts = bodies(read_file(dir.file("events.ndjson")), 500);
  const auto [contracts, users] = state_ids(read_file(dir.file("events.ndjson")));

  ServeProcess single({"--config", kExamplePolicy, "--data", dir.file("single"), "--clock", "events"},
                      dir.file("single.log"));
  ASSERT_TRUE(single.running()) << single.log();
  post_state_events(single, parts);
  advance_state(single, 200);

  const std::string config = dir.file("worker.toml");
  write_file(config, read_file(kExamplePolicy) + "\n[bus]\npartitions = " + std::to_string(kStatePartitions) + "\n");
  auto worker = [&](const std::string& id) {
    return std::make_unique<ServeProcess>(std::vector<std::string>{"--config", config, "--store", *db, "--bus", *nats,
                                                                   "--clock", "events", "--worker-id", id},
                                          dir.file(id + ".log"));
  };
  auto w1 = worker("w1");
  auto w2 = worker("w2");
  ASSERT_TRUE(w1->running() && w2->running()) << w1->log() << w2->log();
  post_state_events(*w1, parts);
  // Only w1 publishes the advance: w2's dashboard knows "now" from the
  // partitions' committed event time.
  advance_state(*w1, 202);
  ASSERT_TRUE(wait_for_every_partition(*db, *nats, kStatePartitions, 300)) << w1->log() << w2->log();
  const nlohmann::json single_overview = get_json(single, "/v1/overview").second;
  ASSERT_FALSE(single_overview["now"].is_null());

  for (const ServeProcess* w : {w1.get(), w2.get()}) {
    SCOPED_TRACE(w == w1.get() ? "w1" : "w2");
    std::size_t open = 0, found = 0;
    for (const std::string& id : contracts) {
      const std::string path = "/v1/contracts/" + httplib::detail::encode_query_param(id);
      const auto [status, expected] = get_json(single, path);
      const auto [got_status, got] = get_json(*w, path);
      EXPECT_EQ(got_status, status) << id << ": " << got.dump();
      EXPECT_EQ(without_ids(got), without_ids(expected)) << id;
      open += status == 200 && !expected["open_episode"].is_null();
    }
    EXPECT_GT(open, 10u) << "the marketplace must leave episodes open";
    for (const std::string& id : users) {
      const std::string path = "/v1/users/" + httplib::detail::encode_query_param(id);
      const auto expected = get_json(single, path);
      EXPECT_EQ(get_json(*w, path), expected) << id;
      found += expected.first == 200;
    }
    EXPECT_GT(found, 100u);
    const nlohmann::json overview = get_json(*w, "/v1/overview").second;
    EXPECT_EQ(overview["contracts"], single_overview["contracts"]);
    EXPECT_EQ(overview["now"], single_overview["now"]);
    EXPECT_GT(overview["contracts"].get<std::size_t>(), contracts.size() * 9 / 10) << "the partitions' rows";
    EXPECT_EQ(get_json(*w, "/v1/contracts/nobody").first, 404);
    EXPECT_EQ(get_json(*w, "/v1/users/nobody").first, 404);
    for (const char* query : {"?limit=1000", "?limit=5&arm=control", "?country=IN"}) {
      const auto expected = get_json(single, std::string("/v1/at-risk") + query);
      ASSERT_EQ(expected.first, 200) << query;
      EXPECT_EQ(get_json(*w, std::string("/v1/at-risk") + query), expected) << query;
    }
  }
  // The At risk items carry the freelancers' countries and zones.
  const nlohmann::json at_risk = get_json(*w2, "/v1/at-risk?limit=1000").second;
  ASSERT_GT(at_risk["items"].size(), 10u);
  std::size_t placed = 0;
  for (const auto& item : at_risk["items"]) placed += !item["country"].is_null() && !item["tz"].is_null();
  EXPECT_GT(placed, at_risk["items"].size() / 2) << at_risk.dump();

  // A worker started afterwards, which published nothing, has the same "now".
  w1.reset();
  auto w3 = worker("w3");
  ASSERT_TRUE(w3->running()) << w3->log();
  EXPECT_EQ(get_json(*w3, "/v1/overview").second["now"], single_overview["now"]);
}

}  // namespace
}  // namespace gw::test
