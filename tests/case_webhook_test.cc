// CaseMirror with the WebhookTarget against a real HTTP server on loopback (cpp-httplib), which
// checks each request's shape and HMAC-SHA256 signature: every case change
// arrives once, in order, retried after a 503, skipped after a 400, and not
// again after a restart. And the [webhook] table's rules.
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "case_support.h"
#include "ghostwatch/tickets/webhook.h"

namespace gw::test {
namespace {

constexpr const char* kSecret = "webhook-test-secret-0123456789";

// What the receiver saw, and how it answers the next requests.
struct Receiver {
  std::mutex mu;
  std::vector<nlohmann::json> bodies;
  std::vector<std::string> deliveries;
  std::vector<int> answers;  // consumed in order; 200 once empty
  int bad_signatures = 0;
};

std::string hmac_hex(const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), kSecret, static_cast<int>(std::strlen(kSecret)),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &n);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 15];
  }
  return out;
}

class CaseWebhookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    http_.server.Post("/hooks/ghostwatch", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(receiver_.mu);
      if (req.get_header_value("X-Ghostwatch-Signature") != "sha256=" + hmac_hex(req.body)) {
        ++receiver_.bad_signatures;
      }
      int status = 200;
      if (!receiver_.answers.empty()) {
        status = receiver_.answers.front();
        receiver_.answers.erase(receiver_.answers.begin());
      }
      if (status == 200) {
        receiver_.bodies.push_back(nlohmann::json::parse(req.body));
        receiver_.deliveries.push_back(req.get_header_value("X-Ghostwatch-Delivery"));
      }
      res.status = status;
    });
    http_.start();
  }

  WebhookSettings settings() const {
    WebhookSettings w;
    w.url = http_.url() + "/hooks/ghostwatch";
    w.secret = kSecret;
    w.retry.initial = 5 * kSecond;
    return w;
  }

  // An escalation's case, then a change of status and a note: four changes
  // (escalated, status, assignee, note).
  std::int64_t make_case_with_changes() {
    const std::int64_t id = world_.escalate();
    CaseUpdate u;
    u.status = CaseStatus::kOpen;
    u.assignee = "ana";
    u.author = "lead";
    EXPECT_TRUE(world_.store->update_case(id, u, world_.clock.now()).value());
    EXPECT_TRUE(world_.store->add_case_note(id, "ana", "Called the client.", world_.clock.now()).value());
    return id;
  }

  TempDir dir_;
  CaseWorld world_{dir_};
  LoopbackServer http_;
  Receiver receiver_;
};

TEST_F(CaseWebhookTest, EveryChangeArrivesSignedInOrderRetriedAfterA503AndNotAgainAfterARestart) {
  const std::int64_t id = make_case_with_changes();
  receiver_.answers = {503};
  CaseMirror hook(*world_.store, world_.clock, "webhook.cursor", settings().retry, WebhookTarget(settings()));
  MirrorPass pass = hook.run_once().value();
  EXPECT_TRUE(pass.waiting);
  EXPECT_EQ(pass.delivered, 0u);
  EXPECT_NE(pass.last_error.find("HTTP 503"), std::string::npos) << pass.last_error;
  pass = hook.run_once().value();
  EXPECT_TRUE(pass.waiting) << "not before retry_initial";
  world_.clock.now_ += 5 * kSecond;
  pass = hook.run_once().value();
  EXPECT_FALSE(pass.waiting) << pass.last_error;
  EXPECT_EQ(pass.delivered, 4u);

  std::lock_guard lock(receiver_.mu);
  EXPECT_EQ(receiver_.bad_signatures, 0);
  ASSERT_EQ(receiver_.bodies.size(), 4u);
  std::vector<std::string> kinds;
  for (const auto& b : receiver_.bodies) {
    kinds.push_back(b["kind"].get<std::string>());
    EXPECT_EQ(b["case"]["id"], id);
    EXPECT_EQ(b["case"]["team"], "ops");
    EXPECT_EQ(b["case"]["contract"], "c1");
    EXPECT_EQ(b["entry"]["kind"], b["kind"]);
    EXPECT_EQ(receiver_.deliveries[kinds.size() - 1], b["id"].dump());
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"escalated", "status", "assignee", "note"}));
  EXPECT_EQ(receiver_.bodies[3]["entry"]["text"], "Called the client.");
  EXPECT_EQ(receiver_.bodies[3]["entry"]["author"], "ana");

  // A restart: the position is in the store.
  CaseMirror again(*world_.store, world_.clock, "webhook.cursor", settings().retry, WebhookTarget(settings()));
  EXPECT_EQ(again.run_once().value().delivered, 0u);
}

TEST_F(CaseWebhookTest, ARefusedChangeIsSkippedAndTheOthersGoOn) {
  make_case_with_changes();
  receiver_.answers = {200, 400};
  CaseMirror hook(*world_.store, world_.clock, "webhook.cursor", settings().retry, WebhookTarget(settings()));
  const MirrorPass pass = hook.run_once().value();
  EXPECT_EQ(pass.delivered, 3u);
  EXPECT_EQ(pass.refused, 1u);
  EXPECT_NE(pass.last_error.find("HTTP 400"), std::string::npos) << pass.last_error;
  std::lock_guard lock(receiver_.mu);
  ASSERT_EQ(receiver_.bodies.size(), 3u);
  EXPECT_EQ(receiver_.bodies[1]["kind"], "assignee");
}

TEST(WebhookConfig, TheTableIsOptionalAndItsRulesNameTheKey) {
  const EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "HOOK_SECRET") return std::string(kSecret);
    if (name == "SHORT") return std::string("short");
    return std::nullopt;
  };
  EXPECT_FALSE(parse_webhook_config("[campaign]\nname = \"x\"\n", "p.toml", env).value().has_value());
  auto ok = parse_webhook_config(
      "[webhook]\nurl = \"https://hooks.example/gw\"\nsecret_env = \"HOOK_SECRET\"\nretry_max = \"1h\"\n", "p.toml",
      env);
  ASSERT_TRUE(ok.is_ok()) << ok.message();
  EXPECT_EQ((*ok)->url, "https://hooks.example/gw");
  EXPECT_EQ((*ok)->secret, kSecret);
  EXPECT_EQ((*ok)->retry.max, kHour);
  const auto error = [&](const std::string& text) {
    auto r = parse_webhook_config(text, "p.toml", env);
    return r.is_ok() ? std::string("(no error)") : r.message();
  };
  EXPECT_EQ(error("[webhook]\nsecret_env = \"HOOK_SECRET\"\n"), "p.toml: webhook.url: is required");
  EXPECT_EQ(error("[webhook]\nurl = \"ftp://x\"\nsecret_env = \"HOOK_SECRET\"\n"),
            "p.toml: webhook.url: must be an http:// or https:// URL with a host");
  EXPECT_EQ(error("[webhook]\nurl = \"https://x.example\"\nsecret_env = \"NOPE\"\n"),
            "p.toml: webhook.secret_env: the environment variable NOPE is not set");
  EXPECT_EQ(error("[webhook]\nurl = \"https://x.example\"\nsecret_env = \"SHORT\"\n"),
            "p.toml: webhook.secret_env: the signing secret must be at least 16 bytes long");
  EXPECT_EQ(error("webhook = 3\n"), "p.toml: webhook: must be a table");
}

}  // namespace
}  // namespace gw::test
