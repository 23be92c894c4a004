// The [mail] and [smtp] sections of the config file (docs/mail.md lists
// every key): who the e-mails come from, where replies and links go, the
// templates, the signing key, the SMTP server and how the outbox dispatcher
// paces and retries. A MailConfig that parse/load returns is complete and
// checked (addresses safe, URLs well-formed, key long enough, secrets read
// from the environment); a section that breaks a rule is refused with a
// message naming the file, the key and the rule. Other sections of the file
// are ignored, so both can sit in the policy file.
// Immutable once built; thread-safe to share.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ghostwatch/core/config_table.h"
#include "ghostwatch/core/status.h"
#include "ghostwatch/mail/message_builder.h"
#include "ghostwatch/mail/smtp_transport.h"

namespace gw::mail {

// The signing key must be at least this long (256 bits, HMAC-SHA256's own size).
inline constexpr std::size_t kMinSecretKeyBytes = 32;

// How the outbox dispatcher paces and retries ([smtp] keys of the same names).
struct DispatchSettings {
  int per_domain_per_minute = 60;       // e-mails a minute to one recipient domain
  Duration retry_initial = kMinute;     // the first retry's delay; doubles per attempt
  Duration retry_max = kHour;           // the longest delay between two attempts
  Duration give_up_after = 48 * kHour;  // temporary failures for this long become permanent
};

struct MailConfig {
  Mailbox from;                  // `from`: "Name <address>" or "address"
  std::string inbound_domain;    // Reply-To: reply+<token>@inbound_domain; the opt-out mailto goes here too
  std::string public_url;        // http(s):// base of this service's links, without a trailing '/'
  std::string conversation_url;  // the marketplace's conversation page, "{contract}" replaced
  std::string template_dir;      // `templates`; relative paths are taken from the config file's directory
  std::string client_checkin;    // a template: escalations also e-mail the client with it; empty: they do not
  std::string secret_key;        // the value of the variable named by `secret_env`
  SmtpSettings smtp;
  DispatchSettings dispatch;
  std::vector<std::string> unknown_keys;  // "mail.<key>" / "smtp.<key>", for a warning
};

// `source` names the file in messages; `base_dir` resolves a relative
// `templates`. A file without a [mail] table is refused: callers that treat
// e-mail as optional check has_mail_section first.
Result<MailConfig> parse_mail_config(std::string_view text, std::string_view source, const std::string& base_dir,
                                     const EnvLookup& env);
Result<MailConfig> load_mail_config(const std::string& path);
bool has_mail_section(std::string_view text);

}  // namespace gw::mail
