#include "ghostwatch/output/probability_text.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstdint>

#include "ghostwatch/core/decimal.h"

namespace gw {

char* write_probability(char* p, float v) {
  assert(v >= 0 && v <= 1);
  // v = m / 2^shift exactly, with m below 2^24 (v <= 1: shift >= 23): the
  // float's significand (with its implicit bit unless subnormal) and its
  // exponent, read from its bits (v >= 0: no sign bit).
  const auto bits = std::bit_cast<std::uint32_t>(v);
  const int biased = static_cast<int>(bits >> 23);
  const std::uint64_t m = (bits & 0x7FFFFFu) | (biased != 0 ? 0x800000u : 0u);
  const int shift = 150 - std::max(biased, 1);
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
  const auto decimals = static_cast<unsigned>(millionths % 1'000'000);
  p = write_two_digits(p, decimals / 10'000);
  p = write_two_digits(p, decimals / 100 % 100);
  return write_two_digits(p, decimals % 100);
}

}  // namespace gw
