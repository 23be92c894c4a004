// Service: ingest, the wall clock, idempotency, and recovery from the
// store's log, over a real SQLite file and a clock the test moves.
#include "ghostwatch/server/service.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine_test_harness.h"
#include "ghostwatch/store/sqlite/sqlite_store.h"
#include "serve_process.h"

namespace gw::test {
namespace {

class ManualClock final : public Clock {
 public:
  Instant now() const override { return now_; }
  void set(std::string_view rfc3339) { now_ = parse_rfc3339(rfc3339).value(); }

 private:
  Instant now_ = 0;
};

std::string body(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { policy_text_ = std::string("[campaign]\ncatch_up = \"10m\"\n") + kLadder; }

  std::unique_ptr<Service> open(ClockMode mode = ClockMode::kWall) {
    if (!store_) {
      auto s = SqliteStore::open(dir_.file("g.db"));
      EXPECT_TRUE(s.is_ok()) << s.message();
      store_ = std::move(*s);
    }
    auto service = Service::open(policy_text_, *store_, clock_, mode);
    EXPECT_TRUE(service.is_ok()) << service.message();
    return service ? std::move(*service) : nullptr;
  }
  // Closes the store too, as a process exit would.
  void crash(std::unique_ptr<Service>& s) {
    s.reset();
    store_.reset();
  }

  std::vector<std::string> decisions() {
    std::vector<std::string> out;
    EXPECT_TRUE(store_->export_decisions({}, [&](const DecisionRow& r) {
      std::string line;
      append_decision_json(line, r.view());
      line.pop_back();
      out.push_back(line);
    }));
    return out;
  }

  TempDir dir_;
  std::string policy_text_;
  ManualClock clock_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(ServiceTest, IngestReportsEachRejectByLineAndKeepsIt) {
  auto s = open();
  IngestReply r = s->ingest(body({Started("2024-03-01T00:00:00Z"), "", "{not json", "  \t",
                                  Msg("2024-03-01T10:00:00Z", "nobody"), Msg("2024-03-01T10:00:00Z", "k1") + "\r"}),
                            "");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["accepted"], 2);
  EXPECT_EQ(j["rejected"], 2);
  EXPECT_EQ(j["rejects"], nlohmann::json::parse(R"([{"line":3,"reason":"bad_json"},{"line":5,"reason":"not_a_party"}])"));
  auto kept = store_->rejects(0, 10).value();
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].row.raw, "{not json");
  EXPECT_EQ(store_->log_size().value(), 2u);
  EXPECT_EQ(s->counters().rejected[static_cast<std::size_t>(RejectReason::kNotAParty)], 1u);
}

TEST_F(ServiceTest, WallClockFiresDueStepsAndEventsDoNot) {
  auto s = open();
  clock_.set("2024-03-01T10:00:00Z");
  s->ingest(body({Started("2024-03-01T00:00:00Z"), Msg("2024-03-01T10:00:00Z", "k1"), Tick("2024-03-09T00:00:00Z")}),
            "");
  ASSERT_TRUE(s->tick());
  EXPECT_TRUE(decisions().empty());
  clock_.set("2024-03-02T10:00:00.500Z");
  ASSERT_TRUE(s->tick());
  EXPECT_EQ(decisions(), Lines({Dec{.at = "2024-03-02T10:00:00Z", .target = "r1"}}));
  EXPECT_EQ(store_->outbox_depth().value(), 1u);
}

TEST_F(ServiceTest, RecoveryRebuildsTheStateExactlyAndNothingIsDecidedTwice) {
  auto s = open();
  clock_.set("2024-03-01T12:00:00Z");
  s->ingest(body({Started("2024-03-01T00:00:00Z"), Started("2024-03-01T00:00:00Z", "c2", "k2", "f2"),
                  Msg("2024-03-01T10:00:00Z", "k1"), Msg("2024-03-01T11:00:00Z", "k2", "c2")}),
            "");
  clock_.set("2024-03-02T10:05:00Z");  // c1's first step is due; c2's not yet
  ASSERT_TRUE(s->tick());
  const ServiceCounters before = s->counters();
  crash(s);

  // Down for two days: c2's first step and both second steps pass unseen.
  clock_.set("2024-03-04T12:00:00Z");
  s = open();
  const ServiceCounters after = s->counters();
  EXPECT_EQ(after.accepted, before.accepted);
  EXPECT_EQ(after.decisions, before.decisions);
  EXPECT_EQ(after.open_episodes, 2u);
  ASSERT_TRUE(s->tick());  // catch-up: only the latest step of each ladder goes out, at now
  EXPECT_EQ(decisions(),
            Lines({Dec{.at = "2024-03-02T10:00:00Z"},
                   Dec{.at = "2024-03-04T12:00:00Z", .step = 2, .target = "r2"},
                   Dec{.at = "2024-03-04T12:00:00Z", .contract = "c2", .freelancer = "f2", .client = "k2",
                       .status = "skipped", .reason = "superseded"},
                   Dec{.at = "2024-03-04T12:00:00Z", .contract = "c2", .step = 2, .target = "r2", .freelancer = "f2",
                       .client = "k2"}}));
  crash(s);
  s = open();
  ASSERT_TRUE(s->tick());
  EXPECT_EQ(decisions().size(), 4u);
  EXPECT_EQ(s->counters().decisions[0][0], 3u);  // nudges sent
}

TEST_F(ServiceTest, AnIdempotencyKeyAppliesARequestOnce) {
  auto s = open();
  const std::string b = body({Started("2024-03-01T00:00:00Z"), Msg("2024-03-01T10:00:00Z", "k1")});
  IngestReply first = s->ingest(b, "key-1");
  ASSERT_EQ(first.status, 200);
  EXPECT_FALSE(first.replayed);
  crash(s);
  s = open();
  IngestReply again = s->ingest(b, "key-1");
  EXPECT_EQ(again.status, 200);
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(store_->log_size().value(), 2u);
  IngestReply other = s->ingest(body({Tick("2024-03-01T00:00:00Z")}), "key-1");
  EXPECT_EQ(other.status, 422);
  EXPECT_EQ(store_->log_size().value(), 2u);
}

TEST_F(ServiceTest, EventClockAdvanceEndsTheReplayAndIsRecovered) {
  auto s = open(ClockMode::kEvents);
  s->ingest(body({Started("2024-03-01T00:00:00Z"), Msg("2024-03-01T10:00:00Z", "k1")}), "");
  EXPECT_TRUE(decisions().empty());
  auto made = s->advance_to(parse_rfc3339("2024-03-02T10:00:00Z").value());
  ASSERT_TRUE(made.is_ok()) << made.message();
  EXPECT_EQ(*made, 1u);
  crash(s);
  s = open(ClockMode::kEvents);
  // The recovered engine has decided step 1: a later event does not redo it.
  s->ingest(body({Tick("2024-03-05T00:00:00Z")}), "");
  EXPECT_EQ(decisions().size(), 2u);  // step 1, then step 2 at 72 h
}

TEST_F(ServiceTest, AdvanceIsRefusedUnderTheWallClock) {
  auto s = open(ClockMode::kWall);
  EXPECT_FALSE(s->advance_to(0).is_ok());
}

TEST_F(ServiceTest, AReloadRulesFromNowOnAndRecoveryReplaysItAtTheSamePoint) {
  auto s = open();
  clock_.set("2024-03-01T10:00:00Z");
  s->ingest(body({Started("2024-03-01T00:00:00Z"), Msg("2024-03-01T10:00:00Z", "k1")}), "");
  clock_.set("2024-03-01T16:00:00Z");
  const std::string faster = std::string("[campaign]\ncatch_up = \"10m\"\n") + kShortLadder;
  auto reloaded = s->reload(faster);
  ASSERT_TRUE(reloaded.is_ok()) << reloaded.message();
  ASSERT_TRUE(*reloaded);
  EXPECT_EQ(s->policy().ladder[1].target, "fast");
  clock_.set("2024-03-01T22:00:00.500Z");
  ASSERT_TRUE(s->tick());
  const auto first_step = Lines({Dec{.at = "2024-03-01T22:00:00Z"}});
  EXPECT_EQ(decisions(), first_step) << "step 1 at opening + 12 h, the new ladder";

  // A restart with the same (edited) config: the log switches at the same
  // point, nothing is decided again, and the new ladder goes on.
  crash(s);
  policy_text_ = faster;
  s = open();
  EXPECT_EQ(decisions(), first_step);
  auto again = s->reload(faster);
  ASSERT_TRUE(again.is_ok()) << again.message();
  EXPECT_FALSE(*again) << "the rules in force: nothing to do";
  clock_.set("2024-03-02T22:00:00.500Z");
  ASSERT_TRUE(s->tick());
  EXPECT_EQ(decisions(),
            Lines({Dec{.at = "2024-03-01T22:00:00Z"}, Dec{.at = "2024-03-02T22:00:00Z", .step = 2, .target = "fast"}}));
}

TEST_F(ServiceTest, ARestartWithAnEditedConfigAppliesItAsAReload) {
  auto s = open();
  clock_.set("2024-03-01T10:00:00Z");
  s->ingest(body({Started("2024-03-01T00:00:00Z"), Msg("2024-03-01T10:00:00Z", "k1")}), "");
  crash(s);
  policy_text_ = std::string("[campaign]\ncatch_up = \"10m\"\nholdout_percent = 100.0\n") + kLadder;
  s = open();
  EXPECT_EQ(s->policy().holdout_percent, 100.0);
  clock_.set("2024-03-02T10:00:00.500Z");
  ASSERT_TRUE(s->tick());
  EXPECT_EQ(decisions(), Lines({Dec{.at = "2024-03-02T10:00:00Z", .arm = "control", .status = "held_out"}}));
  const std::uint64_t logged = s->counters().log_entries;
  crash(s);
  s = open();  // the same config again: recovered, not reloaded a second time
  EXPECT_EQ(s->counters().log_entries, logged);
  EXPECT_EQ(s->policy().holdout_percent, 100.0);
}

TEST_F(ServiceTest, AReloadRefusesAnotherCampaignAndABadPolicyAndChangesNothing) {
  auto s = open();
  const std::uint64_t logged = s->counters().log_entries;
  auto renamed = s->reload(std::string("[campaign]\nname = \"other\"\n") + kLadder);
  ASSERT_FALSE(renamed.is_ok());
  EXPECT_EQ(renamed.message().rfind("campaign.name: ", 0), 0u) << renamed.message();
  auto bad = s->reload("[campaign]\nholdout_percent = 400\n" + std::string(kLadder));
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.message().find("holdout_percent"), std::string::npos) << bad.message();
  EXPECT_EQ(s->counters().log_entries, logged);
  EXPECT_EQ(s->policy().ladder.size(), 3u);
}

}  // namespace
}  // namespace gw::test
