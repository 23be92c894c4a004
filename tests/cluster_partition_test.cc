// The pieces of the bus workers that PostgreSQL guarantees (docs/operations.md,
// "Workers"), on a real server: a partition's log is its own and a stale
// claim commits nothing; partitions spread over the live workers and move
// when one dies.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "ghostwatch/cluster/partition_leases.h"
#include "ghostwatch/store/postgres/postgres_store.h"
#include "pg_server.h"

namespace gw::test {
namespace {

Batch partition_batch(std::uint64_t epoch, std::optional<std::uint64_t> through, const std::string& line) {
  Batch b;
  b.log.push_back(LogEntry{LogKind::kEvent, kNoInstant, line});
  b.fence = PartitionFence{epoch, through};
  return b;
}

std::vector<std::string> log_lines(PostgresStore& store) {
  std::vector<std::string> out;
  EXPECT_TRUE(store.read_log([&](const LogEntry& e) {
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
  EXPECT_EQ(first->consumed_through, 0u);
  Batch b1 = partition_batch(first->epoch, 10, "a");
  ASSERT_TRUE((*p3)->commit(b1));

  // Another worker claims the partition: the first one's batches now fail.
  auto again = PostgresStore::open(*url, 3);
  ASSERT_TRUE(again);
  auto second = (*again)->claim_partition();
  ASSERT_TRUE(second);
  EXPECT_GT(second->epoch, first->epoch);
  EXPECT_EQ(second->consumed_through, 10u);
  Batch stale = partition_batch(first->epoch, 11, "stale");
  const Status refused = (*p3)->commit(stale);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.message().find("claimed by another worker"), std::string::npos) << refused.message();

  Batch b2 = partition_batch(second->epoch, 12, "b");
  ASSERT_TRUE((*again)->commit(b2));
  Batch tick = partition_batch(second->epoch, std::nullopt, "c");  // no message applied: the position stays
  ASSERT_TRUE((*again)->commit(tick));
  EXPECT_EQ(log_lines(**again), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ((*again)->claim_partition()->consumed_through, 12u);

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

}  // namespace
}  // namespace gw::test
