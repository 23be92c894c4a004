// Tests of the closed loop of `ghostwatch simulate --policy` (gw::sim::
// EngineFeedback and the generator's reaction to nudges): with no effect the
// output is the open loop's, the nudges the freelancers react to are the
// ones `replay` decides over the output, the lift is the share of eligible
// nudges converted, and a conversion shows as replies within 24 h of nudges.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "ghostwatch/core/time.h"
#include "ghostwatch/ingest/line_parser.h"
#include "ghostwatch/policy/policy.h"
#include "ghostwatch/replay/replay.h"
#include "ghostwatch/sim/closed_loop.h"
#include "ghostwatch/sim/marketplace.h"

namespace gw::sim {
namespace {

constexpr std::string_view kLoopPolicy = R"(
[campaign]
name = "loop"
start = "2019-08-05T00:00:00Z"
holdout_percent = 50.0
salt = "loop"
[limits]
max_nudges_per_day = 3
quiet_hours = "22:00-08:00"
[[ladder]]
after = "24h"
action = "nudge"
template = "reminder-1"
[[ladder]]
after = "72h"
action = "nudge"
template = "reminder-2"
[[ladder]]
after = "120h"
action = "escalate"
team = "support"
)";

Policy loop_policy() {
  Result<Policy> policy = parse_policy(kLoopPolicy, "loop.toml");
  EXPECT_TRUE(policy) << policy.message();
  return std::move(*policy);
}

MarketplaceOptions loop_options(double lift) {
  MarketplaceOptions o;
  o.seed = 5;
  o.freelancers = 600;
  o.clients = 250;
  o.days = 30;
  o.reply_24h_lift = lift;
  return o;
}

std::string loop_generate(const MarketplaceOptions& options, NudgeFeedback* feedback,
                          MarketplaceStats* stats = nullptr) {
  std::string text;
  const MarketplaceStats s = generate_marketplace(
      options,
      [&text](std::string_view chunk) {
        text.append(chunk);
        return true;
      },
      feedback);
  if (stats != nullptr) *stats = s;
  return text;
}

std::string loop_read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(SimClosedLoop, WithoutAnEffectTheOutputIsTheOpenLoops) {
  const Policy policy = loop_policy();
  EngineFeedback feedback(policy);
  MarketplaceStats stats;
  const std::string closed = loop_generate(loop_options(0.0), &feedback, &stats);
  EXPECT_TRUE(closed == loop_generate(loop_options(0.0), nullptr));
  EXPECT_GT(stats.nudges, 500u);
  EXPECT_GT(stats.nudges_eligible, 200u);
  EXPECT_EQ(stats.nudges_converted, 0u);
}

TEST(SimClosedLoop, SameOptionsGiveSameBytesAndTheEffectChangesThem) {
  const Policy policy = loop_policy();
  EngineFeedback first(policy);
  EngineFeedback second(policy);
  const std::string a = loop_generate(loop_options(0.3), &first);
  EXPECT_TRUE(a == loop_generate(loop_options(0.3), &second));
  EXPECT_FALSE(a == loop_generate(loop_options(0.0), nullptr));
}

TEST(SimClosedLoop, TheLiftIsTheShareOfEligibleNudgesConverted) {
  const Policy policy = loop_policy();
  EngineFeedback feedback(policy);
  MarketplaceStats stats;
  loop_generate(loop_options(0.4), &feedback, &stats);
  ASSERT_GT(stats.nudges_eligible, 300u);
  const double share = static_cast<double>(stats.nudges_converted) / static_cast<double>(stats.nudges_eligible);
  EXPECT_NEAR(share, 0.4, 0.06);
  EXPECT_LT(stats.late_conversions, stats.nudges_converted / 100 + 1);

  EngineFeedback all(policy);
  loop_generate(loop_options(1.0), &all, &stats);
  EXPECT_EQ(stats.nudges_converted, stats.nudges_eligible);
}

// What replay decides over the output, and what the loop reacted to.
struct LoopReplay {
  std::uint64_t nudges_sent = 0;         // nudge decisions with status sent
  std::uint64_t nudges_before_last = 0;  // of those, stamped before the last event
  std::uint64_t replied_within_24h = 0;  // episodes replied within 24 h of a sent first nudge
  std::uint64_t nudged_first = 0;        // episodes whose first decision is a sent nudge
};

LoopReplay loop_replay(const std::string& events, const Policy& policy) {
  const std::string dir = ::testing::TempDir();
  const std::string stem = dir + "/closed_loop_" + std::to_string(::getpid());
  {
    std::ofstream out(stem + ".ndjson", std::ios::binary);
    out << events;
  }
  ReplayOptions options;
  options.events_path = stem + ".ndjson";
  options.actions_path = stem + ".actions";
  options.episodes_path = stem + ".episodes";
  EXPECT_TRUE(run_replay(policy, options));

  Instant last_event = kNoInstant;
  LineParser parser;
  Event e;
  std::istringstream lines(events);
  for (std::string line; std::getline(lines, line);) {
    if (parser.parse_copy(line, e) == RejectReason::kNone) last_event = std::max(last_event, e.at);
  }

  LoopReplay r;
  std::map<std::string, Instant> first_nudge;  // contract/episode -> at of a sent first step
  std::istringstream actions(loop_read_file(options.actions_path));
  for (std::string line; std::getline(actions, line);) {
    if (line.find(R"("action":"nudge")") == std::string::npos || line.find(R"("status":"sent")") == std::string::npos) {
      continue;
    }
    ++r.nudges_sent;
    const std::size_t at = line.find(R"("at":")") + 6;
    const Instant t = parse_rfc3339(line.substr(at, line.find('"', at) - at)).value();
    if (t < last_event) ++r.nudges_before_last;
    if (line.find(R"("step":1,)") != std::string::npos) {
      const std::size_t c = line.find(R"("contract":")");
      const std::size_t ep = line.find(R"(,"step")");
      first_nudge[line.substr(c, ep - c)] = t;
    }
  }
  std::istringstream episodes(loop_read_file(options.episodes_path));
  for (std::string line; std::getline(episodes, line);) {
    const std::size_t c = line.find(R"("contract":")");
    const std::size_t ep = line.find(R"(,"freelancer")");
    const auto nudge = first_nudge.find(line.substr(c, ep - c));
    if (nudge == first_nudge.end()) continue;
    ++r.nudged_first;
    const std::size_t closed = line.find(R"("closed_at":")");
    if (line.find(R"("outcome":"replied")") == std::string::npos || closed == std::string::npos) continue;
    const std::size_t at = closed + 13;
    const Instant t = parse_rfc3339(line.substr(at, line.find('"', at) - at)).value();
    if (t <= nudge->second + kDay) ++r.replied_within_24h;
  }
  for (const char* suffix : {".ndjson", ".actions", ".episodes"}) std::remove((stem + suffix).c_str());
  return r;
}

TEST(SimClosedLoop, ReactsToTheNudgesReplayDecides) {
  const Policy policy = loop_policy();
  EngineFeedback feedback(policy);
  MarketplaceStats stats;
  const std::string events = loop_generate(loop_options(0.5), &feedback, &stats);
  const LoopReplay replay = loop_replay(events, policy);
  EXPECT_EQ(stats.nudges, replay.nudges_before_last);
  EXPECT_LE(replay.nudges_sent - replay.nudges_before_last, 3u);  // decided at the end of input
}

TEST(SimClosedLoop, ConvertedFreelancersReplyWithin24HoursOfTheFirstNudge) {
  const Policy policy = loop_policy();
  EngineFeedback none(policy);
  EngineFeedback all(policy);
  const LoopReplay before = loop_replay(loop_generate(loop_options(0.0), &none), policy);
  const LoopReplay after = loop_replay(loop_generate(loop_options(1.0), &all), policy);
  ASSERT_GT(before.nudged_first, 200u);
  ASSERT_GT(after.nudged_first, 200u);
  const auto share = [](const LoopReplay& r) {
    return static_cast<double>(r.replied_within_24h) / static_cast<double>(r.nudged_first);
  };
  EXPECT_LT(share(before), 0.6);
  EXPECT_GT(share(after), 0.97);  // every waiting freelancer answers the nudge
}

TEST(SimClosedLoop, TheCommandWritesWhatTheLibraryGenerates) {
  const std::string policy_path = std::string(GHOSTWATCH_SOURCE_DIR) + "/examples/policy.toml";
  const std::string out = ::testing::TempDir() + "/closed_loop_cli_" + std::to_string(::getpid()) + ".ndjson";
  const std::string cmd = std::string(GHOSTWATCH_BINARY) + " simulate --seed 5 --freelancers 600 --clients 250 " +
                          "--days 30 --policy " + policy_path + " --effect reply24h=+0.4 --out " + out + " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  Result<Policy> policy = load_policy(policy_path);
  ASSERT_TRUE(policy) << policy.message();
  EngineFeedback feedback(*policy);
  EXPECT_TRUE(loop_read_file(out) == loop_generate(loop_options(0.4), &feedback));
  std::remove(out.c_str());
}

}  // namespace
}  // namespace gw::sim
