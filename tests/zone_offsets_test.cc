// ZoneOffsetPeriod::of against transitions worked out from the zones'
// published rules (IANA tzdata), and ZoneOffsets::at against
// ZoneOffsetPeriod::of on instants in every order and more zones than it
// has slots.
#include "ghostwatch/policy/zone_offsets.h"

#include <date/tz.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "ghostwatch/policy/quiet_hours.h"

namespace gw {
namespace {

Instant T(std::string_view text) { return parse_rfc3339(text).value(); }

TEST(ZoneOffsetsTest, PeriodsEndAndBeginAtTheTransitions) {
  // New York springs forward on 2021-03-14 at 02:00 EST = 07:00 UTC, and
  // falls back on 2021-11-07 at 02:00 EDT = 06:00 UTC.
  const date::time_zone* ny = find_time_zone("America/New_York");
  ASSERT_NE(ny, nullptr);
  const ZoneOffsetPeriod winter = ZoneOffsetPeriod::of(ny, T("2021-03-14T06:59:59.999Z"));
  EXPECT_EQ(winter.offset, -5 * kHour);
  EXPECT_EQ(winter.until, T("2021-03-14T07:00:00Z"));
  EXPECT_EQ(winter.from, T("2020-11-01T06:00:00Z"));
  const ZoneOffsetPeriod summer = ZoneOffsetPeriod::of(ny, T("2021-03-14T07:00:00Z"));
  EXPECT_EQ(summer.offset, -4 * kHour);
  EXPECT_EQ(summer.from, T("2021-03-14T07:00:00Z"));
  EXPECT_EQ(summer.until, T("2021-11-07T06:00:00Z"));
  EXPECT_TRUE(summer.covers(summer.from));
  EXPECT_FALSE(summer.covers(summer.until));
  // Kathmandu: +05:45 since 1986, no transition after.
  const ZoneOffsetPeriod ktm = ZoneOffsetPeriod::of(find_time_zone("Asia/Kathmandu"), T("2024-06-01T00:00:00Z"));
  EXPECT_EQ(ktm.offset, 5 * kHour + 45 * kMinute);
  EXPECT_EQ(ktm.from, T("1986-01-01T00:00:00+05:30"));
  EXPECT_TRUE(ktm.covers(T("2200-01-01T00:00:00Z")));
  // UTC (no zone): one period of offset 0 for all time.
  const ZoneOffsetPeriod utc = ZoneOffsetPeriod::of(nullptr, 0);
  EXPECT_EQ(utc.offset, 0);
  EXPECT_TRUE(utc.covers(std::numeric_limits<Instant>::min()));
  EXPECT_TRUE(utc.covers(kForever - 1));
}

TEST(ZoneOffsetsTest, RemembersExactlyWhatTheDatabaseSays) {
  // Every zone of the database (far more than the memo's 64 slots, so
  // zones share slots and push each other out), instants in random order
  // and in runs forward through DST changes, each compared with a lookup
  // of its own.
  std::vector<const date::time_zone*> zones{nullptr};
  for (const date::time_zone& z : date::get_tzdb().zones) zones.push_back(&z);
  ASSERT_GT(zones.size(), 300u);
  std::mt19937_64 rng(7);
  const Instant from = T("1965-01-01T00:00:00Z"), to = T("2045-01-01T00:00:00Z");
  ZoneOffsets offsets;
  int checked = 0;
  const auto check = [&](const date::time_zone* zone, Instant t) {
    const ZoneOffsetPeriod want = ZoneOffsetPeriod::of(zone, t), got = offsets.at(zone, t);
    ASSERT_EQ(got.offset, want.offset) << (zone ? zone->name() : "UTC") << " at " << format_rfc3339(t);
    ASSERT_EQ(got.from, want.from);
    ASSERT_EQ(got.until, want.until);
    ++checked;
  };
  for (int i = 0; i < 20000; ++i) {
    const date::time_zone* zone = zones[rng() % zones.size()];
    check(zone, from + static_cast<Instant>(rng() % static_cast<std::uint64_t>(to - from)));
  }
  for (const date::time_zone* zone : {zones[1], zones[zones.size() / 2], zones.back(), find_time_zone("Europe/Berlin"),
                                      find_time_zone("Australia/Lord_Howe")}) {
    for (Instant t = T("2020-01-01T00:00:00Z"); t < T("2023-01-01T00:00:00Z"); t += 7 * kHour + 13 * kMinute) {
      check(zone, t);
      check(zones[rng() % zones.size()], t);  // another zone in between
    }
  }
  EXPECT_GT(checked, 20000);
}

}  // namespace
}  // namespace gw
