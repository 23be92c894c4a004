#include "ghostwatch/risk/local_clock.h"

#include <date/tz.h>

#include <chrono>

namespace gw::risk {

Instant LocalClock::local(Instant t, const date::time_zone* zone) {
  if (zone == nullptr) return t;
  const std::int64_t s = floor_div(t, kSecond);
  if (zone != zone_ || s < from_ || s >= until_) {
    const auto info = zone->get_info(date::sys_seconds{std::chrono::seconds{s}});
    zone_ = zone;
    from_ = info.begin.time_since_epoch().count();
    until_ = info.end.time_since_epoch().count();
    offset_ = info.offset.count() * kSecond;
  }
  return t + offset_;
}

}  // namespace gw::risk
