// ReplyHistogram: a freelancer's reply times in a fixed-size log-bucket
// histogram, so that median and 90th percentile cost O(1) time and 160
// bytes whatever the history's length. Bucket i holds times t (seconds) with
// floor(4 * log2(1 + t / 60)) == i: a quarter-octave of (1 + minutes), so a
// quantile is exact to within about 19 % of (1 minute + the time), and the
// last bucket (about 2.2 years and beyond) is open. Counts saturate: when a
// bucket would overflow every count is halved, which keeps the shape.
// Not thread-safe.
#pragma once

#include <array>
#include <cstdint>

#include "ghostwatch/core/time.h"

namespace gw::risk {

class ReplyHistogram {
 public:
  static constexpr int kBuckets = 80;

  // REQUIRES: reply >= 0.
  void add(Duration reply);
  std::uint32_t total() const { return total_; }
  // The q-quantile (0 < q <= 1) in seconds: the representative time of the
  // bucket holding the ceil(q * total)-th smallest time. REQUIRES: total() > 0.
  double quantile_seconds(double q) const;

  static int bucket_of(Duration reply);
  // The geometric middle of bucket i, in seconds.
  static double bucket_seconds(int i);

 private:
  std::array<std::uint16_t, kBuckets> counts_{};
  std::uint32_t total_ = 0;
};

}  // namespace gw::risk
