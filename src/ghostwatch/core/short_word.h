// The bytes of a short string (at most 8) as one little-endian word, for
// comparing or copying such a string with one register operation instead of
// a call to memcmp or memcpy of a variable length.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace gw {

// The n bytes at p (n <= 8) in the low bytes of a word, byte i in bits
// 8i..8i+7, zeros above them. Reads only p[0..n): two loads that overlap
// (equal bytes, so or-ing them is harmless). Meaningful on little-endian
// machines only, where storing the word writes the bytes in order.
inline std::uint64_t short_word(const char* p, std::size_t n) {
  if (n >= 4) {
    std::uint32_t head, tail;
    std::memcpy(&head, p, 4);
    std::memcpy(&tail, p + n - 4, 4);
    return head | std::uint64_t{tail} << (8 * (n - 4));
  }
  if (n >= 2) {
    std::uint16_t head, tail;
    std::memcpy(&head, p, 2);
    std::memcpy(&tail, p + n - 2, 2);
    return head | std::uint64_t{tail} << (8 * (n - 2));
  }
  return n == 1 ? static_cast<unsigned char>(p[0]) : 0;
}

// A mask of the low n bytes of a word (1 <= n <= 8).
constexpr std::uint64_t low_bytes_mask(std::size_t n) { return ~std::uint64_t{0} >> (64 - 8 * n); }

}  // namespace gw
