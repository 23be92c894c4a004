// The episode records' risk text against fmt's "{:.6f}" (printf's rounding:
// the exact value to the nearest millionth, ties to even): every tie, the
// ends of [0, 1], the neighbours of millionths and a sweep of the floats.
#include "ghostwatch/output/probability_text.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

namespace gw::test {
namespace {

std::string probability_text(float v) {
  char text[16];
  return std::string(text, write_probability(text, v));
}

::testing::AssertionResult matches_fmt(float v) {
  const std::string expected = fmt::format("{:.6f}", static_cast<double>(v));
  const std::string got = probability_text(v);
  if (got == expected) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << fmt::format("{:a}: {} instead of {}", v, got, expected);
}

TEST(ProbabilityText, EndsAndTiesToEven) {
  EXPECT_EQ(probability_text(0.0f), "0.000000");
  EXPECT_EQ(probability_text(1.0f), "1.000000");
  EXPECT_EQ(probability_text(1.0f / 128), "0.007812");  // 0.0078125: a tie, to the even 2
  EXPECT_EQ(probability_text(3.0f / 128), "0.023438");  // 0.0234375: to the even 8
  EXPECT_TRUE(matches_fmt(std::numeric_limits<float>::denorm_min()));
  EXPECT_TRUE(matches_fmt(std::numeric_limits<float>::min()));
  EXPECT_TRUE(matches_fmt(std::nextafter(1.0f, 0.0f)));
  // The only exact ties: odd multiples of 1/128.
  for (int j = 1; j < 128; j += 2) EXPECT_TRUE(matches_fmt(static_cast<float>(j) / 128));
}

TEST(ProbabilityText, NeighboursOfMillionths) {
  for (int k = 0; k <= 1'000'000; k += 7) {
    float v = static_cast<float>(k) / 1e6f;
    for (int step = 0; step < 3; ++step) v = std::nextafter(v, 0.0f);
    for (int step = 0; step < 7 && v <= 1.0f; ++step, v = std::nextafter(v, 2.0f)) ASSERT_TRUE(matches_fmt(v));
  }
}

TEST(ProbabilityText, SweepOfTheFloats) {
  const std::uint32_t one = std::bit_cast<std::uint32_t>(1.0f);
  for (std::uint32_t bits = 0; bits <= one; bits += 1009) ASSERT_TRUE(matches_fmt(std::bit_cast<float>(bits)));
}

}  // namespace
}  // namespace gw::test
