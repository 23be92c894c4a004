// Writing JSON text: string escaping and replacement of invalid UTF-8.
// Thread-safe: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace gw {

// Appends `s` as a JSON string literal (with quotes). `s` must be valid
// UTF-8; quotes, backslashes and control characters are escaped, other
// characters are written as they are.
void append_json_string(std::string& out, std::string_view s);

// Appends `s` with every ill-formed UTF-8 sequence replaced by U+FFFD, one
// replacement per maximal ill-formed subpart (the Unicode recommendation,
// the same as Python's errors="replace").
void append_utf8_replacing_invalid(std::string& out, std::string_view s);

}  // namespace gw
