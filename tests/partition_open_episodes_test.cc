// A bus worker's partition keeps its open episodes in PostgreSQL
// (docs/operations.md, "Workers"), in process against a real server: the
// rows are always its engine's open episodes as of the last commit, a
// takeover (a new claim, the engine recovered from the log) leaves them
// right even when they were wrong, a stale owner changes none, and at the
// end they are the open episodes `replay` writes.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "ghostwatch/output/record_json.h"
#include "partition_support.h"
#include "pg_server.h"

namespace gw::test {
namespace {

std::vector<std::string> episode_lines(const std::vector<EpisodeRow>& rows) {
  std::vector<std::string> out;
  for (const EpisodeRow& r : rows) {
    std::string line;
    append_episode_json(line, r.view());
    out.push_back(std::move(line));
  }
  return out;
}

std::vector<std::string> stored_open(Store& store) {
  return episode_lines(store.open_episodes(EpisodeQuery{}, std::nullopt, SIZE_MAX).value());
}

std::vector<std::string> engine_open(Service& service) {
  return episode_lines(service.open_episodes(EpisodeQuery{}, std::nullopt, SIZE_MAX).value());
}

TEST(PartitionOpenEpisodesTest, RowsFollowTheCommittedEngineThroughTakeovers) {
  const auto url = pg_database_url();
  if (!url) GTEST_SKIP() << kNoPostgres;
  TempDir dir;
  const std::vector<PartitionMessage> messages = simulated_partition(dir, 29, 80, 30, 12);
  ASSERT_GT(messages.size(), 1000u);
  FixedPartitionClock clock;
  auto shared = PostgresStore::open(*url).value();

  PartitionOwner first = take_partition(*url, clock);
  ASSERT_TRUE(first.service);
  const std::size_t half = messages.size() / 2;
  for (std::size_t at = 0; at < half; at += 97) {
    ASSERT_TRUE(apply_range(*first.service, messages, at, std::min(at + 97, half)));
    ASSERT_EQ(stored_open(*shared), engine_open(*first.service)) << "after message " << at;
  }
  const std::vector<std::string> at_half = engine_open(*first.service);
  ASSERT_GT(at_half.size(), 5u);

  // Rows gone wrong (one lost, one too many) are right again once the
  // partition is taken over; the old owner can change nothing.
  {
    pqxx::connection c(*url);
    pqxx::work tx(c);
    tx.exec0("DELETE FROM open_episodes WHERE contract = (SELECT MIN(contract) FROM open_episodes)");
    tx.exec0(
        "INSERT INTO open_episodes(contract, partition, episode, freelancer, client, arm, in_segment, opened_at, "
        "steps_sent) VALUES('ghost', 0, 1, 'f', 'c', 'treatment', true, 0, 0)");
    tx.commit();
  }
  PartitionOwner second = take_partition(*url, clock);
  ASSERT_TRUE(second.service);
  EXPECT_EQ(engine_open(*second.service), at_half) << "recovered from the log";
  EXPECT_EQ(stored_open(*shared), at_half);
  EXPECT_FALSE(apply_range(*first.service, messages, half, messages.size()));
  EXPECT_EQ(stored_open(*shared), at_half);

  for (std::size_t at = half; at < messages.size(); at += 211) {
    ASSERT_TRUE(apply_range(*second.service, messages, at, std::min(at + 211, messages.size())));
  }
  std::vector<std::string> replay_open;
  for (std::string line : bodies(read_file(dir.file("episodes.ndjson")), 1)) {
    if (line.find("\"outcome\":\"open\"") != std::string::npos) replay_open.push_back(line);
  }
  EXPECT_EQ(stored_open(*shared), replay_open);
  EXPECT_EQ(shared->open_episode_count().value(), replay_open.size());
}

}  // namespace
}  // namespace gw::test
