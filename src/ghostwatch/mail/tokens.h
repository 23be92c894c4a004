// Signed tokens for the addresses and links in our e-mails:
//  * the reply token in `Reply-To: reply+<token>@<inbound domain>` names an
//    episode (contract + episode number), so a reply can be routed to it;
//  * the opt-out token in the List-Unsubscribe URL and mailto names the
//    user who asks for no more reminders.
// A token is `<payload>-<signature>`, both lower-case base32 (RFC 4648
// alphabet, no padding): lower case because mail systems may fold the case
// of a local part, and verification folds it back. The signature is the
// first 80 bits of HMAC-SHA256 under the secret key over a purpose label and
// the payload, so a token cannot be forged or changed without the key, and a
// reply token is never accepted as an opt-out token or the other way round.
// Thread-safe: a TokenSigner is immutable after construction.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ghostwatch/core/status.h"

namespace gw::mail {

// The episode a reply token names.
struct EpisodeRef {
  std::string contract;
  std::int64_t episode = 0;
  bool operator==(const EpisodeRef&) const = default;
};

class TokenSigner {
 public:
  // REQUIRES: !secret_key.empty() (the mail config insists on 32 bytes or more).
  explicit TokenSigner(std::string secret_key);

  // REQUIRES: episode >= 1.
  std::string reply_token(const EpisodeRef& episode) const;
  // The episode of a token made by reply_token under the same key, or an
  // error saying why the token is refused.
  Result<EpisodeRef> verify_reply_token(std::string_view token) const;

  // REQUIRES: !user.empty().
  std::string opt_out_token(std::string_view user) const;
  // The user of a token made by opt_out_token under the same key.
  Result<std::string> verify_opt_out_token(std::string_view token) const;

 private:
  std::string sign(std::string_view purpose, std::string_view payload) const;
  Result<std::string> verify(std::string_view purpose, std::string_view token) const;

  std::string key_;
};

}  // namespace gw::mail
