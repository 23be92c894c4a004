// Inbound e-mail intake: takes a raw RFC 5322 message (from POST
// /v1/inbound or the maildir), reads it (mime_text.h), extracts the visible
// reply (reply_text.h) and routes it (docs/inbound.md, "Routing"):
//  1. A delivery status notification marks every user with the failed
//     address as bouncing (Service::mark_bouncing): their nudges stop.
//  2. A message to one of our addresses is routed by its signed token, and
//     only when the signature holds: `reply+<token>@<inbound domain>` joins
//     the token's contract's case for the ladder's escalation team (opened
//     when there is none); `opt-out+<token>@...` opts the user out. An
//     invalid or forged token is never trusted: the message is unmatched.
//  3. Otherwise the sender's address decides: a freelancer's e-mail joins the
//     case of their most recent open episode, else their case about no
//     contract (team improving-outcomes); a client's joins their most recent
//     case that is not solved; anyone else's is unmatched.
// Automatic replies are routed the same way but marked (timeline kind
// `auto_reply`) and never reopen a case or opt anyone out. Every message is
// stored, raw bytes included; the same message again (same Message-ID, or
// same bytes) is a duplicate and changes nothing.
// Thread-safe: the service and the store serialise what they change.
#pragma once

#include <string>
#include <string_view>

#include "ghostwatch/core/clock.h"
#include "ghostwatch/core/status.h"
#include "ghostwatch/inbound/mime_text.h"
#include "ghostwatch/mail/tokens.h"
#include "ghostwatch/server/service.h"
#include "ghostwatch/store/store.h"

namespace gw::inbound {

struct IntakeSettings {
  // Tokens are read only when both are set (the [mail] section's signing
  // key and inbound_domain); without them every message is routed by sender.
  const mail::TokenSigner* tokens = nullptr;
  std::string inbound_domain;
};

class Intake {
 public:
  // `service`, `store`, `clock` and settings.tokens must outlive the intake.
  Intake(Service& service, Store& store, const Clock& clock, IntakeSettings settings)
      : service_(service), store_(store), clock_(clock), settings_(std::move(settings)) {}

  // Takes one message; `source` names it in the stored reason when it cannot
  // be read at all. Fails only when the store or the service does: then
  // nothing of it was stored, and taking it again is safe.
  Result<InboundTaken> take(std::string_view raw, std::string_view source);

 private:
  struct Routing;  // where a message goes, and why
  Status route_bounce(const InboundMessage& m, Routing& r);
  // False when no recipient is one of our token addresses.
  Result<bool> route_by_token(const InboundMessage& m, Routing& r);
  Status route_by_sender(const InboundMessage& m, Routing& r);

  Service& service_;
  Store& store_;
  const Clock& clock_;
  IntakeSettings settings_;
};

}  // namespace gw::inbound
