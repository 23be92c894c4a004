// Issue #9's fault test: three `serve --store postgres://... --bus nats://...`
// workers apply a simulated marketplace published to a three-node JetStream
// cluster (the stream replicated three times) while one worker is killed
// with SIGKILL and one NATS node is stopped and restarted. The decisions
// and closed episodes in PostgreSQL must equal `replay --until` of the same
// events, each exactly once, and the SMTP sink must receive every sent nudge
// exactly once (the killed worker is one that does not deliver: a kill of
// the delivering worker between the SMTP server's acceptance and its record
// resends under the same Message-ID, as in one process).
//
// Size: GHOSTWATCH_FAULT_FREELANCERS (default 400) freelancers over 60 days;
// 12500 makes it a million events (docs/operations.md, "The fault test").
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <map>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <thread>

#include "bus_worker_support.h"
#include "mail_support.h"
#include "nats_server.h"
#include "pg_server.h"
#include "serve_support.h"
#include "smtp_sink.h"

namespace gw::test {
namespace {

constexpr int kPartitions = 8;

TEST(ClusterFault, WorkersKilledAndANatsNodeRestartedDecideExactlyWhatReplayDecides) {
  if (!nats_installed()) GTEST_SKIP() << kNoNats;
  if (!have_aiosmtpd()) GTEST_SKIP() << kPython << " has no aiosmtpd module: apt-get install python3-aiosmtpd";
  const auto db = pg_database_url();
  if (!db) GTEST_SKIP() << kNoPostgres;
  NatsCluster nats;
  ASSERT_FALSE(nats.url().empty()) << "the three-node JetStream cluster did not form";
  SmtpSink sink;
  ASSERT_TRUE(sink.ready()) << sink.log();
  TempDir dir;

  const char* size = std::getenv("GHOSTWATCH_FAULT_FREELANCERS");
  const int freelancers = size != nullptr ? std::atoi(size) : 400;
  const std::string events = dir.file("events.ndjson");
  simulate(events, 41, freelancers, freelancers / 2, 60);
  const std::string policy = dir.file("policy.toml");
  write_file(policy, example_policy_with_mail(sink.url()) + "\n[bus]\npartitions = " + std::to_string(kPartitions) +
                         "\nreplicas = 3\n");
  const std::string cmd = std::string(GHOSTWATCH_BINARY) + " replay --config " + policy + " --events " + events +
                          " --until " + kUntil + " --actions " + dir.file("actions.ndjson") + " --episodes " +
                          dir.file("episodes.ndjson") + " 2>/dev/null";
  ASSERT_EQ(run_command(cmd), 0) << cmd;
  const std::vector<std::string> expected_actions = sorted(bodies(read_file(dir.file("actions.ndjson")), 1));
  const std::vector<std::string> expected_closed =
      sorted(closed_only(bodies(read_file(dir.file("episodes.ndjson")), 1)));
  std::map<std::string, int> nudges;  // Message-ID -> copies received
  for (const std::string& line : expected_actions) {
    const auto d = nlohmann::json::parse(line);
    if (d["action"] == "nudge" && d["status"] == "sent") {
      nudges[message_id_of({d["contract"], d["episode"], d["step"], d["freelancer"]})] = 0;
    }
  }
  ASSERT_GT(nudges.size(), 100u);

  const std::vector<std::string> env = {std::string(kSampleMailKeyEnv) + "=" + kSampleMailKey};
  auto worker = [&](const std::string& id) {
    return std::make_unique<ServeProcess>(std::vector<std::string>{"--config", policy, "--store", *db, "--bus",
                                                                   nats.url(), "--clock", "events", "--worker-id", id},
                                          dir.file(id + ".log"), env);
  };
  std::map<std::string, std::unique_ptr<ServeProcess>> workers;
  for (const char* id : {"w1", "w2", "w3"}) {
    workers[id] = worker(id);
    ASSERT_TRUE(workers[id]->running()) << workers[id]->log();
  }

  CommandOutput publish;
  std::thread publisher([&] {
    publish = run_ghostwatch("publish --config " + policy + " --bus " + nats.url() + " --store " + *db + " " + events);
  });
  const std::int64_t lines = static_cast<std::int64_t>(bodies(read_file(events), 1).size());
  // Log entries the partitions applied (a user event counts once per partition).
  auto applied = [&] { return sql_count(*db, "SELECT COALESCE(SUM(entries), 0) FROM log WHERE partition >= 0"); };

  // A third of the way in, SIGKILL a worker that does not deliver.
  ASSERT_TRUE(wait_until([&] { return applied() > lines / 3; }, std::max<int>(300, static_cast<int>(lines / 1000))))
      << workers["w1"]->log();
  std::string victim;
  {
    pqxx::connection c(*db);
    pqxx::nontransaction tx(c);
    victim = tx.exec1("SELECT id FROM workers WHERE NOT delivery AND partitions <> '' ORDER BY id LIMIT 1")[0]
                 .as<std::string>();
  }
  workers[victim]->kill(SIGKILL);
  workers[victim]->wait();
  // Then stop a NATS node for a few seconds while the others go on.
  nats.stop(1);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  ASSERT_TRUE(nats.restart(1));
  publisher.join();
  ASSERT_EQ(publish.status, 0) << publish.out;
  // The killed worker comes back, and takes its share again.
  workers[victim] = worker(victim);

  ServeProcess& any = *workers[victim == "w1" ? "w2" : "w1"];
  auto advanced = any.client().Post(std::string("/v1/advance?to=") + kUntil, "", "text/plain");
  ASSERT_TRUE(advanced && advanced->status == 202) << (advanced ? advanced->body : "no answer") << "\nw1:\n"
                                                   << read_file(dir.file("w1.log")) << "\nw2:\n"
                                                   << workers["w2"]->log() << "\nw3:\n"
                                                   << workers["w3"]->log();
  // Every partition has applied its last message (the advance).
  ASSERT_TRUE(wait_for_every_partition(*db, nats.url(), kPartitions, std::max<int>(600, static_cast<int>(lines / 500))))
      << "partitions did not reach the end of the log; w1: " << workers["w1"]->log().substr(0, 4000);
  // One SMTP sink takes some tens of e-mails a second on a busy machine.
  const int mail_seconds = std::max<int>(300, static_cast<int>(nudges.size() / 10));
  ASSERT_TRUE(wait_until(
      [&] { return sql_count(*db, "SELECT COUNT(*) FROM outbox WHERE state = 'pending' AND channel = 'email'") == 0; },
      mail_seconds));

  auto c = any.client();
  EXPECT_EQ(difference(expected_actions, sorted(bodies(c.Get("/v1/decisions?format=ndjson")->body, 1))), "");
  EXPECT_EQ(difference(expected_closed, sorted(bodies(c.Get("/v1/episodes?format=ndjson&status=closed")->body, 1))),
            "");

  for (const std::string& bytes : sink.delivered()) {
    const ParsedMail m = parse_mail(bytes);
    ASSERT_TRUE(m.ok);
    auto it = nudges.find(m.message_id);
    ASSERT_NE(it, nudges.end()) << "an e-mail replay did not decide: " << m.message_id;
    ++it->second;
  }
  std::size_t once = 0;
  for (const auto& [id, copies] : nudges) {
    EXPECT_EQ(copies, 1) << id;
    once += copies == 1 ? 1 : 0;
  }
  EXPECT_EQ(once, nudges.size());
  // The partitions moved: the survivors recovered the killed worker's.
  EXPECT_GT(sql_count(*db, "SELECT MAX(epoch) FROM partition_positions"), 1);
  std::size_t lost = 0;
  for (const char* id : {"w1", "w2", "w3"}) {
    const std::string log = read_file(dir.file(std::string(id) + ".log"));
    for (std::size_t at = log.find("was lost on its way"); at != std::string::npos;
         at = log.find("was lost on its way", at + 1)) {
      ++lost;
    }
  }
  RecordProperty("deliveries_lost_and_refetched", static_cast<int>(lost));
  std::printf("deliveries lost in transit and fetched again: %zu\n", lost);
}

}  // namespace
}  // namespace gw::test
