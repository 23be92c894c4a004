// ReplyHistogram: a freelancer's reply times in a fixed-size log-bucket
// histogram, so that median and 90th percentile cost O(1) time and 180
// bytes whatever the history's length. Bucket i holds times t (seconds) with
// floor(4 * log2(1 + t / 60)) == i: a quarter-octave of (1 + minutes), so a
// quantile is exact to within about 19 % of (1 minute + the time), and the
// last bucket (about 2.2 years and beyond) is open. Counts saturate: when a
// bucket would overflow every count is halved, which keeps the shape.
//
// The median's and the 90th percentile's buckets are kept up to date as
// times are added (a cursor each, moved by a step or two per time added),
// so reading them costs no scan: median_seconds() and p90_seconds() equal
// quantile_seconds(0.5) and quantile_seconds(0.9). Not thread-safe.
#pragma once

#include <array>
#include <cstdint>

#include "ghostwatch/core/time.h"

namespace gw {
class ByteReader;
class ByteWriter;
}  // namespace gw

namespace gw::risk {

class ReplyHistogram {
 public:
  static constexpr int kBuckets = 80;

  // REQUIRES: reply >= 0.
  void add(Duration reply);
  std::uint32_t total() const { return total_; }
  // The q-quantile (0 < q <= 1) in seconds: the representative time of the
  // bucket holding the ceil(q * total)-th smallest time, found by a scan.
  // REQUIRES: total() > 0.
  double quantile_seconds(double q) const;
  // The same for q = 0.5 and q = 0.9, without a scan. REQUIRES: total() > 0.
  double median_seconds() const { return bucket_seconds(median_.bucket); }
  double p90_seconds() const { return bucket_seconds(p90_.bucket); }
  // Their buckets.
  std::uint8_t median_bucket() const { return median_.bucket; }
  std::uint8_t p90_bucket() const { return p90_.bucket; }

  // The histogram as bytes (byte_codec.h: its cursors, then its counts),
  // and back: a read histogram adds and answers exactly as the written one.
  // read returns false, leaving the histogram unusable, when the reader
  // fails or a cursor does not agree with the counts.
  void write(ByteWriter& w) const;
  bool read(ByteReader& r);

  // The rank the q-quantile reads: ceil(q * total) in double arithmetic.
  static std::uint32_t rank(double q, std::uint32_t total);
  // The same for q = tenths / 10 in integers, as the tracked quantiles
  // compute it: equal to rank() for every total a histogram can reach
  // (kMaxTotal; tested).
  template <std::uint32_t kTenths>
  static std::uint32_t rank_in_tenths(std::uint32_t total) {
    return (kTenths * total + 9) / 10;
  }
  static constexpr std::uint32_t kMaxTotal = kBuckets * std::uint32_t{UINT16_MAX};

  // The bucket of `reply` (found in a table, not by log2). REQUIRES: reply >= 0.
  static int bucket_of(Duration reply);
  // The geometric middle of bucket i, in seconds.
  static double bucket_seconds(int i);

 private:
  // The bucket holding the ceil(q * total)-th smallest time, and the count
  // of the buckets below it.
  struct Cursor {
    std::uint8_t bucket = 0;
    std::uint32_t below = 0;
  };
  // Moves `c` to the bucket of the ceil(q * total)-th time (q = tenths /
  // 10), after a time was added to bucket `added` (counted in `below` when
  // under the cursor).
  template <std::uint32_t kTenths>
  void follow(Cursor& c, int added) const;

  Cursor median_, p90_;  // first: what an opening reads
  std::uint32_t total_ = 0;
  std::array<std::uint16_t, kBuckets> counts_{};
};

}  // namespace gw::risk
