// Engine::set_policy, the live service's config reload: the new rules decide
// every evaluation from the moment they are set, the past is never
// re-decided, and open episodes continue on the new ladder.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine_test_harness.h"

namespace gw::test {
namespace {

// Runs `before` under `first`, switches to `second`, runs `after`, then
// evaluates through `until`, in event time as replay does.
Output RunWithReload(const std::string& first, const std::vector<std::string>& before, const std::string& second,
                     const std::vector<std::string>& after, std::string_view until) {
  const Policy a = MustParsePolicy(first);
  const Policy b = MustParsePolicy(second);
  return RunInTwoParts(
      a, before, [&](Engine& engine) { engine.set_policy(b); }, after, until);
}

TEST(EnginePolicyChange, PendingStepsMoveToTheNewLadderFromTheEpisodesOpening) {
  // Opened at 00:00; at 06:00 the ladder becomes 12 h / 36 h.
  const Output out = RunWithReload(
      kLadder, {Started("2019-08-01T00:00:00Z"), Msg("2019-08-01T00:00:00Z", "k1"), Tick("2019-08-01T06:00:00Z")},
      kShortLadder, {}, "2019-08-10T00:00:00Z");
  EXPECT_EQ(out.decisions,
            Lines({Dec{.at = "2019-08-01T12:00:00Z"}, Dec{.at = "2019-08-02T12:00:00Z", .step = 2, .target = "fast"}}))
      << "and no escalation: the new ladder has none";
}

TEST(EnginePolicyChange, AStepTheNewLadderMakesOverdueIsDecidedAtOnceNotInThePast) {
  // At 20:00 a 12 h first step is 8 hours overdue: it is decided when the
  // reload happened (the watermark), not back at 12:00.
  const Output out = RunWithReload(
      kLadder, {Started("2019-08-01T00:00:00Z"), Msg("2019-08-01T00:00:00Z", "k1"), Tick("2019-08-01T20:00:00Z")},
      kShortLadder, {Tick("2019-08-01T21:00:00Z")}, "2019-08-01T23:00:00Z");
  EXPECT_EQ(out.decisions, Lines({Dec{.at = "2019-08-01T20:00:00Z"}}));
}

TEST(EnginePolicyChange, DecidedStepsStandAndALongerLadderAddsStepsToOpenEpisodes) {
  // Under a one-step ladder the step is decided at 01:00; a reload to the
  // three-step ladder then adds steps 2 and 3 (72 h and 120 h) to the same
  // episode, and step 1 is not decided again.
  const Output out =
      RunWithReload(kOneHourLadder,
                    {Started("2019-08-01T00:00:00Z"), Msg("2019-08-01T00:00:00Z", "k1"), Tick("2019-08-01T02:00:00Z")},
                    kLadder, {}, "2019-08-10T00:00:00Z");
  EXPECT_EQ(out.decisions,
            Lines({Dec{.at = "2019-08-01T01:00:00Z"}, Dec{.at = "2019-08-04T00:00:00Z", .step = 2, .target = "r2"},
                   Dec{.at = "2019-08-06T00:00:00Z", .step = 3, .action = "escalate", .target = "ops"}}));
}

TEST(EnginePolicyChange, TheNewSegmentAndHoldoutApplyToEveryFreelancerFromNowOn) {
  const std::vector<std::string> before = {UserLine("2019-08-01T00:00:00Z", "f1", R"("country":"US")"),
                                           Started("2019-08-01T00:00:00Z"),
                                           UserLine("2019-08-01T00:00:00Z", "f2", R"("country":"MX")"),
                                           Started("2019-08-01T00:00:00Z", "c2", "k1", "f2"),
                                           Msg("2019-08-01T00:00:00Z", "k1"),
                                           Msg("2019-08-01T00:00:00Z", "k1", "c2"),
                                           Tick("2019-08-01T06:00:00Z")};
  // US moves out of the segment, and everyone is held out.
  const std::string second =
      std::string("[campaign]\nholdout_percent = 100.0\n[segment]\ncountries_exclude = [\"US\"]\n") + kLadder;
  const Output out = RunWithReload(kLadder, before, second, {}, "2019-08-02T00:00:00Z");
  EXPECT_EQ(out.decisions, Lines({Dec{.at = "2019-08-02T00:00:00Z",
                                      .contract = "c2",
                                      .freelancer = "f2",
                                      .arm = "control",
                                      .status = "held_out"}}));
}

TEST(EnginePolicyChange, TheSameRulesAgainChangeNothing) {
  const std::vector<std::string> before = {Started("2019-08-01T00:00:00Z"), Msg("2019-08-01T00:00:00Z", "k1"),
                                           Tick("2019-08-02T06:00:00Z")};
  const std::vector<std::string> after = {Msg("2019-08-03T00:00:00Z", "f1"), Msg("2019-08-03T01:00:00Z", "k1")};
  const Output reloaded = RunWithReload(kLadder, before, kLadder, after, "2019-08-10T00:00:00Z");
  std::vector<std::string> all = before;
  all.insert(all.end(), after.begin(), after.end());
  Output straight = Replay(kLadder, all, "2019-08-10T00:00:00Z");
  EXPECT_EQ(reloaded.decisions, straight.decisions);
}

}  // namespace
}  // namespace gw::test
