#include "ghostwatch/tickets/webhook.h"

#include <fmt/format.h>
#include <httplib.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <charconv>

#include "ghostwatch/server/case_json.h"

namespace gw {
namespace {

constexpr std::string_view kWebhookKeys[] = {"url", "secret_env", "timeout", "retry_initial", "retry_max"};
constexpr const char* kCursorKey = "webhook.cursor";

// "scheme://host[:port]" and the path of `url`, nullopt when it is not an
// http(s) URL with a host.
std::optional<std::pair<std::string, std::string>> split_url(const std::string& url) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return std::nullopt;
  const std::string scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return std::nullopt;
  const std::size_t path = url.find('/', scheme_end + 3);
  std::string origin = url.substr(0, path);
  if (origin.size() == scheme_end + 3 || url.find_first_of(" \r\n\t") != std::string::npos) return std::nullopt;
  return std::pair{std::move(origin), path == std::string::npos ? std::string("/") : url.substr(path)};
}

// 408 and 429 say "later", like a 5xx; other 4xx refuse the request.
bool is_refusal(int status) { return status >= 400 && status < 500 && status != 408 && status != 429; }

}  // namespace

Result<std::optional<WebhookSettings>> parse_webhook_config(std::string_view text, std::string_view source,
                                                            const EnvLookup& env,
                                                            std::vector<std::string>* unknown_keys) {
  toml::table root;
  try {
    root = toml::parse(text, std::string(source));
  } catch (const toml::parse_error& e) {
    return Status::error(fmt::format("{}: not valid TOML: {}", source, e.description()));
  }
  const toml::table* table = root["webhook"].as_table();
  if (table == nullptr) {
    if (root.contains("webhook")) return Status::error(fmt::format("{}: webhook: must be a table", source));
    return std::optional<WebhookSettings>();
  }
  std::string error;
  ConfigTable t(table, "webhook", source, error);
  WebhookSettings w;
  w.url = t.string("url", true);
  if (!t.failed() && !split_url(w.url)) t.fail("url", "must be an http:// or https:// URL with a host");
  if (auto secret = t.secret("secret_env", env)) w.secret = *secret;
  if (!t.failed() && w.secret.size() < 16) t.fail("secret_env", "the signing secret must be at least 16 bytes long");
  w.timeout = t.duration("timeout", w.timeout);
  w.retry_initial = t.duration("retry_initial", w.retry_initial);
  w.retry_max = t.duration("retry_max", w.retry_max);
  if (!t.failed() && w.retry_max < w.retry_initial) t.fail("retry_max", "must be at least retry_initial");
  if (t.failed()) return Status::error(error);
  if (unknown_keys != nullptr) t.collect_unknown(kWebhookKeys, *unknown_keys);
  return std::optional<WebhookSettings>(std::move(w));
}

std::string webhook_signature(const std::string& secret, std::string_view body) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int n = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac.data(), &n);
  std::string out = "sha256=";
  for (unsigned int i = 0; i < n; ++i) out += fmt::format("{:02x}", mac[i]);
  return out;
}

CaseWebhook::CaseWebhook(Store& store, const Clock& clock, WebhookSettings settings)
    : store_(store), clock_(clock), settings_(std::move(settings)) {}

Result<WebhookPass> CaseWebhook::run_once() {
  WebhookPass pass;
  const Instant now = clock_.now();
  if (now < next_attempt_at_) {
    pass.waiting = true;
    return pass;
  }
  auto cursor_text = store_.get_meta(kCursorKey);
  if (!cursor_text) return cursor_text.status();
  std::int64_t cursor = 0;
  if (cursor_text->has_value()) {
    const std::string& v = **cursor_text;
    std::from_chars(v.data(), v.data() + v.size(), cursor);
  }
  auto changes = store_.case_changes(cursor, 100);
  if (!changes) return changes.status();
  const auto [origin, path] = *split_url(settings_.url);
  httplib::Client client(origin);
  client.set_tcp_nodelay(true);
  const auto timeout = std::chrono::milliseconds(settings_.timeout);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);
  for (const CaseChange& change : *changes) {
    auto kase = store_.find_case(change.case_id);
    if (!kase) return kase.status();
    nlohmann::ordered_json body = {{"id", change.id}, {"kind", change.entry.kind}};
    body["case"] = kase->has_value() ? case_json(**kase) : nlohmann::ordered_json();
    body["entry"] = case_entry_json(change.entry);
    const std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    const httplib::Headers headers = {{"X-Ghostwatch-Signature", webhook_signature(settings_.secret, text)},
                                      {"X-Ghostwatch-Delivery", std::to_string(change.id)}};
    auto r = client.Post(path, headers, text, "application/json");
    const bool accepted = r && r->status >= 200 && r->status < 300;
    if (!accepted && (!r || !is_refusal(r->status))) {
      pass.waiting = true;
      pass.last_error = r ? fmt::format("HTTP {}", r->status) : httplib::to_string(r.error());
      ++failures_;
      const Duration delay = std::min(settings_.retry_max, settings_.retry_initial << std::min(failures_ - 1, 30u));
      next_attempt_at_ = now + delay;
      return pass;
    }
    if (is_refusal(r->status)) {
      ++pass.refused;
      pass.last_error = fmt::format("change {} refused: HTTP {}: {}", change.id, r->status, r->body.substr(0, 200));
    } else {
      ++pass.delivered;
    }
    failures_ = 0;
    if (Status s = store_.set_meta(kCursorKey, std::to_string(change.id)); !s) return s;
  }
  return pass;
}

}  // namespace gw
