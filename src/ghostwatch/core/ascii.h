// ASCII text helpers. Thread-safe: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace gw {

// `s` with a-z upper-cased and every other byte unchanged (country codes
// compare upper-cased; UTF-8 text is left as it is).
inline std::string to_upper_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// `s` with A-Z lower-cased and every other byte unchanged (e-mail addresses
// compare lower-cased).
inline std::string to_lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace gw
