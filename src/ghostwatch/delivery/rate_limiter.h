// Paces e-mail per recipient domain: a token bucket per domain holding up
// to one minute's allowance, refilled continuously, so a domain gets at most
// `per_minute` messages in any minute after a burst of at most `per_minute`.
// Large mailbox providers throttle or junk senders that burst; this keeps a
// backlog (after an outage, or a backfill) from doing that. In memory: after
// a restart every bucket starts full. Not thread-safe (one dispatcher).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "ghostwatch/core/time.h"

namespace gw {

class DomainRateLimiter {
 public:
  explicit DomainRateLimiter(int per_minute) : per_minute_(per_minute) {}

  // Takes one message's allowance for `domain` at `now` and returns `now`;
  // or, with none left, takes nothing and returns when there will be one.
  Instant acquire(std::string_view domain, Instant now);

 private:
  // Allowance in units of 1/kMinute of a message, so that refilling
  // (per_minute units a millisecond) is exact integer arithmetic.
  struct Bucket {
    std::int64_t credit = 0;
    Instant at = 0;  // when `credit` was last brought up to date
  };
  int per_minute_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace gw
