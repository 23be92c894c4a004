#include "ghostwatch/tickets/case_mirror.h"

#include <algorithm>
#include <charconv>

namespace gw {

std::optional<std::pair<std::string, std::string>> split_http_url(const std::string& url) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return std::nullopt;
  const std::string scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return std::nullopt;
  const std::size_t path = url.find('/', scheme_end + 3);
  std::string origin = url.substr(0, path);
  if (origin.size() == scheme_end + 3 || url.find_first_of(" \r\n\t") != std::string::npos) return std::nullopt;
  return std::pair{std::move(origin), path == std::string::npos ? std::string("/") : url.substr(path)};
}

void read_timeout_and_retry(ConfigTable& table, Duration& timeout, RetrySettings& retry) {
  timeout = table.duration("timeout", timeout);
  retry.initial = table.duration("retry_initial", retry.initial);
  retry.max = table.duration("retry_max", retry.max);
  if (!table.failed() && retry.max < retry.initial) table.fail("retry_max", "must be at least retry_initial");
}

MirrorResult::Outcome http_outcome(std::optional<int> status) {
  if (!status || *status == 408 || *status == 429 || *status >= 500) return MirrorResult::kRetry;
  if (*status >= 200 && *status < 300) return MirrorResult::kDone;
  return MirrorResult::kRefused;
}

CaseMirror::CaseMirror(Store& store, const Clock& clock, std::string cursor_key, RetrySettings retry, Target target)
    : store_(store), clock_(clock), cursor_key_(std::move(cursor_key)), retry_(retry), target_(std::move(target)) {}

Result<MirrorPass> CaseMirror::run_once() {
  MirrorPass pass;
  const Instant now = clock_.now();
  if (now < next_attempt_at_) {
    pass.waiting = true;
    return pass;
  }
  auto cursor_text = store_.get_meta(cursor_key_);
  if (!cursor_text) return cursor_text.status();
  std::int64_t cursor = 0;
  if (cursor_text->has_value()) {
    const std::string& v = **cursor_text;
    std::from_chars(v.data(), v.data() + v.size(), cursor);
  }
  auto changes = store_.case_changes(cursor, 100);
  if (!changes) return changes.status();
  for (const CaseChange& change : *changes) {
    auto kase = store_.find_case(change.case_id);
    if (!kase) return kase.status();
    const MirrorResult r = target_(change, *kase);
    if (r.outcome == MirrorResult::kRetry) {
      pass.waiting = true;
      pass.last_error = r.error;
      ++failures_;
      next_attempt_at_ = now + std::min(retry_.max, retry_.initial << std::min(failures_ - 1, 30u));
      return pass;
    }
    failures_ = 0;
    if (r.outcome == MirrorResult::kRefused) {
      ++pass.refused;
      pass.last_error = r.error;
    } else {
      ++pass.delivered;
    }
    if (Status s = store_.set_meta(cursor_key_, std::to_string(change.id)); !s) return s;
  }
  return pass;
}

}  // namespace gw
