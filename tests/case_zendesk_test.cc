// ZendeskTarget through CaseMirror against a local HTTP server that plays
// the Zendesk Tickets API (search by external_id, create, update) and
// checks each request's shape and API-token authentication: one ticket per
// case, never a second one after a crash, every change an internal comment,
// status and outcome on the ticket. And the [zendesk] table's rules.
#include <gtest/gtest.h>
#include <httplib.h>

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "case_support.h"
#include "ghostwatch/inbound/intake.h"
#include "ghostwatch/tickets/zendesk.h"

namespace gw::test {
namespace {

// A Zendesk account's tickets, as the fake API keeps them.
struct FakeZendesk {
  std::mutex mu;
  std::map<std::int64_t, nlohmann::json> tickets;  // id -> ticket
  std::vector<std::string> requests;               // "METHOD path"
  int unauthorised = 0;
  bool fail_next_update = false;
};

class CaseZendeskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // "ops@acme.example/token:s3cret" in base64.
    const std::string auth = "Basic b3BzQGFjbWUuZXhhbXBsZS90b2tlbjpzM2NyZXQ=";
    const auto authorised = [this, auth](const httplib::Request& req) {
      std::lock_guard lock(zd_.mu);
      zd_.requests.push_back(req.method + " " + req.path);
      if (req.get_header_value("Authorization") == auth) return true;
      ++zd_.unauthorised;
      return false;
    };
    http_.server.Get("/api/v2/tickets.json", [this, authorised](const httplib::Request& req, httplib::Response& res) {
      if (!authorised(req)) return void(res.status = 401);
      std::lock_guard lock(zd_.mu);
      nlohmann::json found = nlohmann::json::array();
      for (const auto& [id, t] : zd_.tickets) {
        if (t["external_id"] == req.get_param_value("external_id")) found.push_back(t);
      }
      res.set_content(nlohmann::json{{"tickets", found}}.dump(), "application/json");
    });
    http_.server.Post("/api/v2/tickets.json", [this, authorised](const httplib::Request& req, httplib::Response& res) {
      if (!authorised(req)) return void(res.status = 401);
      std::lock_guard lock(zd_.mu);
      nlohmann::json t = nlohmann::json::parse(req.body)["ticket"];
      t["id"] = 1000 + static_cast<std::int64_t>(zd_.tickets.size());
      t["comments"] = nlohmann::json::array({t["comment"]});
      t.erase("comment");
      zd_.tickets[t["id"]] = t;
      res.status = 201;
      res.set_content(nlohmann::json{{"ticket", t}}.dump(), "application/json");
    });
    http_.server.Put(R"(/api/v2/tickets/(\d+)\.json)",
                     [this, authorised](const httplib::Request& req, httplib::Response& res) {
                       if (!authorised(req)) return void(res.status = 401);
                       std::lock_guard lock(zd_.mu);
                       if (zd_.fail_next_update) {
                         zd_.fail_next_update = false;
                         return void(res.status = 503);
                       }
                       auto it = zd_.tickets.find(std::stoll(req.matches[1]));
                       if (it == zd_.tickets.end()) return void(res.status = 404);
                       const nlohmann::json update = nlohmann::json::parse(req.body)["ticket"];
                       it->second["comments"].push_back(update["comment"]);
                       if (update.contains("status")) it->second["status"] = update["status"];
                       for (const auto& tag : update.value("additional_tags", nlohmann::json::array()))
                         it->second["tags"].push_back(tag);
                       res.set_content(nlohmann::json{{"ticket", it->second}}.dump(), "application/json");
                     });
    http_.start();
  }

  ZendeskSettings settings() const {
    ZendeskSettings z;
    z.url = http_.url();
    z.email = "ops@acme.example";
    z.token = "s3cret";
    z.groups["ops"] = 360001;
    z.retry.initial = kSecond;
    return z;
  }

  std::int64_t escalate_with_client_address() {
    return world_.escalate({UserLine("2024-03-01T00:00:00Z", "k1", R"("email":"ana@clients.example","name":"Ana")")});
  }

  TempDir dir_;
  CaseWorld world_{dir_};
  LoopbackServer http_;
  FakeZendesk zd_;
};

TEST_F(CaseZendeskTest, ACaseIsOneTicketThatFollowsItsChanges) {
  const std::int64_t id = escalate_with_client_address();
  CaseMirror mirror(*world_.store, world_.clock, "zendesk.cursor", settings().retry,
                    ZendeskTarget(*world_.store, settings()));
  ASSERT_EQ(mirror.run_once().value().delivered, 1u);
  CaseUpdate u;
  u.status = CaseStatus::kSolved;
  u.outcome = CaseOutcome::kFreelancerReplaced;
  u.author = "ana";
  ASSERT_TRUE(world_.store->update_case(id, u, world_.clock.now()).value());
  ASSERT_TRUE(world_.store->add_case_note(id, "ana", "Found a new freelancer.", world_.clock.now()).value());
  const MirrorPass pass = mirror.run_once().value();
  EXPECT_EQ(pass.delivered, 3u) << pass.last_error;

  std::lock_guard lock(zd_.mu);
  EXPECT_EQ(zd_.unauthorised, 0);
  ASSERT_EQ(zd_.tickets.size(), 1u);
  const nlohmann::json& t = zd_.tickets.begin()->second;
  EXPECT_EQ(t["external_id"], "ghostwatch-case-" + std::to_string(id));
  EXPECT_EQ(t["group_id"], 360001);
  EXPECT_EQ(t["requester"]["email"], "ana@clients.example");
  EXPECT_EQ(t["status"], "solved");
  EXPECT_EQ(t["tags"], nlohmann::json({"ghostwatch", "team-ops", "outcome-freelancer_replaced"}));
  ASSERT_EQ(t["comments"].size(), 4u);
  for (const auto& comment : t["comments"]) EXPECT_EQ(comment["public"], false) << "internal notes only";
  EXPECT_NE(t["comments"][0]["body"].get<std::string>().find("contract c1"), std::string::npos);
  EXPECT_EQ(t["comments"][3]["body"], "Found a new freelancer. (note by ana)");
}

TEST_F(CaseZendeskTest, AnEmailFromTheFreelancerIsACommentWithItsVisibleText) {
  world_.escalate({UserLine("2024-03-01T00:00:00Z", "f1", R"("role":"freelancer","email":"f1@example.com")")});
  inbound::Intake intake(*world_.service, *world_.store, world_.clock, {});
  ASSERT_EQ(intake
                .take("From: f1@example.com\r\nMessage-ID: <z1@example.com>\r\n\r\nOn it now.\r\n\r\n"
                      "On Fri, 1 Mar 2024, Ghostwatch wrote:\r\n> Your client is waiting.\r\n",
                      "test")
                .value()
                .route,
            InboundRoute::kCase);
  // A freelancer with no open episode writes in: a ticket about no contract.
  ASSERT_TRUE(world_.service
                  ->ingest(UserLine("2024-03-08T00:00:00Z", "f9",
                                    R"("role":"freelancer","email":"f9@example.com","name":"Noor")"),
                           "")
                  .status == 200);
  ASSERT_EQ(
      intake.take("From: f9@example.com\r\nMessage-ID: <z2@example.com>\r\n\r\nAny work?\r\n", "test").value().route,
      InboundRoute::kCase);
  CaseMirror mirror(*world_.store, world_.clock, "zendesk.cursor", settings().retry,
                    ZendeskTarget(*world_.store, settings()));
  EXPECT_EQ(mirror.run_once().value().delivered, 3u);  // escalated, and the two e-mails
  std::lock_guard lock(zd_.mu);
  ASSERT_EQ(zd_.tickets.size(), 2u);
  for (const auto& [id, t] : zd_.tickets) {
    if (t["subject"] == "E-mail from freelancer f9") {
      EXPECT_EQ(t["requester"]["email"], "f9@example.com");
      EXPECT_EQ(t["comments"][0]["body"], "E-mail from f9@example.com:\n\nAny work?");
    } else {
      ASSERT_EQ(t["comments"].size(), 2u);
      EXPECT_EQ(t["comments"][1]["body"], "E-mail from f1@example.com:\n\nOn it now.");
    }
  }
}

TEST_F(CaseZendeskTest, ARetryAfterACrashFindsTheTicketInsteadOfMakingASecond) {
  escalate_with_client_address();
  // The first run made the ticket, then the process died before it moved
  // its position: a new mirror (and target) starts over from the change.
  {
    ZendeskTarget first(*world_.store, settings());
    const CaseChange change = world_.store->case_changes(0, 1).value().at(0);
    ASSERT_EQ(first(change, world_.store->find_case(change.case_id).value()).outcome, MirrorResult::kDone);
  }
  CaseMirror mirror(*world_.store, world_.clock, "zendesk.cursor", settings().retry,
                    ZendeskTarget(*world_.store, settings()));
  ASSERT_EQ(mirror.run_once().value().delivered, 1u);
  std::lock_guard lock(zd_.mu);
  EXPECT_EQ(zd_.tickets.size(), 1u);
  EXPECT_EQ(zd_.tickets.begin()->second["comments"].size(), 2u) << "the change again, as a comment on the same ticket";
}

TEST_F(CaseZendeskTest, AnUnavailableApiIsRetriedLater) {
  const std::int64_t id = escalate_with_client_address();
  CaseMirror mirror(*world_.store, world_.clock, "zendesk.cursor", settings().retry,
                    ZendeskTarget(*world_.store, settings()));
  ASSERT_EQ(mirror.run_once().value().delivered, 1u);
  ASSERT_TRUE(world_.store->add_case_note(id, "ana", "x", world_.clock.now()).value());
  {
    std::lock_guard lock(zd_.mu);
    zd_.fail_next_update = true;
  }
  const MirrorPass pass = mirror.run_once().value();
  EXPECT_TRUE(pass.waiting);
  EXPECT_NE(pass.last_error.find("HTTP 503"), std::string::npos) << pass.last_error;
}

TEST(ZendeskConfig, TheTableIsOptionalAndItsRulesNameTheKey) {
  const EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "ZD_TOKEN") return std::string("tok");
    return std::nullopt;
  };
  EXPECT_FALSE(parse_zendesk_config("[campaign]\nname = \"x\"\n", "p.toml", env).value().has_value());
  auto ok = parse_zendesk_config(
      "[zendesk]\nurl = \"https://acme.zendesk.com/\"\nemail = \"ops@acme.example\"\ntoken_env = \"ZD_TOKEN\"\n"
      "[zendesk.groups]\nimproving-outcomes = 360001234567\n",
      "p.toml", env);
  ASSERT_TRUE(ok.is_ok()) << ok.message();
  EXPECT_EQ((*ok)->url, "https://acme.zendesk.com");
  EXPECT_EQ((*ok)->token, "tok");
  EXPECT_EQ((*ok)->groups.at("improving-outcomes"), 360001234567);
  const auto error = [&](const std::string& text) {
    auto r = parse_zendesk_config(text, "p.toml", env);
    return r.is_ok() ? std::string("(no error)") : r.message();
  };
  const std::string base = "[zendesk]\nemail = \"ops@acme.example\"\ntoken_env = \"ZD_TOKEN\"\n";
  EXPECT_EQ(error(base), "p.toml: zendesk.url: is required");
  EXPECT_EQ(error(base + "url = \"https://acme.zendesk.com/api/v2\"\n"),
            "p.toml: zendesk.url: must be the account's base URL, like \"https://acme.zendesk.com\"");
  EXPECT_EQ(error(base + "url = \"https://acme.zendesk.com\"\n[zendesk.groups]\nops = \"x\"\n"),
            "p.toml: zendesk.groups.ops: must be a positive whole number (a Zendesk group id)");
  EXPECT_EQ(error("[zendesk]\nurl = \"https://a.zendesk.com\"\nemail = \"ops\"\ntoken_env = \"ZD_TOKEN\"\n"),
            "p.toml: zendesk.email: must be the API user's e-mail address");
}

}  // namespace
}  // namespace gw::test
