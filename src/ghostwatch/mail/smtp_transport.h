// Sends one finished message over SMTP with libcurl and says what happened,
// in the three classes a dispatcher needs:
//   kSent              the server accepted the message (250 after DATA);
//   kTemporaryFailure  try again later: a 4xx reply, no connection (refused,
//                      unresolvable, timed out, dropped), or a failure of the
//                      session rather than of this message (TLS, AUTH);
//   kPermanentFailure  the server refused this message with a 5xx reply (to
//                      MAIL FROM, RCPT TO or DATA), or an envelope address is
//                      unusable: record it on the decision, don't retry.
// The server's last reply (code and text) comes back with the result.
// One CURL handle lives as long as the transport and is reused for every
// message, so consecutive sends share one SMTP connection while the server
// keeps it open. Not thread-safe: give each dispatcher thread its own.
#pragma once

#include <string>
#include <string_view>

#include "ghostwatch/core/time.h"

namespace gw::mail {

struct SmtpSettings {
  std::string url;          // smtp://host:port (STARTTLS when offered) or smtps://host:port (implicit TLS)
  std::string user;         // empty: no AUTH
  std::string password;     // used with `user`
  bool require_tls = false;  // smtp:// only: fail rather than send in clear when STARTTLS is not offered
  std::string ca_file;       // PEM CA certificates to verify the server with; empty: the system's
  Duration connect_timeout = 10 * kSecond;
  Duration timeout = 60 * kSecond;  // the whole send, connection included
};

enum class SendOutcome { kSent, kTemporaryFailure, kPermanentFailure };

std::string_view send_outcome_name(SendOutcome outcome);  // "sent", "temporary_failure", "permanent_failure"

struct SendResult {
  SendOutcome outcome = SendOutcome::kTemporaryFailure;
  int reply_code = 0;              // the server's last reply code; 0 when it said nothing
  std::string reply;               // the server's last reply, or what went wrong when it said nothing
  bool reused_connection = false;  // the message went over a connection opened for an earlier one
};

class SmtpTransport {
 public:
  explicit SmtpTransport(SmtpSettings settings);
  ~SmtpTransport();
  SmtpTransport(const SmtpTransport&) = delete;
  SmtpTransport& operator=(const SmtpTransport&) = delete;

  // Sends `mime_bytes` (a whole message with CRLF line ends, e.g. from
  // build_mime) to `rcpt` with envelope sender `envelope_from`. Lines that
  // start with '.' are dot-stuffed by libcurl. Never throws.
  SendResult send(std::string_view envelope_from, std::string_view rcpt, std::string_view mime_bytes);

 private:
  SmtpSettings settings_;
  void* curl_;  // CURL*; kept out of this header so users need not include curl
};

}  // namespace gw::mail
