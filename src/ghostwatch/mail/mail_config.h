// The [mail] section of the config file (docs/mail.md lists every key): who
// the e-mails come from, where replies and links go, the templates, the
// signing key and the SMTP server. A MailConfig that parse/load returns is
// complete and checked (addresses safe, URLs well-formed, key long enough,
// secrets read from the environment); a section that breaks a rule is
// refused with a message naming the file, the key and the rule. Other
// sections of the file are ignored, so [mail] can sit in the policy file.
// Immutable once built; thread-safe to share.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ghostwatch/core/status.h"
#include "ghostwatch/mail/message_builder.h"
#include "ghostwatch/mail/smtp_transport.h"

namespace gw::mail {

// The signing key must be at least this long (256 bits, HMAC-SHA256's own size).
inline constexpr std::size_t kMinSecretKeyBytes = 32;

struct MailConfig {
  Mailbox from;               // from_name, from_address
  std::string reply_domain;   // Reply-To: reply+<token>@reply_domain; the opt-out mailto goes here too
  std::string link_base_url;  // https://..., without a trailing '/'
  std::string template_dir;   // relative paths are taken from the config file's directory
  std::string secret_key;     // `secret`, or the variable named by `secret_env`
  SmtpSettings smtp;
  std::vector<std::string> unknown_keys;  // "mail.<key>", for a warning
};

// Looks up an environment variable; std::getenv in load_mail_config, a map in tests.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// `source` names the file in messages; `base_dir` resolves a relative template_dir.
Result<MailConfig> parse_mail_config(std::string_view text, std::string_view source, const std::string& base_dir,
                                     const EnvLookup& env);
Result<MailConfig> load_mail_config(const std::string& path);

}  // namespace gw::mail
