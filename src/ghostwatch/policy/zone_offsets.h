// A time zone's UTC offset over time, as the tz database gives it, and a
// memo of it for callers that look up many instants in few zones.
#pragma once

#include <array>
#include <cstdint>

#include "ghostwatch/core/time.h"

namespace date {
class time_zone;
}

namespace gw {

// One period of a zone between two of its transitions: its UTC offset is
// constant from `from` (inclusive) to `until` (exclusive). Empty by default.
struct ZoneOffsetPeriod {
  Instant from = 0;
  Instant until = 0;
  Duration offset = 0;  // local time - UTC

  bool covers(Instant t) const { return from <= t && t < until; }

  // The period of `zone` that holds `t`: exactly date::time_zone::get_info's
  // offset and bounds (whole seconds, here in ms). nullptr is UTC: one
  // period of offset 0 that holds every instant.
  static ZoneOffsetPeriod of(const date::time_zone* zone, Instant t);
};

// The last period looked up in each of up to 64 zones, by the zone's
// address (two zones that share a slot take turns in it). at() returns
// exactly what ZoneOffsetPeriod::of returns, without the tz database's
// search when the instant falls in the period remembered: instants move
// forward in a replay and periods last months, so nearly always. Not
// thread-safe: one per engine.
class ZoneOffsets {
 public:
  ZoneOffsetPeriod at(const date::time_zone* zone, Instant t) {
    Entry& e = entries_[slot(zone)];
    if (e.zone != zone || !e.period.covers(t)) e = {zone, ZoneOffsetPeriod::of(zone, t)};
    return e.period;
  }

 private:
  static constexpr int kSlotBits = 6;
  static std::size_t slot(const date::time_zone* zone) {
    return static_cast<std::size_t>((reinterpret_cast<std::uintptr_t>(zone) * 0x9e3779b97f4a7c15ULL) >>
                                    (64 - kSlotBits));
  }
  struct Entry {
    const date::time_zone* zone = nullptr;
    ZoneOffsetPeriod period;
  };
  std::array<Entry, std::size_t{1} << kSlotBits> entries_{};
};

}  // namespace gw
