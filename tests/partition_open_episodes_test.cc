// A bus worker's partition keeps its open episodes in PostgreSQL
// (docs/operations.md, "Workers"), in process against a real server: the
// rows are always its engine's open episodes as of the last commit, a
// takeover (a new claim, the engine recovered from the log) leaves them
// right even when they were wrong, a stale owner changes none, and at the
// end they are the open episodes `replay` writes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <set>

#include "ghostwatch/output/record_json.h"
#include "ghostwatch/server/service.h"
#include "ghostwatch/store/postgres/postgres_store.h"
#include "pg_server.h"
#include "serve_support.h"

namespace gw::test {
namespace {

class FixedPartitionClock final : public Clock {
 public:
  Instant now() const override { return 1'700'000'000'000; }
};

// The replay-accepted lines of `events` as the messages of one partition:
// stream and log sequence numbers, and the running maximum event time.
std::vector<PartitionMessage> one_partition(const std::string& events, const std::string& rejects) {
  std::set<std::uint64_t> rejected;
  for (const std::string& line : bodies(rejects, 1))
    rejected.insert(nlohmann::json::parse(line)["line"].get<std::uint64_t>());
  std::vector<PartitionMessage> out;
  Instant watermark = kNoInstant;
  std::uint64_t number = 0;
  for (std::string line : bodies(events, 1)) {
    if (rejected.count(++number) != 0) continue;
    while (!line.empty() && line.back() == '\n') line.pop_back();
    watermark = std::max(watermark, parse_rfc3339(nlohmann::json::parse(line)["at"].get<std::string>()).value());
    PartitionMessage m;
    m.stream_seq = m.seq = out.size() + 1;
    m.watermark = watermark;
    m.line = std::move(line);
    out.push_back(std::move(m));
  }
  return out;
}

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

struct PartitionOwner {
  std::unique_ptr<PostgresStore> store;
  std::unique_ptr<Service> service;
};

PartitionOwner take_partition(const std::string& url, const Clock& clock) {
  PartitionOwner o;
  o.store = PostgresStore::open(url, 0).value();
  const std::uint64_t claim = o.store->claim_partition().value().epoch;
  auto service = Service::open(read_file(kExamplePolicy), *o.store, clock, ClockMode::kEvents, claim);
  EXPECT_TRUE(service) << service.message();
  if (service) o.service = std::move(*service);
  return o;
}

TEST(PartitionOpenEpisodesTest, RowsFollowTheCommittedEngineThroughTakeovers) {
  const auto url = pg_database_url();
  if (!url) GTEST_SKIP() << kNoPostgres;
  TempDir dir;
  simulate(dir.file("ev.ndjson"), 29, 80, 30, 12);
  const std::string replay_cmd = std::string(GHOSTWATCH_BINARY) + " replay --config " + kExamplePolicy + " --events " +
                                 dir.file("ev.ndjson") + " --rejects " + dir.file("rejects.ndjson") + " --episodes " +
                                 dir.file("episodes.ndjson") + " 2>/dev/null";
  ASSERT_EQ(run_command(replay_cmd), 0);
  std::vector<PartitionMessage> messages =
      one_partition(read_file(dir.file("ev.ndjson")), read_file(dir.file("rejects.ndjson")));
  ASSERT_GT(messages.size(), 1000u);
  // The end of a replay: evaluate through the largest event time.
  PartitionMessage advance;
  advance.stream_seq = advance.seq = messages.size() + 1;
  advance.watermark = messages.back().watermark;
  advance.control = PartitionControl::kEvaluateThrough;
  advance.at = messages.back().watermark;
  messages.push_back(advance);
  auto batch = [&](std::size_t from, std::size_t to) {
    return std::vector<PartitionMessage>(messages.begin() + static_cast<std::ptrdiff_t>(from),
                                         messages.begin() + static_cast<std::ptrdiff_t>(to));
  };
  auto apply = [&](Service& service, std::size_t from, std::size_t to) {
    return service.apply_partition(batch(from, to), PartitionPosition{messages[to - 1].stream_seq, 0});
  };
  FixedPartitionClock clock;
  auto shared = PostgresStore::open(*url).value();

  PartitionOwner first = take_partition(*url, clock);
  ASSERT_TRUE(first.service);
  const std::size_t half = messages.size() / 2;
  for (std::size_t at = 0; at < half; at += 97) {
    ASSERT_TRUE(apply(*first.service, at, std::min(at + 97, half)));
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
  EXPECT_FALSE(apply(*first.service, half, messages.size()));
  EXPECT_EQ(stored_open(*shared), at_half);

  for (std::size_t at = half; at < messages.size(); at += 211) {
    ASSERT_TRUE(apply(*second.service, at, std::min(at + 211, messages.size())));
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
