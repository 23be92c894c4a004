// `ghostwatch serve` in bus mode and `ghostwatch publish`, as processes,
// against a real nats-server and PostgreSQL: POST /v1/events answers after
// JetStream stored every message, and a simulated marketplace lands on its
// partitions.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "bus_worker_support.h"
#include "ghostwatch/bus/event_router.h"
#include "nats_server.h"
#include "pg_server.h"
#include "serve_process.h"
#include "serve_support.h"

namespace gw::test {
namespace {

constexpr const char* kBusEvents =
    R"({"type":"user","at":"2024-01-01T00:00:00Z","id":"f1","role":"freelancer","country":"IN"}
{"type":"contract_started","at":"2024-01-01T00:00:00Z","contract":"k1","client":"c1","freelancer":"f1"}
{"type":"message","at":"2024-01-01T01:00:00Z","contract":"k1","from":"c1"}
{"type":"message","at":"2024-01-01T01:00:00Z","contract":"k1","from":"x"}
)";

struct BusServers {
  std::string nats, db;
};

std::optional<BusServers> bus_servers() {
  auto nats = nats_url();
  auto db = nats ? pg_database_url() : std::nullopt;
  if (!nats || !db) return std::nullopt;
  delete_stream(*nats, "GHOSTWATCH_EVENTS");
  return BusServers{*nats, *db};
}

TEST(BusServeTest, PostEventsAnswersOnceTheLogHasStoredThem) {
  auto servers = bus_servers();
  if (!servers) GTEST_SKIP() << (nats_url() ? kNoPostgres : kNoNats);
  TempDir dir;
  // The bus from the config's [bus] section.
  write_file(dir.file("policy.toml"),
             read_file(kExamplePolicy) + "\n[bus]\nurl = \"" + servers->nats + "\"\npartitions = 4\n");
  ServeProcess serve({"--config", dir.file("policy.toml"), "--store", servers->db}, dir.file("serve.log"));
  ASSERT_GT(serve.port(), 0) << serve.log();
  EXPECT_NE(serve.log().find("bus mode"), std::string::npos) << serve.log();
  auto c = serve.client();
  auto r = c.Post("/v1/events", {{"Idempotency-Key", "b1"}}, kBusEvents, "application/x-ndjson");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->body, R"({"accepted":3,"rejected":1,"rejects":[{"line":4,"reason":"not_a_party"}]})");
  // Read right after the answer: everything is there already.
  const auto stored = read_stream(servers->nats, "GHOSTWATCH_EVENTS");
  EXPECT_EQ(stored.size(), 4u + 2);
  const std::string home = bus::subject_of(bus::partition_of("f1", 4));
  EXPECT_EQ(count_by_subject(stored)[home], 3u);

  auto again = c.Post("/v1/events", {{"Idempotency-Key", "b1"}}, kBusEvents, "application/x-ndjson");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
  EXPECT_EQ(again->get_header_value("Idempotent-Replayed"), "true");
  EXPECT_EQ(again->body, r->body);
  EXPECT_EQ(read_stream(servers->nats, "GHOSTWATCH_EVENTS").size(), 6u);
  auto reused = c.Post("/v1/events", {{"Idempotency-Key", "b1"}}, "{}\n", "application/x-ndjson");
  ASSERT_TRUE(reused);
  EXPECT_EQ(reused->status, 422);

  // The rejects are kept as in the other mode; the local engine saw nothing
  // (the workers apply the events).
  auto rejects = c.Get("/v1/rejects");
  ASSERT_TRUE(rejects);
  EXPECT_NE(rejects->body.find("not_a_party"), std::string::npos) << rejects->body;
  auto contract = c.Get("/v1/contracts/k1");
  ASSERT_TRUE(contract);
  EXPECT_EQ(contract->status, 404);
}

TEST(BusServeTest, EventsRecordedWhileTheBusFailsAreAnswered202AndReachTheWorkersByThemselves) {
  auto servers = bus_servers();
  if (!servers) GTEST_SKIP() << (nats_url() ? kNoPostgres : kNoNats);
  TempDir dir;
  write_file(dir.file("policy.toml"),
             read_file(kExamplePolicy) + "\n[bus]\nurl = \"" + servers->nats + "\"\npartitions = 4\n");
  ServeProcess serve({"--config", dir.file("policy.toml"), "--store", servers->db, "--clock", "events"},
                     dir.file("serve.log"));
  ASSERT_GT(serve.port(), 0) << serve.log();
  // The stream takes two of the six messages, then is full.
  ASSERT_TRUE(limit_stream(servers->nats, "GHOSTWATCH_EVENTS", 2));
  auto c = serve.client();
  auto r = c.Post("/v1/events", kBusEvents, "application/x-ndjson");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 202) << r->body;
  const auto answer = nlohmann::json::parse(r->body);
  EXPECT_EQ(answer.at("accepted"), 3);
  EXPECT_EQ(answer.at("published"), false);
  EXPECT_EQ(read_stream(servers->nats, "GHOSTWATCH_EVENTS").size(), 2u);

  // No request comes; the bus takes messages again: serve sends the
  // recorded ones by itself, and its worker applies them, in order.
  ASSERT_TRUE(limit_stream(servers->nats, "GHOSTWATCH_EVENTS", -1));
  ASSERT_TRUE(wait_until([&] { return read_stream(servers->nats, "GHOSTWATCH_EVENTS").size() == 6u; }, 30))
      << serve.log();
  EXPECT_NE(serve.log().find("recorded events published"), std::string::npos) << serve.log();
  ASSERT_TRUE(wait_until(
      [&] {
        auto open = c.Get("/v1/episodes?status=open");
        return open && open->body.find("\"k1\"") != std::string::npos;
      },
      30))
      << serve.log();

  // /metrics: this process's share of the log. Its worker holds the four
  // partitions and has applied the six messages, with nothing left behind.
  std::string metrics;
  auto value = [&](const std::string& name) {
    const std::size_t at = metrics.find("\n" + name + " ");
    return at == std::string::npos ? -1.0 : std::stod(metrics.substr(at + name.size() + 2));
  };
  const bool caught_up = wait_until(
      [&] {
        auto r = c.Get("/metrics");
        metrics = r ? r->body : "";
        for (int p = 0; p < 4; ++p) {
          if (value(fmt::format("ghostwatch_bus_partition_lag_messages{{partition=\"{}\"}}", p)) != 0) return false;
        }
        return value("ghostwatch_bus_messages_applied_total") == 6;
      },
      30);
  ASSERT_TRUE(caught_up) << metrics;
  EXPECT_EQ(value("ghostwatch_bus_partitions_held"), 4) << metrics;
  EXPECT_EQ(value("ghostwatch_bus_pending_messages"), 0) << metrics;
  EXPECT_GE(value("ghostwatch_bus_publish_failures_total"), 1) << metrics;
  // The four the stream refused, stored by the flusher with the two it had.
  EXPECT_EQ(value("ghostwatch_bus_messages_published_total"), 4) << metrics;
  EXPECT_EQ(value("ghostwatch_bus_duplicates_dropped_total"), 2) << metrics;
  EXPECT_GE(value("ghostwatch_bus_batch_seconds_count"), 1) << metrics;
}

TEST(BusServeTest, RefusesTheBusWithoutPostgres) {
  TempDir dir;
  const CommandOutput out = run_ghostwatch("serve --config " + kExamplePolicy + " --data " + dir.file("data") +
                                           " --listen 127.0.0.1:0 --bus nats://127.0.0.1:1");
  EXPECT_EQ(out.status, 2) << out.out;
  EXPECT_NE(out.out.find("--bus: the event log needs a PostgreSQL store (--store postgres://...)"), std::string::npos)
      << out.out;
}

// What `ghostwatch publish` must have put on each partition: computed here
// from the file and the lines replay rejected, independently of the router.
std::map<std::string, std::size_t> expected_per_partition(const std::string& path, const std::string& rejects_path,
                                                          std::uint32_t partitions, std::size_t& accepted) {
  std::set<std::size_t> rejected;
  std::istringstream rejects(read_file(rejects_path));
  for (std::string line; std::getline(rejects, line);)
    rejected.insert(nlohmann::json::parse(line)["line"].get<std::size_t>());
  std::map<std::string, std::size_t> out;
  std::map<std::string, std::string> freelancer_of;
  std::istringstream in(read_file(path));
  std::size_t number = 0;
  for (std::string line; std::getline(in, line);) {
    if (rejected.count(++number) || line.empty()) continue;
    const nlohmann::json e = nlohmann::json::parse(line);
    const std::string type = e["type"];
    if (type == "user" || type == "opt_out" || type == "opt_in") {
      for (std::uint32_t p = 0; p < partitions; ++p) ++out[bus::subject_of(p)];
      ++accepted;
    } else if (type == "contract_started") {
      freelancer_of[e["contract"]] = e["freelancer"];
      ++out[bus::subject_of(bus::partition_of(e["freelancer"].get<std::string>(), partitions))];
      ++accepted;
    } else {
      ++out[bus::subject_of(bus::partition_of(freelancer_of[e["contract"]], partitions))];
      ++accepted;
    }
  }
  return out;
}

TEST(BusServeTest, PublishLoadsASimulatedMarketplaceOntoItsPartitions) {
  auto servers = bus_servers();
  if (!servers) GTEST_SKIP() << (nats_url() ? kNoPostgres : kNoNats);
  TempDir dir;
  ASSERT_EQ(run_ghostwatch("simulate --seed 3 --freelancers 120 --clients 50 --days 10 --out " + dir.file("ev.ndjson"))
                .status,
            0);
  const std::string args = "publish --config " + kExamplePolicy + " --bus " + servers->nats + " --store " +
                           servers->db + " " + dir.file("ev.ndjson");
  const CommandOutput out = run_ghostwatch(args);
  ASSERT_EQ(out.status, 0) << out.out;
  const CommandOutput replay = run_ghostwatch("replay --config " + kExamplePolicy + " --events " +
                                              dir.file("ev.ndjson") + " --rejects " + dir.file("rejects.ndjson"));
  ASSERT_EQ(replay.status, 0) << replay.out;
  // The same lines accepted and rejected for the same reasons as replay.
  const std::string counts =
      replay.out.substr(replay.out.find(" lines,"), replay.out.find('\n') - replay.out.find(" lines,"));
  EXPECT_NE(out.out.find(counts), std::string::npos) << out.out << "\nreplay:" << replay.out;

  std::size_t accepted = 0;
  const auto expected = expected_per_partition(dir.file("ev.ndjson"), dir.file("rejects.ndjson"), 16, accepted);
  const auto stored = read_stream(servers->nats, "GHOSTWATCH_EVENTS");
  EXPECT_EQ(count_by_subject(stored), expected);
  std::uint64_t last = 0;
  for (const auto& m : stored) {
    ASSERT_GE(m.seq, last);
    last = m.seq;
  }
  EXPECT_EQ(last, accepted);

  // Publishing the same file again publishes nothing.
  const CommandOutput again = run_ghostwatch(args);
  ASSERT_EQ(again.status, 0) << again.out;
  EXPECT_NE(again.out.find(" 0 messages stored"), std::string::npos) << again.out;
  EXPECT_EQ(read_stream(servers->nats, "GHOSTWATCH_EVENTS").size(), stored.size());
}

}  // namespace
}  // namespace gw::test
