// The case routes of `ghostwatch serve` over real HTTP: an escalation of
// the example policy opens a case for improving-outcomes, which the API
// lists and shows with its timeline; a team member updates it and adds a
// note; bad requests get their status and change nothing.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "case_support.h"
#include "ghostwatch/tickets/webhook.h"
#include "serve_support.h"

namespace gw::test {
namespace {

constexpr const char* kJson = "application/json";

class ServeCases : public ::testing::Test {
 protected:
  void SetUp() override {
    serve_ = std::make_unique<ServeProcess>(
        std::vector<std::string>{"--config", kExamplePolicy, "--data", dir_.file("data"), "--clock", "events"},
        dir_.file("serve.log"));
    ASSERT_TRUE(serve_->running()) << serve_->log();
  }

  // A freelancer of the treatment arm (the example policy holds 10 % out).
  std::string treatment_freelancer() {
    auto c = serve_->client();
    for (int i = 1; i < 50; ++i) {
      const std::string id = "f" + std::to_string(i);
      c.Post("/v1/events",
             R"({"type":"user","at":"2024-03-01T00:00:00Z","id":")" + id + R"(","role":"freelancer","country":"MX"})",
             kNdjson);
      auto u = nlohmann::json::parse(c.Get("/v1/users/" + id)->body);
      if (u["arm"] == "treatment") return id;
    }
    ADD_FAILURE() << "no treatment freelancer among 49";
    return "";
  }

  // Waits for the case list to hold `n` cases; returns them.
  nlohmann::json wait_for_cases(std::size_t n) {
    nlohmann::json items;
    for (int i = 0; i < 100; ++i) {
      items = nlohmann::json::parse(serve_->client().Get("/v1/cases")->body)["items"];
      if (items.size() >= n) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return items;
  }

  TempDir dir_;
  std::unique_ptr<ServeProcess> serve_;
};

TEST_F(ServeCases, AnEscalationOpensACaseTheTeamCanWork) {
  const std::string fl = treatment_freelancer();
  auto c = serve_->client();
  const std::string events =
      R"({"type":"contract_started","at":"2024-03-01T00:00:00Z","contract":"c1","client":"k1","freelancer":")" + fl +
      "\"}\n" + R"({"type":"message","at":"2024-03-01T10:00:00Z","contract":"c1","from":"k1"})" + "\n";
  ASSERT_EQ(c.Post("/v1/events", events, kNdjson)->status, 200);
  ASSERT_EQ(c.Post("/v1/advance?to=2024-03-07T00:00:00Z", "", "text/plain")->status, 200);

  const nlohmann::json items = wait_for_cases(1);
  ASSERT_EQ(items.size(), 1u) << serve_->log();
  const std::string id = std::to_string(items[0]["id"].get<std::int64_t>());
  auto r = c.Get("/v1/cases/" + id);
  ASSERT_EQ(r->status, 200);
  auto kase = nlohmann::json::parse(r->body);
  EXPECT_EQ(kase["team"], "improving-outcomes");
  EXPECT_EQ(kase["contract"], "c1");
  EXPECT_EQ(kase["episode"], 1);
  EXPECT_EQ(kase["freelancer"], fl);
  EXPECT_EQ(kase["client"], "k1");
  EXPECT_EQ(kase["status"], "new");
  EXPECT_TRUE(kase["outcome"].is_null());
  ASSERT_EQ(kase["timeline"].size(), 4u) << kase.dump();
  EXPECT_EQ(kase["timeline"][0]["kind"], "decision");
  EXPECT_EQ(kase["timeline"][0]["at"], "2024-03-02T10:00:00Z");
  EXPECT_EQ(kase["timeline"][3]["kind"], "escalated");
  EXPECT_EQ(c.Get("/v1/cases?team=improving-outcomes&status=new&contract=c1")->body, c.Get("/v1/cases")->body);
  EXPECT_EQ(nlohmann::json::parse(c.Get("/v1/cases?status=solved")->body)["items"].size(), 0u);
  r = c.Get("/v1/cases?format=ndjson");
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/x-ndjson");
  ASSERT_EQ(r->body.back(), '\n');
  EXPECT_EQ(nlohmann::json::parse(r->body), items[0]) << "the export is the list's items, a line each";

  r = c.Patch("/v1/cases/" + id, R"({"status":"open","assignee":"ana","author":"lead"})", kJson);
  ASSERT_EQ(r->status, 200) << r->body;
  kase = nlohmann::json::parse(r->body);
  EXPECT_EQ(kase["status"], "open");
  EXPECT_EQ(kase["assignee"], "ana");
  r = c.Post("/v1/cases/" + id + "/notes", R"({"text":"Called the client.","author":"ana"})", kJson);
  ASSERT_EQ(r->status, 201) << r->body;
  kase = nlohmann::json::parse(r->body);
  EXPECT_EQ(kase["timeline"].back()["kind"], "note");
  EXPECT_EQ(kase["timeline"].back()["text"], "Called the client.");
  EXPECT_EQ(kase["timeline"].back()["author"], "ana");
  r = c.Patch("/v1/cases/" + id, R"({"outcome":"freelancer_replaced","status":"solved"})", kJson);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(nlohmann::json::parse(r->body)["outcome"], "freelancer_replaced");

  // Bad requests: their status, a JSON error, nothing changed.
  const std::string before = c.Get("/v1/cases/" + id)->body;
  EXPECT_EQ(c.Patch("/v1/cases/" + id, R"({"status":"closed"})", kJson)->status, 400);
  EXPECT_EQ(c.Patch("/v1/cases/" + id, R"({"outcome":""})", kJson)->status, 400);
  EXPECT_EQ(c.Patch("/v1/cases/" + id, R"({"assignee":7})", kJson)->status, 400);
  EXPECT_EQ(c.Patch("/v1/cases/" + id, "not json", kJson)->status, 400);
  EXPECT_EQ(c.Post("/v1/cases/" + id + "/notes", R"({"text":""})", kJson)->status, 400);
  EXPECT_EQ(c.Get("/v1/cases?status=closed")->status, 400);
  EXPECT_EQ(c.Get("/v1/cases/" + id)->body, before);
  EXPECT_EQ(c.Get("/v1/cases/999999")->status, 404);
  EXPECT_EQ(c.Patch("/v1/cases/999999", R"({"status":"open"})", kJson)->status, 404);
  EXPECT_EQ(c.Post("/v1/cases/999999/notes", R"({"text":"x"})", kJson)->status, 404);
}

TEST(ServeCasesWebhook, TheServiceMirrorsCaseChangesToTheConfiguredWebhook) {
  std::mutex mu;
  std::vector<nlohmann::json> received;
  int bad_signatures = 0;
  const std::string secret = "serve-webhook-secret-0123456789";
  LoopbackServer receiver;
  receiver.server.Post("/gw", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    if (req.get_header_value("X-Ghostwatch-Signature") != webhook_signature(secret, req.body)) ++bad_signatures;
    received.push_back(nlohmann::json::parse(req.body));
    res.status = 204;
  });
  receiver.start();

  TempDir dir;
  write_file(dir.file("policy.toml"), read_file(kExamplePolicy) + "\n[webhook]\nurl = \"" + receiver.url() +
                                          "/gw\"\nsecret_env = \"GW_TEST_HOOK\"\n");
  {
    ServeProcess serve({"--config", dir.file("policy.toml"), "--data", dir.file("data"), "--clock", "events"},
                       dir.file("serve.log"), {"GW_TEST_HOOK=" + secret});
    ASSERT_TRUE(serve.running()) << serve.log();
    auto c = serve.client();
    // f3 is in the treatment arm of the example policy's salt.
    const std::string events =
        R"({"type":"contract_started","at":"2024-03-01T00:00:00Z","contract":"c1","client":"k1","freelancer":"f3"})"
        "\n"
        R"({"type":"message","at":"2024-03-01T10:00:00Z","contract":"c1","from":"k1"})"
        "\n";
    ASSERT_EQ(c.Post("/v1/events", events, kNdjson)->status, 200);
    ASSERT_EQ(nlohmann::json::parse(c.Get("/v1/users/f3")->body)["arm"], "treatment");
    ASSERT_EQ(c.Post("/v1/advance?to=2024-03-07T00:00:00Z", "", "text/plain")->status, 200);
    for (int i = 0; i < 100; ++i) {
      {
        std::lock_guard lock(mu);
        if (!received.empty()) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(bad_signatures, 0);
  EXPECT_EQ(received[0]["kind"], "escalated");
  EXPECT_EQ(received[0]["case"]["team"], "improving-outcomes");
  EXPECT_EQ(received[0]["case"]["freelancer"], "f3");
}

}  // namespace
}  // namespace gw::test
