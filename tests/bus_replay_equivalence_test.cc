// The claim of docs/operations.md ("why per-partition engines equal one
// replay"), checked end to end: a simulated marketplace is published with
// `ghostwatch publish`, read back from the stream one partition at a time
// into an engine per partition that raises its watermark to
// Gw-Watermark - allowed_lateness before each event, as the workers will;
// the union of their decisions and episodes equals `ghostwatch replay`'s.
#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "ghostwatch/engine/engine.h"
#include "ghostwatch/ingest/line_parser.h"
#include "ghostwatch/output/record_json.h"
#include "ghostwatch/policy/policy.h"
#include "nats_server.h"
#include "pg_server.h"
#include "serve_process.h"
#include "serve_support.h"

namespace gw::test {
namespace {

class RecordLines final : public EngineSink {
 public:
  void on_decision(const Decision& d) override {
    std::string line;
    append_decision_json(line, d);
    add(line);
  }
  void on_episode(const EpisodeRecord& e) override {
    std::string line;
    append_episode_json(line, e);
    add(line);
  }
  // Without the newline the record ends with.
  void add(std::string line) {
    while (!line.empty() && line.back() == '\n') line.pop_back();
    lines.push_back(std::move(line));
  }
  std::vector<std::string> lines;
};

std::vector<std::string> sorted_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(BusReplayEquivalenceTest, EnginesPerPartitionDecideWhatOneReplayDecides) {
  auto nats = nats_url();
  if (!nats) GTEST_SKIP() << kNoNats;
  auto db = pg_database_url();
  if (!db) GTEST_SKIP() << kNoPostgres;
  delete_stream(*nats, "GHOSTWATCH_EVENTS");
  TempDir dir;
  ASSERT_EQ(run_ghostwatch("simulate --seed 11 --freelancers 150 --clients 60 --days 20 --out " + dir.file("ev.ndjson"))
                .status,
            0);
  const CommandOutput published = run_ghostwatch("publish --config " + kExamplePolicy + " --bus " + *nats +
                                                 " --store " + *db + " " + dir.file("ev.ndjson"));
  ASSERT_EQ(published.status, 0) << published.out;
  const CommandOutput replay =
      run_ghostwatch("replay --config " + kExamplePolicy + " --events " + dir.file("ev.ndjson") + " --actions " +
                     dir.file("actions.ndjson") + " --episodes " + dir.file("episodes.ndjson"));
  ASSERT_EQ(replay.status, 0) << replay.out;

  auto policy = load_policy(kExamplePolicy);
  ASSERT_TRUE(policy) << policy.message();
  std::map<std::string, std::vector<StoredMessage>> partitions;
  Instant until = kNoInstant;
  for (StoredMessage& m : read_stream(*nats, "GHOSTWATCH_EVENTS")) {
    until = std::max(until, m.watermark);
    partitions[m.subject].push_back(std::move(m));
  }
  ASSERT_EQ(partitions.size(), 16u);
  RecordLines records;
  LineParser parser;
  Event e;
  for (const auto& [subject, messages] : partitions) {
    Engine engine(*policy, records);
    for (const StoredMessage& m : messages) {
      ASSERT_EQ(parser.parse_copy(m.data, e), RejectReason::kNone) << m.data;
      engine.advance_watermark(m.watermark - policy->allowed_lateness);
      ASSERT_EQ(engine.submit(e), RejectReason::kNone) << subject << ": " << m.data;
    }
    engine.evaluate_through(until);  // replay's default --until: the largest accepted time
    engine.emit_open_episodes();
  }
  std::sort(records.lines.begin(), records.lines.end());
  const std::vector<std::string> expected =
      sorted_lines(read_file(dir.file("actions.ndjson")) + read_file(dir.file("episodes.ndjson")));
  ASSERT_GT(expected.size(), 1000u);
  EXPECT_EQ(records.lines.size(), expected.size());
  std::vector<std::string> missing, extra;
  std::set_difference(expected.begin(), expected.end(), records.lines.begin(), records.lines.end(),
                      std::back_inserter(missing));
  std::set_difference(records.lines.begin(), records.lines.end(), expected.begin(), expected.end(),
                      std::back_inserter(extra));
  EXPECT_TRUE(missing.empty() && extra.empty())
      << missing.size() << " records of replay missing, the first: " << (missing.empty() ? "" : missing[0]) << "\n"
      << extra.size() << " records not in replay, the first: " << (extra.empty() ? "" : extra[0]);
}

}  // namespace
}  // namespace gw::test
