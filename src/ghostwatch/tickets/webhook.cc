#include "ghostwatch/tickets/webhook.h"

#include <fmt/format.h>
#include <httplib.h>
#include <openssl/hmac.h>

#include <array>
#include <chrono>

#include "ghostwatch/core/hex.h"
#include "ghostwatch/server/case_json.h"

namespace gw {
namespace {

constexpr std::string_view kWebhookKeys[] = {"url", "secret_env", "timeout", "retry_initial", "retry_max"};

}  // namespace

Result<std::optional<WebhookSettings>> parse_webhook_config(std::string_view text, std::string_view source,
                                                            const EnvLookup& env,
                                                            std::vector<std::string>* unknown_keys) {
  auto table = optional_table(text, source, "webhook");
  if (!table) return table.status();
  if (!table->has_value()) return std::optional<WebhookSettings>();
  std::string error;
  ConfigTable t(&**table, "webhook", source, error);
  WebhookSettings w;
  w.url = t.string("url", true);
  if (!t.failed() && !split_http_url(w.url)) t.fail("url", "must be an http:// or https:// URL with a host");
  if (auto secret = t.secret("secret_env", env)) w.secret = *secret;
  if (!t.failed() && w.secret.size() < 16) t.fail("secret_env", "the signing secret must be at least 16 bytes long");
  read_timeout_and_retry(t, w.timeout, w.retry);
  if (t.failed()) return Status::error(error);
  if (unknown_keys != nullptr) t.collect_unknown(kWebhookKeys, *unknown_keys);
  return std::optional<WebhookSettings>(std::move(w));
}

std::string webhook_signature(const std::string& secret, std::string_view body) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int n = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac.data(), &n);
  return "sha256=" + lower_hex(mac.data(), n);
}

MirrorResult WebhookTarget::operator()(const CaseChange& change, const std::optional<CaseRow>& kase) const {
  nlohmann::ordered_json body = {{"id", change.id}, {"kind", change.entry.kind}};
  body["case"] = kase ? case_json(*kase) : nlohmann::ordered_json();
  body["entry"] = case_entry_json(change.entry);
  const std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const auto [origin, path] = *split_http_url(settings_.url);
  httplib::Client client(origin);
  client.set_tcp_nodelay(true);
  const auto timeout = std::chrono::milliseconds(settings_.timeout);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);
  const httplib::Headers headers = {{"X-Ghostwatch-Signature", webhook_signature(settings_.secret, text)},
                                    {"X-Ghostwatch-Delivery", std::to_string(change.id)}};
  auto r = client.Post(path, headers, text, "application/json");
  MirrorResult result;
  result.outcome = http_outcome(r ? std::optional<int>(r->status) : std::nullopt);
  if (!r) {
    result.error = httplib::to_string(r.error());
  } else if (result.outcome != MirrorResult::kDone) {
    result.error = fmt::format("change {}: HTTP {}: {}", change.id, r->status, r->body.substr(0, 200));
  }
  return result;
}

}  // namespace gw
