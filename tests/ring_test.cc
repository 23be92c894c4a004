#include "ghostwatch/core/ring.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <random>

namespace gw {
namespace {

// Random pushes, insertions and pops, biased in turn towards growth and
// towards draining, so that the ring grows and inserts while its elements
// wrap around the end of the buffer; every element is checked against a
// std::deque after each step.
TEST(Ring, BehavesAsADequeThroughGrowthAndWrapAround) {
  Ring<std::uint64_t> ring;
  std::deque<std::uint64_t> model;
  std::mt19937_64 rng(7);
  std::uint64_t next = 0;
  for (int round = 0; round < 20000; ++round) {
    const bool growing = (round / 500) % 2 == 0;
    if (model.empty() || rng() % 8 < (growing ? 5u : 3u)) {
      if (rng() % 2 == 0) {
        ring.push_back(next);
        model.push_back(next++);
      } else {
        const std::size_t behind = rng() % (model.size() + 1);
        ring.insert_before_back(behind, next);
        model.insert(model.end() - static_cast<std::ptrdiff_t>(behind), next++);
      }
    } else {
      ASSERT_EQ(ring.front(), model.front()) << "round " << round;
      ring.pop_front();
      model.pop_front();
    }
    ASSERT_EQ(ring.size(), model.size()) << "round " << round;
    ASSERT_EQ(ring.empty(), model.empty());
    if (model.empty()) continue;
    ASSERT_EQ(ring[ring.size() - 1], model.back());
    for (std::size_t i = 0; i < model.size(); i += 1 + model.size() / 16) ASSERT_EQ(ring[i], model[i]);
  }
}

TEST(Ring, CapacityIsThePeakRoundedUpToAPowerOfTwo) {
  Ring<int> ring;
  EXPECT_EQ(ring.capacity(), 0u);
  for (int i = 0; i < 17; ++i) ring.push_back(i);
  EXPECT_EQ(ring.capacity(), 32u);
  while (!ring.empty()) ring.pop_front();
  for (int i = 0; i < 32; ++i) ring.push_back(i);  // wraps, still fits
  EXPECT_EQ(ring.capacity(), 32u);
  EXPECT_EQ(ring.front(), 0);
  EXPECT_EQ(ring[ring.size() - 1], 31);
}

}  // namespace
}  // namespace gw
