// Writing JSON text: string escaping and replacement of invalid UTF-8.
// Thread-safe: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace gw {

// Appends `s` as a JSON string literal (with quotes). `s` must be valid
// UTF-8; quotes, backslashes and control characters are escaped, other
// characters are written as they are.
void append_json_string(std::string& out, std::string_view s);

// The longest JSON string literal `n` input bytes can become: every byte
// written as a six-byte \u00XX escape, plus the two quotes.
constexpr std::size_t json_string_max_size(std::size_t n) { return 6 * n + 2; }

// As append_json_string, but stores the literal at `p`, which must have room
// for json_string_max_size(s.size()) bytes. Returns the end of the literal.
// For callers that assemble a whole record in a buffer of known size.
char* write_json_string(char* p, std::string_view s);

// Appends `s` with every ill-formed UTF-8 sequence replaced by U+FFFD, one
// replacement per maximal ill-formed subpart (the Unicode recommendation,
// the same as Python's errors="replace").
void append_utf8_replacing_invalid(std::string& out, std::string_view s);

}  // namespace gw
