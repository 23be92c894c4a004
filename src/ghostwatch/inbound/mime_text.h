// What the inbound side needs from a raw RFC 5322 message (an e-mail reply
// a freelancer sent us), read with GMime's parser from memory. Guarantees:
// never crashes or throws on broken input (any bytes give a message, with
// whatever GMime could recover); every string is valid UTF-8 (text parts
// are decoded from their transfer encoding and charset; undecodable bytes
// become U+FFFD). Thread-safe: each call has its own parser (GMime is
// initialised once).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ghostwatch/core/status.h"

namespace gw::inbound {

struct InboundMessage {
  // The first text/plain part that is not an attachment, or when there is
  // none the first text/html one converted to text (html_text.h). Parts
  // inside attached messages (message/rfc822) are not looked at.
  std::string text;
  bool text_from_html = false;
  std::string from_address;  // the first From mailbox's address
  std::string from_name;
  std::vector<std::string> to_addresses;  // every To mailbox, groups flattened
  // Every address the message was sent to: To, Cc, then the envelope
  // recipient an MTA records (Delivered-To, X-Original-To), for a reply
  // whose To a mailing list or a reply-all rewrote.
  std::vector<std::string> recipients;
  std::string subject;                    // decoded
  std::string message_id;                 // without the angle brackets
  std::string in_reply_to;                // the first id of In-Reply-To, without brackets
  // Sent by a program, not typed by a person: Auto-Submitted other than
  // "no", X-Autoreply, X-Autorespond, Precedence auto_reply/bulk/junk, or an
  // out-of-office subject (in several languages).
  bool auto_reply = false;
  // A delivery status notification: multipart/report with
  // report-type=delivery-status, or a message/delivery-status part.
  bool bounce = false;
  // A bounce's failed recipient: the first per-recipient block with
  // "Action: failed" (else the first one), Final-Recipient over
  // Original-Recipient; X-Failed-Recipients when there is no report.
  std::string failed_recipient;
};

// Reads `raw`. `source` names it (a file name, "<stdin>") in the error,
// which is returned only when GMime finds no message at all.
Result<InboundMessage> read_inbound_message(std::string_view raw, std::string_view source);

// The failed recipient named by a message/delivery-status body (RFC 3464),
// as described for InboundMessage::failed_recipient; "" when none.
std::string delivery_status_failed_recipient(std::string_view status_body);

// True when `subject` reads as an automatic reply: "Auto:", "Automatic
// reply", "Out of Office", "Abwesenheitsnotiz", "Réponse automatique",
// "Respuesta automática", "自动回复"…
bool is_auto_reply_subject(std::string_view subject);

}  // namespace gw::inbound
