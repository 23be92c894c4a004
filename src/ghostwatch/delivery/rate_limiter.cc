#include "ghostwatch/delivery/rate_limiter.h"

#include <algorithm>

namespace gw {

Instant DomainRateLimiter::acquire(std::string_view domain, Instant now) {
  const std::int64_t cost = kMinute;  // one message
  const std::int64_t capacity = per_minute_ * cost;
  auto [it, fresh] = buckets_.try_emplace(std::string(domain), Bucket{capacity, now});
  Bucket& b = it->second;
  if (!fresh && now > b.at) {
    b.credit = std::min(capacity, b.credit + (now - b.at) * per_minute_);
    b.at = now;
  }
  if (b.credit >= cost) {
    b.credit -= cost;
    return now;
  }
  return b.at + (cost - b.credit + per_minute_ - 1) / per_minute_;
}

}  // namespace gw
