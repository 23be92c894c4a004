// E-mail delivery end to end: `ghostwatch serve` with a [mail] section,
// a real SMTP server (aiosmtpd, tests/smtp_sink.py) on loopback, events
// over HTTP. Asserts on the bytes the server received: one threaded,
// localised, unsubscribable e-mail per sent nudge, never a second one (not
// after a restart, not after the server was down for a while), failures
// recorded on the outbox entry, and the unsubscribe link opting the
// freelancer out. Skipped, with a message, without python3-aiosmtpd.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "mail_support.h"
#include "smtp_sink.h"

namespace gw::test {
namespace {

constexpr const char* kNdjsonType = "application/x-ndjson";

// Two nudges for c1 (José, in Mexico: Spanish), none deliverable for c2
// (no address) and c3 (an address the server refuses for good).
const std::string kEvents =
    R"({"type":"user","at":"2024-03-01T00:00:00Z","id":"f1","role":"freelancer","country":"MX","tz":"America/Mexico_City","email":"jose@freelancers.example","name":"José Müller"}
{"type":"user","at":"2024-03-01T00:00:00Z","id":"f2","role":"freelancer","country":"IN","tz":"Asia/Kolkata"}
{"type":"user","at":"2024-03-01T00:00:00Z","id":"f3","role":"freelancer","country":"PH","email":"reject-perm@freelancers.example","name":"Rhea"}
{"type":"user","at":"2024-03-01T00:00:00Z","id":"k1","role":"client","country":"US","email":"ana@clients.example","name":"Ana O'Brien"}
{"type":"contract_started","at":"2024-03-01T00:00:00Z","contract":"c1","client":"k1","freelancer":"f1"}
{"type":"contract_started","at":"2024-03-01T00:00:00Z","contract":"c2","client":"k1","freelancer":"f2"}
{"type":"contract_started","at":"2024-03-01T00:00:00Z","contract":"c3","client":"k1","freelancer":"f3"}
{"type":"message","at":"2024-03-01T10:00:00Z","contract":"c1","from":"k1"}
{"type":"message","at":"2024-03-01T10:00:00Z","contract":"c2","from":"k1"}
{"type":"message","at":"2024-03-01T10:00:00Z","contract":"c3","from":"k1"}
)";
// After both nudge steps (24 h, 72 h), before the escalation (120 h).
constexpr const char* kAfterTwoSteps = "2024-03-05T00:00:00Z";

std::string policy_with_mail(const std::string& smtp_url) {
  return std::string(R"([campaign]
name = "anti-ghosting"
start = "2024-01-01T00:00:00Z"
holdout_percent = 0.0
salt = "dispatch-test"

[limits]
max_nudges_per_day = 10

[[ladder]]
after = "24h"
action = "nudge"
template = "reminder-1"

[[ladder]]
after = "72h"
action = "nudge"
template = "reminder-2"

[[ladder]]
after = "120h"
action = "escalate"
team = "improving-outcomes"

[mail]
from = "Marketplace Reminders <reminders@marketplace.example>"
inbound_domain = "reply.marketplace.example"
public_url = "https://ghostwatch.marketplace.example"
secret_env = "GHOSTWATCH_TEST_MAIL_KEY"
templates = ")") + GHOSTWATCH_SOURCE_DIR + R"(/templates"

[smtp]
url = ")" + smtp_url + R"("
connect_timeout = "2s"
timeout = "5s"
retry_initial = "1s"
retry_max = "2s"
)";
}

std::string subject_of(const std::string& name, const std::string& client) {
  std::string s = read_file(std::string(GHOSTWATCH_SOURCE_DIR) + "/templates/" + name + ".es.subject");
  s = s.substr(0, s.find('\n'));
  s.replace(s.find("{{client_name}}"), 15, client);
  return s;
}

class MailDispatch : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_aiosmtpd()) GTEST_SKIP() << kPython << " has no aiosmtpd module: apt-get install python3-aiosmtpd";
  }

  // `extra_mail_keys`: lines added to the [mail] table.
  std::unique_ptr<ServeProcess> start(const std::string& smtp_url, const std::string& extra_mail_keys = "") {
    std::string policy = policy_with_mail(smtp_url);
    policy.insert(policy.find("[mail]\n") + 7, extra_mail_keys);
    write_file(dir_.file("policy.toml"), policy);
    auto p = std::make_unique<ServeProcess>(
        std::vector<std::string>{"--config", dir_.file("policy.toml"), "--data", dir_.file("data"), "--clock", "events"},
        dir_.file("serve.log"), std::vector<std::string>{std::string(kSampleMailKeyEnv) + "=" + kSampleMailKey});
    EXPECT_TRUE(p->running()) << p->log();
    return p;
  }

  static void post_marketplace(ServeProcess& serve, const std::string& events = kEvents) {
    auto c = serve.client();
    auto r = c.Post("/v1/events", events, kNdjsonType);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    r = c.Post(std::string("/v1/advance?to=") + kAfterTwoSteps, "", "text/plain");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
  }

  static nlohmann::json outbox(ServeProcess& serve, const std::string& query = "") {
    auto r = serve.client().Get("/v1/outbox" + query);
    if (!r || r->status != 200) return nlohmann::json();
    return nlohmann::json::parse(r->body)["items"];
  }

  // Waits (up to 60 s) until no e-mail entry is pending.
  static void wait_until_delivered(ServeProcess& serve) {
    for (int i = 0; i < 600; ++i) {
      const nlohmann::json pending = outbox(serve, "?state=pending");
      const bool email_pending = std::any_of(pending.begin(), pending.end(),
                                             [](const nlohmann::json& e) { return e["channel"] == "email"; });
      if (pending.is_array() && !email_pending) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "e-mails still pending after 60 s: " << outbox(serve).dump() << "\n" << serve.log();
  }

  TempDir dir_;
};

TEST_F(MailDispatch, EverySentNudgeArrivesOnceThreadedLocalisedAndUnsubscribable) {
  SmtpSink sink;
  ASSERT_TRUE(sink.ready()) << sink.log();
  auto serve = start(sink.url());
  post_marketplace(*serve);
  wait_until_delivered(*serve);

  const std::vector<std::string> delivered = sink.delivered();
  ASSERT_EQ(delivered.size(), 2u) << sink.envelopes();
  EXPECT_EQ(sink.envelopes(),
            "reminders@marketplace.example jose@freelancers.example tls=0 auth=-\n"
            "reminders@marketplace.example jose@freelancers.example tls=0 auth=-\n");
  ParsedMail first = parse_mail(delivered[0]);
  ParsedMail second = parse_mail(delivered[1]);
  if (first.headers.count("In-Reply-To") != 0) std::swap(first, second);
  ASSERT_TRUE(first.ok && second.ok);
  EXPECT_EQ(first.to.address, "jose@freelancers.example");
  EXPECT_EQ(first.to.name, "José Müller");
  EXPECT_EQ(first.subject, subject_of("reminder-1", "Ana O'Brien")) << "Mexico: the Spanish template";
  EXPECT_EQ(second.subject, subject_of("reminder-2", "Ana O'Brien"));
  EXPECT_EQ(first.headers.count("In-Reply-To"), 0u);
  EXPECT_EQ(second.headers.at("In-Reply-To"), "<" + first.message_id + ">") << "one thread per episode";
  EXPECT_EQ(first.headers.at("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click");
  EXPECT_EQ(first.headers.at("Auto-Submitted"), "auto-generated");
  EXPECT_EQ(first.reply_to.address.rfind("reply+", 0), 0u);
  ASSERT_EQ(first.parts.size(), 2u);
  EXPECT_NE(first.parts[0].body.find("José Müller"), std::string::npos) << first.parts[0].body;

  // The outbox says the same: two sent, with the Message-IDs that arrived;
  // the freelancer without an address and the refused address are recorded.
  std::map<std::string, nlohmann::json> by_key;
  for (const auto& e : outbox(*serve)) {
    if (e["channel"] == "email") by_key[e["contract"].get<std::string>() + "/" + e["step"].dump()] = e;
  }
  ASSERT_EQ(by_key.size(), 6u) << outbox(*serve).dump();
  EXPECT_EQ(by_key["c1/1"]["state"], "sent");
  EXPECT_EQ(by_key["c1/1"]["message_id"], first.message_id);
  EXPECT_EQ(by_key["c1/1"]["attempts"], 1);
  EXPECT_EQ(by_key["c1/2"]["message_id"], second.message_id);
  EXPECT_EQ(by_key["c2/1"]["state"], "undeliverable");
  EXPECT_NE(by_key["c2/1"]["last_error"].get<std::string>().find("no e-mail address"), std::string::npos);
  EXPECT_EQ(by_key["c3/2"]["state"], "failed");
  EXPECT_EQ(by_key["c3/2"]["last_error"].get<std::string>().rfind("550", 0), 0u) << by_key["c3/2"].dump();
  EXPECT_EQ(by_key["c3/2"]["attempts"], 1) << "a permanent failure is not retried";

  // A restart (after a kill) sends nothing again.
  serve->kill(SIGKILL);
  serve->wait();
  serve = start(sink.url());
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(sink.delivered().size(), 2u);

  // The unsubscribe link: a forged token is refused, the real one opts out
  // (RFC 8058 one-click POST, no login).
  const std::string list = first.headers.at("List-Unsubscribe");
  const std::size_t at = list.find("token=");
  ASSERT_NE(at, std::string::npos) << list;
  const std::string token = list.substr(at + 6, list.find('>', at) - at - 6);
  EXPECT_EQ(list.rfind("<https://ghostwatch.marketplace.example/v1/unsubscribe?token=", 0), 0u) << list;
  auto c = serve->client();
  std::string forged = token;
  forged[forged.size() / 2] = forged[forged.size() / 2] == 'a' ? 'b' : 'a';
  auto r = c.Post("/v1/unsubscribe?token=" + forged, "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_FALSE(nlohmann::json::parse(c.Get("/v1/users/f1")->body)["opted_out"].get<bool>());
  r = c.Post("/v1/unsubscribe?token=" + token, "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  const nlohmann::json user = nlohmann::json::parse(c.Get("/v1/users/f1")->body);
  EXPECT_TRUE(user["opted_out"].get<bool>()) << user.dump();
  EXPECT_EQ(user["email"], "jose@freelancers.example");
  EXPECT_EQ(user["name"], "José Müller");
  r = c.Get("/v1/unsubscribe?token=" + token);  // a click in the e-mail: a page for a person
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
}

TEST_F(MailDispatch, ServerDownForAWhileThenBackEveryEmailArrivesOnce) {
  const int port = free_port();  // nothing listens there yet
  auto serve = start("smtp://127.0.0.1:" + std::to_string(port));
  post_marketplace(*serve);
  // Connection refused: temporary failures, retried with backoff.
  nlohmann::json c1;
  for (int i = 0; i < 300; ++i) {
    c1 = outbox(*serve, "?state=pending");
    const bool retried = std::any_of(c1.begin(), c1.end(), [](const nlohmann::json& e) {
      return e["contract"] == "c1" && e["attempts"].get<int>() >= 2;
    });
    if (retried) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_FALSE(c1.empty()) << serve->log();
  EXPECT_FALSE(c1[0]["last_error"].is_null()) << c1.dump();

  SmtpSink sink(port);
  ASSERT_TRUE(sink.ready()) << sink.log();
  wait_until_delivered(*serve);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const std::vector<std::string> delivered = sink.delivered();
  std::set<std::string> ids;
  for (const std::string& m : delivered) ids.insert(parse_mail(m).message_id);
  EXPECT_EQ(delivered.size(), 2u);
  EXPECT_EQ(ids.size(), 2u) << "two distinct e-mails, each once";
}

TEST_F(MailDispatch, AKillBetweenSendingAndRecordingResendsWithTheSameMessageId) {
  SmtpSink sink;
  ASSERT_TRUE(sink.ready()) << sink.log();
  // The sink stores this freelancer's mail at once and answers 3 s later:
  // a kill in between leaves a delivered e-mail whose delivery is not recorded.
  std::string events = kEvents;
  events.replace(events.find("jose@"), 5, "slow-accept@");
  auto serve = start(sink.url());
  post_marketplace(*serve, events);
  for (int i = 0; i < 600 && sink.delivered().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_EQ(sink.delivered().size(), 1u) << sink.log();
  serve->kill(SIGKILL);
  serve->wait();
  const std::string first_id = parse_mail(sink.delivered()[0]).message_id;

  serve = start(sink.url());
  wait_until_delivered(*serve);
  std::map<std::string, int> copies;
  for (const std::string& m : sink.delivered()) ++copies[parse_mail(m).message_id];
  ASSERT_EQ(copies.size(), 2u) << "both steps arrived, and no e-mail under a new Message-ID";
  EXPECT_EQ(copies[first_id], 2) << "the unrecorded one again, recognisable by its Message-ID";
  std::set<std::string> recorded;
  for (const auto& e : outbox(*serve, "?state=sent")) {
    if (e["channel"] == "email") recorded.insert(e["message_id"].get<std::string>());
  }
  EXPECT_EQ(recorded.size(), 2u);
  for (const auto& [id, n] : copies) EXPECT_EQ(recorded.count(id), 1u) << id;
}

TEST_F(MailDispatch, AnEscalationChecksInWithTheClientWhenConfigured) {
  SmtpSink sink;
  ASSERT_TRUE(sink.ready()) << sink.log();
  auto serve = start(sink.url(), "client_checkin = \"escalation-checkin\"\n");
  auto c = serve->client();
  ASSERT_EQ(c.Post("/v1/events", kEvents, kNdjsonType)->status, 200);
  ASSERT_EQ(c.Post("/v1/advance?to=2024-03-07T00:00:00Z", "", "text/plain")->status, 200);
  // The escalations open their cases, and the case thread queues each
  // check-in for the mail thread: wait for both threads.
  const auto mail_to_client = [&] {
    std::vector<std::string> out;
    for (const std::string& m : sink.delivered()) {
      if (parse_mail(m).to.address == "ana@clients.example") out.push_back(m);
    }
    return out;
  };
  std::vector<std::string> to_client;
  for (int i = 0; i < 100 && (to_client = mail_to_client()).size() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  wait_until_delivered(*serve);
  to_client = mail_to_client();
  // c1, c2 and c3 escalate; their client has an address (c2's freelancer has none).
  ASSERT_EQ(to_client.size(), 3u) << sink.envelopes();
  std::string subject = read_file(std::string(GHOSTWATCH_SOURCE_DIR) + "/templates/escalation-checkin.en.subject");
  subject = subject.substr(0, subject.find('\n'));
  const auto subject_for = [&](const std::string& freelancer) {
    std::string s = subject;
    return s.replace(s.find("{{freelancer_name}}"), 19, freelancer);
  };
  std::set<std::string> subjects;
  for (const std::string& m : to_client) subjects.insert(parse_mail(m).subject);
  // The client is in the US: English. A freelancer without a name or an
  // address is named by their id.
  EXPECT_EQ(subjects, (std::set<std::string>{subject_for("José Müller"), subject_for("Rhea"), subject_for("f2")}));
  const ParsedMail checkin = parse_mail(to_client[0]);
  EXPECT_EQ(checkin.to.name, "Ana O'Brien");
  EXPECT_EQ(checkin.headers.count("In-Reply-To"), 0u) << "a thread of its own, not the freelancer's";
  EXPECT_EQ(checkin.reply_to.address.rfind("reply+", 0), 0u) << "a reply reaches the case";
  std::set<std::string> ids;
  for (const std::string& m : to_client) ids.insert(parse_mail(m).message_id);
  EXPECT_EQ(ids.size(), 3u);
  // The escalation decisions have both entries, each delivered once.
  int cases = 0, emails = 0;
  for (const auto& e : outbox(*serve, "?state=sent")) {
    if (e["action"] != "escalate") continue;
    (e["channel"] == "case" ? cases : emails) += 1;
  }
  EXPECT_EQ(cases, 3);
  EXPECT_EQ(emails, 3);
  EXPECT_EQ(nlohmann::json::parse(c.Get("/v1/cases")->body)["items"].size(), 3u);
}

TEST_F(MailDispatch, WithoutAMailSectionNothingIsSentAndTheOutboxWaits) {
  write_file(dir_.file("policy.toml"), policy_with_mail("smtp://127.0.0.1:1").substr(
                                           0, policy_with_mail("").find("[mail]")));
  ServeProcess serve({"--config", dir_.file("policy.toml"), "--data", dir_.file("data"), "--clock", "events"},
                     dir_.file("serve.log"));
  ASSERT_TRUE(serve.running()) << serve.log();
  post_marketplace(serve);
  EXPECT_NE(serve.log().find("no [mail] section"), std::string::npos) << serve.log();
  EXPECT_EQ(outbox(serve, "?state=pending").size(), 6u);
  auto r = serve.client().Get("/v1/unsubscribe?token=x");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
}

TEST_F(MailDispatch, ALadderTemplateThatDoesNotExistStopsStartup) {
  std::string policy = policy_with_mail("smtp://127.0.0.1:1");
  policy.replace(policy.find("reminder-2"), 10, "reminder-9");
  write_file(dir_.file("policy.toml"), policy);
  ServeProcess serve({"--config", dir_.file("policy.toml"), "--data", dir_.file("data")}, dir_.file("serve.log"),
                     {std::string(kSampleMailKeyEnv) + "=" + kSampleMailKey});
  EXPECT_EQ(serve.wait(), 2);
  EXPECT_NE(serve.log().find("ladder[2].target: no template \"reminder-9\""), std::string::npos) << serve.log();
}

}  // namespace
}  // namespace gw::test
