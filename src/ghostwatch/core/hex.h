// Lower-case hexadecimal text of bytes, and the SHA-256 digest of a string
// in that form. Thread-safe: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace gw {

// Two lower-case hex digits per byte.
std::string lower_hex(const unsigned char* bytes, std::size_t n);

// SHA-256 of `data` as 64 lower-case hex digits.
std::string sha256_hex(std::string_view data);

}  // namespace gw
