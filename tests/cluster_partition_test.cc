// The pieces of the bus workers that PostgreSQL guarantees (docs/operations.md,
// "Workers"), on a real server: a partition's log is its own and a stale
// claim commits nothing; partitions spread over the live workers and move
// when one dies.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <chrono>
#include <functional>
#include <set>
#include <thread>

#include "ghostwatch/bus/event_publisher.h"
#include "ghostwatch/bus/partition_consumer.h"
#include "ghostwatch/cluster/partition_leases.h"
#include "ghostwatch/store/postgres/postgres_store.h"
#include "nats_server.h"
#include "pg_server.h"

namespace gw::test {
namespace {

Batch partition_batch(std::uint64_t epoch, std::optional<PartitionPosition> through, const std::string& line) {
  Batch b;
  b.log.push_back(LogEntry{LogKind::kEvent, kNoInstant, line});
  b.fence = PartitionFence{epoch, through};
  return b;
}

std::vector<std::string> log_lines(PostgresStore& store) {
  std::vector<std::string> out;
  EXPECT_TRUE(store.read_log(0, [&](const LogEntry& e) {
    out.push_back(e.line);
    return Status::ok();
  }));
  return out;
}

TEST(PartitionStoreTest, AStaleClaimCommitsNothingAndThePositionMovesWithTheState) {
  const auto url = pg_database_url();
  if (!url) GTEST_SKIP() << kNoPostgres;
  auto p3 = PostgresStore::open(*url, 3);
  ASSERT_TRUE(p3) << p3.message();
  auto first = (*p3)->claim_partition();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->consumed_through.stream_seq, 0u);
  EXPECT_EQ(first->consumed_through.partition_seq, 0u);
  Batch b1 = partition_batch(first->epoch, PartitionPosition{10, 7}, "a");
  ASSERT_TRUE((*p3)->commit(b1));

  // Another worker claims the partition: the first one's batches now fail.
  auto again = PostgresStore::open(*url, 3);
  ASSERT_TRUE(again);
  auto second = (*again)->claim_partition();
  ASSERT_TRUE(second);
  EXPECT_GT(second->epoch, first->epoch);
  EXPECT_EQ(second->consumed_through.stream_seq, 10u);
  EXPECT_EQ(second->consumed_through.partition_seq, 7u);
  Batch stale = partition_batch(first->epoch, PartitionPosition{11, 8}, "stale");
  const Status refused = (*p3)->commit(stale);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.message().find("claimed by another worker"), std::string::npos) << refused.message();

  Batch b2 = partition_batch(second->epoch, PartitionPosition{12, 9}, "b");
  ASSERT_TRUE((*again)->commit(b2));
  Batch tick = partition_batch(second->epoch, std::nullopt, "c");  // no message applied: the position stays
  ASSERT_TRUE((*again)->commit(tick));
  EXPECT_EQ(log_lines(**again), (std::vector<std::string>{"a", "b", "c"}));
  const auto third = (*again)->claim_partition();
  EXPECT_EQ(third->consumed_through.stream_seq, 12u);
  EXPECT_EQ(third->consumed_through.partition_seq, 9u);

  // Other partitions' logs and the serve log (no partition) are apart.
  auto p4 = PostgresStore::open(*url, 4);
  ASSERT_TRUE(p4);
  EXPECT_TRUE(log_lines(**p4).empty());
  auto single = PostgresStore::open(*url);
  ASSERT_TRUE(single);
  EXPECT_TRUE(log_lines(**single).empty());
  Batch unfenced;
  unfenced.log.push_back(LogEntry{LogKind::kEvent, kNoInstant, "x"});
  EXPECT_FALSE((*p4)->commit(unfenced)) << "a partition's batch must carry its claim";
}

TEST(PartitionStoreTest, EpisodesOfPartitionsTakeIdsFromOneSequence) {
  const auto url = pg_database_url();
  if (!url) GTEST_SKIP() << kNoPostgres;
  std::set<std::int64_t> ids;
  for (int p : {0, 1}) {
    auto store = PostgresStore::open(*url, p);
    ASSERT_TRUE(store);
    auto claim = (*store)->claim_partition();
    ASSERT_TRUE(claim);
    Batch b;
    b.fence = PartitionFence{claim->epoch, std::nullopt};
    for (int k = 0; k < 3; ++k) {
      EpisodeRow e;
      e.id = k + 1;  // each partition's service counts from 1: the store must not use it
      e.contract = "c" + std::to_string(p) + "-" + std::to_string(k);
      e.episode = 1;
      e.outcome = Outcome::kReplied;
      e.closed_at = 1000;
      b.episodes.push_back(e);
    }
    ASSERT_TRUE((*store)->commit(b));
  }
  auto single = PostgresStore::open(*url);
  EpisodeQuery q;
  q.limit = 100;
  for (const EpisodeRow& e : (*single)->episodes(q).value()) ids.insert(e.id);
  EXPECT_EQ(ids.size(), 6u);
}

// Waits (up to `seconds`) until `pred` holds, calling `step` in between.
template <typename Step, typename Pred>
bool eventually(int seconds, Step step, Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    step();
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// A worker as the leases see it: runs what it acquires, stops its surplus.
struct LeaseHolder {
  std::unique_ptr<cluster::PartitionLeases> leases;
  std::set<std::uint32_t> held;
  void round() {
    auto r = leases->round(held);
    ASSERT_TRUE(r) << r.message();
    for (std::uint32_t p : r->surplus) {
      held.erase(p);
      ASSERT_TRUE(leases->release(p));
    }
    held.insert(r->acquired.begin(), r->acquired.end());
  }
};

TEST(PartitionLeasesTest, PartitionsSpreadOverLiveWorkersAndMoveWhenOneDies) {
  const auto url = pg_database_url();
  if (!url) GTEST_SKIP() << kNoPostgres;
  ASSERT_TRUE(PostgresStore::open(*url));  // the schema
  constexpr std::uint32_t kPartitions = 8;
  LeaseHolder a{cluster::PartitionLeases::open(*url, "a", kPartitions).value(), {}};
  a.round();
  EXPECT_EQ(a.held.size(), kPartitions) << "alone, a worker takes every partition";

  LeaseHolder b{cluster::PartitionLeases::open(*url, "b", kPartitions).value(), {}};
  ASSERT_TRUE(eventually(
      10, [&] { a.round(), b.round(); }, [&] { return a.held.size() == 4 && b.held.size() == 4; }))
      << "a " << a.held.size() << ", b " << b.held.size();
  for (std::uint32_t p : a.held) EXPECT_EQ(b.held.count(p), 0u) << "partition " << p << " has two owners";
  // Only one worker holds the delivery lease.
  EXPECT_NE(a.leases->hold_delivery().value(), b.leases->hold_delivery().value());

  // a dies (its session ends, as with SIGKILL): b takes everything once a's
  // heartbeat is older than the timeout.
  a.leases.reset();
  const auto died = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually(
      cluster::kWorkerTimeoutSeconds + 5, [&] { b.round(); }, [&] { return b.held.size() == kPartitions; }))
      << "b holds " << b.held.size();
  EXPECT_LT(std::chrono::steady_clock::now() - died, std::chrono::seconds(cluster::kWorkerTimeoutSeconds + 3));
  EXPECT_TRUE(b.leases->hold_delivery().value());
}

class PartitionClock final : public Clock {
 public:
  Instant now() const override { return 1'700'000'000'000; }
};

// The settings of a one-partition log on `url`, its stream deleted.
bus::BusSettings fresh_one_partition_log(const std::string& url) {
  delete_stream(url, "GHOSTWATCH_EVENTS");
  bus::BusSettings settings;
  settings.url = url;
  settings.partitions = 1;
  return settings;
}

// Publishes to partition 0 of a one-partition log, as message `msg_id` with
// Gw-Seq `seq`, the user event whose id and second are `partition_seq`
// (its Gw-Partition-Seq).
Status publish_numbered_user(bus::JetStream& js, const std::string& msg_id, std::uint64_t seq,
                             std::uint64_t partition_seq) {
  const std::string data =
      fmt::format(R"({{"type":"user","at":"2024-01-01T00:00:0{}Z","id":"u{}"}})", partition_seq, partition_seq);
  return js.publish(bus::LogMessage{bus::subject_of(0), msg_id, seq, partition_seq, 0, {}, data});
}

// Runs `fn` with a JetStream context on a connection of its own to `url`,
// beside the consumer's.
void with_own_jetstream(const std::string& url, const std::function<void(jsCtx*)>& fn) {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  ASSERT_EQ(natsConnection_ConnectTo(&nc, url.c_str()), NATS_OK);
  ASSERT_EQ(natsConnection_JetStream(&js, nc, nullptr), NATS_OK);
  fn(js);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
}

// Takes the next message of `durable` through a connection of its own and
// acknowledges it: a delivery the worker never sees, as when a server goes
// down with it on its way.
void steal_one(jsCtx* js, const char* durable) {
  natsSubscription* sub = nullptr;
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = "GHOSTWATCH_EVENTS";
  so.Consumer = durable;
  ASSERT_EQ(js_PullSubscribe(&sub, js, "ghostwatch.events.0", durable, nullptr, &so, nullptr), NATS_OK);
  natsMsgList list{};
  ASSERT_EQ(natsSubscription_Fetch(&list, sub, 1, 5000, nullptr), NATS_OK);
  ASSERT_EQ(list.Count, 1);
  EXPECT_EQ(natsMsg_AckSync(list.Msgs[0], nullptr, nullptr), NATS_OK);
  natsMsgList_Destroy(&list);
  natsSubscription_Destroy(sub);
}

TEST(PartitionConsumerTest, DeliversInOrderAndRefusesABatchAfterALostDelivery) {
  const auto url = nats_url();
  if (!url) GTEST_SKIP() << kNoNats;
  const auto db = pg_database_url();
  if (!db) GTEST_SKIP() << kNoPostgres;
  const bus::BusSettings settings = fresh_one_partition_log(*url);
  PartitionClock clock;
  auto publisher = bus::EventPublisher::open(settings, *db, clock);
  ASSERT_TRUE(publisher) << publisher.message();
  ASSERT_EQ((*publisher)
                ->publish(R"({"type":"user","at":"2024-01-01T00:00:00Z","id":"u1"}
{"type":"user","at":"2024-01-01T00:00:01Z","id":"u2"}
{"type":"user","at":"2024-01-01T00:00:02Z","id":"u3"}
)",
                          "")
                .status,
            200);
  ASSERT_TRUE((*publisher)->publish_control(bus::kEvaluateThrough, "1704067300000"));
  auto js = bus::JetStream::connect(settings);
  ASSERT_TRUE(js) << js.message();

  auto consumer = bus::PartitionConsumer::open(**js, settings, 0, PartitionPosition{});
  ASSERT_TRUE(consumer) << consumer.message();
  auto all = (*consumer)->fetch(10, 2000);
  ASSERT_TRUE(all) << all.message();
  ASSERT_EQ(all->size(), 4u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*all)[i].stream_seq, i + 1);
    EXPECT_EQ((*all)[i].seq, i + 1) << "Gw-Seq";
    EXPECT_EQ((*all)[i].control, PartitionControl::kNone);
  }
  EXPECT_EQ((*all)[2].watermark, 1704067202000) << "Gw-Watermark";
  EXPECT_EQ((*all)[3].control, PartitionControl::kEvaluateThrough);
  EXPECT_EQ((*all)[3].at, 1704067300000);
  ASSERT_TRUE((*consumer)->ack());

  // From a position: the messages after it. One of them is taken on its
  // way: the batch that follows is refused, naming the gap.
  consumer = bus::PartitionConsumer::open(**js, settings, 0, PartitionPosition{1, 1});
  ASSERT_TRUE(consumer) << consumer.message();
  with_own_jetstream(*url, [](jsCtx* js) { steal_one(js, "ghostwatch-p0"); });
  auto after_gap = (*consumer)->fetch(10, 2000);
  ASSERT_FALSE(after_gap) << "a batch after a lost delivery must be refused";
  EXPECT_NE(after_gap.message().find("after message 1 the stream has 2 but 3 came"), std::string::npos)
      << after_gap.message();
}

// Replaces the consumer `durable` with one of the same name that delivers
// nothing (filtered to a subject no message has), as a consumer left
// without quorum behaves.
void replace_with_silent_consumer(jsCtx* js, const char* durable) {
  ASSERT_EQ(js_DeleteConsumer(js, "GHOSTWATCH_EVENTS", durable, nullptr, nullptr), NATS_OK);
  jsConsumerConfig config;
  jsConsumerConfig_Init(&config);
  config.Durable = durable;
  config.FilterSubject = "ghostwatch.events.none";
  config.AckPolicy = js_AckAll;
  jsConsumerInfo* info = nullptr;
  ASSERT_EQ(js_AddConsumer(&info, js, "GHOSTWATCH_EVENTS", &config, nullptr, nullptr), NATS_OK);
  jsConsumerInfo_Destroy(info);
}

TEST(PartitionConsumerTest, AConsumerThatDeliversNothingWhileTheStreamHasMoreIsStalled) {
  const auto url = nats_url();
  if (!url) GTEST_SKIP() << kNoNats;
  const bus::BusSettings settings = fresh_one_partition_log(*url);
  auto js = bus::JetStream::connect(settings);
  ASSERT_TRUE(js) << js.message();
  auto publish = [&](std::uint64_t n) {
    ASSERT_TRUE(publish_numbered_user(**js, fmt::format("m{}", n), n, n));
    ASSERT_TRUE((*js)->wait_acks(10 * kSecond));
  };
  publish(1);
  publish(2);
  constexpr Duration kStall = 1 * kSecond;
  auto consumer = bus::PartitionConsumer::open(**js, settings, 0, PartitionPosition{}, kStall);
  ASSERT_TRUE(consumer) << consumer.message();
  auto both = (*consumer)->fetch(10, 2000);
  ASSERT_TRUE(both) << both.message();
  ASSERT_EQ(both->size(), 2u);
  ASSERT_TRUE((*consumer)->ack());
  // Idle (nothing after message 2): quiet for longer than kStall is no error.
  auto fetch_for = [&](Duration span) -> Status {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(span);
    while (std::chrono::steady_clock::now() < until) {
      auto got = (*consumer)->fetch(10, 200);
      if (!got) return got.status();
      EXPECT_TRUE(got->empty());
    }
    return Status::ok();
  };
  EXPECT_TRUE(fetch_for(3 * kStall));
  // A message comes that the consumer does not deliver.
  with_own_jetstream(*url, [](jsCtx* js) { replace_with_silent_consumer(js, "ghostwatch-p0"); });
  publish(3);
  const Status stalled = fetch_for(5 * kStall);
  ASSERT_FALSE(stalled) << "a consumer that delivers nothing while the stream has more must be reported";
  EXPECT_NE(stalled.message().find("partition 0: the stream has message 3 after 2, but the consumer delivered nothing"),
            std::string::npos)
      << stalled.message();
  // Opened again (as the worker does), it delivers what was due.
  consumer = bus::PartitionConsumer::open(**js, settings, 0, PartitionPosition{2, 2}, kStall);
  ASSERT_TRUE(consumer) << consumer.message();
  auto third = (*consumer)->fetch(10, 2000);
  ASSERT_TRUE(third) << third.message();
  ASSERT_EQ(third->size(), 1u);
  EXPECT_EQ((*third)[0].stream_seq, 3u);
}

TEST(PartitionConsumerTest, HandsOutInThePartitionsOrderHoldingEarlyMessagesAndDroppingCopies) {
  const auto url = nats_url();
  if (!url) GTEST_SKIP() << kNoNats;
  const bus::BusSettings settings = fresh_one_partition_log(*url);
  auto js = bus::JetStream::connect(settings);
  ASSERT_TRUE(js) << js.message();
  // As a publisher that sent messages again leaves the stream: Gw-Partition-Seq
  // 1, 3, 4, 2, 3 (a copy), 5 at stream sequences 2-7, after a message from
  // before partitions were numbered.
  const std::vector<std::uint64_t> numbers = {0, 1, 3, 4, 2, 3, 5};
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    ASSERT_TRUE(publish_numbered_user(**js, fmt::format("m{}", i), 10 + numbers[i], numbers[i]));
  }
  ASSERT_TRUE((*js)->wait_acks(10 * kSecond));
  auto partition_seqs = [](const std::vector<PartitionMessage>& got) {
    std::vector<std::uint64_t> out;
    for (const PartitionMessage& m : got) out.push_back(m.partition_seq);
    return out;
  };

  auto consumer = bus::PartitionConsumer::open(**js, settings, 0, PartitionPosition{});
  ASSERT_TRUE(consumer) << consumer.message();
  auto first = (*consumer)->fetch(3, 2000);
  ASSERT_TRUE(first) << first.message();
  EXPECT_EQ(partition_seqs(*first), (std::vector<std::uint64_t>{0, 1}));
  // Number 3 (stream 3) waits for 2: a restart must read it again.
  EXPECT_EQ((*consumer)->position().stream_seq, 2u);
  EXPECT_EQ((*consumer)->position().partition_seq, 1u);
  // What the consumer hands out until it has handed out `n` (fewer if a
  // fetch brings nothing).
  auto fetch_at_least = [](bus::PartitionConsumer& c, std::size_t n) {
    std::vector<PartitionMessage> out;
    while (out.size() < n) {
      auto more = c.fetch(10, 2000);
      EXPECT_TRUE(more) << more.message();
      if (!more || more->empty()) break;
      out.insert(out.end(), more->begin(), more->end());
    }
    return out;
  };
  const std::vector<PartitionMessage> rest = fetch_at_least(**consumer, 4);
  ASSERT_EQ(partition_seqs(rest), (std::vector<std::uint64_t>{2, 3, 4, 5}));
  EXPECT_EQ(rest[0].seq, 12u) << "Gw-Seq";
  EXPECT_EQ((*consumer)->position().stream_seq, 7u);
  EXPECT_EQ((*consumer)->position().partition_seq, 5u);

  // From a committed position between them: what follows, once each.
  consumer = bus::PartitionConsumer::open(**js, settings, 0, PartitionPosition{2, 1});
  ASSERT_TRUE(consumer) << consumer.message();
  EXPECT_EQ(partition_seqs(fetch_at_least(**consumer, 4)), (std::vector<std::uint64_t>{2, 3, 4, 5}));
}

}  // namespace
}  // namespace gw::test
