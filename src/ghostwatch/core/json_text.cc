#include "ghostwatch/core/json_text.h"

#include <cstdint>
#include <cstring>

namespace gw {

namespace {

char* write_json_char(char* p, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  if (c >= 0x20 && c != '"' && c != '\\') {
    *p++ = static_cast<char>(c);
    return p;
  }
  *p++ = '\\';
  switch (c) {
    case '"': *p++ = '"'; break;
    case '\\': *p++ = '\\'; break;
    case '\n': *p++ = 'n'; break;
    case '\r': *p++ = 'r'; break;
    case '\t': *p++ = 't'; break;
    default: {
      const char esc[5] = {'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
      std::memcpy(p, esc, sizeof esc);
      p += sizeof esc;
    }
  }
  return p;
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  // Grow `out` by the worst case, write in place, then trim to what was used.
  const std::size_t start = out.size();
  out.resize(start + json_string_max_size(s.size()));
  char* end = write_json_string(out.data() + start, s);
  out.resize(static_cast<std::size_t>(end - out.data()));
}

char* write_json_string_text(char* p, std::string_view s) {
  const char* in = s.data();
  const std::size_t n = s.size();
  *p++ = '"';
  std::size_t i = 0;
  while (i < n) {
    // Most text needs no escapes: copy it a word at a time.
    if (n - i >= 8) {
      std::uint64_t w;
      std::memcpy(&w, in + i, 8);
      if (json_special_mask(w) == 0) {
        std::memcpy(p, &w, 8);
        p += 8;
        i += 8;
        continue;
      }
    }
    // Fewer than 8 bytes left: one word when none is special. The
    // literal's room holds 8 more bytes when 2 or more are left (each input
    // byte has 6 bytes of room); past the last byte the zeros of `w` count
    // as special, which the mask of its low bytes keeps out.
    const std::size_t left = n - i;
    if (std::endian::native == std::endian::little && left >= 2 && left < 8) {
      const std::uint64_t w = short_word(in + i, left);
      if ((json_special_mask(w) & low_bytes_mask(left)) == 0) {
        std::memcpy(p, &w, 8);
        p += left;
        break;
      }
    }
    // An escape is near, or one byte is left: one byte.
    p = write_json_char(p, static_cast<unsigned char>(in[i]));
    ++i;
  }
  *p++ = '"';
  return p;
}

void append_utf8_replacing_invalid(std::string& out, std::string_view s) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    // Expected length and the allowed range of the second byte (Unicode
    // Table 3-7, well-formed UTF-8 byte sequences).
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    }
    if (len == 0) {
      out.append(kReplacement);
      ++i;
      continue;
    }
    size_t k = 1;  // bytes of the maximal subpart consumed so far
    while (k < len && i + k < n) {
      unsigned char b = p[i + k];
      unsigned char blo = k == 1 ? lo : 0x80, bhi = k == 1 ? hi : 0xBF;
      if (b < blo || b > bhi) break;
      ++k;
    }
    if (k == len) {
      out.append(s.data() + i, len);
    } else {
      out.append(kReplacement);
    }
    i += k;
  }
}

}  // namespace gw
