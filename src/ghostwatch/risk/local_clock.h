// LocalClock: local times in one user's time zone, remembering the zone's
// offset period (between two of its transitions) that the last lookup fell
// in, so that instants of that period (months, in zones with daylight
// saving time; all time in most others) cost no tz database lookup. The
// offset is exactly the one date::time_zone::get_info gives. It holds the
// zone itself (the feature store keeps no other copy). Not thread-safe.
#pragma once

#include "ghostwatch/core/time.h"
#include "ghostwatch/policy/zone_offsets.h"

namespace gw::risk {

class LocalClock {
 public:
  // The zone from now on (nullptr: UTC); the user moved, or was first told.
  void set_zone(const date::time_zone* zone) {
    if (zone == zone_) return;
    zone_ = zone;
    period_ = {};
  }
  const date::time_zone* zone() const { return zone_; }
  // `t` in the zone, as ms since the local epoch. A period the clock does
  // not remember is asked of `zones` (one for many clocks, such as a feature
  // store's users: a zone's period is then looked up in the tz database
  // once for all of its users, not once per user).
  Instant local(Instant t, ZoneOffsets& zones) {
    if (!period_.covers(t)) period_ = zones.at(zone_, t);
    return t + period_.offset;
  }

 private:
  const date::time_zone* zone_ = nullptr;
  ZoneOffsetPeriod period_;  // empty at first and after a new zone
};

}  // namespace gw::risk
