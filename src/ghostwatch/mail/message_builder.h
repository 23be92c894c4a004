// Builds the MIME bytes of one reminder or check-in e-mail:
// multipart/alternative (text/plain, then text/html), UTF-8 throughout
// (parts quoted-printable, non-ASCII names and subjects as RFC 2047 UTF-8
// encoded words, both with GMime's encoders), CRLF line endings ready for
// SMTP DATA, and the headers described in docs/mail.md: deterministic
// Message-ID, In-Reply-To and References for the thread, Reply-To,
// List-Unsubscribe (+ RFC 8058 one-click), Auto-Submitted and the
// campaign/arm headers. Headers are folded only at the spaces between
// words, so URLs, Message-IDs, names and encoded words are never split or
// re-encoded.
// Guarantees: no field can add a header or a line. Names, the subject and
// the campaign/arm values pass through neutralise_header_text; addresses,
// Message-IDs and URLs that contain anything unsafe are refused with an
// error naming the field, never passed on.
// Thread-safe: build_mime() and message_id_for() may run concurrently.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ghostwatch/core/status.h"
#include "ghostwatch/core/time.h"
#include "ghostwatch/mail/tokens.h"

namespace gw::mail {

struct Mailbox {
  std::string name;     // display name, any UTF-8; may be empty
  std::string address;  // must pass is_safe_address
};

struct MessageSpec {
  Mailbox from;
  Mailbox to;
  std::string reply_to;  // address; shown with from.name
  std::string subject;
  std::string text;                     // the text/plain part, UTF-8, LF or CRLF line ends
  std::string html;                     // the text/html part
  Instant date = 0;                     // the Date header; the caller's clock, so a rebuild gives the same bytes
  std::string message_id;               // without angle brackets, e.g. from message_id_for
  std::vector<std::string> references;  // earlier Message-IDs of the thread, oldest first
  std::string unsubscribe_url;          // https URL that accepts the RFC 8058 one-click POST
  std::string unsubscribe_mailto;       // mailto: URL
  std::string campaign;
  std::string arm;
};

// The Message-ID (without brackets) of a campaign's e-mail for a step of an
// episode: "gw-<32 hex digits of SHA-256 over the four values>@<domain>".
// The same decision always gets the same id, so a resend after a crash is
// recognisable, and a later step can name an earlier one in References.
// REQUIRES: domain is the domain of a safe address.
std::string message_id_for(std::string_view campaign, const EpisodeRef& episode, int step, std::string_view domain);

// The message as bytes with CRLF line endings, or an error naming the field
// that cannot be used safely.
Result<std::string> build_mime(const MessageSpec& spec);

}  // namespace gw::mail
