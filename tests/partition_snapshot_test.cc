// A bus worker's partition with snapshots (docs/operations.md,
// "Snapshots"), in process against a real PostgreSQL: the snapshot is
// committed under the partition's claim (a stale owner's batch stores
// neither it nor anything else), a takeover recovers from the partition's
// own snapshot and replays only the log after it, and the records end
// exactly as those of a partition that never took one; with a risk model
// too (the snapshot holds the feature store), every episode's risk.
#include <gtest/gtest.h>

#include <algorithm>

#include "ghostwatch/output/record_json.h"
#include "partition_support.h"
#include "pg_server.h"
#include "serve_risk_support.h"

namespace gw::test {
namespace {

// The partition's decisions and closed episodes as the store exports them.
std::vector<std::string> partition_records(Store& store) {
  std::vector<std::string> out;
  EXPECT_TRUE(store.export_decisions({}, [&](const DecisionRow& r) {
    std::string line;
    append_decision_json(line, r.view());
    out.push_back(line);
  }));
  EXPECT_TRUE(store.export_episodes({}, [&](const EpisodeRow& r) {
    std::string line;
    append_episode_json(line, r.view());
    out.push_back(line);
  }));
  return out;
}

// The takeover of a partition that took snapshots, with the risk model
// `model` ("": none), against an owner that never took one.
void takeover_from_snapshot(const std::string& model) {
  const auto url = pg_database_url();
  const auto reference_url = pg_database_url();
  if (!url || !reference_url) GTEST_SKIP() << kNoPostgres;
  TempDir dir;
  const std::vector<PartitionMessage> messages = simulated_partition(dir, 37, 80, 30, 12);
  ASSERT_GT(messages.size(), 1000u);
  FixedPartitionClock clock;

  // The reference: one owner, no snapshot.
  PartitionOwner reference = take_partition(*reference_url, clock, 0, model);
  ASSERT_TRUE(reference.service);
  ASSERT_TRUE(apply_range(*reference.service, messages, 0, messages.size()));

  PartitionOwner first = take_partition(*url, clock, 0, model);
  ASSERT_TRUE(first.service);
  first.service->set_snapshots(150, true);
  const std::size_t half = messages.size() / 2;
  for (std::size_t at = 0; at < half; at += 61)
    ASSERT_TRUE(apply_range(*first.service, messages, at, std::min(at + 61, half)));
  const StoredSnapshot taken = first.store->latest_snapshot().value().value();

  PartitionOwner second = take_partition(*url, clock, 0, model);
  ASSERT_TRUE(second.service);
  second.service->set_snapshots(150, true);
  EXPECT_EQ(second.service->counters().snapshot_bytes, taken.bytes.size()) << "recovered from the snapshot";
  EXPECT_LT(second.service->counters().log_entries_since_snapshot, 150u + 61u);
  EXPECT_EQ(second.service->counters().log_entries, first.service->counters().log_entries);

  // The stale owner's next batch (its 150th entry due: a snapshot) is refused whole.
  EXPECT_FALSE(apply_range(*first.service, messages, half, half + 200));
  EXPECT_EQ(first.store->latest_snapshot().value().value().bytes, taken.bytes);

  for (std::size_t at = half; at < messages.size(); at += 97) {
    ASSERT_TRUE(apply_range(*second.service, messages, at, std::min(at + 97, messages.size())));
  }
  EXPECT_NE(second.store->latest_snapshot().value().value().through_row, taken.through_row);
  const std::vector<std::string> records = partition_records(*reference.store);
  EXPECT_EQ(partition_records(*second.store), records);
  EXPECT_EQ(second.service->counters().accepted, reference.service->counters().accepted);
  EXPECT_EQ(second.service->counters().log_entries, reference.service->counters().log_entries);
  const auto scored = std::count_if(records.begin(), records.end(),
                                    [](const std::string& r) { return r.find("\"risk\":") != std::string::npos; });
  if (model.empty()) {
    EXPECT_EQ(scored, 0);
  } else {
    EXPECT_GT(scored, 100);
  }
}

TEST(PartitionSnapshotTest, ATakeoverRecoversFromThePartitionsSnapshotAndAStaleOwnerStoresNone) {
  takeover_from_snapshot("");
}

TEST(PartitionSnapshotTest, WithARiskModelATakeoverRecoversTheFeaturesFromTheSnapshotScoringAsTheWholeLog) {
  takeover_from_snapshot(ServeRiskWorld::get().model_a);
}

}  // namespace
}  // namespace gw::test
