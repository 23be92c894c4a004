// HugePageAllocator's smaller blocks at a wider alignment than operator
// new's: every block aligned, its contents kept as a vector grows past a
// huge page, is copied and shrinks back.
#include "ghostwatch/core/huge_page_allocator.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace gw::test {
namespace {

template <class V>
bool line_aligned(const V& v) {
  return reinterpret_cast<std::uintptr_t>(v.data()) % 64 == 0;
}

TEST(HugePageAllocator, SmallBlocksAtAWiderAlignmentKeepTheirContents) {
  std::vector<std::uint64_t, HugePageAllocator<std::uint64_t, 64>> v;
  for (std::uint64_t i = 0; i < 100'000; ++i) {  // from 8 bytes to past a huge page, and smaller again
    v.push_back(i * 7);
    if (v.capacity() * sizeof(std::uint64_t) < kHugePageBytes) {
      ASSERT_TRUE(line_aligned(v)) << "capacity " << v.capacity();
    }
  }
  const auto copy = v;
  v.resize(1000);
  v.shrink_to_fit();
  ASSERT_TRUE(line_aligned(v));
  for (std::uint64_t i = 0; i < v.size(); ++i) ASSERT_EQ(v[i], i * 7);
  for (std::uint64_t i = 0; i < copy.size(); ++i) ASSERT_EQ(copy[i], i * 7);
  std::vector<char, HugePageAllocator<char, 64>> bytes(3);  // a block smaller than the alignment
  EXPECT_TRUE(line_aligned(bytes));
}

}  // namespace
}  // namespace gw::test
