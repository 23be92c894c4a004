// A generic webhook for CaseMirror (the `[webhook]` table of the config):
// each change of a case is POSTed as JSON
//   {"id": <change id>, "kind": "...", "case": {...}, "entry": {...}}
// with the case and the entry as the API shows them (docs/api.md), signed
// with HMAC-SHA256 over the raw body under the secret:
//   X-Ghostwatch-Signature: sha256=<hex>
//   X-Ghostwatch-Delivery: <change id>   (the same on a retry: dedupe on it)
// The answer counts as http_outcome says (2xx done; 408, 429, 5xx, no
// answer: retry; other 4xx: refused, skipped). Thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ghostwatch/core/clock.h"
#include "ghostwatch/core/config_table.h"
#include "ghostwatch/core/status.h"
#include "ghostwatch/store/store.h"
#include "ghostwatch/tickets/case_mirror.h"

namespace gw {

struct WebhookSettings {
  std::string url;     // http(s)://host[:port]/path
  std::string secret;  // the value of the variable named by `secret_env`
  Duration timeout = 10 * kSecond;
  RetrySettings retry;
};

// The `[webhook]` table of `text` (url, secret_env, timeout, retry_initial,
// retry_max), nullopt when there is none; errors name the file and key.
Result<std::optional<WebhookSettings>> parse_webhook_config(std::string_view text, std::string_view source,
                                                            const EnvLookup& env,
                                                            std::vector<std::string>* unknown_keys = nullptr);

// sha256=<hex of HMAC-SHA256(secret, body)>
std::string webhook_signature(const std::string& secret, std::string_view body);

// Posts one change (CaseMirror::Target).
class WebhookTarget {
 public:
  explicit WebhookTarget(WebhookSettings settings) : settings_(std::move(settings)) {}
  MirrorResult operator()(const CaseChange& change, const std::optional<CaseRow>& kase) const;

 private:
  WebhookSettings settings_;
};

}  // namespace gw
