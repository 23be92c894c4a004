#include "ghostwatch/mail/header_text.h"

#include <cassert>

#include "ghostwatch/core/json_text.h"

namespace gw::mail {
namespace {

// The length of a character that must not appear in a header line, starting
// at s[i] of valid UTF-8, or 0 when s[i] starts an ordinary character.
std::size_t control_length(std::string_view s, std::size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  if (b < 0x20 || b == 0x7F) return 1;
  const auto next = [&](std::size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0; };
  if (b == 0xC2 && next(1) >= 0x80 && next(1) <= 0x9F) return 2;                       // C1 controls
  if (b == 0xE2 && next(1) == 0x80 && (next(2) == 0xA8 || next(2) == 0xA9)) return 3;  // U+2028, U+2029
  return 0;
}

}  // namespace

std::string neutralise_header_text(std::string_view s) {
  std::string valid;
  append_utf8_replacing_invalid(valid, s);
  std::string out;
  out.reserve(valid.size());
  bool pending_space = false;
  for (std::size_t i = 0; i < valid.size();) {
    const std::size_t n = control_length(valid, i);
    if (n > 0 || valid[i] == ' ') {
      pending_space = !out.empty();
      i += n > 0 ? n : 1;
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(valid[i++]);
  }
  return out;
}

bool is_safe_address(std::string_view address) {
  const std::size_t at = address.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == address.size()) return false;
  if (address.find('@') != at) return false;
  for (const char c : address) {
    const auto b = static_cast<unsigned char>(c);
    if (b <= 0x20 || b >= 0x7F) return false;
    if (std::string_view("<>()[],;:\\\"").find(c) != std::string_view::npos) return false;
  }
  return true;
}

bool is_safe_https_url(std::string_view url) {
  constexpr std::string_view kScheme = "https://";
  if (url.substr(0, kScheme.size()) != kScheme || url.size() == kScheme.size() || url[kScheme.size()] == '/') {
    return false;
  }
  for (const char c : url) {
    const auto b = static_cast<unsigned char>(c);
    if (b <= 0x20 || b >= 0x7F) return false;
    if (std::string_view("<>\",\\{}|^`").find(c) != std::string_view::npos) return false;
  }
  return true;
}

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 15]);
    }
  }
  return out;
}

std::string_view address_domain(std::string_view address) {
  assert(is_safe_address(address));
  return address.substr(address.rfind('@') + 1);
}

}  // namespace gw::mail
