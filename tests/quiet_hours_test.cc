// Quiet hours, checked against the engine contract (spec section 2 for the
// "HH:MM-HH:MM" form, section 4 rule 3 for the window and its end): windows
// may wrap midnight; the start minute is inside, the end minute is not; the
// window's end is the first instant after T whose local wall time is outside
// the window: the first occurrence when a DST change repeats it, the
// switch-over instant when a DST gap skips it.
//
// Every expected instant below is worked out by hand in a comment from the
// zone's published rules (IANA tzdata), not taken from the code.
#include "ghostwatch/policy/quiet_hours.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>

#include "ghostwatch/core/time.h"

namespace gw {
namespace {

// RFC 3339 text to an instant (parse_rfc3339 has its own tests).
Instant T(std::string_view text) {
  std::optional<Instant> t = parse_rfc3339(text);
  EXPECT_TRUE(t.has_value()) << text;
  return t.value_or(0);
}

QuietHours Q(std::string_view text) {
  std::optional<QuietHours> q = QuietHours::parse(text);
  EXPECT_TRUE(q.has_value()) << text;
  return q.value_or(*QuietHours::parse("00:00-00:01"));
}

const date::time_zone* Zone(std::string_view name) {
  const date::time_zone* z = find_time_zone(name);
  EXPECT_NE(z, nullptr) << name;
  return z;
}

// Formats an optional instant for readable failures.
std::string Show(std::optional<Instant> t) { return t ? format_rfc3339(*t) : std::string("(not deferred)"); }

// The deferral through a fresh memo of the zones' offsets, checked against
// the same through one kept for the whole program (warm: other zones and
// instants, earlier and later, went through it).
std::optional<Instant> Deferral(const QuietHours& q, Instant t, const date::time_zone* zone) {
  static ZoneOffsets warm;
  ZoneOffsets fresh;
  const std::optional<Instant> end = q.deferral(t, zone, fresh);
  EXPECT_EQ(Show(q.deferral(t, zone, warm)), Show(end)) << "with the offsets remembered, at " << format_rfc3339(t);
  return end;
}

#define EXPECT_DEFERRED_TO(q, t, zone, expected) \
  EXPECT_EQ(Show(Deferral((q), T(t), (zone))), std::string(expected)) << "at " << (t)
#define EXPECT_NOT_DEFERRED(q, t, zone) EXPECT_EQ(Show(Deferral((q), T(t), (zone))), "(not deferred)") << "at " << (t)

// ---------------------------------------------------------------------------
// parse

TEST(QuietHoursTest, ParsesHhMmDashHhMm) {
  std::optional<QuietHours> q = QuietHours::parse("22:00-08:00");
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->start_minute(), 22 * 60);
  EXPECT_EQ(q->end_minute(), 8 * 60);
  q = QuietHours::parse("00:00-23:59");
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->start_minute(), 0);
  EXPECT_EQ(q->end_minute(), 23 * 60 + 59);
  q = QuietHours::parse("23:59-00:00");
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->start_minute(), 23 * 60 + 59);
  EXPECT_EQ(q->end_minute(), 0);
  q = QuietHours::parse("09:05-17:30");
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->start_minute(), 9 * 60 + 5);
  EXPECT_EQ(q->end_minute(), 17 * 60 + 30);
}

TEST(QuietHoursTest, RejectsOtherForms) {
  for (const char* bad : {"",
                          "22:00-22:00",
                          "08:00-08:00",
                          "22:00",
                          "22:00-",
                          "-08:00",
                          "24:00-08:00",
                          "22:00-24:00",
                          "22:60-08:00",
                          "22:00-08:60",
                          "2:00-08:00",
                          "22:00-8:00",
                          "22:00 - 08:00",
                          " 22:00-08:00",
                          "22:00-08:00 ",
                          "2200-0800",
                          "22.00-08.00",
                          "22:00–08:00",
                          "22:00_08:00",
                          "22:00-08:00-09:00",
                          "ab:cd-ef:gh",
                          "+2:00-08:00",
                          "22:00:00-08:00:00",
                          "10pm-8am"}) {
    EXPECT_FALSE(QuietHours::parse(bad).has_value()) << '"' << bad << '"';
  }
}

// ---------------------------------------------------------------------------
// contains_time_of_day

TEST(QuietHoursTest, NonWrappingWindowHasStartInsideAndEndOutside) {
  QuietHours q = Q("09:00-17:00");
  EXPECT_FALSE(q.contains_time_of_day(0));
  EXPECT_FALSE(q.contains_time_of_day(9 * kHour - 1));
  EXPECT_TRUE(q.contains_time_of_day(9 * kHour));  // the start minute is inside
  EXPECT_TRUE(q.contains_time_of_day(12 * kHour));
  EXPECT_TRUE(q.contains_time_of_day(17 * kHour - 1));
  EXPECT_FALSE(q.contains_time_of_day(17 * kHour));  // the end minute is not
  EXPECT_FALSE(q.contains_time_of_day(17 * kHour + 30 * kSecond));
  EXPECT_FALSE(q.contains_time_of_day(kDay - 1));
}

TEST(QuietHoursTest, WrappingWindowCoversMidnight) {
  QuietHours q = Q("22:00-08:00");
  EXPECT_FALSE(q.contains_time_of_day(22 * kHour - 1));
  EXPECT_TRUE(q.contains_time_of_day(22 * kHour));
  EXPECT_TRUE(q.contains_time_of_day(23 * kHour + 59 * kMinute + 59 * kSecond + 999));
  EXPECT_TRUE(q.contains_time_of_day(0));
  EXPECT_TRUE(q.contains_time_of_day(3 * kHour));
  EXPECT_TRUE(q.contains_time_of_day(8 * kHour - 1));
  EXPECT_FALSE(q.contains_time_of_day(8 * kHour));
  EXPECT_FALSE(q.contains_time_of_day(12 * kHour));

  QuietHours to_midnight = Q("23:00-00:00");
  EXPECT_TRUE(to_midnight.contains_time_of_day(23 * kHour));
  EXPECT_TRUE(to_midnight.contains_time_of_day(kDay - 1));
  EXPECT_FALSE(to_midnight.contains_time_of_day(0));
  QuietHours from_midnight = Q("00:00-06:00");
  EXPECT_TRUE(from_midnight.contains_time_of_day(0));
  EXPECT_FALSE(from_midnight.contains_time_of_day(kDay - 1));
}

// ---------------------------------------------------------------------------
// deferral in UTC

TEST(QuietHoursTest, DeferralInUtc) {
  QuietHours q = Q("22:00-08:00");
  // Inside the window before midnight: the end is 08:00 the next day.
  EXPECT_DEFERRED_TO(q, "2019-08-01T23:30:00Z", nullptr, "2019-08-02T08:00:00Z");
  // The start minute itself is inside.
  EXPECT_DEFERRED_TO(q, "2019-08-01T22:00:00Z", nullptr, "2019-08-02T08:00:00Z");
  // After midnight: the end is 08:00 the same day.
  EXPECT_DEFERRED_TO(q, "2019-08-02T00:00:00Z", nullptr, "2019-08-02T08:00:00Z");
  EXPECT_DEFERRED_TO(q, "2019-08-02T07:59:59.999Z", nullptr, "2019-08-02T08:00:00Z");
  // Outside: the end minute, daytime, just before the start.
  EXPECT_NOT_DEFERRED(q, "2019-08-02T08:00:00Z", nullptr);
  EXPECT_NOT_DEFERRED(q, "2019-08-02T12:00:00Z", nullptr);
  EXPECT_NOT_DEFERRED(q, "2019-08-02T21:59:59.999Z", nullptr);
  // Year end.
  EXPECT_DEFERRED_TO(q, "2019-12-31T23:00:00Z", nullptr, "2020-01-01T08:00:00Z");

  QuietHours day = Q("09:00-17:00");
  EXPECT_DEFERRED_TO(day, "2019-08-01T09:00:00Z", nullptr, "2019-08-01T17:00:00Z");
  EXPECT_DEFERRED_TO(day, "2019-08-01T16:59:00Z", nullptr, "2019-08-01T17:00:00Z");
  EXPECT_NOT_DEFERRED(day, "2019-08-01T17:00:00Z", nullptr);
  EXPECT_NOT_DEFERRED(day, "2019-08-01T08:59:59Z", nullptr);

  // Before 1970 too (negative instants).
  EXPECT_DEFERRED_TO(q, "1969-12-31T23:00:00Z", nullptr, "1970-01-01T08:00:00Z");
}

TEST(QuietHoursTest, DeferralInAFixedOffsetZone) {
  // Asia/Kolkata is UTC+05:30 all year (no DST since 1945).
  const date::time_zone* kolkata = Zone("Asia/Kolkata");
  QuietHours q = Q("22:00-08:00");
  // 18:00Z = 23:30 IST, inside; the window ends 08:00 IST on Aug 2 =
  // 08:00 - 05:30 = 02:30Z on Aug 2.
  EXPECT_DEFERRED_TO(q, "2019-08-01T18:00:00Z", kolkata, "2019-08-02T02:30:00Z");
  // 16:30Z = 22:00 IST, the start minute: inside, same end.
  EXPECT_DEFERRED_TO(q, "2019-08-01T16:30:00Z", kolkata, "2019-08-02T02:30:00Z");
  // 16:29:59.999Z = 21:59:59.999 IST: outside.
  EXPECT_NOT_DEFERRED(q, "2019-08-01T16:29:59.999Z", kolkata);
  // 20:00Z = 01:30 IST on Aug 2: inside, end 02:30Z on Aug 2.
  EXPECT_DEFERRED_TO(q, "2019-08-01T20:00:00Z", kolkata, "2019-08-02T02:30:00Z");
  // 02:30Z = 08:00 IST: the end minute, outside.
  EXPECT_NOT_DEFERRED(q, "2019-08-02T02:30:00Z", kolkata);
  // 12:00Z is 17:30 IST, outside. 17:00Z is outside the window in UTC but
  // 22:30 IST, inside: the freelancer's zone decides.
  EXPECT_NOT_DEFERRED(q, "2019-08-01T12:00:00Z", kolkata);
  EXPECT_DEFERRED_TO(q, "2019-08-01T17:00:00Z", kolkata, "2019-08-02T02:30:00Z");
  EXPECT_NOT_DEFERRED(q, "2019-08-01T17:00:00Z", nullptr);
}

// ---------------------------------------------------------------------------
// DST: gaps and repeats.

TEST(QuietHoursTest, NewYorkSpringForwardSkipsTheWindowEnd) {
  // America/New_York, 2019-03-10: at 02:00 EST (UTC-5), i.e. 07:00Z, clocks
  // jump to 03:00 EDT (UTC-4). Local 02:00-02:59 does not exist that day.
  const date::time_zone* ny = Zone("America/New_York");
  QuietHours q = Q("01:00-02:30");
  // 06:30Z = 01:30 EST: inside. Local time runs 01:30 .. 01:59:59.999 EST
  // (until 06:59:59.999Z), then 03:00 EDT at 07:00Z, outside. The end 02:30
  // never happens: the window ends at the switch-over instant, 07:00Z.
  EXPECT_DEFERRED_TO(q, "2019-03-10T06:30:00Z", ny, "2019-03-10T07:00:00Z");
  EXPECT_DEFERRED_TO(q, "2019-03-10T06:00:00Z", ny, "2019-03-10T07:00:00Z");  // 01:00 EST, the start
  EXPECT_DEFERRED_TO(q, "2019-03-10T06:59:59.999Z", ny, "2019-03-10T07:00:00Z");
  // 07:00Z = 03:00 EDT: outside.
  EXPECT_NOT_DEFERRED(q, "2019-03-10T07:00:00Z", ny);
  // The day before, no DST change: 01:30 EST = 06:30Z, end 02:30 EST = 07:30Z.
  EXPECT_DEFERRED_TO(q, "2019-03-09T06:30:00Z", ny, "2019-03-09T07:30:00Z");
  // The day after, in EDT: 01:30 EDT = 05:30Z, end 02:30 EDT = 06:30Z.
  EXPECT_DEFERRED_TO(q, "2019-03-11T05:30:00Z", ny, "2019-03-11T06:30:00Z");

  // A wrapping window across the gap: 22:00-02:30. 04:00Z on Mar 10 = 23:00
  // EST on Mar 9, inside; local time reaches 01:59:59.999 EST, then 03:00 EDT
  // at 07:00Z: the switch-over instant.
  EXPECT_DEFERRED_TO(Q("22:00-02:30"), "2019-03-10T04:00:00Z", ny, "2019-03-10T07:00:00Z");

  // A window that starts in the gap: 02:15-04:00. At 07:00Z it is 03:00 EDT,
  // inside; the end 04:00 EDT = 08:00Z.
  EXPECT_DEFERRED_TO(Q("02:15-04:00"), "2019-03-10T07:00:00Z", ny, "2019-03-10T08:00:00Z");
  // 06:50Z = 01:50 EST: outside 02:15-04:00, even though ten minutes later the
  // wall clock will read 03:00, inside.
  EXPECT_NOT_DEFERRED(Q("02:15-04:00"), "2019-03-10T06:50:00Z", ny);
}

TEST(QuietHoursTest, BerlinFallBackUsesTheFirstOccurrenceOfTheEnd) {
  // Europe/Berlin, 2019-10-27: at 03:00 CEST (UTC+2), i.e. 01:00Z, clocks go
  // back to 02:00 CET (UTC+1). Local 02:00-02:59 happens twice: first
  // 00:00Z-01:00Z (CEST), again 01:00Z-02:00Z (CET).
  const date::time_zone* berlin = Zone("Europe/Berlin");
  QuietHours q = Q("01:00-02:30");
  // 23:30Z on Oct 26 = 01:30 CEST: inside. The end 02:30 first occurs at
  // 02:30 CEST = 00:30Z.
  EXPECT_DEFERRED_TO(q, "2019-10-26T23:30:00Z", berlin, "2019-10-27T00:30:00Z");
  // 00:30Z = 02:30 CEST: the end minute, outside.
  EXPECT_NOT_DEFERRED(q, "2019-10-27T00:30:00Z", berlin);
  // 00:45Z = 02:45 CEST: outside.
  EXPECT_NOT_DEFERRED(q, "2019-10-27T00:45:00Z", berlin);
  // 01:15Z = 02:15 CET (the second time 02:15 happens): inside again; the
  // end is 02:30 CET = 01:30Z.
  EXPECT_DEFERRED_TO(q, "2019-10-27T01:15:00Z", berlin, "2019-10-27T01:30:00Z");

  // A window that contains the whole repeated hour: 02:00-03:00. 00:30Z =
  // 02:30 CEST, inside; at 01:00Z the clock reads 02:00 CET, still inside;
  // 03:00 (not repeated) comes at 03:00 CET = 02:00Z.
  EXPECT_DEFERRED_TO(Q("02:00-03:00"), "2019-10-27T00:30:00Z", berlin, "2019-10-27T02:00:00Z");

  // Wrapping, ending at the start of the repeated hour: 22:00-02:00. 21:00Z
  // on Oct 26 = 23:00 CEST; 02:00 first occurs at 02:00 CEST = 00:00Z.
  EXPECT_DEFERRED_TO(Q("22:00-02:00"), "2019-10-26T21:00:00Z", berlin, "2019-10-27T00:00:00Z");
}

TEST(QuietHoursTest, LordHoweThirtyMinuteDst) {
  // Australia/Lord_Howe: standard time UTC+10:30, DST UTC+11:00, a
  // 30-minute shift. 2019 changes:
  //  * DST ends Sunday 2019-04-07 at 02:00 LHDT (+11) = 2019-04-06T15:00Z;
  //    clocks go back to 01:30 LHST (+10:30): 01:30-01:59 happens twice,
  //    first 14:30Z-15:00Z, again 15:00Z-15:30Z.
  //  * DST starts Sunday 2019-10-06 at 02:00 LHST (+10:30) = 2019-10-05T15:30Z;
  //    clocks jump to 02:30 LHDT (+11): 02:00-02:29 does not exist.
  const date::time_zone* lord_howe = Zone("Australia/Lord_Howe");

  // Repeat, end inside the repeated half hour: 01:00-01:45. 14:10Z = 01:10
  // LHDT, inside; 01:45 first occurs at 01:45 LHDT = 14:45Z.
  EXPECT_DEFERRED_TO(Q("01:00-01:45"), "2019-04-06T14:10:00Z", lord_howe, "2019-04-06T14:45:00Z");
  // Repeat, end after it: 01:00-02:00. 14:50Z = 01:50 LHDT, inside; at 15:00Z
  // the clock reads 01:30 LHST, inside again; 02:00 LHST = 15:30Z.
  EXPECT_DEFERRED_TO(Q("01:00-02:00"), "2019-04-06T14:50:00Z", lord_howe, "2019-04-06T15:30:00Z");

  // Gap, end inside the skipped half hour: 01:00-02:15. 15:00Z on Oct 5 =
  // 01:30 LHST, inside; local time reaches 01:59:59.999 LHST, then 02:30
  // LHDT at 15:30Z, outside: the switch-over instant.
  EXPECT_DEFERRED_TO(Q("01:00-02:15"), "2019-10-05T15:00:00Z", lord_howe, "2019-10-05T15:30:00Z");
  // Gap, end after it: 01:00-03:00. 01:30 LHST = 15:00Z, inside; 03:00 LHDT
  // (+11) = 16:00Z.
  EXPECT_DEFERRED_TO(Q("01:00-03:00"), "2019-10-05T15:00:00Z", lord_howe, "2019-10-05T16:00:00Z");
  // An ordinary day in standard time: 22:00-08:00, 12:00Z on Aug 1 = 22:30
  // LHST; end 08:00 LHST on Aug 2 = 21:30Z on Aug 1.
  EXPECT_DEFERRED_TO(Q("22:00-08:00"), "2019-08-01T12:00:00Z", lord_howe, "2019-08-01T21:30:00Z");
}

TEST(QuietHoursTest, WindowEndingExactlyAtADstChange) {
  // New York 2019-03-10, window 22:00-02:00: the end 02:00 EST is the very
  // instant clocks jump to 03:00 EDT (07:00Z). 05:00Z = 00:00 EST, inside;
  // local time reaches 01:59:59.999 EST, then 03:00 EDT at 07:00Z.
  const date::time_zone* ny = Zone("America/New_York");
  EXPECT_DEFERRED_TO(Q("22:00-02:00"), "2019-03-10T05:00:00Z", ny, "2019-03-10T07:00:00Z");
  // Window 22:00-03:00: 03:00 EDT is the first wall time after the jump, and
  // the end minute is outside: also 07:00Z.
  EXPECT_DEFERRED_TO(Q("22:00-03:00"), "2019-03-10T05:00:00Z", ny, "2019-03-10T07:00:00Z");

  // Berlin 2019-03-31: at 02:00 CET (01:00Z) clocks jump to 03:00 CEST.
  // Window 23:00-02:00, 23:00Z on Mar 30 = 00:00 CET: inside; the end 02:00
  // is skipped, so the window ends at the switch-over, 01:00Z.
  const date::time_zone* berlin = Zone("Europe/Berlin");
  EXPECT_DEFERRED_TO(Q("23:00-02:00"), "2019-03-30T23:00:00Z", berlin, "2019-03-31T01:00:00Z");

  // Berlin 2019-10-27, window 22:00-03:00: 03:00 CEST would be 01:00Z, but
  // at 01:00Z the clock is set back to 02:00 CET, still inside; 03:00 is
  // first reached at 03:00 CET = 02:00Z.
  EXPECT_DEFERRED_TO(Q("22:00-03:00"), "2019-10-26T21:00:00Z", berlin, "2019-10-27T02:00:00Z");
}

// ---------------------------------------------------------------------------
// find_time_zone

TEST(QuietHoursTest, FindTimeZone) {
  EXPECT_NE(find_time_zone("Europe/Berlin"), nullptr);
  EXPECT_NE(find_time_zone("America/New_York"), nullptr);
  EXPECT_NE(find_time_zone("UTC"), nullptr);
  // Link names resolve too: Asia/Calcutta is a link to Asia/Kolkata,
  // US/Eastern to America/New_York.
  const date::time_zone* calcutta = find_time_zone("Asia/Calcutta");
  ASSERT_NE(calcutta, nullptr);
  EXPECT_DEFERRED_TO(Q("22:00-08:00"), "2019-08-01T18:00:00Z", calcutta, "2019-08-02T02:30:00Z");
  const date::time_zone* eastern = find_time_zone("US/Eastern");
  ASSERT_NE(eastern, nullptr);
  EXPECT_DEFERRED_TO(Q("01:00-02:30"), "2019-03-10T06:30:00Z", eastern, "2019-03-10T07:00:00Z");
  // Not zones.
  for (const char* bad : {"Mars/Olympus", "", "UTC+3", "+05:30", "Europe", "Europe/", "europe/berlin ",
                          "Europe/Berlin ", "Nowhere"}) {
    EXPECT_EQ(find_time_zone(bad), nullptr) << '"' << bad << '"';
  }
}

}  // namespace
}  // namespace gw
