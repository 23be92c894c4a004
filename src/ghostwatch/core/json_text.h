// Writing JSON text: string escaping and replacement of invalid UTF-8.
// Thread-safe: pure functions.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "ghostwatch/core/short_word.h"

namespace gw {

// Appends `s` as a JSON string literal (with quotes). `s` must be valid
// UTF-8; quotes, backslashes and control characters are escaped, other
// characters are written as they are.
void append_json_string(std::string& out, std::string_view s);

// The longest JSON string literal `n` input bytes can become: every byte
// written as a six-byte \u00XX escape, plus the two quotes.
constexpr std::size_t json_string_max_size(std::size_t n) { return 6 * n + 2; }

// The bytes that end a run of plain JSON string text: '"', '\\' and control
// characters (below 0x20). json_special_mask(w) of the 8 bytes w at p (in
// memory order, read with std::memcpy) is non-zero when some byte of w is
// special, and its lowest set bit on a little-endian load is the high bit of
// the first special byte: bitwise ("SWAR") tests, where
// (x - kEachByte * n) & ~x & kHighBits flags every byte of x below n
// (n <= 0x80) exactly up to the first one (a borrow may flag bytes above it),
// and a byte equal to c is a zero byte of x ^ (kEachByte * c).
inline std::uint64_t json_special_mask(std::uint64_t w) {
  constexpr std::uint64_t kEachByte = 0x0101010101010101;  // a byte value repeated
  constexpr std::uint64_t kHighBits = 0x8080808080808080;
  auto below = [](std::uint64_t x, std::uint64_t n) { return (x - kEachByte * n) & ~x & kHighBits; };
  return below(w, 0x20) | below(w ^ (kEachByte * '"'), 1) | below(w ^ (kEachByte * '\\'), 1);
}

// write_json_string of any text (out of line).
char* write_json_string_text(char* p, std::string_view s);

// As append_json_string, but stores the literal at `p`, which must have room
// for json_string_max_size(s.size()) bytes. Returns the end of the literal.
// For callers that assemble a whole record in a buffer of known size.
// Inline for what records mostly hold, ids of 2 to 8 plain bytes: one word
// stored between the quotes (the room of 2 bytes or more holds the word's
// 8); anything else goes to write_json_string_text.
inline char* write_json_string(char* p, std::string_view s) {
  const std::size_t n = s.size();
  if (std::endian::native == std::endian::little && n - 2 <= 6) {  // 2 <= n <= 8 (n - 2 wraps below 2)
    const std::uint64_t w = short_word(s.data(), n);
    if ((json_special_mask(w) & low_bytes_mask(n)) == 0) {
      *p = '"';
      std::memcpy(p + 1, &w, sizeof w);
      p[n + 1] = '"';
      return p + n + 2;
    }
  }
  return write_json_string_text(p, s);
}

// Appends `s` with every ill-formed UTF-8 sequence replaced by U+FFFD, one
// replacement per maximal ill-formed subpart (the Unicode recommendation,
// the same as Python's errors="replace").
void append_utf8_replacing_invalid(std::string& out, std::string_view s);

}  // namespace gw
