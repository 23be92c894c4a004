// The feature store of a bus worker's partition (docs/operations.md, "A
// risk model"): fed only its partition's events, with its time moved to the
// whole log's (Gw-Watermark, FeatureStore::pass_time) before each one, as
// Service does under --clock events, every episode gets the features a
// feature store over the whole log gives it. Without that time, a
// late-stamped opening misses a horizon that other partitions' events have
// passed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "ghostwatch/bus/event_router.h"
#include "ghostwatch/engine/engine.h"
#include "ghostwatch/ingest/line_parser.h"
#include "ghostwatch/risk/feature_store.h"
#include "risk_support.h"

namespace gw::test {
namespace {

using PartitionFeatureMap = std::map<std::pair<std::string, std::uint32_t>, risk::EpisodeFeatures>;

// An engine that decides nothing (its campaign starts at the end of time)
// with a feature store beside it, in feature_store.h's driving order.
class FeaturePartition final : public EngineSink {
 public:
  explicit FeaturePartition(PartitionFeatureMap& out) : out_(out), engine_(policy(), *this), store_(engine_) {}

  void on_decision(const Decision&) override {}
  void on_episode(const EpisodeRecord& r) override { store_.on_episode_closed(r); }
  void on_episode_opened(const EpisodeRecord& r) override {
    out_[{std::string(r.contract), r.episode}] = store_.on_episode_opened(r);
  }

  // Applies `line` (routed: it is accepted), the log's time first if given.
  void apply(const std::string& line, std::optional<Instant> log_time) {
    Event e;
    ASSERT_EQ(parser_.parse_copy(line, e), RejectReason::kNone) << line;
    if (log_time) store_.pass_time(*log_time);
    store_.begin_event(e);
    ASSERT_EQ(engine_.submit(e), RejectReason::kNone) << line;
    store_.apply(e);
  }

 private:
  static const Policy& policy() {
    static const Policy p = [] {
      Policy q;
      q.name = "partition-features";
      q.start = kForever;
      q.ladder.push_back(LadderStep{1, StepAction::kNudge, "none"});
      return q;
    }();
    return p;
  }

  PartitionFeatureMap& out_;
  Engine engine_;
  risk::FeatureStore store_;
  LineParser parser_;
};

// Every episode's features at its opening when `text` is routed onto
// `partitions` partitions as the publisher routes it, each partition with a
// feature store of its own; with `log_time`, each is given Gw-Watermark.
PartitionFeatureMap partition_features(const std::string& text, std::uint32_t partitions, bool log_time) {
  bus::ParsedBody body = bus::parse_body(text, 1);
  bus::ContractBook book;
  const bus::Routing routing = bus::route(body, book, partitions);
  PartitionFeatureMap out;
  std::vector<std::unique_ptr<FeaturePartition>> parts;
  for (std::uint32_t p = 0; p < partitions; ++p) parts.push_back(std::make_unique<FeaturePartition>(out));
  Instant watermark = kNoInstant;
  for (const bus::RoutedLine& r : routing.lines) {
    watermark = std::max(watermark, r.parsed->at);
    const std::optional<Instant> t = log_time ? std::optional<Instant>(watermark) : std::nullopt;
    for (std::uint32_t p = 0; p < partitions; ++p) {
      if (r.every_partition || r.partition == p) parts[p]->apply(r.parsed->raw, t);
    }
  }
  return out;
}

std::string partition_msg(const char* at, const char* contract, const char* from) {
  return std::string(R"({"type":"message","at":")") + at + R"(","contract":")" + contract + R"(","from":")" + from +
         R"("})";
}
std::string partition_start(const char* at, const char* contract, const char* client, const std::string& freelancer) {
  return std::string(R"({"type":"contract_started","at":")") + at + R"(","contract":")" + contract + R"(","client":")" +
         client + R"(","freelancer":")" + freelancer + R"("})";
}

TEST(RiskPartitionFeatures, ALateOpeningSeesTheHorizonsOtherPartitionsPassed) {
  // f1 and another freelancer on the other of two partitions.
  std::string other = "f2";
  while (bus::partition_of(other, 2) == bus::partition_of("f1", 2)) other += "x";
  const std::string text = risk_join_lines({
      partition_start("2024-01-01T00:00:00Z", "c1", "k1", "f1"),
      partition_msg("2024-01-01T10:00:00Z", "c1", "k1"),  // c1 #1, never answered: 24 h horizon 01-02 10:00
      partition_start("2024-01-02T10:00:00Z", "c2", "k2", other),
      partition_msg("2024-01-02T10:05:00Z", "c2", "k2"),  // the log's time passes the horizon, elsewhere
      partition_start("2024-01-02T09:58:00Z", "c3", "k3", "f1"),
      partition_msg("2024-01-02T09:59:00Z", "c3", "k3"),  // c3 #1, stamped before the horizon
  });
  const PartitionFeatureMap whole = partition_features(text, 1, false);
  const risk::EpisodeFeatures& late = whole.at({"c3", 1});
  EXPECT_EQ(late[risk::NumericFeature::kFlUnanswered24Share], 1.0) << "the whole log has passed c1 #1's horizon";

  const PartitionFeatureMap with_time = partition_features(text, 2, true);
  EXPECT_TRUE(risk_same_features(with_time.at({"c3", 1}), late));
  const PartitionFeatureMap without = partition_features(text, 2, false);
  EXPECT_TRUE(std::isnan(without.at({"c3", 1})[risk::NumericFeature::kFlUnanswered24Share]))
      << "without the log's time, the partition has not passed it yet";
}

TEST(RiskPartitionFeatures, PartitionsGiveEveryEpisodeTheWholeLogsFeatures) {
  const std::string text = risk_small_marketplace(5);
  const PartitionFeatureMap whole = partition_features(text, 1, false);
  ASSERT_GT(whole.size(), 500u);
  const PartitionFeatureMap parts = partition_features(text, 4, true);
  ASSERT_EQ(parts.size(), whole.size());
  for (const auto& [key, features] : whole) {
    ASSERT_TRUE(risk_same_features(parts.at(key), features)) << key.first << " #" << key.second;
  }
}

}  // namespace
}  // namespace gw::test
