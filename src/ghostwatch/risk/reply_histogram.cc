#include "ghostwatch/risk/reply_histogram.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

namespace gw::risk {
namespace {

std::uint32_t rank_of(double q, std::uint32_t total) { return static_cast<std::uint32_t>(std::ceil(q * total)); }

}  // namespace

int ReplyHistogram::bucket_of(Duration reply) {
  assert(reply >= 0);
  const double minutes = static_cast<double>(reply) / static_cast<double>(kMinute);
  const int i = static_cast<int>(std::floor(4.0 * std::log2(1.0 + minutes)));
  return std::clamp(i, 0, kBuckets - 1);
}

double ReplyHistogram::bucket_seconds(int i) {
  static const std::array<double, kBuckets> seconds = [] {
    std::array<double, kBuckets> s{};
    for (int b = 0; b < kBuckets; ++b) s[b] = 60.0 * (std::exp2((b + 0.5) / 4.0) - 1.0);
    return s;
  }();
  return seconds[i];
}

void ReplyHistogram::add(Duration reply) {
  const int i = bucket_of(reply);
  if (counts_[i] == std::numeric_limits<std::uint16_t>::max()) {
    total_ = 0;
    for (std::uint16_t& c : counts_) {
      c = static_cast<std::uint16_t>(c / 2);
      total_ += c;
    }
    median_ = p90_ = Cursor{};  // found again from the first bucket
  }
  ++counts_[i];
  ++total_;
  follow(median_, 0.5, i);
  follow(p90_, 0.9, i);
}

void ReplyHistogram::follow(Cursor& c, double q, int added) const {
  if (added < c.bucket) ++c.below;
  const std::uint32_t rank = rank_of(q, total_);
  while (c.below + counts_[c.bucket] < rank) c.below += counts_[c.bucket++];
  while (c.below >= rank) c.below -= counts_[--c.bucket];
}

double ReplyHistogram::quantile_seconds(double q) const {
  assert(total_ > 0 && q > 0 && q <= 1);
  const std::uint32_t rank = rank_of(q, total_);
  std::uint32_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return bucket_seconds(i);
  }
  return bucket_seconds(kBuckets - 1);
}

}  // namespace gw::risk
