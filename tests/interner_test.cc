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

// equals() compares a short id within its span: every id of 0 to 12 bytes
// against itself, each one-byte change, each cut and extension, and every
// other id, as view() == would.
TEST(Interner, EqualsIsViewEqualityForShortAndLongIds) {
  Interner ids;
  std::vector<std::string> names;
  for (std::size_t n = 0; n <= 12; ++n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += static_cast<char>('a' + (i * 7 + n) % 26);
    names.push_back(s);
    if (n > 0) names.push_back(std::string(n - 1, 'z') + '\0');  // a zero byte of its own
  }
  for (const std::string& s : names) ids.intern(s);
  for (std::uint32_t id = 0; id < ids.size(); ++id) {
    const std::string name(ids.view(id));
    std::vector<std::string> others = names;
    for (std::size_t i = 0; i < name.size(); ++i) {
      std::string changed = name;
      changed[i] = static_cast<char>(changed[i] ^ 0x20);
      others.push_back(changed);
      others.push_back(name.substr(0, i));
    }
    others.push_back(name + '\0');
    others.push_back(name + 'a');
    for (const std::string& other : others) {
      // Compared from inside a longer buffer, so that loads past `other` would see bytes.
      const std::string buffer = "#" + other + "########";
      const std::string_view s(buffer.data() + 1, other.size());
      EXPECT_EQ(ids.equals(id, s), ids.view(id) == s) << name << " vs " << other;
    }
  }
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
