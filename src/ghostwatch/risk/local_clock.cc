#include "ghostwatch/risk/local_clock.h"

#include <date/tz.h>

#include <chrono>

namespace gw::risk {

Instant LocalClock::local(Instant t) {
  if (zone_ == nullptr) return t;
  const std::int64_t s = floor_div(t, kSecond);
  if (s < from_ || s >= until_) {
    const auto info = zone_->get_info(date::sys_seconds{std::chrono::seconds{s}});
    from_ = info.begin.time_since_epoch().count();
    until_ = info.end.time_since_epoch().count();
    offset_ = info.offset.count() * kSecond;
  }
  return t + offset_;
}

}  // namespace gw::risk
