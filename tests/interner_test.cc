// The interner: dense ids in order of first appearance, lookups of short and
// long ids, and prefix_key's order (the timer queue breaks ties with it).
#include "ghostwatch/core/interner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace gw {
namespace {

TEST(Interner, IdsAreDenseAndStableAcrossGrowth) {
  Interner ids;
  std::vector<std::string> names;
  for (int i = 0; i < 5000; ++i) names.push_back(i % 3 == 0 ? "a-longer-id-" + std::to_string(i) : std::to_string(i));
  for (std::size_t i = 0; i < names.size(); ++i) ASSERT_EQ(ids.intern(names[i]), i);
  for (std::size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(ids.intern(names[i]), i);
    EXPECT_EQ(ids.find(names[i]), i);
    EXPECT_EQ(ids.view(static_cast<std::uint32_t>(i)), names[i]);
  }
  EXPECT_EQ(ids.find("never"), Interner::kNone);
  EXPECT_EQ(ids.find(""), Interner::kNone);
  EXPECT_EQ(ids.intern(""), names.size());
  EXPECT_EQ(ids.find(""), names.size());
  // Same first 8 bytes, different lengths or tails.
  EXPECT_EQ(ids.find("a-longer"), Interner::kNone);
  EXPECT_EQ(ids.find("a-longer-id-0"), 0u);
  EXPECT_EQ(ids.find("a-longer-id-1"), Interner::kNone);
}

TEST(Interner, PrefixKeyIsTheFirstEightBytesBigEndianZeroPadded) {
  EXPECT_EQ(Interner::prefix_key(""), 0u);
  EXPECT_EQ(Interner::prefix_key("a"), 0x6100000000000000u);
  EXPECT_EQ(Interner::prefix_key("cx614625"), 0x6378363134363235u);
  EXPECT_EQ(Interner::prefix_key("cx6146251"), 0x6378363134363235u);
  EXPECT_EQ(Interner::prefix_key(std::string_view("\xff\x01", 2)), 0xff01000000000000u);
  // Comparing keys orders strings by their bytes (unsigned), up to ties.
  std::vector<std::string> s = {"b", "a", "ab", "", "\xc3\xa9", "a\x7f", "a\x80", "zz", "fl1", "fl10", "cl9"};
  std::sort(s.begin(), s.end());  // std::string compares bytes as unsigned char
  for (std::size_t i = 1; i < s.size(); ++i) EXPECT_LT(Interner::prefix_key(s[i - 1]), Interner::prefix_key(s[i]));
}

}  // namespace
}  // namespace gw
