#include "ghostwatch/core/time.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace gw {
namespace {

TEST(Rfc3339, ParsesUtcOffsetsAndFractions) {
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_rfc3339("2019-08-01T00:00:00Z"), 1564617600000);
  EXPECT_EQ(parse_rfc3339("2019-08-01t00:00:00z"), 1564617600000);
  EXPECT_EQ(parse_rfc3339("2019-08-01T01:00:00+01:00"), 1564617600000);
  EXPECT_EQ(parse_rfc3339("2019-07-31T19:30:00-04:30"), 1564617600000);
  EXPECT_EQ(parse_rfc3339("2019-08-01T00:00:00.9999Z"), 1564617600999);  // truncated, not rounded
  EXPECT_EQ(parse_rfc3339("2019-08-01T00:00:00.5Z"), 1564617600500);
  EXPECT_EQ(parse_rfc3339("2020-02-29T12:00:00Z"), 1582977600000);
}

TEST(Rfc3339, RejectsWhatTheSpecRejects) {
  for (const char* bad : {"2019-08-01 00:00:00Z", "2019-08-01T23:59:60Z", "2019-08-01T00:00:00", "2019-08-01",
                          "2019-02-29T00:00:00Z", "2019-13-01T00:00:00Z", "2019-08-01T24:00:00Z",
                          "2019-08-01T00:00:00.Z", "2019-08-01T00:00:00+0100", "2019-08-01T00:00:00+24:00",
                          "2019-08-01T00:00:00Zx", "", "2019-8-01T00:00:00Z", "2019-08-01T00:00:00 Z"}) {
    EXPECT_FALSE(parse_rfc3339(bad).has_value()) << bad;
  }
}

TEST(Rfc3339, FormatsMillisecondsOnlyWhenNonZero) {
  EXPECT_EQ(format_rfc3339(1564617600000), "2019-08-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(1564617600500), "2019-08-01T00:00:00.500Z");
  EXPECT_EQ(format_rfc3339(-1), "1969-12-31T23:59:59.999Z");
  for (Instant t : {0LL, 951782400123LL, 1582977600000LL, 4102444799999LL}) {
    EXPECT_EQ(parse_rfc3339(format_rfc3339(t)), t);
  }
}

TEST(Rfc3339, FormatsEveryFieldWithItsZeros) {
  EXPECT_EQ(format_rfc3339(parse_rfc3339("2019-08-01T09:05:07.010Z").value()), "2019-08-01T09:05:07.010Z");
  EXPECT_EQ(format_rfc3339(parse_rfc3339("2019-08-01T23:59:59.001Z").value()), "2019-08-01T23:59:59.001Z");
  EXPECT_EQ(format_rfc3339(parse_rfc3339("2019-08-01T10:50:40.999Z").value()), "2019-08-01T10:50:40.999Z");
  // Two days by steps that visit every hour, minute, second and many
  // milliseconds.
  for (Instant t = 1564617600000; t < 1564617600000 + 2 * kDay; t += 1009 * 61) {
    const std::string text = format_rfc3339(t);
    EXPECT_EQ(parse_rfc3339(text), t) << text;
  }
}

// Times of a few days interleaved, as an episode record's opening and
// closing or decisions between them, each written with its own date
// (formatting keeps the text of recent dates).
TEST(Rfc3339, FormatsInterleavedDatesEachWithItsOwnDate) {
  const std::vector<std::pair<Instant, std::string>> times = {
      {1564617600000, "2019-08-01T00:00:00Z"},
      {1564704000000, "2019-08-02T00:00:00Z"},
      {1564963200000, "2019-08-05T00:00:00Z"},
      {1564617600000 + 4 * kDay, "2019-08-05T00:00:00Z"},
      {1564617600000 + 8 * kDay, "2019-08-09T00:00:00Z"},
      {1564617600000 - 1, "2019-07-31T23:59:59.999Z"},
      {-4 * kDay, "1969-12-28T00:00:00Z"},
      {0, "1970-01-01T00:00:00Z"},
  };
  for (int round = 0; round < 3; ++round) {
    for (const auto& [t, text] : times) EXPECT_EQ(format_rfc3339(t), text);
    for (auto it = times.rbegin(); it != times.rend(); ++it) EXPECT_EQ(format_rfc3339(it->first), it->second);
  }
}

TEST(Duration, ParsesCombinedUnits) {
  EXPECT_EQ(parse_duration("0s"), 0);
  EXPECT_EQ(parse_duration("24h"), 24 * kHour);
  EXPECT_EQ(parse_duration("1d12h"), 36 * kHour);
  EXPECT_EQ(parse_duration("17h25m"), 17 * kHour + 25 * kMinute);
  EXPECT_EQ(parse_duration("90s"), 90 * kSecond);
  for (const char* bad : {"", "24", "h", "1x", "1h ", " 1h", "-1h", "1.5h", "99999999999999999999d"}) {
    EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace gw
