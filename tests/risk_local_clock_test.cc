// LocalClock against the tz database: the same local time at every instant,
// across daylight saving changes in both directions, with a change of zone
// in between, and for UTC; also for clocks sharing their zones' periods.
#include <date/tz.h>
#include <gtest/gtest.h>

#include <array>
#include <chrono>

#include "ghostwatch/core/time.h"
#include "ghostwatch/policy/zone_offsets.h"
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
  ZoneOffsets zones;
  risk::LocalClock clock;
  // 2024: from January to December every 37 minutes and a few ms, through
  // both of each zone's changes, switching zone every 1000 steps.
  const Instant start = 1704067200000;  // 2024-01-01T00:00:00Z
  for (Instant t = start, step = 0; t < start + 366 * kDay; t += 37 * kMinute + 7, ++step) {
    const date::time_zone* zone = (step / 1000) % 2 == 0 ? paris : sydney;
    clock.set_zone(zone);
    ASSERT_EQ(clock.local(t, zones), tz_local(t, zone)) << "at " << t << " in " << zone->name();
  }
  // The last millisecond before Paris's spring change and the change itself.
  const Instant change = 1711846800000;  // 2024-03-31T01:00:00Z
  clock.set_zone(paris);
  EXPECT_EQ(clock.local(change - 1, zones), change - 1 + kHour);
  EXPECT_EQ(clock.local(change, zones), change + 2 * kHour);
  clock.set_zone(nullptr);
  EXPECT_EQ(clock.local(change, zones), change);
}

// Clocks sharing their zones' periods: each still the tz database's local
// time, whatever period another clock of its zone or of another remembered.
TEST(RiskLocalClock, ClocksSharingZonesPeriodsAreTheTzDatabases) {
  const std::array<const date::time_zone*, 3> zones = {date::locate_zone("Europe/Paris"),
                                                       date::locate_zone("Australia/Sydney"), nullptr};
  ZoneOffsets shared;
  std::array<risk::LocalClock, 6> clocks;
  for (std::size_t i = 0; i < clocks.size(); ++i) clocks[i].set_zone(zones[i % zones.size()]);
  const Instant start = 1704067200000;  // 2024-01-01T00:00:00Z
  for (Instant t = start, step = 0; t < start + 366 * kDay; t += 5 * kHour + 13, ++step) {
    // Clock i asks at t, or (every third step) a day behind: periods go back too.
    const std::size_t i = static_cast<std::size_t>(step) % clocks.size();
    const Instant at = step % 3 == 0 ? t - kDay : t;
    const date::time_zone* zone = zones[i % zones.size()];
    ASSERT_EQ(clocks[i].local(at, shared), zone == nullptr ? at : tz_local(at, zone)) << "at " << at << " clock " << i;
  }
}

}  // namespace
}  // namespace gw::test
