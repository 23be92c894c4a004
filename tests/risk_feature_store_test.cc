// The feature store against hand-made histories: every feature of
// docs/risk-model.md at an episode's opening, the 24 h / 72 h horizons
// counted only once strictly passed, and no look-ahead (an episode's
// features do not change when later events are added); its snapshots: a
// store restored beside a restored engine computes every later opening's
// features exactly as the uninterrupted one, and restore refuses bytes it
// cannot trust.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "ghostwatch/engine/engine.h"
#include "ghostwatch/engine/snapshot.h"
#include "ghostwatch/ingest/line_parser.h"
#include "ghostwatch/policy/policy.h"
#include "ghostwatch/risk/episode_history.h"
#include "ghostwatch/risk/feature_store.h"
#include "ghostwatch/risk/reply_histogram.h"
#include "risk_support.h"

namespace gw::test {
namespace {

using risk::CategoricalFeature;
using risk::EpisodeHistory;
using risk::NumericFeature;
using risk::ReplyHistogram;

std::string risk_msg(const char* at, const char* contract, const char* from) {
  return std::string(R"({"type":"message","at":")") + at + R"(","contract":")" + contract + R"(","from":")" + from +
         R"("})";
}
std::string risk_start(const char* at, const char* contract, const char* client, const char* freelancer) {
  return std::string(R"({"type":"contract_started","at":")") + at + R"(","contract":")" + contract + R"(","client":")" +
         client + R"(","freelancer":")" + freelancer + R"("})";
}

const std::vector<std::string> kRiskHistory = {
    R"({"type":"user","at":"2024-01-01T00:00:00Z","id":"f1","country":"in","tz":"Asia/Kolkata","kind":"agency"})",
    risk_start("2024-01-01T00:00:00Z", "c1", "k1", "f1"),
    risk_msg("2024-01-01T10:00:00Z", "c1", "k1"),  // c1 #1 opens (Monday 15:30 in Kolkata)
    risk_msg("2024-01-01T12:00:00Z", "c1", "f1"),  // replied after 2 h
    risk_msg("2024-01-01T12:30:00Z", "c1", "k1"),  // c1 #2 opens, never answered
    risk_start("2024-01-02T00:00:00Z", "c2", "k2", "f1"),
    risk_msg("2024-01-02T12:30:00Z", "c2", "k2"),  // c2 #1: c1 #2's 24 h horizon is now, not passed
    risk_start("2024-01-02T12:30:01Z", "c3", "k3", "f1"),
    risk_msg("2024-01-02T12:30:01Z", "c3", "k3"),  // c3 #1: now it has passed
    R"({"type":"contract_ended","at":"2024-01-03T00:00:00Z","contract":"c3"})",
};

TEST(RiskFeatureStore, FeaturesOfHandMadeHistory) {
  TempDir dir;
  const EpisodeHistory h = risk_history_of(dir, risk_join_lines(kRiskHistory));
  ASSERT_EQ(h.rows.size(), 4u);
  EXPECT_EQ(h.stream.accepted, kRiskHistory.size());

  const auto& first = h.rows[0].features;
  EXPECT_EQ(h.rows[0].contract, "c1");
  EXPECT_EQ(h.rows[0].episode, 1u);
  EXPECT_TRUE(std::isnan(first[NumericFeature::kFlReplyMedianS]));
  EXPECT_TRUE(std::isnan(first[NumericFeature::kFlUnanswered24Share]));
  EXPECT_TRUE(std::isnan(first[NumericFeature::kFlSinceLastMessageS]));
  EXPECT_TRUE(std::isnan(first[NumericFeature::kContractSinceFlMessageS]));
  EXPECT_EQ(first[NumericFeature::kFlEpisodes], 0);
  EXPECT_EQ(first[NumericFeature::kFlActiveContracts], 1);
  EXPECT_EQ(first[NumericFeature::kFlTenureS], 36000);
  EXPECT_EQ(first[NumericFeature::kLocalHour], 15);        // 10:00 UTC is 15:30 IST
  EXPECT_EQ(first[NumericFeature::kLocalWeekday], 0);      // 2024-01-01 was a Monday
  EXPECT_EQ(first[NumericFeature::kClientMessages1h], 0);  // the opening message itself is not counted
  EXPECT_EQ(first[NumericFeature::kContractAgeS], 36000);
  EXPECT_EQ(first[NumericFeature::kContractMessages], 0);
  EXPECT_EQ(first[NumericFeature::kContractEpisode], 1);
  EXPECT_TRUE(std::isnan(first[NumericFeature::kContractLastReplyS]));
  EXPECT_EQ(first[CategoricalFeature::kFlCountry], "IN");
  EXPECT_EQ(first[CategoricalFeature::kFlKind], "agency");

  const auto& second = h.rows[1].features;
  EXPECT_EQ(h.rows[1].episode, 2u);
  EXPECT_EQ(second[NumericFeature::kFlReplies], 1);
  EXPECT_EQ(second[NumericFeature::kFlEpisodes], 1);
  const double two_hours = ReplyHistogram::bucket_seconds(ReplyHistogram::bucket_of(2 * kHour));
  EXPECT_EQ(second[NumericFeature::kFlReplyMedianS], two_hours);
  EXPECT_EQ(second[NumericFeature::kFlReplyP90S], two_hours);
  EXPECT_NEAR(second[NumericFeature::kFlReplyMedianS], 7200, 0.2 * 7200);
  EXPECT_EQ(second[NumericFeature::kFlSinceLastMessageS], 1800);
  EXPECT_EQ(second[NumericFeature::kContractSinceFlMessageS], 1800);
  EXPECT_DOUBLE_EQ(second[NumericFeature::kClientMessages1h], std::exp(-2.5));
  EXPECT_DOUBLE_EQ(second[NumericFeature::kClientMessages24h], std::exp(-2.5 / 24));
  EXPECT_EQ(second[NumericFeature::kContractMessages], 2);
  EXPECT_EQ(second[NumericFeature::kContractLastReplyS], 7200);
  EXPECT_EQ(second[NumericFeature::kFlOpenEpisodes], 0);
  EXPECT_TRUE(std::isnan(second[NumericFeature::kFlUnanswered24Share]));  // c1 #1's horizon is ahead

  // c1 #1 (answered in 2 h) has passed its 24 h horizon; c1 #2's is exactly now.
  const auto& third = h.rows[2].features;
  EXPECT_EQ(h.rows[2].contract, "c2");
  EXPECT_EQ(third[NumericFeature::kFlUnanswered24Share], 0.0);
  EXPECT_EQ(third[NumericFeature::kFlOpenEpisodes], 1);
  EXPECT_EQ(third[NumericFeature::kFlActiveContracts], 2);
  EXPECT_TRUE(std::isnan(third[NumericFeature::kFlUnanswered72Share]));
  EXPECT_EQ(third[NumericFeature::kFlMatured72], 0);

  const auto& fourth = h.rows[3].features;
  EXPECT_EQ(fourth[NumericFeature::kFlUnanswered24Share], 0.5);
  EXPECT_EQ(fourth[NumericFeature::kFlOpenEpisodes], 2);
  EXPECT_EQ(fourth[NumericFeature::kFlActiveContracts], 3);

  EXPECT_EQ(h.rows[0].outcome, Outcome::kReplied);
  EXPECT_EQ(h.rows[1].outcome, Outcome::kOpen);
  EXPECT_EQ(h.rows[3].outcome, Outcome::kContractEnded);
}

// An episode still open after both its horizons gives its place up to the
// next one to open; its late reply is its own, not that episode's.
TEST(RiskFeatureStore, ALateReplyCountsForItsOwnEpisodeOnly) {
  TempDir dir;
  const EpisodeHistory h = risk_history_of(
      dir, risk_join_lines({
               risk_start("2024-01-01T00:00:00Z", "c1", "k1", "f1"),
               risk_msg("2024-01-01T10:00:00Z", "c1", "k1"),  // c1 #1, open for more than 72 h
               risk_start("2024-01-04T11:00:00Z", "c2", "k2", "f1"),
               risk_msg("2024-01-04T11:00:00Z", "c2", "k2"),  // c2 #1, after both of c1 #1's horizons
               risk_msg("2024-01-04T12:00:00Z", "c1", "f1"),  // c1 #1's late reply; c2 #1 stays unanswered
               risk_start("2024-01-05T12:00:00Z", "c3", "k3", "f1"),
               risk_msg("2024-01-05T12:00:00Z", "c3", "k3"),  // c3 #1, after c2 #1's 24 h horizon
           }));
  ASSERT_EQ(h.rows.size(), 3u);
  EXPECT_EQ(h.rows[2].contract, "c3");
  EXPECT_EQ(h.rows[2].features[NumericFeature::kFlUnanswered24Share], 1.0) << "c1 #1 and c2 #1, both unanswered";
}

TEST(RiskFeatureStore, LabelNeedsTheWholeHorizonBehindTheEnd) {
  risk::EpisodeRow row;
  row.opened_at = 0;
  row.outcome = Outcome::kReplied;
  row.closed_at = 3 * kDay + 999;  // 259200 whole seconds: answered in time
  EXPECT_EQ(risk::unanswered72h(row, 3 * kDay), std::optional<bool>(false));
  EXPECT_EQ(risk::unanswered72h(row, 3 * kDay - 1), std::nullopt);
  row.closed_at = 3 * kDay + kSecond;
  EXPECT_EQ(risk::unanswered72h(row, 4 * kDay), std::optional<bool>(true));
  row.outcome = Outcome::kContractEnded;
  row.closed_at = kHour;
  EXPECT_EQ(risk::unanswered72h(row, 4 * kDay), std::optional<bool>(true));
}

TEST(RiskFeatureStore, ReplyHistogramQuantiles) {
  ReplyHistogram h;
  for (int i = 0; i < 9; ++i) h.add(10 * kMinute);
  h.add(10 * kDay);
  EXPECT_EQ(h.total(), 10u);
  EXPECT_NEAR(h.quantile_seconds(0.5), 600, 0.2 * 600);
  EXPECT_NEAR(h.quantile_seconds(0.9), 600, 0.2 * 600);
  EXPECT_NEAR(h.quantile_seconds(1.0), 864000, 0.2 * 864000);
  EXPECT_EQ(ReplyHistogram::bucket_of(0), 0);
  EXPECT_EQ(ReplyHistogram::bucket_of(100 * 365 * kDay), ReplyHistogram::kBuckets - 1);
}

// bucket_of's table gives the definition's bucket, floor(4 * log2(1 +
// minutes)): for every reply up to 10 minutes, around every bucket's lower
// edge, at both ends of every highest bit's range (where bucket_of counts
// the most edges above the bit's first bucket), and for random replies of
// any length.
TEST(RiskFeatureStore, ReplyHistogramBucketsFollowTheirDefinition) {
  const auto definition = [](Duration reply) {
    const double minutes = static_cast<double>(reply) / static_cast<double>(kMinute);
    const int i = static_cast<int>(std::floor(4.0 * std::log2(1.0 + minutes)));
    return std::clamp(i, 0, ReplyHistogram::kBuckets - 1);
  };
  for (Duration d = 0; d <= 10 * kMinute; ++d) ASSERT_EQ(ReplyHistogram::bucket_of(d), definition(d)) << d;
  for (int b = 1; b < ReplyHistogram::kBuckets; ++b) {
    const auto edge = static_cast<Duration>(60000.0 * (std::exp2(b / 4.0) - 1.0));
    for (Duration d = std::max<Duration>(0, edge - 2000); d <= edge + 2000; ++d) {
      ASSERT_EQ(ReplyHistogram::bucket_of(d), definition(d)) << d;
    }
  }
  for (int bit = 0; bit < 63; ++bit) {
    const Duration first = Duration{1} << bit, last = first + (first - 1);
    for (Duration d : {first, first + 1, last - 1, last}) ASSERT_EQ(ReplyHistogram::bucket_of(d), definition(d)) << d;
  }
  std::mt19937_64 rng(7);
  for (int i = 0; i < 1'000'000; ++i) {
    const auto d = static_cast<Duration>(rng() >> (1 + rng() % 63));
    ASSERT_EQ(ReplyHistogram::bucket_of(d), definition(d)) << d;
  }
}

// The tracked quantiles are the scanned ones after every time added, in a
// history long enough for a bucket to saturate and every count to halve.
TEST(RiskFeatureStore, ReplyHistogramTrackedQuantilesEqualTheScan) {
  ReplyHistogram h;
  std::mt19937 rng(3);
  std::uniform_int_distribution<Duration> wait(0, 3 * kDay);
  for (int i = 0; i < 200'000; ++i) {
    // Mostly the same few minutes (one bucket saturates), sometimes anything.
    h.add(i % 4 == 0 ? wait(rng) : 5 * kMinute);
    ASSERT_EQ(h.median_seconds(), h.quantile_seconds(0.5)) << "after " << i + 1 << " times";
    ASSERT_EQ(h.p90_seconds(), h.quantile_seconds(0.9)) << "after " << i + 1 << " times";
  }
  EXPECT_LT(h.total(), 200'000u);  // the counts were halved
}

// The tracked quantiles' integer ranks are the double ones of the scan for
// every total a histogram can reach.
TEST(RiskFeatureStore, ReplyHistogramIntegerRanksEqualTheDoubleOnes) {
  for (std::uint32_t total = 1; total <= ReplyHistogram::kMaxTotal; ++total) {
    ASSERT_EQ(ReplyHistogram::rank_in_tenths<5>(total), ReplyHistogram::rank(0.5, total)) << total;
    ASSERT_EQ(ReplyHistogram::rank_in_tenths<9>(total), ReplyHistogram::rank(0.9, total)) << total;
  }
}

// Features use nothing after the event that opens the episode: cutting the
// history anywhere leaves the features of every episode opened before the
// cut exactly as they are in the whole history.
TEST(RiskFeatureStore, NoLookAhead) {
  TempDir dir;
  const std::string text = risk_small_marketplace(11);
  const EpisodeHistory whole = risk_history_of(dir, text, "whole.ndjson");
  ASSERT_GT(whole.rows.size(), 500u);
  std::vector<std::size_t> line_starts;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i == 0 || text[i - 1] == '\n') line_starts.push_back(i);
  }
  std::mt19937 rng(5);
  for (int cut_round = 0; cut_round < 4; ++cut_round) {
    const std::size_t line = std::uniform_int_distribution<std::size_t>(1, line_starts.size() - 1)(rng);
    const EpisodeHistory part = risk_history_of(dir, text.substr(0, line_starts[line]), "part.ndjson");
    ASSERT_LE(part.rows.size(), whole.rows.size());
    for (std::size_t i = 0; i < part.rows.size(); ++i) {
      ASSERT_EQ(part.rows[i].contract, whole.rows[i].contract);
      ASSERT_EQ(part.rows[i].episode, whole.rows[i].episode);
      ASSERT_TRUE(risk_same_features(part.rows[i].features, whole.rows[i].features))
          << "episode " << part.rows[i].contract << " #" << part.rows[i].episode << ", cut at line " << line;
    }
  }
}

// Drives an engine and a store beside it as replay --model does, and keeps
// the store's features of every opening.
class StoreOpenings : public EngineSink, public EpisodeScorer {
 public:
  std::vector<risk::FeatureStore::Features> opened;

  StoreOpenings(const std::string& text, bool client_messages) {
    auto policy = parse_policy("[[ladder]]\nafter = \"24h\"\naction = \"nudge\"\ntemplate = \"r1\"\n", "test");
    EXPECT_TRUE(policy.is_ok()) << policy.message();
    Engine engine(*policy, *this);
    risk::FeatureStore store(engine, client_messages);
    store_ = &store;
    engine.set_scorer(this);
    LineParser parser;
    Event e;
    std::size_t from = 0;
    while (from < text.size()) {
      const std::size_t end = std::min(text.find('\n', from), text.size());
      const std::string_view line(text.data() + from, end - from);
      from = end + 1;
      if (parser.parse_copy(line, e) != RejectReason::kNone) continue;
      store.begin_event(e);
      if (engine.submit(e) == RejectReason::kNone) store.apply(e);
    }
    store_ = nullptr;
  }
  void on_decision(const Decision&) override {}
  void on_episode(const EpisodeRecord& r) override {
    if (r.outcome != Outcome::kOpen) store_->on_episode_closed(r);
  }
  float score(const EpisodeRecord& r) override {
    opened.push_back(store_->open(r));
    return 0.5f;
  }

 private:
  risk::FeatureStore* store_ = nullptr;
};

TEST(RiskFeatureStore, WithoutClientMessagesEveryOtherFeatureIsTheSame) {
  const std::string text = risk_small_marketplace(11);
  const StoreOpenings all(text, true), without(text, false);
  ASSERT_GT(all.opened.size(), 500u);
  ASSERT_EQ(without.opened.size(), all.opened.size());
  std::size_t counted = 0;
  for (std::size_t i = 0; i < all.opened.size(); ++i) {
    for (std::size_t f = 0; f < risk::kNumericFeatureCount; ++f) {
      const auto feature = static_cast<NumericFeature>(f);
      if (feature == NumericFeature::kClientMessages1h || feature == NumericFeature::kClientMessages24h) {
        ASSERT_TRUE(std::isnan(without.opened[i][feature])) << "opening " << i;
        counted += all.opened[i][feature] > 0 ? 1 : 0;
      } else {
        ASSERT_TRUE(risk_same_value(without.opened[i][feature], all.opened[i][feature]))
            << "opening " << i << ", feature " << f;
      }
    }
    ASSERT_EQ(without.opened[i].categorical, all.opened[i].categorical) << "opening " << i;
  }
  EXPECT_GT(counted, 0u);  // the full store does count them
}

const Policy& snapshot_policy() {
  static const Policy policy =
      parse_policy("[[ladder]]\nafter = \"24h\"\naction = \"nudge\"\ntemplate = \"r1\"\n", "test").value();
  return policy;
}

// An engine and a store beside it, driven as the live service drives them,
// keeping the store's features (categories as texts) of every opening;
// fresh or restored from another's snapshots.
class RestorableOpenings : public EngineSink, public EpisodeScorer {
 public:
  std::vector<risk::EpisodeFeatures> opened;

  RestorableOpenings() { engine_.set_scorer(this); }
  RestorableOpenings(std::string_view engine, std::string_view store) {
    const Status e = EngineSnapshot::restore(engine, engine_);
    EXPECT_TRUE(e) << e.message();
    const Status s = store_.restore(store);
    EXPECT_TRUE(s) << s.message();
    engine_.set_scorer(this);
  }
  void feed(std::string_view line) {
    if (parser_.parse_copy(line, event_) != RejectReason::kNone) return;
    store_.begin_event(event_);
    if (engine_.submit(event_) == RejectReason::kNone) store_.apply(event_);
  }
  std::string engine_snapshot() const { return EngineSnapshot::write(engine_); }
  std::string store_snapshot() const { return store_.encode(); }

  void on_decision(const Decision&) override {}
  void on_episode(const EpisodeRecord& r) override {
    if (r.outcome != Outcome::kOpen) store_.on_episode_closed(r);
  }
  float score(const EpisodeRecord& r) override {
    opened.push_back(store_.on_episode_opened(r));
    return 0.5f;
  }

 private:
  Engine engine_{snapshot_policy(), *this};
  risk::FeatureStore store_{engine_};
  LineParser parser_;
  Event event_;
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(RiskFeatureStore, ARestoredStoreComputesEveryLaterOpeningsFeaturesExactlyAsTheUninterruptedOne) {
  const std::vector<std::string> lines = lines_of(risk_small_marketplace(11));
  // The uninterrupted run, snapshotted at five cuts on its way.
  RestorableOpenings whole;
  struct Cut {
    std::size_t line, opened;
    std::string engine, store;
  };
  std::vector<Cut> cuts;
  const std::size_t step = lines.size() / 6;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i > 0 && i % step == 0 && i / step <= 5) {
      cuts.push_back(Cut{i, whole.opened.size(), whole.engine_snapshot(), whole.store_snapshot()});
    }
    whole.feed(lines[i]);
  }
  ASSERT_EQ(cuts.size(), 5u);
  ASSERT_GT(whole.opened.size(), 500u);
  for (const Cut& cut : cuts) {
    RestorableOpenings restored(cut.engine, cut.store);
    EXPECT_EQ(restored.store_snapshot(), cut.store) << "a restored store's snapshot is the bytes it was restored from";
    for (std::size_t i = cut.line; i < lines.size(); ++i) restored.feed(lines[i]);
    ASSERT_EQ(cut.opened + restored.opened.size(), whole.opened.size()) << "cut at line " << cut.line;
    ASSERT_GT(restored.opened.size(), 50u) << "cut at line " << cut.line;
    for (std::size_t i = 0; i < restored.opened.size(); ++i) {
      ASSERT_TRUE(risk_same_features(restored.opened[i], whole.opened[cut.opened + i]))
          << "cut at line " << cut.line << ", opening " << cut.opened + i;
    }
  }
}

TEST(RiskFeatureStore, RestoreRefusesEveryTruncationFlipAndPaddingNamingWhatIsWrong) {
  RestorableOpenings history;
  for (const std::string& line : kRiskHistory) history.feed(line);
  ASSERT_FALSE(history.opened.empty());
  const std::string engine = history.engine_snapshot(), bytes = history.store_snapshot();
  struct : EngineSink {
    void on_decision(const Decision&) override {}
    void on_episode(const EpisodeRecord&) override {}
  } quiet;  // restore calls no sink
  const auto restore = [&](std::string_view b) {
    Engine e(snapshot_policy(), quiet);
    EXPECT_TRUE(EngineSnapshot::restore(engine, e));
    risk::FeatureStore store(e);
    return store.restore(b);
  };
  ASSERT_TRUE(restore(bytes)) << restore(bytes).message();
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    const Status cut = restore(std::string_view(bytes).substr(0, n));
    ASSERT_FALSE(cut) << "restored a snapshot cut to " << n << " bytes";
    ASSERT_EQ(cut.message().rfind("feature store snapshot: ", 0), 0u) << cut.message();
  }
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::string flipped = bytes;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x10);
    ASSERT_FALSE(restore(flipped)) << "restored a snapshot with byte " << i << " flipped";
  }
  EXPECT_NE(restore(bytes + "x").message().find("checksum"), std::string::npos);
  EXPECT_NE(restore("GWSVCSN\n...").message().find("not a feature store snapshot"), std::string::npos);
  std::string later = bytes;
  later[8] = 2;  // the version's low byte
  EXPECT_NE(restore(later).message().find("format version 2, and this build reads version 1 only"), std::string::npos)
      << restore(later).message();
  Engine e(snapshot_policy(), quiet);
  ASSERT_TRUE(EngineSnapshot::restore(engine, e));
  risk::FeatureStore without_client_messages(e, false);
  EXPECT_NE(without_client_messages.restore(bytes).message().find("kept the contracts' client messages"),
            std::string::npos);
  risk::FeatureStore used(e);
  ASSERT_TRUE(used.restore(bytes));
  EXPECT_NE(used.restore(bytes).message().find("needs a fresh store"), std::string::npos);
}

}  // namespace
}  // namespace gw::test
