// The publish side of the event log against a real nats-server and a real
// PostgreSQL (tests/nats_server.h, tests/pg_server.h): routing, headers,
// idempotent retries, and replay's rejects.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <thread>

#include "ghostwatch/bus/bus_config.h"
#include "ghostwatch/bus/event_publisher.h"
#include "ghostwatch/bus/event_router.h"
#include "ghostwatch/core/clock.h"
#include "nats_server.h"
#include "pg_server.h"
#include "serve_support.h"

namespace gw::test {
namespace {

class FixedBusClock final : public Clock {
 public:
  Instant now() const override { return 1'700'000'000'000; }
};

// A publisher on a fresh database and an empty stream, or a skip.
class BusPublishTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto url = nats_url();
    if (!url) GTEST_SKIP() << kNoNats;
    auto db = pg_database_url();
    if (!db) GTEST_SKIP() << kNoPostgres;
    nats_ = *url;
    db_ = *db;
    delete_stream(nats_, "GHOSTWATCH_EVENTS");
    settings_.url = nats_;
    settings_.partitions = 4;
    auto opened = bus::EventPublisher::open(settings_, db_, clock_);
    ASSERT_TRUE(opened) << opened.message();
    publisher_ = std::move(*opened);
  }
  std::vector<StoredMessage> stream() const { return read_stream(nats_, "GHOSTWATCH_EVENTS"); }

  std::string nats_, db_;
  bus::BusSettings settings_;
  FixedBusClock clock_;
  std::unique_ptr<bus::EventPublisher> publisher_;
};

constexpr const char* kMarketplace =
    R"({"type":"user","at":"2023-12-31T23:00:00Z","id":"f1","role":"freelancer","country":"IN"}
{"type":"user","at":"2023-12-31T22:00:00Z","id":"c1","role":"client"}
{"type":"contract_started","at":"2024-01-01T00:00:00Z","contract":"k1","client":"c1","freelancer":"f1"}
{"type":"contract_started","at":"2024-01-01T00:05:00Z","contract":"k2","client":"c2","freelancer":"f1"}
{"type":"message","at":"2024-01-01T01:00:00Z","contract":"k1","from":"c1"}
{"type":"message","at":"2024-01-01T00:30:00Z","contract":"k2","from":"f1"}
{"type":"contract_ended","at":"2024-01-01T02:00:00Z","contract":"k1"}
)";

TEST(BusConfigTest, ReadsTheBusTableAndNamesTheKeyThatIsWrong) {
  auto ok =
      bus::parse_bus_config("[bus]\nurl = \"nats://a:4222,nats://b:4222\"\npartitions = 8\nreplicas = 3\n", "p.toml");
  ASSERT_TRUE(ok) << ok.message();
  ASSERT_TRUE(ok->has_value());
  EXPECT_EQ((*ok)->url, "nats://a:4222,nats://b:4222");
  EXPECT_EQ((*ok)->partitions, 8u);
  EXPECT_EQ((*ok)->replicas, 3);
  EXPECT_EQ((*ok)->stream, "GHOSTWATCH_EVENTS");
  auto none = bus::parse_bus_config("[campaign]\nname = \"x\"\n", "p.toml");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());

  EXPECT_EQ(bus::parse_bus_config("[bus]\npartitions = 8\n", "p.toml").message(), "p.toml: bus.url: is required");
  EXPECT_EQ(bus::parse_bus_config("[bus]\nurl = \"http://x\"\n", "p.toml").message(),
            "p.toml: bus.url: expected nats://HOST:PORT (comma-separated for several servers), not \"http://x\"");
  EXPECT_EQ(bus::parse_bus_config("[bus]\nurl = \"nats://x:1\"\npartitions = 0\n", "p.toml").message(),
            "p.toml: bus.partitions: must be a whole number from 1 to 4096");
  EXPECT_EQ(bus::parse_bus_config("[bus]\nurl = \"nats://x:1\"\nreplicas = 2\n", "p.toml").message(),
            "p.toml: bus.replicas: must be 1, 3 or 5 (an odd number of copies, one per JetStream server)");
  EXPECT_EQ(bus::parse_bus_config("[bus]\nurl = \"nats://x:1\"\nstream = \"a.b\"\n", "p.toml").message(),
            "p.toml: bus.stream: \"a.b\" is not a JetStream stream name (no spaces, dots, *, > or slashes)");
  std::vector<std::string> unknown;
  ASSERT_TRUE(bus::parse_bus_config("[bus]\nurl = \"nats://x:1\"\nshards = 3\n", "p.toml", &unknown));
  EXPECT_EQ(unknown, std::vector<std::string>{"bus.shards"});

  // --bus replaces the table's url, or stands alone.
  auto flag = bus::bus_settings("[bus]\npartitions = 8\n", "p.toml", "nats://127.0.0.1:4222");
  ASSERT_TRUE(flag) << flag.message();
  EXPECT_EQ((*flag)->url, "nats://127.0.0.1:4222");
  EXPECT_EQ((*flag)->partitions, 8u);
  EXPECT_EQ(bus::bus_settings("", "p.toml", "127.0.0.1:4222").message(),
            "--bus: expected nats://HOST:PORT (comma-separated for several servers), not \"127.0.0.1:4222\"");
}

TEST(BusRouterTest, KeepsAFreelancersContractsInOnePartitionAndSendsUsersEverywhere) {
  // The hash is fixed: XXH64, seed 0 (docs/operations.md).
  EXPECT_EQ(bus::partition_of("f1", 1u << 31), bus::partition_of("f1", 1u << 31));
  EXPECT_EQ(bus::subject_of(7), "ghostwatch.events.7");
  bus::ParsedBody body = bus::parse_body(kMarketplace, 1);
  EXPECT_EQ(body.contracts, (std::vector<std::string>{"k1", "k2"}));
  bus::ContractBook book;
  const bus::Routing r = bus::route(body, book, 16);
  ASSERT_EQ(r.lines.size(), 7u);
  EXPECT_TRUE(r.rejects.empty());
  EXPECT_TRUE(r.lines[0].every_partition);
  EXPECT_TRUE(r.lines[1].every_partition);
  for (std::size_t i = 2; i < 7; ++i) {
    EXPECT_FALSE(r.lines[i].every_partition);
    EXPECT_EQ(r.lines[i].partition, bus::partition_of("f1", 16)) << "line " << i + 1;
  }
  EXPECT_TRUE(book.at("k1").ended);
  EXPECT_TRUE(book.at("k1").changed);
}

TEST(BusRouterTest, RejectsWhatReplayRejectsWithItsReasons) {
  bus::ContractBook book;
  book.emplace("old", bus::ContractRoute{3, "c9", "f9", true, false});
  bus::ParsedBody body = bus::parse_body(
      R"({"type":"message","at":"2024-01-01T00:00:00Z","contract":"nope","from":"c1"}
not json

{"type":"contract_started","at":"2024-01-01T00:00:00Z","contract":"k1","client":"c1","freelancer":"c1"}
{"type":"contract_started","at":"2024-01-01T00:00:00Z","contract":"k2","client":"c1","freelancer":"f1"}
{"type":"contract_started","at":"2024-01-01T00:00:00Z","contract":"k2","client":"c1","freelancer":"f2"}
{"type":"message","at":"2024-01-01T00:00:00Z","contract":"k2","from":"stranger"}
{"type":"message","at":"2024-01-01T00:00:00Z","contract":"old","from":"c9"}
{"type":"contract_ended","at":"2024-01-01T25:00:00Z","contract":"k2"}
)",
      10);
  const bus::Routing r = bus::route(body, book, 16);
  std::vector<std::pair<std::uint64_t, std::string>> got;
  for (const RejectRow& x : r.rejects) got.emplace_back(x.line, std::string(reject_reason_name(x.reason)));
  EXPECT_EQ(got, (std::vector<std::pair<std::uint64_t, std::string>>{{10, "unknown_contract"},
                                                                     {11, "bad_json"},
                                                                     {13, "bad_field"},
                                                                     {15, "duplicate_contract"},
                                                                     {16, "not_a_party"},
                                                                     {17, "contract_ended"},
                                                                     {18, "bad_time"}}));
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0].parsed->line, 14u);
  EXPECT_FALSE(book.at("old").changed);
}

TEST_F(BusPublishTest, RoutesContractsToTheirFreelancersPartitionAndUsersToAll) {
  const bus::PublishReply reply = publisher_->publish(kMarketplace, "");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.body, R"({"accepted":7,"rejected":0,"rejects":[]})");
  EXPECT_EQ(reply.messages, 2u * 4 + 5);  // the acks were counted before the answer
  const auto messages = stream();
  ASSERT_EQ(messages.size(), 13u);
  const std::string home = bus::subject_of(bus::partition_of("f1", 4));
  std::map<std::string, std::set<std::string>> types_by_subject;
  for (const auto& m : messages) types_by_subject[m.subject].insert(nlohmann::json::parse(m.data).at("type"));
  for (std::uint32_t p = 0; p < 4; ++p) {
    const std::string subject = bus::subject_of(p);
    EXPECT_TRUE(types_by_subject[subject].count("user")) << subject;
    EXPECT_EQ(types_by_subject[subject].size() > 1, subject == home) << subject;
  }
  // The mapping is remembered: a later body's message goes to the same place.
  const bus::PublishReply later =
      publisher_->publish(R"({"type":"message","at":"2024-01-01T03:00:00Z","contract":"k2","from":"c2"})", "");
  ASSERT_EQ(later.status, 200) << later.body;
  EXPECT_EQ(stream().back().subject, home);
}

TEST_F(BusPublishTest, StampsEachLineWithItsSequenceAndTheRunningMaximumTime) {
  ASSERT_EQ(publisher_->publish(kMarketplace, "").status, 200);
  const auto messages = stream();
  std::uint64_t last_seq = 0;
  std::map<std::uint64_t, std::int64_t> watermark_of_seq;
  std::map<std::string, std::uint64_t> partition_seq;  // by subject: the last one
  for (const auto& m : messages) {
    EXPECT_GE(m.seq, last_seq) << "stream order is sequence order";
    last_seq = m.seq;
    watermark_of_seq[m.seq] = m.watermark;
    EXPECT_EQ(m.msg_id, fmt::format("{}:{}", m.seq, m.subject.substr(m.subject.rfind('.') + 1)));
    EXPECT_EQ(m.partition_seq, ++partition_seq[m.subject]) << "each partition numbered 1, 2, ... " << m.subject;
  }
  // The watermark is the running maximum of the times so far: the second
  // user (22:00) and the out-of-order 00:30 message leave it where it was.
  const std::int64_t t0 = 1704067200000;  // 2024-01-01T00:00:00Z
  EXPECT_EQ(watermark_of_seq, (std::map<std::uint64_t, std::int64_t>{{1, t0 - 60 * 60000},
                                                                     {2, t0 - 60 * 60000},
                                                                     {3, t0},
                                                                     {4, t0 + 5 * 60000},
                                                                     {5, t0 + 60 * 60000},
                                                                     {6, t0 + 60 * 60000},
                                                                     {7, t0 + 120 * 60000}}));
  // The next body goes on from there.
  ASSERT_EQ(publisher_->publish(R"({"type":"opt_out","at":"2023-12-31T00:00:00Z","user":"f1"})", "").status, 200);
  const auto more = stream();
  EXPECT_EQ(more.back().seq, 8u);
  EXPECT_EQ(more.back().watermark, t0 + 120 * 60000);
}

TEST_F(BusPublishTest, ARetryWithTheSameKeyPublishesNothingTwice) {
  const bus::PublishReply first = publisher_->publish(kMarketplace, "batch-1");
  ASSERT_EQ(first.status, 200) << first.body;
  const bus::PublishReply again = publisher_->publish(kMarketplace, "batch-1");
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.messages, 0u);
  EXPECT_EQ(publisher_->publish("{}", "batch-1").status, 422);
  EXPECT_EQ(stream().size(), 13u);

  // Without a key, the same body is new events, numbered after the first:
  // the users and k2's message again (8 + 1 messages, Gw-Seq 8-10); the
  // contracts are duplicates now, and k1 has ended.
  const bus::PublishReply keyless = publisher_->publish(kMarketplace, "");
  ASSERT_EQ(keyless.status, 200) << keyless.body;
  EXPECT_EQ(keyless.messages, 9u);
  EXPECT_EQ(keyless.rejected, 4u);
  EXPECT_EQ(stream().back().seq, 10u);
}

TEST_F(BusPublishTest, KeepsRejectsAndRefusesAnotherPartitionCount) {
  const bus::PublishReply reply = publisher_->publish(
      "{\"type\":\"message\",\"at\":\"2024-01-01T00:00:00Z\",\"contract\":\"nope\",\"from\":\"c1\"}\nnot json\n", "");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(
      reply.body,
      R"({"accepted":0,"rejected":2,"rejects":[{"line":1,"reason":"unknown_contract"},{"line":2,"reason":"bad_json"}]})");
  EXPECT_TRUE(stream().empty());
  pqxx::connection c(db_);
  pqxx::work tx(c);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM rejects")[0].as<int>(), 2);
  tx.abort();

  bus::BusSettings other = settings_;
  other.partitions = 8;
  auto second = bus::EventPublisher::open(other, db_, clock_);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.message(),
            "bus.partitions: the event log was started with 4 partitions; it cannot change to 8 (contracts would "
            "move partitions)");
}

// The messages of `subject`, as (Gw-Seq, Gw-Partition-Seq) in stream order.
std::vector<std::pair<std::uint64_t, std::uint64_t>> numbers_on(const std::vector<StoredMessage>& messages,
                                                                const std::string& subject) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
  for (const StoredMessage& m : messages) {
    if (m.subject == subject) out.emplace_back(m.seq, m.partition_seq);
  }
  return out;
}

TEST_F(BusPublishTest, ABodyTheBusFailsIsRecordedAndGoesOutFirstOnceTheBusTakesIt) {
  ASSERT_EQ(publisher_->publish(kMarketplace, "").status, 200);
  const std::string home = bus::subject_of(bus::partition_of("f1", 4));
  const std::string k3 =
      R"({"type":"contract_started","at":"2024-01-02T00:00:00Z","contract":"k3","client":"c1","freelancer":"f1"}
{"type":"message","at":"2024-01-02T00:00:00Z","contract":"k3","from":"c1"}
{"type":"message","at":"2024-01-02T00:01:00Z","contract":"k3","from":"f1"}
)";
  // The stream takes one more message: the body's first line.
  ASSERT_TRUE(limit_stream(nats_, "GHOSTWATCH_EVENTS", 14));
  const bus::PublishReply recorded = publisher_->publish(k3, "b2");
  EXPECT_EQ(recorded.status, 202) << recorded.body;
  const auto answer = nlohmann::json::parse(recorded.body);
  EXPECT_EQ(answer.at("accepted"), 3);
  EXPECT_EQ(answer.at("published"), false);
  EXPECT_EQ(answer.at("error").at("code"), "bus_unavailable");
  {
    pqxx::connection c(db_);
    pqxx::work tx(c);
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM contract_partitions WHERE contract = 'k3'")[0].as<int>(), 1);
    EXPECT_EQ(tx.exec1("SELECT seq FROM bus_position")[0].as<int>(), 10);
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM bus_pending")[0].as<int>(), 3);
  }
  // While the bus still refuses them, a new body is not recorded (it would
  // go out before them), and the retry of the recorded one says so again.
  const bus::PublishReply refused =
      publisher_->publish(R"({"type":"message","at":"2024-01-02T00:02:00Z","contract":"k3","from":"c1"})", "b3");
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_NE(refused.body.find("was not recorded"), std::string::npos) << refused.body;
  EXPECT_EQ(publisher_->publish(k3, "b2").status, 202);
  EXPECT_FALSE(publisher_->flush_pending());

  // The bus takes them again: the retry answers as the first time would
  // have, and the partition has every message once, numbered in order.
  ASSERT_TRUE(limit_stream(nats_, "GHOSTWATCH_EVENTS", -1));
  const bus::PublishReply retry = publisher_->publish(k3, "b2");
  EXPECT_EQ(retry.status, 200) << retry.body;
  EXPECT_TRUE(retry.replayed);
  EXPECT_EQ(retry.body, R"({"accepted":3,"rejected":0,"rejects":[]})");
  EXPECT_EQ(retry.messages, 2u);
  EXPECT_EQ(retry.duplicates, 1u) << "the first line was stored before";
  const bus::PublishReply next =
      publisher_->publish(R"({"type":"message","at":"2024-01-02T00:02:00Z","contract":"k3","from":"c1"})", "b3");
  ASSERT_EQ(next.status, 200) << next.body;
  EXPECT_EQ(numbers_on(stream(), home),
            (std::vector<std::pair<std::uint64_t, std::uint64_t>>{
                {1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 5}, {6, 6}, {7, 7}, {8, 8}, {9, 9}, {10, 10}, {11, 11}}));
  pqxx::connection c(db_);
  pqxx::work tx(c);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM bus_pending")[0].as<int>(), 0);
}

TEST_F(BusPublishTest, WhatADeadPublisherRecordedGoesOutBeforeAnythingNewer) {
  // A publisher recorded a body and died before JetStream had it: its
  // messages are pending (written here as it writes them).
  ASSERT_EQ(publisher_->publish(kMarketplace, "").status, 200);
  const std::string home = bus::subject_of(bus::partition_of("f1", 4));
  const std::uint32_t p = bus::partition_of("f1", 4);
  const std::string line = R"({"type":"message","at":"2024-01-01T01:30:00Z","contract":"k2","from":"c2"})";
  {
    pqxx::connection c(db_);
    pqxx::work tx(c);
    tx.exec_params0(
        "INSERT INTO bus_pending(partition, partition_seq, seq, watermark, msg_id, control, data) VALUES($1, 8, 8, "
        "$2, $3, '', $4)",
        static_cast<int>(p), static_cast<std::int64_t>(1704074400000), fmt::format("8:{}", p),
        pqxx::binarystring(line.data(), line.size()));
    tx.exec_params0("UPDATE bus_position SET seq = 8, partition_seqs[$1] = 8", static_cast<int>(p) + 1);
    tx.commit();
  }
  const bus::PublishReply later =
      publisher_->publish(R"({"type":"opt_out","at":"2024-01-01T03:00:00Z","user":"f1"})", "");
  ASSERT_EQ(later.status, 200) << later.body;
  EXPECT_EQ(later.messages, 1u + 4u);
  const auto messages = stream();
  EXPECT_EQ(numbers_on(messages, home), (std::vector<std::pair<std::uint64_t, std::uint64_t>>{
                                            {1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 5}, {6, 6}, {7, 7}, {8, 8}, {9, 9}}));
  EXPECT_EQ(messages[messages.size() - 5].data, line);
}

TEST_F(BusPublishTest, PublishSendsARefusedBlockAgainUntilTheStreamTakesItInOrder) {
  // Three users, then contracts and their messages: every line valid.
  std::string file;
  for (const char* u : {"f1", "c1", "c2"}) {
    file += fmt::format(R"({{"type":"user","at":"2024-01-01T00:00:00Z","id":"{}"}})", u) + "\n";
  }
  for (int k = 0; k < 300; ++k) {
    const std::string at = fmt::format("2024-01-02T{:02}:{:02}:00Z", k / 60, k % 60);
    file += fmt::format(R"({{"type":"contract_started","at":"{}","contract":"k{}","client":"c{}","freelancer":"f1"}})",
                        at, k, 1 + k % 2) +
            "\n";
    file += fmt::format(R"({{"type":"message","at":"{}","contract":"k{}","from":"c{}"}})", at, k, 1 + k % 2) + "\n";
  }
  TempDir dir;
  write_file(dir.file("events.ndjson"), file);
  write_file(dir.file("policy.toml"), read_file(kExamplePolicy) + "\n[bus]\npartitions = 4\n");
  // The stream takes 100 messages, then refuses, for a few seconds.
  ASSERT_TRUE(limit_stream(nats_, "GHOSTWATCH_EVENTS", 100));
  CommandOutput out;
  std::thread publish([&] {
    out = run_ghostwatch("publish --config " + dir.file("policy.toml") + " --bus " + nats_ + " --store " + db_ + " " +
                         dir.file("events.ndjson"));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  ASSERT_TRUE(limit_stream(nats_, "GHOSTWATCH_EVENTS", -1));
  publish.join();
  ASSERT_EQ(out.status, 0) << out.out;
  EXPECT_NE(out.out.find("refused for now, again in 1 s"), std::string::npos) << out.out;

  // Every line once (a user on each partition), each partition in the
  // file's order.
  const std::vector<StoredMessage> messages = stream();
  EXPECT_EQ(messages.size(), 3u * 4u + 600u);
  std::map<std::string, std::size_t> index;
  std::size_t n = 0;
  for (const std::string& line : bodies(file, 1)) index[line.substr(0, line.size() - 1)] = n++;
  std::map<std::string, std::size_t> last;
  for (const StoredMessage& m : messages) {
    ASSERT_EQ(index.count(m.data), 1u) << m.data;
    const std::size_t i = index[m.data];
    if (last.count(m.subject) != 0) {
      EXPECT_GT(i, last[m.subject]) << m.subject << ": " << m.data;
    }
    last[m.subject] = i;
  }
}

TEST_F(BusPublishTest, RefusesAStreamOfAnotherShape) {
  bus::BusSettings r3 = settings_;
  r3.replicas = 3;
  auto opened = bus::EventPublisher::open(r3, db_, clock_);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.message(),
            "bus.stream: stream GHOSTWATCH_EVENTS exists but it has 1 replicas, the config says bus.replicas = 3");
}

TEST(BusClusterTest, PublishesToAStreamReplicatedOnThreeServers) {
  if (!nats_url()) GTEST_SKIP() << kNoNats;
  auto db = pg_database_url();
  if (!db) GTEST_SKIP() << kNoPostgres;
  NatsCluster cluster;
  ASSERT_FALSE(cluster.url().empty()) << "the three nats-servers did not form a JetStream cluster";
  bus::BusSettings settings;
  settings.url = cluster.url();  // the three servers, comma-separated
  settings.partitions = 4;
  settings.replicas = 3;
  FixedBusClock clock;
  // Opened as soon as the cluster has a metadata leader: reading and
  // creating the stream wait for the servers to see each other (a request
  // that times out, JetStream's "no suitable peers for placement", while
  // they do not yet).
  auto publisher = bus::EventPublisher::open(settings, *db, clock);
  ASSERT_TRUE(publisher) << publisher.message();
  const bus::PublishReply reply = (*publisher)->publish(kMarketplace, "r3");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.messages, 13u);
  const std::string second = cluster.url().substr(cluster.url().find(',') + 1);
  EXPECT_EQ(read_stream(second.substr(0, second.find(',')), "GHOSTWATCH_EVENTS").size(), 13u);
}

}  // namespace
}  // namespace gw::test
