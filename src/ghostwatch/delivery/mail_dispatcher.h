// Drains the e-mail outbox: every `sent` nudge decision becomes one e-mail
// to the freelancer, composed by MailComposer and handed to an SMTP server.
//
// Guarantees:
//  * Each entry is delivered at least once and, but for a crash between the
//    server's acceptance and the record of it, exactly once; a resend after
//    such a crash carries the same Message-ID (it is derived from the
//    decision), so it is recognisable as the same e-mail.
//  * A temporary failure (4xx, no connection) is retried with exponential
//    backoff and jitter; after DispatchSettings::give_up_after of trying, or
//    at the first permanent failure (5xx), the entry is `failed` with the
//    server's reply. A freelancer with no e-mail address makes the entry
//    `undeliverable`; nothing is dropped silently.
//  * Each recipient domain gets at most per_domain_per_minute e-mails a
//    minute; entries over the allowance wait, without counting an attempt.
//  * Every outcome is durable (Store::record_delivery) before the next entry.
// Not thread-safe: one dispatcher thread per store.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <string_view>

#include "ghostwatch/core/clock.h"
#include "ghostwatch/core/status.h"
#include "ghostwatch/delivery/rate_limiter.h"
#include "ghostwatch/mail/composer.h"
#include "ghostwatch/mail/smtp_transport.h"
#include "ghostwatch/server/service.h"
#include "ghostwatch/store/store.h"

namespace gw {

// The locale of the e-mails to a user of `country` (ISO 3166-1 alpha-2): the
// main language of countries where it is not English, as a bare language
// code ("es", "pt", "fr", ...), else "en". Templates fall back to "en" when
// they lack it (TemplateSet::resolve_locale).
std::string_view locale_for_country(std::string_view country);

// The delay before retry number `attempts` (1: the first retry): the
// initial delay doubled per earlier retry, at most `max`, then a uniformly
// random part of its second half taken off (jitter), so retries of many
// entries failed together spread out instead of arriving together.
Duration retry_delay(const mail::DispatchSettings& s, std::uint32_t attempts, std::mt19937_64& rng);

struct DispatchPass {
  std::size_t sent = 0;
  std::size_t retrying = 0;  // temporary failures, scheduled again
  std::size_t failed = 0;    // failed or undeliverable
  std::size_t paced = 0;     // over their domain's allowance, scheduled later
  std::size_t handled() const { return sent + retrying + failed + paced; }
};

class MailDispatcher {
 public:
  using Send = std::function<mail::SendResult(std::string_view from, std::string_view rcpt, std::string_view bytes)>;

  // `send` is SmtpTransport::send in the service. All references must
  // outlive the dispatcher.
  MailDispatcher(Store& store, const Service& service, const mail::MailComposer& composer, Send send,
                 const Clock& clock, std::string campaign, std::uint64_t seed);

  // Delivers the entries due now (at most `limit`); an error is the store's.
  Result<DispatchPass> run_once(std::size_t limit = 100);

 private:
  // The e-mail of one outbox entry, or why there is none (undeliverable).
  Result<mail::OutgoingMail> compose(const OutboxItem& item);
  Status deliver(OutboxItem& item, DispatchPass& pass);

  Store& store_;
  const Service& service_;
  const mail::MailComposer& composer_;
  Send send_;
  const Clock& clock_;
  std::string campaign_;
  DomainRateLimiter limiter_;
  std::mt19937_64 rng_;
};

}  // namespace gw
