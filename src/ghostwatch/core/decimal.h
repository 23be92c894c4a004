// Writing unsigned integers in decimal, two digits at a time from a table,
// for the record writers that assemble JSON in a buffer of known room.
// Thread-safe: pure functions.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace gw {

// "00" to "99", each number's two digits at twice its index.
inline constexpr std::array<char, 200> kTwoDigits = [] {
  std::array<char, 200> t{};
  for (unsigned i = 0; i < 100; ++i) {
    t[2 * i] = static_cast<char>('0' + i / 10);
    t[2 * i + 1] = static_cast<char>('0' + i % 10);
  }
  return t;
}();

// Stores the two digits of v (< 100) at p; returns the end.
inline char* write_two_digits(char* p, unsigned v) {
  std::memcpy(p, &kTwoDigits[2 * v], 2);
  return p + 2;
}

// How many decimal digits v has (1 for 0): log10 from the bit width, then
// one comparison.
inline std::size_t decimal_digits(std::uint64_t v) {
  static constexpr std::array<std::uint64_t, 20> kPowersOf10 = [] {
    std::array<std::uint64_t, 20> p{};
    p[0] = 1;
    for (std::size_t i = 1; i < p.size(); ++i) p[i] = p[i - 1] * 10;
    return p;
  }();
  const std::uint64_t w = v | 1;  // as many digits as v, and 0 has one
  const std::size_t guess = static_cast<std::size_t>(std::bit_width(w)) * 1233 >> 12;  // 1233 / 4096 ~ log10(2)
  return guess + 1 - (w < kPowersOf10[guess] ? 1 : 0);
}

// Stores v in decimal at p (at most 20 bytes); returns the end.
inline char* write_decimal(char* p, std::uint64_t v) {
  char* const end = p + decimal_digits(v);
  char* q = end;
  while (v >= 100) {
    q -= 2;
    write_two_digits(q, static_cast<unsigned>(v % 100));
    v /= 100;
  }
  if (v >= 10) {
    write_two_digits(q - 2, static_cast<unsigned>(v));
  } else {
    q[-1] = static_cast<char>('0' + v);
  }
  return end;
}

}  // namespace gw
