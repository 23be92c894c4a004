// Engine::mark_bouncing: an address that bounced for good stops the user's
// nudges (suppressed, reason "bounced", after the opt-out rule and before
// the frequency cap) until a `user` event gives another address.
// Escalations go on: they open a case, they e-mail nobody.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine_test_harness.h"

namespace gw::test {
namespace {

// Runs `before`, marks f1's address bouncing, runs `after`, then evaluates
// through `until`, in event time as replay does.
Output RunWithBounce(const std::string& policy_text, const std::vector<std::string>& before,
                     const std::vector<std::string>& after, std::string_view until,
                     std::string_view address = "f1@example.com") {
  const Policy policy = MustParsePolicy(policy_text);
  return RunInTwoParts(
      policy, before, [&](Engine& engine) { engine.mark_bouncing("f1", address); }, after, until);
}

const std::vector<std::string> kOpened = {UserLine("2019-08-01T00:00:00Z", "f1", R"("email":"f1@example.com")"),
                                          Started("2019-08-01T00:00:00Z"), Msg("2019-08-01T00:00:00Z", "k1")};

TEST(EngineBounce, NudgesAreSuppressedEscalationsGoOn) {
  const Output out = RunWithBounce(kLadder, kOpened, {}, "2019-08-10T00:00:00Z");
  EXPECT_EQ(
      out.decisions,
      Lines({Dec{.at = "2019-08-02T00:00:00Z", .status = "suppressed", .reason = "bounced"},
             Dec{.at = "2019-08-04T00:00:00Z", .step = 2, .target = "r2", .status = "suppressed", .reason = "bounced"},
             Dec{.at = "2019-08-06T00:00:00Z", .step = 3, .action = "escalate", .target = "ops"}}));
}

TEST(EngineBounce, OptOutIsTheReasonWhenBothApply) {
  std::vector<std::string> before = kOpened;
  before.push_back(OptOut("2019-08-01T01:00:00Z", "f1"));
  const Output out = RunWithBounce(kOneHourLadder, before, {}, "2019-08-02T00:00:00Z");
  EXPECT_EQ(out.decisions, Lines({Dec{.at = "2019-08-01T01:00:00Z", .status = "suppressed", .reason = "opted_out"}}));
}

TEST(EngineBounce, ANewAddressEndsItTheSameAddressInAnyCaseDoesNot) {
  // The profile is sent again with the bounced address (upper-cased): still
  // bouncing at 24 h. A new address before 72 h: step 2 is sent.
  const Output out = RunWithBounce(kLadder, kOpened,
                                   {UserLine("2019-08-01T12:00:00Z", "f1", R"("email":"F1@Example.COM")"),
                                    UserLine("2019-08-03T00:00:00Z", "f1", R"("email":"f1@new.example")")},
                                   "2019-08-05T00:00:00Z");
  EXPECT_EQ(out.decisions, Lines({Dec{.at = "2019-08-02T00:00:00Z", .status = "suppressed", .reason = "bounced"},
                                  Dec{.at = "2019-08-04T00:00:00Z", .step = 2, .target = "r2"}}));
}

TEST(EngineBounce, AUserEventWithoutAnAddressChangesNothing) {
  const Output out = RunWithBounce(
      kOneHourLadder, kOpened, {UserLine("2019-08-01T00:30:00Z", "f1", R"("country":"DE")")}, "2019-08-02T00:00:00Z");
  EXPECT_EQ(out.decisions, Lines({Dec{.at = "2019-08-01T01:00:00Z", .status = "suppressed", .reason = "bounced"}}));
}

}  // namespace
}  // namespace gw::test
