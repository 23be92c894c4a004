// Classifiers for single lines (or a few lines joined by spaces) of a
// plain-text mail body, used by reply_text.cc to split a reply into its
// fragments: quote headers ("On <date>, <name> wrote:" in many languages and
// mail clients), original-message and forwarded-message markers, the lines
// of an Outlook or forward header block, signature starts and mobile
// footers. The language tables are in reply_markers.cc. No regular
// expressions: every function is linear in the length of its input and
// gives up early on long lines, so a line of hundreds of kilobytes stays
// cheap. Thread-safe: pure functions over UTF-8 text (ill-formed UTF-8 is
// compared byte for byte, never rejected).
#pragma once

#include <string>
#include <string_view>

namespace gw::inbound {

// `text` with upper-case letters of ASCII, Latin-1, Latin Extended-A, Greek
// and Cyrillic turned to lower case and bidirectional formatting characters
// (LRM, RLM, ALM, embeddings, overrides, isolates) dropped; every other
// byte unchanged.
std::string fold_case(std::string_view text);

// `text` without leading and trailing ASCII whitespace, no-break spaces and
// bidirectional formatting characters.
std::string_view trim_text(std::string_view text);

// True when the first character other than spaces and tabs is '>'.
bool is_quoted_line(std::string_view line);

enum class QuoteHeader {
  kNone,
  // "<name> wrote:" with no date, address or leading "On": a quote header
  // only when quoted lines follow it.
  kWeak,
  // "On <date>, <name> <address> wrote:" and its translations ("El … escribió:",
  // "Le … a écrit :", "Am … schrieb …:", "在 … 写道："…), or "<date> <name>
  // <address>:" with no verb (Gmail in Russian, Japanese…).
  kStrong,
};
QuoteHeader classify_quote_header(std::string_view text);

// True when a client may have wrapped a quote header starting on `line`
// over the next lines: a short line with a digit (the date) that does not
// end a sentence ("pe 20. lokakuuta 2017 klo 17.50 John Coe").
bool may_start_wrapped_quote_header(std::string_view line);

// True when `line` starts with a digit or a date word ("On", "Le", "Am",
// "El", "W dniu", "在"…): a quote header of its own, never the tail of a
// wrapped one.
bool starts_like_quote_header(std::string_view line);

// A short title between rules, "-------- Oprindelig besked --------": an
// original-message marker in any language when a header block follows it.
bool is_decorated_title(std::string_view line);

// "-----Original Message-----", "---------- Forwarded message ---------",
// "Begin forwarded message:" and their translations.
bool is_original_message_marker(std::string_view line);

enum class HeaderKey { kNone, kFrom, kOther };
// The key of a header line of a quoted message, with or without bold marks:
// "From: …", "*Sent:* …", "Von: …", "De : …", "发件人: …". kFrom for the
// sender's key in any language, kOther for date, recipients and subject.
HeaderKey header_key(std::string_view line);
// A whole header block flattened onto one line, as some webmails' text
// parts have it: a header key first, then a sender's key further on and an
// address ("Temat: RE: … 2023-01-17 13:46Nadawca: \"Ana\" ana@example.pl
// Adresat:").
bool is_flattened_header_block(std::string_view line);
// True when the value after the key holds an address ('@').
bool header_value_has_address(std::string_view line);

enum class SignatureStart {
  kNone,
  // "--Bob", "-- Tim", "__Ana", "-Name": a signature only below a blank line.
  kWeak,
  // "-- ", "--", a rule of at least 7 '-' or '_', a mobile footer: a
  // signature even right below text. Shorter rules ("----") are not
  // signatures.
  kStrong,
};
SignatureStart classify_signature_start(std::string_view line);

// "Sent from my iPhone", "Enviado desde mi Android", "Von meinem iPhone
// gesendet", "Envoyé de mon iPad", "Get Outlook for iOS", "发自我的iPhone",
// "iPhoneから送信"… A sentence that only starts that way ("Sent from my desk,
// is much easier…") is not one.
bool is_mobile_footer(std::string_view line);

}  // namespace gw::inbound
