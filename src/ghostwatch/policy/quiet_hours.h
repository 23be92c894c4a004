// Quiet hours (spec section 4, rule 3): a daily window of local wall time,
// possibly wrapping midnight, in which no step fires. The start minute is
// inside the window, the end minute is not. Thread-safe: immutable.
#pragma once

#include <optional>
#include <string_view>

#include "ghostwatch/core/time.h"
#include "ghostwatch/policy/zone_offsets.h"

namespace gw {

class QuietHours {
 public:
  // Parses "HH:MM-HH:MM" with different start and end; nullopt otherwise.
  static std::optional<QuietHours> parse(std::string_view text);

  // Whether a local wall-clock time of day (ms since local midnight) is
  // inside the window.
  bool contains_time_of_day(Duration ms_of_day) const;

  // When `t` falls inside the window in `zone`'s local time (nullptr: UTC),
  // returns the window's end: the first instant after `t` whose local wall
  // time is outside the window. Where a DST change repeats the end time,
  // that is its first occurrence; where a DST gap skips it, the switch-over
  // instant. Returns nullopt when `t` is outside the window. The zone's
  // offsets are looked up through `offsets`.
  std::optional<Instant> deferral(Instant t, const date::time_zone* zone, ZoneOffsets& offsets) const;

  int start_minute() const { return start_; }
  int end_minute() const { return end_; }

 private:
  QuietHours(int start, int end) : start_(start), end_(end) {}
  int start_;  // minutes after local midnight
  int end_;
};

// Resolves IANA zone names against the system tz database (/usr/share/zoneinfo);
// returns nullptr for a name that is not a known zone. Thread-safe after the
// database is loaded (the first call loads it).
const date::time_zone* find_time_zone(std::string_view name);

}  // namespace gw
