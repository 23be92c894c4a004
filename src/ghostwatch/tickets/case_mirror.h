// Mirrors cases to an outside system (a webhook, a ticket system): hands
// every change of a case (Store::case_changes: opened or linked by an
// escalation, a status, outcome or assignee change, a note), in order, to a
// target. A change the target takes or refuses for good moves the position
// on (kept in the store under a meta key, so a restart resumes after it:
// delivery is at least once); one it cannot take now is retried with
// exponential backoff, the later changes waiting behind it so the order
// holds. Not thread-safe: one delivery thread per mirror.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "ghostwatch/core/clock.h"
#include "ghostwatch/core/config_table.h"
#include "ghostwatch/core/status.h"
#include "ghostwatch/store/store.h"

namespace gw {

struct MirrorResult {
  enum Outcome { kDone, kRefused, kRetry } outcome = kDone;
  std::string error;  // for kRefused and kRetry
};

struct MirrorPass {
  std::size_t delivered = 0;
  std::size_t refused = 0;  // skipped for good
  bool waiting = false;     // a change failed for now and waits for its retry
  std::string last_error;
};

struct RetrySettings {
  Duration initial = 5 * kSecond;
  Duration max = 10 * kMinute;
};

// Reads the `timeout`, `retry_initial` and `retry_max` keys of a
// connector's table into the given defaults.
void read_timeout_and_retry(ConfigTable& table, Duration& timeout, RetrySettings& retry);

// "scheme://host[:port]" and the path ("/" when none) of an http(s) URL
// with a host; nullopt otherwise.
std::optional<std::pair<std::string, std::string>> split_http_url(const std::string& url);

// How an HTTP answer (nullopt: no answer) counts: 2xx done; 408, 429, 5xx
// and no answer retry; other statuses are a refusal.
MirrorResult::Outcome http_outcome(std::optional<int> status);

class CaseMirror {
 public:
  // The target; `kase` is nullopt only if the case vanished from the store.
  using Target = std::function<MirrorResult(const CaseChange& change, const std::optional<CaseRow>& kase)>;

  // `store` and `clock` must outlive the mirror; `cursor_key` names its
  // position among the store's meta keys.
  CaseMirror(Store& store, const Clock& clock, std::string cursor_key, RetrySettings retry, Target target);

  // Hands over the changes not taken yet, in order, until one must wait; an
  // error is the store's.
  Result<MirrorPass> run_once();

 private:
  Store& store_;
  const Clock& clock_;
  std::string cursor_key_;
  RetrySettings retry_;
  Target target_;
  std::uint32_t failures_ = 0;  // in a row, for the backoff
  Instant next_attempt_at_ = 0;
};

}  // namespace gw
