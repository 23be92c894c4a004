// Spec sections 3 (conversation state and episodes) and 4 (the watermark
// loop, --until). Each test is a small hand-made scenario; every expected
// decision and episode record was worked out from /work/shared/spec/engine.md,
// with the reasoning in comments. The firing rules 1-7 of section 4 are in
// engine_firing_rules_test.cc.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine_test_harness.h"

namespace gw::test {
namespace {

const std::string kStart = "2019-07-31T00:00:00Z";

// ===========================================================================
// Section 3: conversation state and episodes.

TEST(EngineEpisodes, ClientMessageOpensEpisodeAtItsTime) {
  Output out = Replay(kLadder, {Started(kStart), Msg("2019-08-01T00:00:00Z", "k1")});
  // until = largest accepted at = 08-01T00:00; step 1 (due 08-02) is after it.
  EXPECT_EQ(out.decisions, Strings{});
  EXPECT_EQ(out.episodes, Lines({Ep{.opened_at = "2019-08-01T00:00:00Z"}}));
  EXPECT_EQ(out.rejects, Strings{});
}

TEST(EngineEpisodes, FurtherClientMessagesWhileOpenChangeNothing) {
  Output out = Replay(kLadder, {Started(kStart), Msg("2019-08-01T00:00:00Z", "k1"),
                                Msg("2019-08-01T10:00:00Z", "k1"), Msg("2019-08-01T20:00:00Z", "k1"),
                                Tick("2019-08-02T03:00:00Z"), Msg("2019-08-02T06:00:00Z", "f1")});
  // pending_since stays 08-01T00:00, so step 1 is due 08-02T00:00 (not 10:00
  // or 20:00), evaluated in the pass of the 03:00 tick. The reply at
  // 08-02T06:00 closes: 30 h = 108000 s. last_client_at (20:00) < 06:00, so
  // nothing reopens.
  EXPECT_EQ(out.decisions, Lines({Dec{.at = "2019-08-02T00:00:00Z"}}));
  EXPECT_EQ(out.episodes, Lines({Ep{.opened_at = "2019-08-01T00:00:00Z",
                                    .closed_at = "2019-08-02T06:00:00Z",
                                    .outcome = "replied",
                                    .response_seconds = 108000,
                                    .steps_sent = 1}}));
}

TEST(EngineEpisodes, FreelancerReplyClosesAsRepliedWithFlooredResponseSeconds) {
  Output out = Replay(
      kLadder, {Started(kStart), Msg("2019-08-01T00:00:00Z", "k1"), Msg("2019-08-01T05:30:15.999Z", "f1")});
  // 5 h 30 min 15.999 s: floor(19815.999) = 19815. Written out in full once,
  // as a check on the Ep builder too.
  EXPECT_EQ(out.decisions, Strings{});
  EXPECT_EQ(out.episodes,
            (Strings{R"({"contract":"c1","episode":1,"freelancer":"f1","client":"k1","arm":"treatment",)"
                     R"("in_segment":true,"opened_at":"2019-08-01T00:00:00Z",)"
                     R"("closed_at":"2019-08-01T05:30:15.999Z","outcome":"replied",)"
                     R"("response_seconds":19815,"steps_sent":0})"}));
}

TEST(EngineEpisodes, ReplyAtPendingSinceCloses) {
  // t >= pending_since, with equality.
  Output out = Replay(
      kLadder, {Started(kStart), Msg("2019-08-01T00:00:00Z", "k1"), Msg("2019-08-01T00:00:00Z", "f1")});
  EXPECT_EQ(out.episodes, Lines({Ep{.opened_at = "2019-08-01T00:00:00Z",
                                    .closed_at = "2019-08-01T00:00:00Z",
                                    .outcome = "replied",
                                    .response_seconds = 0}}));
}

TEST(EngineEpisodes, FreelancerMessageBeforePendingSinceDoesNotClose) {
  Output out = Replay(kLadder, {Started(kStart), Msg("2019-08-01T10:00:00Z", "k1"),
                                Msg("2019-08-01T09:59:59.999Z", "f1"),  // late, before pending_since
                                Tick("2019-08-02T10:00:00Z")});
  // Still open; step 1 due 08-02T10:00 = until, evaluated at the end.
  EXPECT_EQ(out.decisions, Lines({Dec{.at = "2019-08-02T10:00:00Z"}}));
  EXPECT_EQ(out.episodes, Lines({Ep{.opened_at = "2019-08-01T10:00:00Z", .steps_sent = 1}}));
}

TEST(EngineEpisodes, OutOfOrderReplyClosesAndReopensAtLastClientAt) {
  Output out = Replay(kLadder, {Started(kStart), Msg("2019-08-01T00:00:00Z", "k1"),
                                Msg("2019-08-01T02:00:00Z", "k1"),  // last_client_at = 02:00
                                Msg("2019-08-01T01:00:00Z", "f1"),  // answers 00:00, not 02:00
                                Tick("2019-08-02T02:00:00Z")});
  // Episode 1 closes replied at 01:00 (3600 s); episode 2 opens at once with
  // pending_since = 02:00. Episode 1's step (due 08-02T00:00) is dropped;
  // episode 2's step 1 is due 08-02T02:00 = until.
  EXPECT_EQ(out.decisions, Lines({Dec{.at = "2019-08-02T02:00:00Z", .episode = 2}}));
  EXPECT_EQ(out.episodes, Lines({Ep{.opened_at = "2019-08-01T00:00:00Z",
                                    .closed_at = "2019-08-01T01:00:00Z",
                                    .outcome = "replied",
                                    .response_seconds = 3600},
                                 Ep{.episode = 2, .opened_at = "2019-08-01T02:00:00Z", .steps_sent = 1}}));
}

TEST(EngineEpisodes, ClientMessageAtOrBeforeLastFreelancerMessageOpensNothing) {
  Output out = Replay(kLadder, {Started(kStart), Msg("2019-08-01T10:00:00Z", "f1"),
                                Msg("2019-08-01T10:00:00Z", "k1"),        // t == last_fl_at: nothing
                                Msg("2019-08-01T09:00:00Z", "k1"),        // t < last_fl_at: nothing
                                Msg("2019-08-01T10:00:00.001Z", "k1")});  // t > last_fl_at: opens
  EXPECT_EQ(out.episodes, Lines({Ep{.opened_at = "2019-08-01T10:00:00.001Z"}}));
}

TEST(EngineEpisodes, ReplyWithNoOpenEpisodeChangesNothingButLastFreelancerAt) {
  Output out = Replay(kLadder, {Started(kStart), Msg("2019-08-01T00:00:00Z", "k1"),
                                Msg("2019-08-01T01:00:00Z", "f1"),    // closes episode 1
                                Msg("2019-08-01T05:00:00Z", "f1"),    // nothing open: last_fl_at = 05:00
                                Msg("2019-08-01T04:00:00Z", "k1"),    // 04:00 <= 05:00: nothing
                                Msg("2019-08-01T06:00:00Z", "k1")});  // opens episode 2
  EXPECT_EQ(out.episodes, Lines({Ep{.opened_at = "2019-08-01T00:00:00Z",
                                    .closed_at = "2019-08-01T01:00:00Z",
                                    .outcome = "replied",
                                    .response_seconds = 3600},
                                 Ep{.episode = 2, .opened_at = "2019-08-01T06:00:00Z"}}));
}

TEST(EngineEpisodes, ContractEndedClosesWithItsReasonAndLaterEventsAreRejected) {
  Output out = Replay(kLadder, {Started(kStart), Msg("2019-08-01T00:00:00Z", "k1"),
                                Ended("2019-08-01T05:00:00Z", "c1", "cancelled"),
                                Rejected(Msg("2019-08-01T06:00:00Z", "f1")),    // line 4
                                Rejected(Ended("2019-08-01T07:00:00Z", "c1")),  // line 5
                                Tick("2019-08-03T00:00:00Z")});
  // The undecided step 1 (due 08-02) is dropped; the episode has no
  // response_seconds and carries the event's reason.
  EXPECT_EQ(out.decisions, Strings{});
  EXPECT_EQ(out.episodes, Lines({Ep{.opened_at = "2019-08-01T00:00:00Z",
                                    .closed_at = "2019-08-01T05:00:00Z",
                                    .outcome = "contract_ended",
                                    .reason = "cancelled"}}));
  EXPECT_EQ(out.rejects, (Strings{"4:contract_ended", "5:contract_ended"}));
}

TEST(EngineEpisodes, ContractEndedWithoutReasonWritesNullAndWithoutEpisodeWritesNothing) {
  Output out = Replay(kLadder, {Started(kStart), Started(kStart, "c2", "k2", "f2"),
                                Msg("2019-08-01T00:00:00Z", "k1"), Ended("2019-08-01T05:00:00Z", "c1"),
                                Ended("2019-08-01T05:00:00Z", "c2", "completed")});  // c2 had no episode
  EXPECT_EQ(out.episodes, Lines({Ep{.opened_at = "2019-08-01T00:00:00Z",
                                    .closed_at = "2019-08-01T05:00:00Z",
                                    .outcome = "contract_ended"}}));  // reason: null
  EXPECT_EQ(out.rejects, Strings{});
}

TEST(EngineEpisodes, DuplicateContractAndSelfContractAreRejected) {
  Output out = Replay(kLadder, {Started(kStart), Rejected(Started("2019-08-01T00:00:00Z", "c1", "k9", "f9")),
                                Rejected(Started("2019-08-01T00:00:00Z", "c2", "u1", "u1")),
                                Msg("2019-08-01T01:00:00Z", "k1")});
  // The duplicate changed nothing: k1 is still c1's client.
  EXPECT_EQ(out.rejects, (Strings{"2:duplicate_contract", "3:bad_field"}));
  EXPECT_EQ(out.episodes, Lines({Ep{.opened_at = "2019-08-01T01:00:00Z"}}));
}

TEST(EngineEpisodes, EpisodesAreNumberedPerContractInOpeningOrder) {
  Output out = Replay(kLadder, {Started(kStart), Started(kStart, "c2", "k2", "f2"),
                                Msg("2019-08-01T00:00:00Z", "k1"), Msg("2019-08-01T00:30:00Z", "k2", "c2"),
                                Msg("2019-08-01T01:00:00Z", "f1"), Msg("2019-08-01T02:00:00Z", "k1"),
                                Msg("2019-08-01T03:00:00Z", "f1"), Msg("2019-08-01T04:00:00Z", "k1")});
  // Closed records as they close; the open ones at the end by contract id.
  EXPECT_EQ(
      out.episodes,
      Lines({Ep{.opened_at = "2019-08-01T00:00:00Z",
                .closed_at = "2019-08-01T01:00:00Z",
                .outcome = "replied",
                .response_seconds = 3600},
             Ep{.episode = 2,
                .opened_at = "2019-08-01T02:00:00Z",
                .closed_at = "2019-08-01T03:00:00Z",
                .outcome = "replied",
                .response_seconds = 3600},
             Ep{.episode = 3, .opened_at = "2019-08-01T04:00:00Z"},
             Ep{.contract = "c2", .freelancer = "f2", .client = "k2", .opened_at = "2019-08-01T00:30:00Z"}}));
}

TEST(EngineEpisodes, UndecidedStepsAreDroppedOnClose) {
  Output out =
      Replay(kLadder, {Started(kStart), Msg("2019-08-01T00:00:00Z", "k1"), Tick("2019-08-02T12:00:00Z"),
                       Msg("2019-08-03T00:00:00Z", "f1"), Tick("2019-08-10T00:00:00Z")});
  // Step 1 (08-02) was decided; steps 2 (08-04) and 3 (08-06) vanish.
  EXPECT_EQ(out.decisions, Lines({Dec{.at = "2019-08-02T00:00:00Z"}}));
  EXPECT_EQ(out.episodes, Lines({Ep{.opened_at = "2019-08-01T00:00:00Z",
                                    .closed_at = "2019-08-03T00:00:00Z",
                                    .outcome = "replied",
                                    .response_seconds = 172800,
                                    .steps_sent = 1}}));
}

TEST(EngineEpisodes, LateContractEndedBeforeDecisionsLetsThemStand) {
  Output out =
      Replay(kLadder, {Started(kStart), Msg("2019-08-01T00:00:00Z", "k1"), Tick("2019-08-02T01:00:00Z"),
                       Ended("2019-08-01T12:00:00Z", "c1", "completed")});
  EXPECT_EQ(out.decisions, Lines({Dec{.at = "2019-08-02T00:00:00Z"}}));
  EXPECT_EQ(out.episodes, Lines({Ep{.opened_at = "2019-08-01T00:00:00Z",
                                    .closed_at = "2019-08-01T12:00:00Z",
                                    .outcome = "contract_ended",
                                    .steps_sent = 1,
                                    .reason = "completed"}}));
}

TEST(EngineEpisodes, StepsSentCountsNudgesAndEscalationsOnly) {
  // Opted out from 08-03: step 1 sent, step 2 suppressed, step 3 (an
  // escalation) sent: steps_sent = 2.
  Output out = Replay(kLadder, {Started(kStart), Msg("2019-08-01T00:00:00Z", "k1"),
                                OptOut("2019-08-03T00:00:00Z", "f1"), Tick("2019-08-06T00:00:00Z")});
  EXPECT_EQ(out.decisions,
            Lines({Dec{.at = "2019-08-02T00:00:00Z"},
                   Dec{.at = "2019-08-04T00:00:00Z",
                       .step = 2,
                       .target = "r2",
                       .status = "suppressed",
                       .reason = "opted_out"},
                   Dec{.at = "2019-08-06T00:00:00Z", .step = 3, .action = "escalate", .target = "ops"}}));
  EXPECT_EQ(out.episodes, Lines({Ep{.opened_at = "2019-08-01T00:00:00Z", .steps_sent = 2}}));
}

// ===========================================================================
// Section 4: the watermark loop.

TEST(EngineWatermark, ReplyStampedExactlyAtDueTimeCounts) {
  // W2 = 08-02T00:00 and step 1 is due 08-02T00:00: T < W2 is false, so the
  // reply is applied first and the step is dropped, never evaluated.
  Output out = Replay(kLadder, {Started(kStart), Msg("2019-08-01T00:00:00Z", "k1"),
                                Msg("2019-08-02T00:00:00Z", "f1"), Tick("2019-08-09T00:00:00Z")});
  EXPECT_EQ(out.decisions, Strings{});
  EXPECT_EQ(out.episodes, Lines({Ep{.opened_at = "2019-08-01T00:00:00Z",
                                    .closed_at = "2019-08-02T00:00:00Z",
                                    .outcome = "replied",
                                    .response_seconds = 86400}}));
}

TEST(EngineWatermark, ReplyOneMillisecondAfterDueTimeIsTooLate) {
  Output out = Replay(
      kLadder, {Started(kStart), Msg("2019-08-01T00:00:00Z", "k1"), Msg("2019-08-02T00:00:00.001Z", "f1")});
  EXPECT_EQ(out.decisions, Lines({Dec{.at = "2019-08-02T00:00:00Z"}}));
  EXPECT_EQ(out.episodes, Lines({Ep{.opened_at = "2019-08-01T00:00:00Z",
                                    .closed_at = "2019-08-02T00:00:00.001Z",
                                    .outcome = "replied",
                                    .response_seconds = 86400,
                                    .steps_sent = 1}}));
}

TEST(EngineWatermark, TiesOnTimeAreOrderedByContractIdBytes) {
  // Five contracts of one freelancer, all due 08-02T00:00, cap 1: only the
  // first in (T, contract id bytes) order is sent. Byte order: "B" (0x42) <
  // "a" (0x61) < "c10" < "c9" ('1' < '9') < "\xc3\xa9" ("é", 0xC3 > 0x7F).
  // Input order is deliberately different.
  const std::string policy = std::string("[limits]\nmax_nudges_per_day = 1\n") + kOneHourLadder;
  std::vector<std::string> in;
  for (const char* c : {"a", "c9", "\xc3\xa9", "B", "c10"}) in.push_back(Started(kStart, c, "k1", "f1"));
  for (const char* c : {"a", "c9", "\xc3\xa9", "B", "c10"})
    in.push_back(Msg("2019-08-01T23:00:00Z", "k1", c));
  in.push_back(Tick("2019-08-02T00:00:00Z"));
  Output out = Replay(policy, in);
  const std::string at = "2019-08-02T00:00:00Z";
  EXPECT_EQ(
      out.decisions,
      Lines({Dec{.at = at, .contract = "B"},
             Dec{.at = at, .contract = "a", .status = "suppressed", .reason = "frequency_cap"},
             Dec{.at = at, .contract = "c10", .status = "suppressed", .reason = "frequency_cap"},
             Dec{.at = at, .contract = "c9", .status = "suppressed", .reason = "frequency_cap"},
             Dec{.at = at, .contract = "\xc3\xa9", .status = "suppressed", .reason = "frequency_cap"}}));
  // Open episodes at the end come in the same byte order.
  const std::string opened = "2019-08-01T23:00:00Z";
  EXPECT_EQ(
      out.episodes,
      Lines({Ep{.contract = "B", .opened_at = opened, .steps_sent = 1},
             Ep{.contract = "a", .opened_at = opened}, Ep{.contract = "c10", .opened_at = opened},
             Ep{.contract = "c9", .opened_at = opened}, Ep{.contract = "\xc3\xa9", .opened_at = opened}}));
}

TEST(EngineWatermark, TiesOnTimeOrderContractBeforeStepIndex) {
  // c1's step 2 and c2's step 1 are both due 08-03T00:00 for freelancer f1,
  // cap 1. (T, contract, step) puts c1/step 2 first. c1's step 1 was sent at
  // 08-02T00:00, exactly 24 h before, which does not count; so c1/step 2 is
  // sent and c2/step 1 is capped by it.
  const std::string policy = std::string("[limits]\nmax_nudges_per_day = 1\n") + R"(
[[ladder]]
after = "24h"
action = "nudge"
template = "r1"

[[ladder]]
after = "48h"
action = "nudge"
template = "r2"
)";
  Output out =
      Replay(policy, {Started(kStart), Started(kStart, "c2", "k2", "f1"), Msg("2019-08-01T00:00:00Z", "k1"),
                      Msg("2019-08-02T00:00:00Z", "k2", "c2"), Tick("2019-08-03T00:00:00Z")});
  EXPECT_EQ(out.decisions, Lines({Dec{.at = "2019-08-02T00:00:00Z"},
                                  Dec{.at = "2019-08-03T00:00:00Z", .step = 2, .target = "r2"},
                                  Dec{.at = "2019-08-03T00:00:00Z",
                                      .contract = "c2",
                                      .client = "k2",
                                      .status = "suppressed",
                                      .reason = "frequency_cap"}}));
}

TEST(EngineWatermark, RejectedLinesDoNotMoveTheWatermark) {
  // Each rejected line is stamped 08-03, after step 1's due time (08-02).
  // Had one moved W, the step would have been evaluated before the reply,
  // which is stamped exactly at the due time and so closes the episode.
  Output out = Replay(
      kLadder,
      {Started(kStart), Msg("2019-08-01T00:00:00Z", "k1"),
       Rejected(R"({"type":"message","at":"2019-08-03T00:00:00Z","contract":"c1"})"),
       Rejected(Msg("2019-08-03T00:00:00Z", "zz")), Rejected(Msg("2019-08-03T00:00:00Z", "k1", "c404")),
       Rejected(Started("2019-08-03T00:00:00Z")),
       Rejected(R"({"type":"user","at":"2019-08-03T00:00:00Z","id":7})"), Msg("2019-08-02T00:00:00Z", "f1")});
  EXPECT_EQ(out.rejects, (Strings{"3:missing_field", "4:not_a_party", "5:unknown_contract",
                                  "6:duplicate_contract", "7:bad_field"}));
  EXPECT_EQ(out.decisions, Strings{});
  EXPECT_EQ(out.episodes, Lines({Ep{.opened_at = "2019-08-01T00:00:00Z",
                                    .closed_at = "2019-08-02T00:00:00Z",
                                    .outcome = "replied",
                                    .response_seconds = 86400}}));
}

TEST(EngineWatermark, RejectedLinesDoNotCountForDefaultUntil) {
  Output out = Replay(kLadder, {Started(kStart), Msg("2019-08-01T00:00:00Z", "k1"),
                                Rejected(Msg("2019-08-09T00:00:00Z", "k1", "c404"))});
  // until = 08-01T00:00 (the largest accepted at): no step is evaluated.
  EXPECT_EQ(out.rejects, (Strings{"3:unknown_contract"}));
  EXPECT_EQ(out.decisions, Strings{});
  EXPECT_EQ(out.episodes, Lines({Ep{.opened_at = "2019-08-01T00:00:00Z"}}));
}

TEST(EngineWatermark, AllowedLatenessHoldsTheWatermarkBack) {
  const std::string policy = std::string("[campaign]\nallowed_lateness = \"1h\"\n") + kLadder;
  // The tick at 08-02T00:30 moves W only to 08-01T23:30, so step 1 (due
  // 08-02T00:00) waits; the reply stamped 08-02T00:15 arrives after the tick
  // but within the lateness, gives W2 = max(23:30, 23:15) and closes the
  // episode before the step is evaluated. 24 h 15 min = 87300 s.
  Output out = Replay(policy, {Started(kStart), Msg("2019-08-01T00:00:00Z", "k1"),
                               Tick("2019-08-02T00:30:00Z"), Msg("2019-08-02T00:15:00Z", "f1")});
  EXPECT_EQ(out.decisions, Strings{});
  EXPECT_EQ(out.episodes, Lines({Ep{.opened_at = "2019-08-01T00:00:00Z",
                                    .closed_at = "2019-08-02T00:15:00Z",
                                    .outcome = "replied",
                                    .response_seconds = 87300}}));
}

TEST(EngineWatermark, AllowedLatenessBoundaryIsStrict) {
  const std::string policy = std::string("[campaign]\nallowed_lateness = \"1h\"\n") + kLadder;
  // Tick at 08-02T01:00: W2 = 08-02T00:00, and T = 08-02T00:00 is not < W2.
  Output held = Replay(policy, {Started(kStart), Msg("2019-08-01T00:00:00Z", "k1"),
                                Tick("2019-08-02T01:00:00Z"), Msg("2019-08-02T00:00:00Z", "f1")});
  EXPECT_EQ(held.decisions, Strings{});
  // One millisecond later, W2 = 08-02T00:00:00.001 and the step goes first.
  Output fired = Replay(policy, {Started(kStart), Msg("2019-08-01T00:00:00Z", "k1"),
                                 Tick("2019-08-02T01:00:00.001Z"), Msg("2019-08-02T00:00:00Z", "f1")});
  EXPECT_EQ(fired.decisions, Lines({Dec{.at = "2019-08-02T00:00:00Z"}}));
  EXPECT_EQ(fired.episodes, Lines({Ep{.opened_at = "2019-08-01T00:00:00Z",
                                      .closed_at = "2019-08-02T00:00:00Z",
                                      .outcome = "replied",
                                      .response_seconds = 86400,
                                      .steps_sent = 1}}));
}

TEST(EngineWatermark, AllowedLatenessStepsUpToUntilAreEvaluatedAtTheEnd) {
  const std::string policy = std::string("[campaign]\nallowed_lateness = \"1h\"\n") + kLadder;
  // W ends at 08-01T23:30, but until = 08-02T00:30 (largest at) >= 08-02T00:00.
  Output out =
      Replay(policy, {Started(kStart), Msg("2019-08-01T00:00:00Z", "k1"), Tick("2019-08-02T00:30:00Z")});
  EXPECT_EQ(out.decisions, Lines({Dec{.at = "2019-08-02T00:00:00Z"}}));
}

// Shared by the next tests: an out-of-order reply reopens an episode whose
// step is already behind the watermark.
//   c1: client 00:00 opens episode 1 (step due 01:00); client 00:30.
//   tick 05:00: W2 = 05:00, episode 1's step (01:00) is sent.
//   f1 at 00:10 (late): closes episode 1 as replied (600 s) and, since
//   last_client_at = 00:30 > 00:10, opens episode 2 at 00:30: due 01:30 < W.
std::vector<std::string> ReopenBehindWatermark() {
  return {Started(kStart), Msg("2019-08-01T00:00:00Z", "k1"), Msg("2019-08-01T00:30:00Z", "k1"),
          Tick("2019-08-01T05:00:00Z"), Msg("2019-08-01T00:10:00Z", "f1")};
}

const std::string kEpisode1Replied = Json(Ep{.opened_at = "2019-08-01T00:00:00Z",
                                             .closed_at = "2019-08-01T00:10:00Z",
                                             .outcome = "replied",
                                             .response_seconds = 600,
                                             .steps_sent = 1});

TEST(EngineWatermark, StepBehindWatermarkRunsInTheNextPassStampedWithItsDueTime) {
  // The next line (a late opt_out, W2 = W) starts a pass that evaluates the
  // 01:30 step before the opt_out is applied: sent, stamped 01:30.
  std::vector<std::string> in = ReopenBehindWatermark();
  in.push_back(OptOut("2019-08-01T00:00:00Z", "f1"));
  Output out = Replay(kOneHourLadder, in);
  EXPECT_EQ(out.decisions,
            Lines({Dec{.at = "2019-08-01T01:00:00Z"}, Dec{.at = "2019-08-01T01:30:00Z", .episode = 2}}));
  EXPECT_EQ(out.episodes,
            (Strings{kEpisode1Replied,
                     Json(Ep{.episode = 2, .opened_at = "2019-08-01T00:30:00Z", .steps_sent = 1})}));
}

TEST(EngineWatermark, StepBehindWatermarkRunsAtTheEndWithDefaultUntil) {
  // until = 05:00 (largest at) >= 01:30.
  Output out = Replay(kOneHourLadder, ReopenBehindWatermark());
  EXPECT_EQ(out.decisions,
            Lines({Dec{.at = "2019-08-01T01:00:00Z"}, Dec{.at = "2019-08-01T01:30:00Z", .episode = 2}}));
}

TEST(EngineWatermark, ExplicitUntilBehindTheWatermark) {
  // until 01:29:59.999 lies behind W (05:00) and before the reopened step:
  // it is never evaluated. At until = 01:30 (inclusive) it is.
  Output before = Replay(kOneHourLadder, ReopenBehindWatermark(), "2019-08-01T01:29:59.999Z");
  EXPECT_EQ(before.decisions, Lines({Dec{.at = "2019-08-01T01:00:00Z"}}));
  EXPECT_EQ(before.episodes,
            (Strings{kEpisode1Replied, Json(Ep{.episode = 2, .opened_at = "2019-08-01T00:30:00Z"})}));
  Output at = Replay(kOneHourLadder, ReopenBehindWatermark(), "2019-08-01T01:30:00Z");
  EXPECT_EQ(at.decisions,
            Lines({Dec{.at = "2019-08-01T01:00:00Z"}, Dec{.at = "2019-08-01T01:30:00Z", .episode = 2}}));
}

TEST(EngineWatermark, LateClientMessageOpensEpisodeWithStepsBehindTheWatermark) {
  // A client message stamped behind W is accepted and opens an episode at
  // its own time; each step behind W runs in the next pass at its due time.
  // Rule 4 compares later due times with T = D_i, so none is superseded.
  const std::string policy = R"(
[[ladder]]
after = "1h"
action = "nudge"
template = "r1"

[[ladder]]
after = "2h"
action = "nudge"
template = "r2"
)";
  Output out = Replay(policy, {Started(kStart), Tick("2019-08-01T10:00:00Z"),
                               Msg("2019-08-01T00:00:00Z", "k1"), Tick("2019-08-01T10:00:00Z")});
  EXPECT_EQ(out.decisions, Lines({Dec{.at = "2019-08-01T01:00:00Z"},
                                  Dec{.at = "2019-08-01T02:00:00Z", .step = 2, .target = "r2"}}));
}

TEST(EngineWatermark, DefaultUntilIsTheLargestAcceptedAtNotTheLast) {
  // The last line is stamped 08-01T00:00, but the largest accepted at is
  // 08-02T00:00: c2's step due exactly then is evaluated (T <= until).
  Output out = Replay(kLadder, {Started(kStart), Started(kStart, "c2", "k2", "f2"),
                                Tick("2019-08-02T00:00:00Z"), Msg("2019-08-01T00:00:00Z", "k2", "c2")});
  EXPECT_EQ(out.decisions,
            Lines({Dec{.at = "2019-08-02T00:00:00Z", .contract = "c2", .freelancer = "f2", .client = "k2"}}));
}

TEST(EngineWatermark, ExplicitUntilAfterInputEvaluatesThroughItInclusive) {
  // until = 08-04T00:00 = step 2's due time: steps 1 and 2 run, step 3
  // (08-06) never does.
  Output out = Replay(kLadder, {Started(kStart), Msg("2019-08-01T00:00:00Z", "k1")}, "2019-08-04T00:00:00Z");
  EXPECT_EQ(out.decisions, Lines({Dec{.at = "2019-08-02T00:00:00Z"},
                                  Dec{.at = "2019-08-04T00:00:00Z", .step = 2, .target = "r2"}}));
  EXPECT_EQ(out.episodes, Lines({Ep{.opened_at = "2019-08-01T00:00:00Z", .steps_sent = 2}}));
}

TEST(EngineWatermark, EventsBeforeAStepAreSeenByItEvenAtTheSameInstant) {
  // A user event stamped exactly at the due time is applied before the step
  // (T < W2 is false in that line's pass): the step sees the new country.
  const std::string policy = std::string("[segment]\ncountries_exclude = [\"US\"]\n") + kLadder;
  Output out = Replay(policy, {Started(kStart), UserLine(kStart, "f1", R"("country":"DE")"),
                               Msg("2019-08-01T00:00:00Z", "k1"),
                               UserLine("2019-08-02T00:00:00Z", "f1", R"("country":"US")")});
  EXPECT_EQ(out.decisions, Strings{});
}

}  // namespace
}  // namespace gw::test
