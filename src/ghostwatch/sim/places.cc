#include "ghostwatch/sim/places.h"

namespace gw::sim {
namespace {

// Day number (days since 1970-01-01) of the n-th Sunday of a month, and of
// its last Sunday. Day 0 was a Thursday.
std::int64_t nth_sunday(std::int64_t y, unsigned m, int n) {
  const std::int64_t first = days_from_civil(y, m, 1);
  return first + (7 - weekday(first)) % 7 + 7 * (n - 1);
}

std::int64_t last_sunday(std::int64_t y, unsigned m) {
  const std::int64_t last = (m == 12 ? days_from_civil(y + 1, 1, 1) : days_from_civil(y, m + 1, 1)) - 1;
  return last - weekday(last);
}

// The UTC instants at which DST begins and ends in year `y`. Northern rules
// have begin < end; the southern rule ends DST in April and begins it in
// October.
void dst_bounds(const Place& p, std::int64_t y, Instant& begin, Instant& end) {
  const Duration std_off = p.std_offset_min * kMinute;
  switch (p.dst) {
    case Dst::kNone: begin = end = kForever; break;
    case Dst::kEu:  // last Sunday of March to last Sunday of October, 01:00 UTC
      begin = last_sunday(y, 3) * kDay + kHour;
      end = last_sunday(y, 10) * kDay + kHour;
      break;
    case Dst::kUs:  // second Sunday of March to first Sunday of November, 02:00 local
      begin = nth_sunday(y, 3, 2) * kDay + 2 * kHour - std_off;
      end = nth_sunday(y, 11, 1) * kDay + 2 * kHour - std_off - kHour;
      break;
    case Dst::kAuSouth:  // first Sunday of April (03:00 DST) and of October (02:00 standard)
      end = nth_sunday(y, 4, 1) * kDay + 3 * kHour - std_off - kHour;
      begin = nth_sunday(y, 10, 1) * kDay + 2 * kHour - std_off;
      break;
  }
}

}  // namespace

DstSpan dst_span(const Place& p, Instant t) {
  if (p.dst == Dst::kNone) return {kNoInstant, kForever, false};
  std::int64_t y;
  unsigned m, d;
  civil_from_days(floor_div(t + p.std_offset_min * kMinute, kDay), y, m, d);
  Instant b_prev, e_prev, b, e, b_next, e_next;
  dst_bounds(p, y - 1, b_prev, e_prev);
  dst_bounds(p, y, b, e);
  dst_bounds(p, y + 1, b_next, e_next);
  if (b < e) {  // northern
    if (t < b) return {e_prev, b, false};
    if (t < e) return {b, e, true};
    return {e, b_next, false};
  }
  if (t < e) return {b_prev, e, true};
  if (t < b) return {e, b, false};
  return {b, e_next, true};
}

}  // namespace gw::sim
