// Config loading, checked against the engine contract (spec section 2): the
// example config, the defaults, and every rule, each refused with a message
// that names the key.
#include "ghostwatch/policy/policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "ghostwatch/core/time.h"

namespace gw {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

// The example from spec section 2, verbatim.
constexpr std::string_view kSpecExample = R"toml([campaign]
name = "anti-ghosting"
start = "2019-08-01T00:00:00Z"   # optional; steps fire only at or after it
end   = "2020-08-01T00:00:00Z"   # optional; steps fire only before it
holdout_percent = 10.0           # share of freelancers in the control arm, 0..100
salt = "ag-2019"                 # arm assignment salt
allowed_lateness = "0s"          # see section 4

[segment]                        # which freelancers the campaign targets
countries_include = []           # empty: every country
countries_exclude = ["US", "GB", "IE", "FR", "DE", "NL", "BE", "LU", "CH", "AT"]
kinds = []                       # empty: every kind

[limits]
max_nudges_per_day = 3           # per freelancer, rolling 24 h, across contracts; 0 = no cap
quiet_hours = "22:00-08:00"      # freelancer's local time; "" = none

[[ladder]]
after = "24h"                    # unanswered for at least this long
action = "nudge"                 # e-mail the freelancer
template = "reminder-1"

[[ladder]]
after = "72h"
action = "nudge"
template = "reminder-2"

[[ladder]]
after = "120h"
action = "escalate"              # open a case for a support team, with the client
team = "improving-outcomes"
)toml";

// The smallest config the spec allows: one step, everything else defaulted.
constexpr std::string_view kOneStep = R"toml(
[[ladder]]
after = "24h"
action = "nudge"
template = "reminder-1"
)toml";

// 2019-08-01T00:00:00Z: 18109 days after 1970-01-01 (49 years, 12 of them
// leap, to 2019-01-01 = 17897 days, plus 212 days Jan..Jul) * 86400 s.
constexpr Instant k20190801 = 1564617600000;
// 2020-08-01T00:00:00Z: 366 days later (2020 is a leap year and Feb 29 2020
// falls in between).
constexpr Instant k20200801 = k20190801 + 366 * kDay;

Policy MustParse(std::string_view text) {
  Result<Policy> r = parse_policy(text, "policy.toml");
  EXPECT_TRUE(r.is_ok()) << (r.is_ok() ? "" : r.message()) << "\n" << text;
  return r.is_ok() ? r.value() : Policy{};
}

// Expects `text` to be refused with a message naming `key`.
void ExpectRefused(std::string_view text, std::string_view key) {
  Result<Policy> r = parse_policy(text, "policy.toml");
  ASSERT_FALSE(r.is_ok()) << "accepted, but it breaks a rule on " << key << ":\n" << text;
  EXPECT_THAT(r.message(), HasSubstr(std::string(key))) << text;
}

std::string WithCampaign(std::string_view lines) {
  return "[campaign]\n" + std::string(lines) + "\n" + std::string(kOneStep);
}
std::string WithLimits(std::string_view lines) {
  return "[limits]\n" + std::string(lines) + "\n" + std::string(kOneStep);
}
std::string WithSegment(std::string_view lines) {
  return "[segment]\n" + std::string(lines) + "\n" + std::string(kOneStep);
}

std::string Step(std::string_view after, std::string_view action, std::string_view extra) {
  std::string s = "[[ladder]]\n";
  if (!after.empty()) s += "after = \"" + std::string(after) + "\"\n";
  if (!action.empty()) s += "action = \"" + std::string(action) + "\"\n";
  return s + std::string(extra) + "\n";
}
std::string Nudge(std::string_view after) { return Step(after, "nudge", "template = \"t\""); }
std::string Escalate(std::string_view after) { return Step(after, "escalate", "team = \"support\""); }

TEST(PolicyTest, SpecExampleParses) {
  Policy p = MustParse(kSpecExample);
  EXPECT_EQ(p.name, "anti-ghosting");
  EXPECT_EQ(p.start, k20190801);
  EXPECT_EQ(p.end, k20200801);
  EXPECT_DOUBLE_EQ(p.holdout_percent, 10.0);
  EXPECT_EQ(p.salt, "ag-2019");
  EXPECT_EQ(p.allowed_lateness, 0);
  EXPECT_TRUE(p.segment.countries_include.empty());
  EXPECT_EQ(p.segment.countries_exclude,
            (std::vector<std::string>{"US", "GB", "IE", "FR", "DE", "NL", "BE", "LU", "CH", "AT"}));
  EXPECT_TRUE(p.segment.kinds.empty());
  EXPECT_EQ(p.max_nudges_per_day, 3);
  ASSERT_TRUE(p.quiet_hours.has_value());
  EXPECT_EQ(p.quiet_hours->start_minute(), 22 * 60);
  EXPECT_EQ(p.quiet_hours->end_minute(), 8 * 60);
  ASSERT_EQ(p.ladder.size(), 3u);
  EXPECT_EQ(p.ladder[0].after, 24 * kHour);
  EXPECT_EQ(p.ladder[0].action, StepAction::kNudge);
  EXPECT_EQ(p.ladder[0].target, "reminder-1");
  EXPECT_EQ(p.ladder[1].after, 72 * kHour);
  EXPECT_EQ(p.ladder[1].action, StepAction::kNudge);
  EXPECT_EQ(p.ladder[1].target, "reminder-2");
  EXPECT_EQ(p.ladder[2].after, 120 * kHour);
  EXPECT_EQ(p.ladder[2].action, StepAction::kEscalate);
  EXPECT_EQ(p.ladder[2].target, "improving-outcomes");
  EXPECT_TRUE(p.unknown_keys.empty());
}

TEST(PolicyTest, LoadPolicyReadsAFile) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "gw_policy_XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const std::filesystem::path dir = tmpl;
  const std::string path = (dir / "policy.toml").string();
  {
    std::ofstream out(path, std::ios::binary);
    out << kSpecExample;
  }
  Result<Policy> r = load_policy(path);
  ASSERT_TRUE(r.is_ok()) << r.message();
  EXPECT_EQ(r->ladder.size(), 3u);
  Result<Policy> missing = load_policy((dir / "nope.toml").string());
  EXPECT_FALSE(missing.is_ok());
  std::filesystem::remove_all(dir);
}

TEST(PolicyTest, Defaults) {
  // Spec: no start/end, holdout_percent = 0, salt = "", allowed_lateness =
  // "0s", empty segment lists, max_nudges_per_day = 0, quiet_hours = "";
  // section 4: catch_up defaults to 10 minutes.
  Policy p = MustParse(kOneStep);
  EXPECT_EQ(p.start, kNoInstant);
  EXPECT_EQ(p.end, kForever);
  EXPECT_EQ(p.holdout_percent, 0.0);
  EXPECT_EQ(p.salt, "");
  EXPECT_EQ(p.allowed_lateness, 0);
  EXPECT_EQ(p.catch_up, 10 * kMinute);
  EXPECT_TRUE(p.segment.countries_include.empty());
  EXPECT_TRUE(p.segment.countries_exclude.empty());
  EXPECT_TRUE(p.segment.kinds.empty());
  EXPECT_EQ(p.max_nudges_per_day, 0);
  EXPECT_FALSE(p.quiet_hours.has_value());
  EXPECT_TRUE(p.unknown_keys.empty());
  ASSERT_EQ(p.ladder.size(), 1u);

  // Empty tables change nothing.
  Policy q = MustParse("[campaign]\n[segment]\n[limits]\n" + std::string(kOneStep));
  EXPECT_EQ(q.start, kNoInstant);
  EXPECT_EQ(q.end, kForever);
  EXPECT_FALSE(q.quiet_hours.has_value());
}

TEST(PolicyTest, EmptyQuietHoursMeansNone) {
  EXPECT_FALSE(MustParse(WithLimits(R"(quiet_hours = "")")).quiet_hours.has_value());
  Policy p = MustParse(WithLimits(R"(quiet_hours = "09:30-17:45")"));
  ASSERT_TRUE(p.quiet_hours.has_value());
  EXPECT_EQ(p.quiet_hours->start_minute(), 9 * 60 + 30);
  EXPECT_EQ(p.quiet_hours->end_minute(), 17 * 60 + 45);
}

// ---------------------------------------------------------------------------
// The ladder.

TEST(PolicyTest, LadderIsRequired) {
  ExpectRefused("[campaign]\nname = \"x\"\n", "ladder");
  ExpectRefused("", "ladder");
  ExpectRefused("ladder = []\n", "at least one [[ladder]] step is required");
}

TEST(PolicyTest, LadderHasAtMostAThousandSteps) {
  std::string steps;
  for (int i = 1; i <= 1001; ++i) steps += Nudge(std::to_string(i) + "m");
  ExpectRefused(steps, "at most 1000 steps");
  steps.clear();
  for (int i = 1; i <= 1000; ++i) steps += Nudge(std::to_string(i) + "m");
  EXPECT_EQ(MustParse(steps).ladder.size(), 1000u);
}

TEST(PolicyTest, AfterMustBeStrictlyIncreasing) {
  ExpectRefused(Nudge("24h") + Nudge("24h"), "ladder[2].after");
  ExpectRefused(Nudge("72h") + Nudge("24h"), "ladder[2].after");
  // Equal once the units are combined: 1d is 24h.
  ExpectRefused(Nudge("1d") + Nudge("24h"), "ladder[2].after");
  ExpectRefused(Nudge("90m") + Escalate("1h30m"), "ladder[2].after");
  ExpectRefused(Nudge("24h") + Nudge("72h") + Escalate("72h"), "ladder[3].after");
  ExpectRefused(Nudge("24h") + Nudge("72h") + Escalate("48h"), "ladder[3].after");

  Policy p = MustParse(Nudge("0s") + Nudge("1s") + Escalate("1d"));
  ASSERT_EQ(p.ladder.size(), 3u);
  EXPECT_EQ(p.ladder[0].after, 0);
  EXPECT_EQ(p.ladder[1].after, kSecond);
  EXPECT_EQ(p.ladder[2].after, kDay);
}

TEST(PolicyTest, BadDurationsAreRefused) {
  for (const char* bad : {"24", "1.5h", "", "h", "24 h", "-1h", "1w", "24H", "P1D", " 24h"}) {
    ExpectRefused(Nudge(bad), "ladder[1].after");
    ExpectRefused(WithCampaign(std::string("allowed_lateness = \"") + bad + "\""),
                  "campaign.allowed_lateness");
  }
  // Not a string at all.
  ExpectRefused("[[ladder]]\nafter = 24\naction = \"nudge\"\ntemplate = \"t\"\n", "ladder[1].after");
  ExpectRefused(WithCampaign("allowed_lateness = 0"), "campaign.allowed_lateness");
  // Missing.
  ExpectRefused(Step("", "nudge", "template = \"t\""), "ladder[1].after");
  // The error is reported on the step that has it.
  ExpectRefused(Nudge("24h") + Nudge("3 days"), "ladder[2].after");
}

TEST(PolicyTest, CombinedDurationsAreAccepted) {
  Policy p = MustParse(WithCampaign(R"(allowed_lateness = "1h30m")") + Nudge("1d12h") + Escalate("2d1h1m1s"));
  EXPECT_EQ(p.allowed_lateness, 90 * kMinute);
  ASSERT_EQ(p.ladder.size(), 3u);
  EXPECT_EQ(p.ladder[1].after, 36 * kHour);
  EXPECT_EQ(p.ladder[2].after, 2 * kDay + kHour + kMinute + kSecond);
  Policy q = MustParse(Nudge("90s") + Nudge("2m") + Nudge("3h") + Nudge("4d"));
  ASSERT_EQ(q.ladder.size(), 4u);
  EXPECT_EQ(q.ladder[0].after, 90 * kSecond);
  EXPECT_EQ(q.ladder[1].after, 2 * kMinute);
  EXPECT_EQ(q.ladder[2].after, 3 * kHour);
  EXPECT_EQ(q.ladder[3].after, 4 * kDay);
}

TEST(PolicyTest, ActionsAndTheirTargets) {
  ExpectRefused(Step("24h", "nudge", ""), "ladder[1].template");
  ExpectRefused(Step("24h", "nudge", "team = \"support\""), "ladder[1].template");
  ExpectRefused(Step("24h", "escalate", ""), "ladder[1].team");
  ExpectRefused(Step("24h", "escalate", "template = \"t\""), "ladder[1].team");
  ExpectRefused(Nudge("24h") + Step("48h", "escalate", ""), "ladder[2].team");
  ExpectRefused(Nudge("24h") + Step("48h", "nudge", ""), "ladder[2].template");
  for (const char* bad : {"email", "Nudge", "ESCALATE", "nudge ", ""}) {
    ExpectRefused(Step("24h", "", std::string("action = \"") + bad + "\"\ntemplate = \"t\"\nteam = \"s\""),
                  "ladder[1].action");
  }
  ExpectRefused(Step("24h", "", "template = \"t\""), "ladder[1].action");  // no action at all
  ExpectRefused(Step("24h", "", "action = 1\ntemplate = \"t\""), "ladder[1].action");

  Policy p = MustParse(Step("24h", "nudge", "template = \"reminder-1\"") +
                       Step("48h", "escalate", "team = \"improving-outcomes\""));
  ASSERT_EQ(p.ladder.size(), 2u);
  EXPECT_EQ(p.ladder[0].action, StepAction::kNudge);
  EXPECT_EQ(p.ladder[0].target, "reminder-1");
  EXPECT_EQ(p.ladder[1].action, StepAction::kEscalate);
  EXPECT_EQ(p.ladder[1].target, "improving-outcomes");
}

// ---------------------------------------------------------------------------
// [campaign].

TEST(PolicyTest, HoldoutPercentMustBeFrom0To100) {
  for (const char* bad : {"-0.1", "-1", "100.1", "101", "150.0", "\"10\"", "true", "nan", "inf"}) {
    ExpectRefused(WithCampaign(std::string("holdout_percent = ") + bad), "campaign.holdout_percent");
  }
  EXPECT_DOUBLE_EQ(MustParse(WithCampaign("holdout_percent = 10")).holdout_percent,
                   10.0);  // an integer is fine
  EXPECT_DOUBLE_EQ(MustParse(WithCampaign("holdout_percent = 0")).holdout_percent, 0.0);
  EXPECT_DOUBLE_EQ(MustParse(WithCampaign("holdout_percent = 100")).holdout_percent, 100.0);
  EXPECT_DOUBLE_EQ(MustParse(WithCampaign("holdout_percent = 0.0")).holdout_percent, 0.0);
  EXPECT_DOUBLE_EQ(MustParse(WithCampaign("holdout_percent = 100.0")).holdout_percent, 100.0);
  EXPECT_DOUBLE_EQ(MustParse(WithCampaign("holdout_percent = 12.5")).holdout_percent, 12.5);
  EXPECT_DOUBLE_EQ(MustParse(WithCampaign("holdout_percent = 0.125")).holdout_percent, 0.125);
}

TEST(PolicyTest, StartAndEndMustBeRfc3339Strings) {
  for (const char* bad : {"2019-08-01 00:00:00Z", "2019-08-01", "2019-08-01T00:00:00", "2019-02-29T00:00:00Z",
                          "2019-08-01T23:59:60Z", "yesterday", ""}) {
    ExpectRefused(WithCampaign(std::string("start = \"") + bad + "\""), "campaign.start");
    ExpectRefused(WithCampaign(std::string("end = \"") + bad + "\""), "campaign.end");
  }
  // The spec says strings: a TOML date-time or a number is not one.
  ExpectRefused(WithCampaign("start = 2019-08-01T00:00:00Z"), "campaign.start");
  ExpectRefused(WithCampaign("end = 1564617600"), "campaign.end");

  Policy p = MustParse(WithCampaign("start = \"2019-08-01T02:00:00+02:00\"\nend = \"2020-08-01t00:00:00z\""));
  EXPECT_EQ(p.start, k20190801);
  EXPECT_EQ(p.end, k20200801);
  Policy only_start = MustParse(WithCampaign("start = \"2019-08-01T00:00:00Z\""));
  EXPECT_EQ(only_start.start, k20190801);
  EXPECT_EQ(only_start.end, kForever);
  Policy only_end = MustParse(WithCampaign("end = \"2019-08-01T00:00:00.250Z\""));
  EXPECT_EQ(only_end.start, kNoInstant);
  EXPECT_EQ(only_end.end, k20190801 + 250);
}

TEST(PolicyTest, CampaignStringsMustBeStrings) {
  ExpectRefused(WithCampaign("salt = 2019"), "campaign.salt");
  ExpectRefused(WithCampaign("name = true"), "campaign.name");
}

// ---------------------------------------------------------------------------
// [limits].

TEST(PolicyTest, MaxNudgesPerDayMustBeAWholeNumberNotNegative) {
  for (const char* bad : {"-1", "1.5", "\"3\"", "true"}) {
    ExpectRefused(WithLimits(std::string("max_nudges_per_day = ") + bad), "limits.max_nudges_per_day");
  }
  EXPECT_EQ(MustParse(WithLimits("max_nudges_per_day = 0")).max_nudges_per_day, 0);
  EXPECT_EQ(MustParse(WithLimits("max_nudges_per_day = 1")).max_nudges_per_day, 1);
  EXPECT_EQ(MustParse(WithLimits("max_nudges_per_day = 1000")).max_nudges_per_day, 1000);
}

TEST(PolicyTest, QuietHoursMustBeHhMmDashHhMmWithDifferentEnds) {
  for (const char* bad : {"22:00-22:00", "00:00-00:00", "22:00", "22:00-", "-08:00", "10pm-8am",
                          "24:00-08:00", "22:60-08:00", "22:00-08:60", "2:00-08:00", "22:00 - 08:00",
                          "2200-0800", "22:00-08:00-09:00", "22.00-08.00", " 22:00-08:00", "22:00-08:00 "}) {
    ExpectRefused(WithLimits(std::string("quiet_hours = \"") + bad + "\""), "limits.quiet_hours");
  }
  ExpectRefused(WithLimits("quiet_hours = 2200"), "limits.quiet_hours");
  ExpectRefused(WithLimits("quiet_hours = [\"22:00\", \"08:00\"]"), "limits.quiet_hours");
}

// ---------------------------------------------------------------------------
// [segment].

TEST(PolicyTest, CountryCodesAreUpperCasedKindsAreNot) {
  Policy p = MustParse(WithSegment(R"(countries_include = ["in", "Ph", "BR"]
countries_exclude = ["us", "gB"]
kinds = ["Agency", "individual"])"));
  EXPECT_EQ(p.segment.countries_include, (std::vector<std::string>{"IN", "PH", "BR"}));
  EXPECT_EQ(p.segment.countries_exclude, (std::vector<std::string>{"US", "GB"}));
  EXPECT_EQ(p.segment.kinds, (std::vector<std::string>{"Agency", "individual"}));
}

TEST(PolicyTest, SegmentListsMustBeListsOfStrings) {
  ExpectRefused(WithSegment(R"(countries_include = "US")"), "segment.countries_include");
  ExpectRefused(WithSegment(R"(countries_exclude = ["US", 1])"), "segment.countries_exclude");
  ExpectRefused(WithSegment(R"(kinds = "agency")"), "segment.kinds");
}

// ---------------------------------------------------------------------------
// Unknown keys and invalid TOML.

TEST(PolicyTest, UnknownKeysAreReportedNotRefused) {
  Policy p = MustParse(R"toml(
owner = "ops"
[campaign]
colour = "blue"
[segment]
country = ["US"]
[limits]
max_nudges = 3
[extra]
x = 1
[[ladder]]
after = "24h"
action = "nudge"
template = "t"
note = "first"
)toml");
  EXPECT_THAT(p.unknown_keys, Contains("owner"));
  EXPECT_THAT(p.unknown_keys, Contains("campaign.colour"));
  EXPECT_THAT(p.unknown_keys, Contains("segment.country"));
  EXPECT_THAT(p.unknown_keys, Contains("limits.max_nudges"));
  EXPECT_THAT(p.unknown_keys, Contains("extra"));
  EXPECT_THAT(p.unknown_keys, Contains("ladder[1].note"));
  EXPECT_EQ(p.unknown_keys.size(), 6u);
  // The typo'd key did not set the real one.
  EXPECT_EQ(p.max_nudges_per_day, 0);
}

// True when `message` names line `line` and column `column`, in either the
// "file:line:column" or the "line N, column M" style.
bool NamesLineAndColumn(const std::string& message, int line, int column) {
  const std::string colon = ":" + std::to_string(line) + ":" + std::to_string(column);
  const std::string words = "line " + std::to_string(line);
  const std::string col_words = "column " + std::to_string(column);
  return message.find(colon) != std::string::npos ||
         (message.find(words) != std::string::npos && message.find(col_words) != std::string::npos);
}

TEST(PolicyTest, InvalidTomlNamesLineAndColumn) {
  // Line 3, column 8: the '@' after "salt = ".
  Result<Policy> r =
      parse_policy("[campaign]\nname = \"x\"\nsalt = @\n" + std::string(kOneStep), "policy.toml");
  ASSERT_FALSE(r.is_ok());
  EXPECT_THAT(r.message(), HasSubstr("policy.toml"));
  EXPECT_TRUE(NamesLineAndColumn(r.message(), 3, 8)) << r.message();

  // Line 2, column 1: a duplicate table header.
  Result<Policy> dup = parse_policy("[campaign]\n[campaign]\n" + std::string(kOneStep), "policy.toml");
  ASSERT_FALSE(dup.is_ok());
  EXPECT_TRUE(NamesLineAndColumn(dup.message(), 2, 1)) << dup.message();

  Result<Policy> unterminated = parse_policy("[campaign]\nname = \"x\n", "policy.toml");
  ASSERT_FALSE(unterminated.is_ok());
  EXPECT_THAT(unterminated.message(), HasSubstr(":2:")) << unterminated.message();
}

}  // namespace
}  // namespace gw
