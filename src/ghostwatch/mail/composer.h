// Turns one e-mail decision into bytes ready for SmtpTransport::send: picks
// and renders the template, signs the reply and opt-out tokens, builds the
// links and the thread's Message-IDs, and builds the MIME. This is what a
// dispatcher calls for each outbox entry; it does no I/O and reads no clock
// (the caller passes the send time), so the same request gives the same bytes.
// Thread-safe: compose() is const and touches no shared mutable state.
#pragma once

#include <string>
#include <vector>

#include "ghostwatch/core/status.h"
#include "ghostwatch/core/time.h"
#include "ghostwatch/mail/mail_config.h"
#include "ghostwatch/mail/templates.h"
#include "ghostwatch/mail/tokens.h"

namespace gw::mail {

struct Person {
  std::string id;  // the user id of the events; signs the opt-out link
  std::string name;
  std::string email;
};

// One e-mail decision (a `sent` nudge, or the check-in of an escalation)
// with what the engine's records and user events know about it.
struct MailRequest {
  std::string campaign;  // [campaign].name
  std::string arm;       // "treatment" (control steps send nothing)
  EpisodeRef episode;
  int step = 1;  // the ladder step, 1-based
  // Earlier steps of this episode whose e-mail went to the same recipient,
  // in order: the new message answers the last and lists them all in
  // References, so a mail client shows one thread per episode.
  std::vector<int> thread_steps;
  std::string template_name;
  std::string locale;  // e.g. "es"; falls back as TemplateSet::resolve_locale says
  Person recipient;
  std::string freelancer_name;
  std::string client_name;
  Instant waiting_since = 0;  // the episode's opened_at
  Instant at = 0;             // the decision's time; also the Date header
};

struct OutgoingMail {
  std::string envelope_from;
  std::string rcpt;
  std::string message_id;  // without brackets; store it to recognise a resend
  std::string bytes;       // CRLF MIME
};

class MailComposer {
 public:
  // REQUIRES: config came from parse/load_mail_config (so its key is long enough).
  MailComposer(MailConfig config, TemplateSet templates);

  Result<OutgoingMail> compose(const MailRequest& request) const;

  const TokenSigner& tokens() const { return tokens_; }
  std::string conversation_url(const std::string& contract) const;  // conversation_url, {contract} percent-encoded
  std::string opt_out_url(const std::string& user) const;           // <public_url>/v1/unsubscribe?token=<token>
  std::string opt_out_mailto(const std::string& user) const;        // mailto:opt-out+<token>@<inbound_domain>
  std::string reply_address(const EpisodeRef& episode) const;       // reply+<token>@<inbound_domain>
  const MailConfig& config() const { return config_; }
  const TemplateSet& templates() const { return templates_; }

 private:
  MailConfig config_;
  TemplateSet templates_;
  TokenSigner tokens_;
};

}  // namespace gw::mail
