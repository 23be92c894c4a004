#include "ghostwatch/core/decimal.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace gw {
namespace {

std::string Decimal(std::uint64_t v) {
  char text[24];
  return std::string(text, write_decimal(text, v));
}

// Every value up to 100,000, each power of 10 and of 2 with its neighbours,
// and the largest value: as std::to_string writes them.
TEST(Decimal, WritesWhatToStringWrites) {
  std::vector<std::uint64_t> values;
  for (std::uint64_t v = 0; v <= 100000; ++v) values.push_back(v);
  for (std::uint64_t p = 10; p <= 10000000000000000000u; p *= 10) {
    values.insert(values.end(), {p - 1, p, p + 1});
    if (p > std::numeric_limits<std::uint64_t>::max() / 10) break;
  }
  for (int bit = 1; bit < 64; ++bit) {
    const std::uint64_t p = std::uint64_t{1} << bit;
    values.insert(values.end(), {p - 1, p, p + 1});
  }
  values.push_back(std::numeric_limits<std::uint64_t>::max());
  for (std::uint64_t v : values) {
    const std::string expected = std::to_string(v);
    ASSERT_EQ(Decimal(v), expected) << v;
    ASSERT_EQ(decimal_digits(v), expected.size()) << v;
  }
}

TEST(Decimal, TwoDigitsKeepTheirLeadingZero) {
  char text[2];
  write_two_digits(text, 7);
  EXPECT_EQ(std::string(text, 2), "07");
  write_two_digits(text, 99);
  EXPECT_EQ(std::string(text, 2), "99");
}

}  // namespace
}  // namespace gw
