#include "ghostwatch/policy/zone_offsets.h"

#include <date/tz.h>

#include <chrono>
#include <limits>

namespace gw {

ZoneOffsetPeriod ZoneOffsetPeriod::of(const date::time_zone* zone, Instant t) {
  if (zone == nullptr) return {std::numeric_limits<Instant>::min(), kForever, 0};
  using std::chrono::milliseconds;
  const date::sys_info info = zone->get_info(date::sys_time<milliseconds>(milliseconds(t)));
  const auto ms = [](date::sys_seconds s) {
    return std::chrono::duration_cast<milliseconds>(s.time_since_epoch()).count();
  };
  return {ms(info.begin), ms(info.end), std::chrono::duration_cast<milliseconds>(info.offset).count()};
}

}  // namespace gw
