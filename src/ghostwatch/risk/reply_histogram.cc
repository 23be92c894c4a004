#include "ghostwatch/risk/reply_histogram.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <limits>

#include "ghostwatch/core/byte_codec.h"

namespace gw::risk {
namespace {

// The bucket's definition: floor(4 * log2(1 + minutes)), clamped.
int bucket_by_log2(Duration reply) {
  const double minutes = static_cast<double>(reply) / static_cast<double>(kMinute);
  const int i = static_cast<int>(std::floor(4.0 * std::log2(1.0 + minutes)));
  return std::clamp(i, 0, ReplyHistogram::kBuckets - 1);
}

// Replies with the same highest bit (from 2^k to 2^(k+1) - 1 ms) span at
// most this many bucket edges: 4 * log2(1 + minutes) grows by less than 4
// over such a range.
constexpr int kEdgesPerBit = 4;

// The definition as a table, found from it by bisection (it never decreases
// as the reply grows): each bucket's shortest reply (then kEdgesPerBit
// edges past the last bucket, at the longest reply, which bucket_of
// clamps), and the bucket of each power of two, where replies with that
// highest bit start.
struct BucketTable {
  std::array<Duration, ReplyHistogram::kBuckets + kEdgesPerBit> shortest{};
  std::array<std::uint8_t, 63> of_bit{};

  [[gnu::cold, gnu::noinline]] BucketTable() {  // once: kept out of bucket_of
    for (int b = 1; b < ReplyHistogram::kBuckets; ++b) {
      Duration lo = shortest[b - 1], hi = std::numeric_limits<Duration>::max();  // bucket(lo) < b <= bucket(hi)
      while (hi - lo > 1) {
        const Duration mid = lo + (hi - lo) / 2;
        (bucket_by_log2(mid) >= b ? hi : lo) = mid;
      }
      shortest[b] = hi;
    }
    for (std::size_t b = ReplyHistogram::kBuckets; b < shortest.size(); ++b) {
      shortest[b] = std::numeric_limits<Duration>::max();
    }
    for (int bit = 0; bit < 63; ++bit) of_bit[bit] = static_cast<std::uint8_t>(bucket_by_log2(Duration{1} << bit));
  }
};

const BucketTable& bucket_table() {
  static const BucketTable table;
  return table;
}

}  // namespace

std::uint32_t ReplyHistogram::rank(double q, std::uint32_t total) {
  return static_cast<std::uint32_t>(std::ceil(q * total));
}

int ReplyHistogram::bucket_of(Duration reply) {
  assert(reply >= 0);
  const BucketTable& t = bucket_table();
  // The edges above the highest bit's bucket that the reply reaches, counted
  // without a branch (a loop's exit mispredicts on the reply's length): the
  // edges increase, so they are the first of the next kEdgesPerBit.
  const int first = t.of_bit[std::bit_width(static_cast<std::uint64_t>(reply | 1)) - 1];
  int i = first;
  for (int edge = 1; edge <= kEdgesPerBit; ++edge) i += reply >= t.shortest[first + edge] ? 1 : 0;
  return std::min(i, kBuckets - 1);  // the longest reply reaches the edges past the end too
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
  follow<5>(median_, i);
  follow<9>(p90_, i);
}

template <std::uint32_t kTenths>
void ReplyHistogram::follow(Cursor& c, int added) const {
  c.below += added < c.bucket ? 1 : 0;
  const std::uint32_t rank = rank_in_tenths<kTenths>(total_);
  while (c.below + counts_[c.bucket] < rank) c.below += counts_[c.bucket++];
  while (c.below >= rank) c.below -= counts_[--c.bucket];
}

void ReplyHistogram::write(ByteWriter& w) const {
  for (const Cursor& c : {median_, p90_}) {
    w.u8(c.bucket);
    w.varint(c.below);
  }
  for (std::uint16_t n : counts_) w.varint(n);  // total_ is their sum
}

bool ReplyHistogram::read(ByteReader& r) {
  for (Cursor* c : {&median_, &p90_}) {
    c->bucket = r.u8();
    c->below = static_cast<std::uint32_t>(r.varint());
  }
  total_ = 0;
  std::array<std::uint32_t, kBuckets> below{};  // the counts below each bucket
  for (int i = 0; i < kBuckets; ++i) {
    const std::uint64_t n = r.varint();
    if (n > std::numeric_limits<std::uint16_t>::max()) return false;
    counts_[i] = static_cast<std::uint16_t>(n);
    below[i] = total_;
    total_ += counts_[i];
  }
  // follow() walks from a cursor only while its `below` is the counts' sum below its bucket.
  return !r.failed() && median_.bucket < kBuckets && p90_.bucket < kBuckets && median_.below == below[median_.bucket] &&
         p90_.below == below[p90_.bucket];
}

double ReplyHistogram::quantile_seconds(double q) const {
  assert(total_ > 0 && q > 0 && q <= 1);
  const std::uint32_t r = rank(q, total_);
  std::uint32_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= r) return bucket_seconds(i);
  }
  return bucket_seconds(kBuckets - 1);
}

}  // namespace gw::risk
