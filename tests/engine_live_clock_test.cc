// The live service's entry points (spec section 4, last paragraphs): events
// applied without moving the watermark, the clock driving it, the catch-up
// rule after an outage, the episode-opened hook and the inspection calls.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine_test_harness.h"

namespace gw::test {
namespace {

Instant At(std::string_view text) {
  std::optional<Instant> t = parse_rfc3339(text);
  EXPECT_TRUE(t.has_value()) << text;
  return t.value_or(0);
}

// An engine driven the way `serve` drives it: submit_live for events,
// advance_clock for the wall clock.
class LiveEngine {
 public:
  explicit LiveEngine(std::string_view toml) : policy_(MustParsePolicy(toml)), engine_(policy_, sink_) {}

  void Submit(const std::string& line) {
    Event e;
    ASSERT_EQ(parser_.parse_copy(line, e), RejectReason::kNone) << line;
    ASSERT_EQ(engine_.submit_live(e), RejectReason::kNone) << line;
  }
  void Clock(std::string_view now) { engine_.advance_clock(At(now)); }

  Engine& engine() { return engine_; }
  Output& out() { return out_; }
  std::vector<std::string>& opened() { return opened_; }

 private:
  class Sink : public CollectingSink {
   public:
    Sink(Output& out, std::vector<std::string>& opened) : CollectingSink(out), opened_(opened) {}
    void on_episode_opened(const EpisodeRecord& e) override {
      std::string line;
      append_episode_json(line, e);
      line.pop_back();
      opened_.push_back(line);
    }

   private:
    std::vector<std::string>& opened_;
  };

  Policy policy_;
  Output out_;
  std::vector<std::string> opened_;
  Sink sink_{out_, opened_};
  Engine engine_;
  LineParser parser_;
};

TEST(EngineLiveClock, EventsDoNotMoveTheWatermarkTheClockDoes) {
  LiveEngine live(kLadder);
  live.Submit(Started("2024-03-01T00:00:00Z"));
  live.Submit(Msg("2024-03-01T10:00:00Z", "k1"));
  // An event stamped far later changes nothing: only the clock fires steps.
  live.Submit(Tick("2024-03-09T00:00:00Z"));
  EXPECT_TRUE(live.out().decisions.empty());
  EXPECT_EQ(live.engine().watermark(), kNoInstant);

  // A step due exactly at the watermark is not yet behind it.
  live.Clock("2024-03-02T10:00:00Z");
  EXPECT_TRUE(live.out().decisions.empty());
  live.Clock("2024-03-02T10:00:00.001Z");
  EXPECT_EQ(live.out().decisions, Lines({Dec{.at = "2024-03-02T10:00:00Z"}}));
}

TEST(EngineLiveClock, StepsWithinCatchUpKeepTheirDueTime) {
  LiveEngine live(std::string("[campaign]\ncatch_up = \"10m\"\n") + kLadder);
  live.Submit(Started("2024-03-01T00:00:00Z"));
  live.Submit(Msg("2024-03-01T10:00:00Z", "k1"));
  live.Clock("2024-03-02T10:10:00Z");  // exactly catch_up late: not more than it
  EXPECT_EQ(live.out().decisions, Lines({Dec{.at = "2024-03-02T10:00:00Z"}}));
}

TEST(EngineLiveClock, AfterAnOutageStepsRunAtTheCurrentTimeAndOnlyTheLatestGoesOut) {
  LiveEngine live(std::string("[campaign]\ncatch_up = \"10m\"\n") + kLadder);
  live.Submit(Started("2024-03-01T00:00:00Z"));
  live.Submit(Msg("2024-03-01T10:00:00Z", "k1"));
  // Down from before the first step until after the second was due.
  live.Clock("2024-03-04T12:00:00Z");
  EXPECT_EQ(live.out().decisions,
            Lines({Dec{.at = "2024-03-04T12:00:00Z", .status = "skipped", .reason = "superseded"},
                   Dec{.at = "2024-03-04T12:00:00Z", .step = 2, .target = "r2"}}));
}

TEST(EngineLiveClock, StepsCaughtUpTogetherGoOutInContractOrderAtTheCurrentTime) {
  // Lateness holds the watermark behind now; caught-up steps go out anyway.
  LiveEngine live(std::string("[campaign]\ncatch_up = \"10m\"\nallowed_lateness = \"1h\"\n") + kLadder);
  live.Submit(Started("2024-03-01T00:00:00Z", "c2", "k2", "f2"));
  live.Submit(Started("2024-03-01T00:00:00Z", "c1", "k1", "f1"));
  live.Submit(Msg("2024-03-01T09:00:00Z", "k2", "c2"));  // c2's step 1 is due first
  live.Submit(Msg("2024-03-01T10:00:00Z", "k1", "c1"));
  live.Clock("2024-03-03T00:00:00Z");
  EXPECT_EQ(live.out().decisions,
            Lines({Dec{.at = "2024-03-03T00:00:00Z"},
                   Dec{.at = "2024-03-03T00:00:00Z", .contract = "c2", .freelancer = "f2", .client = "k2"}}));
}

TEST(EngineLiveClock, AllowedLatenessHoldsTheWatermarkBehindTheClock) {
  LiveEngine live(std::string("[campaign]\nallowed_lateness = \"5m\"\n") + kLadder);
  live.Submit(Started("2024-03-01T00:00:00Z"));
  live.Submit(Msg("2024-03-01T10:00:00Z", "k1"));
  live.Clock("2024-03-02T10:04:00Z");  // W = 09:59
  EXPECT_TRUE(live.out().decisions.empty());
  // A reply stamped before the due time but arriving late still counts.
  live.Submit(Msg("2024-03-02T09:59:30Z", "f1"));
  live.Clock("2024-03-02T10:06:00Z");
  EXPECT_TRUE(live.out().decisions.empty());
  EXPECT_EQ(live.out().episodes, Lines({Ep{.opened_at = "2024-03-01T10:00:00Z",
                                           .closed_at = "2024-03-02T09:59:30Z",
                                           .outcome = "replied",
                                           .response_seconds = 86370}}));
}

TEST(EngineLiveClock, OpeningAnEpisodeIsReportedWithOutcomeOpen) {
  LiveEngine live(kLadder);
  live.Submit(Started("2024-03-01T00:00:00Z"));
  live.Submit(Msg("2024-03-01T10:00:00Z", "k1"));
  live.Submit(Msg("2024-03-01T11:00:00Z", "k1"));  // the episode is already open
  EXPECT_EQ(live.opened(), Lines({Ep{.opened_at = "2024-03-01T10:00:00Z"}}));
}

TEST(EngineInspection, ContractStateAsItStands) {
  LiveEngine live(kLadder);
  EXPECT_FALSE(live.engine().find_contract("c1").has_value());
  live.Submit(Started("2024-03-01T00:00:00Z"));
  live.Submit(Msg("2024-03-01T09:00:00Z", "f1"));
  live.Submit(Msg("2024-03-01T10:00:00Z", "k1"));
  live.Clock("2024-03-02T11:00:00Z");
  std::optional<ContractSnapshot> c = live.engine().find_contract("c1");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->client, "k1");
  EXPECT_EQ(c->freelancer, "f1");
  EXPECT_EQ(c->last_fl_at, At("2024-03-01T09:00:00Z"));
  EXPECT_EQ(c->last_client_at, At("2024-03-01T10:00:00Z"));
  EXPECT_EQ(c->episodes, 1u);
  EXPECT_TRUE(c->open);
  EXPECT_EQ(c->pending_since, At("2024-03-01T10:00:00Z"));
  EXPECT_EQ(c->steps_sent, 1u);
  EXPECT_FALSE(c->ended);

  live.Submit(Ended("2024-03-03T00:00:00Z"));
  c = live.engine().find_contract("c1");
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->ended);
  EXPECT_FALSE(c->open);
}

TEST(EngineInspection, UserAttributesAsTheRulesReadThem) {
  LiveEngine live(std::string("[campaign]\nholdout_percent = 100.0\n[segment]\ncountries_exclude = [\"us\"]\n") +
                  kLadder);
  EXPECT_FALSE(live.engine().find_user("f1").has_value());
  live.Submit(UserLine("2024-03-01T00:00:00Z", "f1", R"("country":"us","tz":"Europe/Paris","kind":"agency")"));
  live.Submit(OptOut("2024-03-01T00:00:00Z", "f1"));
  live.Submit(UserLine("2024-03-01T00:00:00Z", "f2", R"("tz":"Not/AZone")"));
  std::optional<UserSnapshot> u = live.engine().find_user("f1");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->country, "US");
  EXPECT_EQ(u->kind, "agency");
  EXPECT_EQ(u->tz, "Europe/Paris");
  EXPECT_TRUE(u->opted_out);
  EXPECT_FALSE(u->in_segment);
  EXPECT_EQ(u->arm, Arm::kControl);
  u = live.engine().find_user("f2");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->tz, "");  // not an IANA zone: UTC
  EXPECT_TRUE(u->in_segment);
}

TEST(EngineInspection, AppliedNamesTheEventsContractAndUserByIndex) {
  LiveEngine live(kLadder);
  Engine& engine = live.engine();
  live.Submit(UserLine("2024-03-01T00:00:00Z", "f1"));
  EXPECT_EQ(engine.applied().contract, Interner::kNone);
  const std::uint32_t f1 = engine.applied().user;
  live.Submit(Started("2024-03-01T00:00:00Z"));  // client k1, freelancer f1
  const std::uint32_t c1 = engine.applied().contract;
  EXPECT_EQ(c1, 0u);
  EXPECT_EQ(engine.applied().user, Interner::kNone);
  EXPECT_EQ(engine.freelancer_of(c1), f1);
  const std::uint32_t k1 = engine.client_of(c1);
  EXPECT_NE(k1, f1);
  live.Submit(Msg("2024-03-01T10:00:00Z", "k1"));
  EXPECT_EQ(engine.applied().contract, c1);
  EXPECT_EQ(engine.applied().user, k1);
  live.Submit(OptOut("2024-03-01T11:00:00Z", "f1"));
  EXPECT_EQ(engine.applied().contract, Interner::kNone);
  EXPECT_EQ(engine.applied().user, f1);
  EXPECT_TRUE(engine.user_at(f1).opted_out);
  live.Submit(Ended("2024-03-02T00:00:00Z"));
  EXPECT_EQ(engine.applied().contract, c1);
  EXPECT_EQ(engine.applied().user, Interner::kNone);
}

// A scorer of constant risk: with one as without, the sender is told by the
// parties' id text.
class ConstantScorer : public EpisodeScorer {
 public:
  float score(const EpisodeRecord&) override { return 0.5f; }
};

TEST(EngineInspection, LookaheadTellsAMessagesSenderWithAndWithoutAScorer) {
  for (bool scored : {false, true}) {
    Policy policy = MustParsePolicy(kLadder);
    Output out;
    CollectingSink sink(out);
    Engine engine(policy, sink);
    ConstantScorer scorer;
    if (scored) engine.set_scorer(&scorer);
    LineParser parser;
    Event e;
    // Each line read ahead as replay reads it: ids, then state, then parties.
    auto submit = [&](const std::string& line) {
      EXPECT_EQ(parser.parse_copy(line, e), RejectReason::kNone) << line;
      Engine::EventIds ids;
      engine.prefetch_ids(e, ids);
      engine.prefetch_state(e, ids);
      engine.prefetch_parties(ids);
      return engine.submit(e, ids);
    };
    ASSERT_EQ(submit(UserLine("2024-03-01T00:00:00Z", "f1")), RejectReason::kNone);
    const std::uint32_t f1 = engine.applied().user;
    ASSERT_EQ(submit(UserLine("2024-03-01T00:00:00Z", "x1")), RejectReason::kNone);
    ASSERT_EQ(submit(Started("2024-03-01T00:00:00Z")), RejectReason::kNone);  // client k1, freelancer f1
    const std::uint32_t k1 = engine.client_of(0);
    EXPECT_EQ(submit(Msg("2024-03-01T10:00:00Z", "k1")), RejectReason::kNone) << scored;
    EXPECT_EQ(engine.applied().user, k1);
    EXPECT_EQ(submit(Msg("2024-03-01T11:00:00Z", "f1")), RejectReason::kNone) << scored;
    EXPECT_EQ(engine.applied().user, f1);
    EXPECT_EQ(submit(Msg("2024-03-01T12:00:00Z", "x1")), RejectReason::kNotAParty) << scored;  // known, not a party
    EXPECT_EQ(submit(Msg("2024-03-01T12:00:00Z", "k")), RejectReason::kNotAParty) << scored;   // unknown
    EXPECT_EQ(submit(Msg("2024-03-01T12:00:00Z", "k1x")), RejectReason::kNotAParty) << scored;
    EXPECT_EQ(out.episodes.size(), 1u) << scored;  // k1's message opened, f1's reply closed
  }
}

}  // namespace
}  // namespace gw::test
