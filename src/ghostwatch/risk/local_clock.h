// LocalClock: local times in one user's time zone, remembering the zone's
// offset period (between two of its transitions) that the last lookup fell
// in, so that instants of that period (months, in zones with daylight
// saving time; all time in most others) cost no tz database lookup. The
// offset is exactly the one date::time_zone::get_info gives. Not
// thread-safe.
#pragma once

#include <cstdint>

#include "ghostwatch/core/time.h"

namespace date {
class time_zone;
}

namespace gw::risk {

class LocalClock {
 public:
  // `t` in `zone` (nullptr: UTC), as ms since the local epoch. `zone` may
  // differ from one call to the next (the user moved).
  Instant local(Instant t, const date::time_zone* zone);

 private:
  const date::time_zone* zone_ = nullptr;
  std::int64_t from_ = 0, until_ = 0;  // the period, seconds since the epoch [from, until); empty at first
  Duration offset_ = 0;
};

}  // namespace gw::risk
