#include "ghostwatch/policy/quiet_hours.h"

#include <date/tz.h>

#include <exception>
#include <string>

namespace gw {
namespace {

bool two_digits(std::string_view s, size_t pos, int& v) {
  if (s[pos] < '0' || s[pos] > '9' || s[pos + 1] < '0' || s[pos + 1] > '9') return false;
  v = (s[pos] - '0') * 10 + (s[pos + 1] - '0');
  return true;
}

}  // namespace

std::optional<QuietHours> QuietHours::parse(std::string_view s) {
  int h1, m1, h2, m2;
  if (s.size() != 11 || s[2] != ':' || s[5] != '-' || s[8] != ':' || !two_digits(s, 0, h1) ||
      !two_digits(s, 3, m1) || !two_digits(s, 6, h2) || !two_digits(s, 9, m2)) {
    return std::nullopt;
  }
  if (h1 > 23 || h2 > 23 || m1 > 59 || m2 > 59) return std::nullopt;
  int start = h1 * 60 + m1, end = h2 * 60 + m2;
  if (start == end) return std::nullopt;
  return QuietHours(start, end);
}

bool QuietHours::contains_time_of_day(Duration ms) const {
  const Duration s = start_ * kMinute, e = end_ * kMinute;
  return s < e ? (ms >= s && ms < e) : (ms >= s || ms < e);
}

std::optional<Instant> QuietHours::deferral(Instant t, const date::time_zone* zone, ZoneOffsets& offsets) const {
  ZoneOffsetPeriod off = offsets.at(zone, t);
  Duration tod = floor_mod(t + off.offset, kDay);
  if (!contains_time_of_day(tod)) return std::nullopt;
  // Walk forward one UTC-offset period at a time: within a period local time
  // runs evenly, so the exit is where the time of day reaches the window's
  // end, unless the period ends first and the new offset's wall time is
  // already outside (a DST gap jumping over the end).
  for (int guard = 0; guard < 64; ++guard) {
    Duration until_end = floor_mod(end_ * kMinute - tod, kDay);
    if (t + until_end < off.until) return t + until_end;
    t = off.until;
    off = offsets.at(zone, t);
    tod = floor_mod(t + off.offset, kDay);
    if (!contains_time_of_day(tod)) return t;
  }
  return t;  // unreachable for real zones; bounded for safety
}

const date::time_zone* find_time_zone(std::string_view name) {
  // The date library lists every file under /usr/share/zoneinfo. "localtime"
  // is the one that is not an IANA Zone or Link: it points at the host's own
  // /etc/localtime, which would make decisions depend on the machine.
  if (name.empty() || name == "localtime") return nullptr;
  try {
    return date::locate_zone(std::string(name));
  } catch (const std::exception&) {
    return nullptr;
  }
}

}  // namespace gw
