// The part of an e-mail reply a person wrote, without the quoted history,
// quote headers, forwarded or original-message blocks and signatures (see
// docs/inbound.md). The body is split into fragments, scanning from the
// bottom up as the reply parsers of GitHub and Zapier do: runs of quoted
// lines (with the quote header above them), header blocks, signatures and
// text. Fragments below the lowest text a person wrote are hidden; a quote
// header or header block that no quoted line follows, and a mobile footer
// ("Sent from my iPhone"), hide everything below them. Linear in the body's size (no regular expressions).
// Thread-safe: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gw::inbound {

struct ReplyFragment {
  // The fragment's lines joined by "\n" (CRLF and CR read as LF), each
  // without trailing spaces and tabs unless it starts a signature ("-- ").
  // The blank line that ends a signature or text fragment belongs to the
  // fragment above it.
  std::string text;
  // Quoted history: '>' lines, with blank lines and the quote header
  // ("On … wrote:", a header block) directly above them.
  bool quoted = false;
  // A quote header, forwarded or original-message marker or header block
  // with no quoted lines below it: it and everything below it are history.
  bool header = false;
  // Starts with a signature delimiter ("-- ", "--", "__", a rule, "-Name")
  // or is a mobile footer ("Sent from my iPhone"…).
  bool signature = false;
  // Not part of the reply: below the lowest visible text and quoted, a
  // signature, blank or a header; or a header or mobile footer, or below
  // one.
  bool hidden = false;
};

// The fragments of `plain_body`, top to bottom; joined with "\n" they give
// the body back, less trailing spaces.
std::vector<ReplyFragment> reply_fragments(std::string_view plain_body);

// The fragments that are neither hidden, quoted nor headers, each without
// its leading and trailing blank lines (indentation kept), joined with
// "\n": what the sender wrote. Inline answers between
// quoted passages are kept; the quoted passages are not.
std::string visible_text(const std::vector<ReplyFragment>& fragments);

// visible_text(reply_fragments(plain_body)).
std::string visible_reply(std::string_view plain_body);

}  // namespace gw::inbound
