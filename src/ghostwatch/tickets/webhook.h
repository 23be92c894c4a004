// Mirrors cases to a generic webhook (the `[webhook]` table of the config):
// every change of a case (opened or linked by an escalation, a status,
// outcome or assignee change, a note; Store::case_changes) is POSTed, in
// order, as JSON
//   {"id": <change id>, "kind": "...", "case": {...}, "entry": {...}}
// with the case and the entry as the API shows them (docs/api.md), signed
// with HMAC-SHA256 over the raw body under the secret:
//   X-Ghostwatch-Signature: sha256=<hex>
//   X-Ghostwatch-Delivery: <change id>   (the same on a retry: dedupe on it)
// A 2xx answer moves on; a 4xx (but 408 and 429) is the receiver refusing
// that change: logged and skipped; anything else (5xx, 408, 429, no
// connection, a timeout) is retried with exponential backoff from
// retry_initial to retry_max, the change and those after it waiting. The
// position is kept in the store (meta key "webhook.cursor"), so a restart
// resumes after the last change answered: delivery is at least once.
// Not thread-safe: one delivery thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ghostwatch/core/clock.h"
#include "ghostwatch/core/config_table.h"
#include "ghostwatch/core/status.h"
#include "ghostwatch/store/store.h"

namespace gw {

struct WebhookSettings {
  std::string url;     // http(s)://host[:port]/path
  std::string secret;  // the value of the variable named by `secret_env`
  Duration timeout = 10 * kSecond;
  Duration retry_initial = 5 * kSecond;
  Duration retry_max = 10 * kMinute;
};

// The `[webhook]` table of `text` (url, secret_env, timeout, retry_initial,
// retry_max), nullopt when there is none; errors name the file and key.
Result<std::optional<WebhookSettings>> parse_webhook_config(std::string_view text, std::string_view source,
                                                            const EnvLookup& env,
                                                            std::vector<std::string>* unknown_keys = nullptr);

// sha256=<hex of HMAC-SHA256(secret, body)>
std::string webhook_signature(const std::string& secret, std::string_view body);

struct WebhookPass {
  std::size_t delivered = 0;
  std::size_t refused = 0;  // 4xx: skipped
  bool waiting = false;     // a change failed for now and waits for its retry
  std::string last_error;
};

class CaseWebhook {
 public:
  // `store` and `clock` must outlive it.
  CaseWebhook(Store& store, const Clock& clock, WebhookSettings settings);

  // Sends the changes not sent yet, in order, until one must wait; an error
  // is the store's.
  Result<WebhookPass> run_once();

 private:
  Store& store_;
  const Clock& clock_;
  WebhookSettings settings_;
  std::uint32_t failures_ = 0;  // in a row, for the backoff
  Instant next_attempt_at_ = 0;
};

}  // namespace gw
