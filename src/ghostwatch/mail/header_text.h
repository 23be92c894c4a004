// Making untrusted text safe to put in an e-mail header. Names, subjects and
// ids come from users and events; a CR or LF in one of them must never start
// a new header line (header injection), and other control characters must
// not reach a mail client either. Thread-safe: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace gw::mail {

// `s` as one line of valid UTF-8: ill-formed UTF-8 becomes U+FFFD; every
// control character (C0 including CR, LF and TAB, DEL, C1) and the Unicode
// line and paragraph separators become a space; runs of spaces collapse to
// one and the ends are trimmed. The result holds no byte below 0x20.
std::string neutralise_header_text(std::string_view s);

// True when `address` is a plain ASCII addr-spec we are willing to put in a
// header or an SMTP envelope: local@domain, both non-empty, no spaces,
// control characters or the specials that would let it break out of `<...>`
// or a command line (`<>()[],;:\"`). Internationalised (SMTPUTF8) addresses
// are refused, not guessed at.
bool is_safe_address(std::string_view address);

// True when `url` starts with "https://", has a host, and holds only
// printable ASCII other than the characters that would end a `<...>` in
// List-Unsubscribe or split it (`<>",` and space), or that RFC 3986 never
// allows unescaped (`\{}|^` and backquote).
bool is_safe_https_url(std::string_view url);

// `s` with every byte but RFC 3986's unreserved characters percent-encoded,
// for one path segment of a URL.
std::string percent_encode(std::string_view s);

// The part of `address` after its last '@'. REQUIRES: is_safe_address(address).
std::string_view address_domain(std::string_view address);

}  // namespace gw::mail
