// HTML mail bodies as plain text, for reply extraction when a message has
// no text/plain part. Parsed with libxml2's forgiving HTML parser (any
// broken markup gives some text; entities are decoded by the parser).
// Guarantees: script, style, head and title content is dropped; block
// elements (p, div, br, li, tr, headings, hr, table…) end lines;
// whitespace outside <pre> collapses; no-break spaces become spaces; the
// lines inside <blockquote> are prefixed with "> " per level, so quoted
// history stays recognisable as such. Thread-safe (libxml2 is initialised
// once).
#pragma once

#include <string>
#include <string_view>

namespace gw::inbound {

// `html` (UTF-8) as text lines joined by "\n", without trailing blank lines.
std::string html_to_text(std::string_view html);

}  // namespace gw::inbound
