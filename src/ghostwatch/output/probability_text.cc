#include "ghostwatch/output/probability_text.h"

#include <cassert>
#include <cmath>
#include <cstdint>

namespace gw {

char* write_probability(char* p, float v) {
  assert(v >= 0 && v <= 1);
  // v = m / 2^shift exactly, with m below 2^24 (v <= 1: shift >= 23).
  int exponent = 0;
  const float fraction = std::frexp(v, &exponent);
  const auto m = static_cast<std::uint64_t>(std::ldexp(fraction, 24));
  const int shift = 24 - exponent;
  // m * 10^6 is below 2^44: from a shift of 45 on, v * 10^6 is below 1/2.
  std::uint64_t millionths = 0;
  if (shift < 45) {
    const std::uint64_t scaled = m * 1'000'000;
    millionths = scaled >> shift;
    const std::uint64_t rest = scaled & ((std::uint64_t{1} << shift) - 1);
    const std::uint64_t half = std::uint64_t{1} << (shift - 1);
    if (rest > half || (rest == half && (millionths & 1) != 0)) ++millionths;
  }
  *p++ = static_cast<char>('0' + millionths / 1'000'000);
  *p++ = '.';
  std::uint64_t decimals = millionths % 1'000'000;
  for (int i = 5; i >= 0; --i) {
    p[i] = static_cast<char>('0' + decimals % 10);
    decimals /= 10;
  }
  return p + 6;
}

}  // namespace gw
