// LocalClock against the tz database: the same local time at every instant,
// across daylight saving changes in both directions, with a change of zone
// in between, and for UTC.
#include <date/tz.h>
#include <gtest/gtest.h>

#include <chrono>

#include "ghostwatch/core/time.h"
#include "ghostwatch/risk/local_clock.h"

namespace gw::test {
namespace {

Instant tz_local(Instant t, const date::time_zone* zone) {
  const auto info = zone->get_info(date::sys_seconds{std::chrono::seconds{floor_div(t, kSecond)}});
  return t + info.offset.count() * kSecond;
}

TEST(RiskLocalClock, SameAsTheTzDatabase) {
  const date::time_zone* paris = date::locate_zone("Europe/Paris");
  const date::time_zone* sydney = date::locate_zone("Australia/Sydney");
  risk::LocalClock clock;
  // 2024: from January to December every 37 minutes and a few ms, through
  // both of each zone's changes, switching zone every 1000 steps.
  const Instant start = 1704067200000;  // 2024-01-01T00:00:00Z
  for (Instant t = start, step = 0; t < start + 366 * kDay; t += 37 * kMinute + 7, ++step) {
    const date::time_zone* zone = (step / 1000) % 2 == 0 ? paris : sydney;
    clock.set_zone(zone);
    ASSERT_EQ(clock.local(t), tz_local(t, zone)) << "at " << t << " in " << zone->name();
  }
  // The last millisecond before Paris's spring change and the change itself.
  const Instant change = 1711846800000;  // 2024-03-31T01:00:00Z
  clock.set_zone(paris);
  EXPECT_EQ(clock.local(change - 1), change - 1 + kHour);
  EXPECT_EQ(clock.local(change), change + 2 * kHour);
  clock.set_zone(nullptr);
  EXPECT_EQ(clock.local(change), change);
}

}  // namespace
}  // namespace gw::test
