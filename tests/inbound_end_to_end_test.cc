// Replies come back, end to end with real servers: `ghostwatch serve` sends
// its nudges to one SMTP server (aiosmtpd, tests/smtp_sink.py); people's
// replies travel over SMTP to a second one, our inbound MX, which delivers
// into the maildir that serve watches (--inbound-maildir); inbound-parse
// webhooks POST raw messages to /v1/inbound. A freelancer's reply to the
// nudge thread lands on the contract's case with only its visible text, the
// escalation and the client's reply to the check-in join the same case,
// forged tokens and strangers wait in the unmatched queue, and a bounce
// stops the freelancer's nudges. Skipped, with a message, without
// python3-aiosmtpd.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "ghostwatch/mail/smtp_transport.h"
#include "mail_support.h"
#include "smtp_sink.h"

namespace gw::test {
namespace {

const std::string kInboundEvents =
    R"({"type":"user","at":"2024-03-01T00:00:00Z","id":"f1","role":"freelancer","country":"DE","tz":"Europe/Berlin","email":"lena@freelancers.example","name":"Lena"}
{"type":"user","at":"2024-03-01T00:00:00Z","id":"k1","role":"client","country":"US","email":"ana@clients.example","name":"Ana"}
{"type":"user","at":"2024-03-01T00:00:00Z","id":"f2","role":"freelancer","country":"FR","email":"paul@freelancers.example","name":"Paul"}
{"type":"contract_started","at":"2024-03-01T00:00:00Z","contract":"c1","client":"k1","freelancer":"f1"}
{"type":"contract_started","at":"2024-03-01T00:00:00Z","contract":"c2","client":"k1","freelancer":"f2"}
{"type":"message","at":"2024-03-01T10:00:00Z","contract":"c1","from":"k1"}
{"type":"message","at":"2024-03-01T10:00:00Z","contract":"c2","from":"k1"}
)";

std::string inbound_policy(const std::string& smtp_url) {
  return std::string(R"([campaign]
name = "anti-ghosting"
start = "2024-01-01T00:00:00Z"
holdout_percent = 0.0
salt = "inbound-test"

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
client_checkin = "escalation-checkin"
templates = ")") +
         GHOSTWATCH_SOURCE_DIR + R"(/templates"

[smtp]
url = ")" +
         smtp_url + R"("
retry_initial = "1s"
)";
}

// A reply as a mail client writes it: the answer on top, the quoted nudge below.
std::string reply_mail(const std::string& from, const std::string& to, const std::string& message_id,
                       const std::string& in_reply_to, const std::string& answer) {
  return fmt::format(
      "From: {}\r\nTo: {}\r\nSubject: Re: your client is waiting\r\nMessage-ID: <{}>\r\nIn-Reply-To: <{}>\r\n"
      "Date: Tue, 5 Mar 2024 09:00:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n\r\n"
      "On Mon, 4 Mar 2024 at 10:00, Marketplace Reminders <reminders@marketplace.example> wrote:\r\n"
      "> Your client is waiting for an answer.\r\n> Open the conversation\r\n",
      from, to, message_id, in_reply_to, answer);
}

class InboundEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_aiosmtpd()) GTEST_SKIP() << kPython << " has no aiosmtpd module: apt-get install python3-aiosmtpd";
    ASSERT_TRUE(outbound_.ready()) << outbound_.log();
    ASSERT_TRUE(inbound_mx_.ready()) << inbound_mx_.log();
    write_file(dir_.file("policy.toml"), inbound_policy(outbound_.url()));
    serve_ = std::make_unique<ServeProcess>(
        std::vector<std::string>{"--config", dir_.file("policy.toml"), "--data", dir_.file("data"), "--clock", "events",
                                 "--inbound-maildir", inbound_mx_.maildir()},
        dir_.file("serve.log"), std::vector<std::string>{std::string(kSampleMailKeyEnv) + "=" + kSampleMailKey});
    ASSERT_TRUE(serve_->running()) << serve_->log();
  }

  // Someone's mail client sends `bytes` to our inbound MX.
  void send_to_mx(const std::string& from, const std::string& rcpt, const std::string& bytes) {
    mail::SmtpSettings settings;
    settings.url = inbound_mx_.url();
    mail::SmtpTransport mua(settings);
    const mail::SendResult r = mua.send(from, rcpt, bytes);
    ASSERT_EQ(r.outcome, mail::SendOutcome::kSent) << r.reply;
  }

  // The e-mails the outbound server got for `address`, waiting up to 30 s for `n`.
  std::vector<ParsedMail> mail_to(const std::string& address, std::size_t n) {
    std::vector<ParsedMail> out;
    for (int i = 0; i < 300; ++i) {
      out.clear();
      for (const std::string& m : outbound_.delivered()) {
        ParsedMail p = parse_mail(m);
        if (p.to.address == address) out.push_back(std::move(p));
      }
      if (out.size() >= n) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return out;
  }

  nlohmann::json get(const std::string& path) {
    auto r = serve_->client().Get(path);
    EXPECT_TRUE(r && r->status == 200) << path << ": " << (r ? r->body : "no response");
    return r ? nlohmann::json::parse(r->body, nullptr, false) : nlohmann::json();
  }

  // Waits (up to 30 s) until `path`'s items satisfy `done`.
  nlohmann::json wait_for(const std::string& path, const std::function<bool(const nlohmann::json&)>& done) {
    nlohmann::json body;
    for (int i = 0; i < 300; ++i) {
      body = get(path);
      if (done(body)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return body;
  }

  static std::vector<nlohmann::json> entries(const nlohmann::json& c, const std::string& kind) {
    std::vector<nlohmann::json> out;
    for (const auto& e : c["timeline"]) {
      if (e["kind"] == kind) out.push_back(e);
    }
    return out;
  }

  TempDir dir_;
  SmtpSink outbound_;
  SmtpSink inbound_mx_;
  std::unique_ptr<ServeProcess> serve_;
};

TEST_F(InboundEndToEnd, RepliesReachTheRightCaseAndStrangersWaitUnmatched) {
  auto c = serve_->client();
  ASSERT_EQ(c.Post("/v1/events", kInboundEvents, "application/x-ndjson")->status, 200);
  ASSERT_EQ(c.Post("/v1/advance?to=2024-03-02T12:00:00Z", "", "text/plain")->status, 200);
  const std::vector<ParsedMail> nudges = mail_to("lena@freelancers.example", 1);
  ASSERT_EQ(nudges.size(), 1u) << outbound_.envelopes();
  const ParsedMail& nudge = nudges[0];
  ASSERT_EQ(nudge.reply_to.address.rfind("reply+", 0), 0u);

  // Lena answers the nudge from her mail client: over SMTP to our MX, into the maildir.
  send_to_mx("lena@freelancers.example", nudge.reply_to.address,
             reply_mail("Lena <lena@freelancers.example>", nudge.reply_to.address, "lena-1@freelancers.example",
                        nudge.message_id, "Sorry! I was ill. I will answer Ana today."));
  nlohmann::json cases = wait_for("/v1/cases", [](const auto& b) { return b["items"].size() >= 1; });
  ASSERT_EQ(cases["items"].size(), 1u) << serve_->log();
  const std::int64_t case_id = cases["items"][0]["id"];
  EXPECT_EQ(cases["items"][0]["contract"], "c1");
  EXPECT_EQ(cases["items"][0]["team"], "improving-outcomes");

  // c1's and c2's escalations: c1's joins Lena's case; Ana is asked whether she still needs help.
  ASSERT_EQ(c.Post("/v1/advance?to=2024-03-07T00:00:00Z", "", "text/plain")->status, 200);
  const std::vector<ParsedMail> checkins = mail_to("ana@clients.example", 2);
  ASSERT_EQ(checkins.size(), 2u) << outbound_.envelopes();
  cases = wait_for("/v1/cases", [](const auto& b) { return b["items"].size() >= 2; });
  ASSERT_EQ(cases["items"].size(), 2u);
  EXPECT_EQ(cases["items"][0]["id"], case_id) << "c1's escalation joined the case the reply opened";
  // Ana's answer to c1's check-in comes through an inbound-parse webhook.
  const ParsedMail* checkin_c1 = nullptr;
  for (const ParsedMail& m : checkins) {
    if (m.parts.empty() ? false : m.parts[0].body.find("Lena") != std::string::npos) checkin_c1 = &m;
  }
  ASSERT_NE(checkin_c1, nullptr) << "a check-in names the freelancer";
  auto posted = c.Post("/v1/inbound",
                       reply_mail("Ana <ana@clients.example>", checkin_c1->reply_to.address, "ana-1@clients.example",
                                  checkin_c1->message_id, "Yes please, I still need this done by Friday."),
                       "message/rfc822");
  ASSERT_TRUE(posted);
  ASSERT_EQ(posted->status, 201) << posted->body;
  EXPECT_EQ(nlohmann::json::parse(posted->body)["case"], case_id);

  const nlohmann::json the_case = get(fmt::format("/v1/cases/{}", case_id));
  const auto in = entries(the_case, "email_in");
  ASSERT_EQ(in.size(), 2u) << the_case.dump(2);
  EXPECT_EQ(in[0]["text"], "Sorry! I was ill. I will answer Ana today.");
  EXPECT_EQ(in[0]["author"], "lena@freelancers.example");
  EXPECT_EQ(in[1]["text"], "Yes please, I still need this done by Friday.");
  EXPECT_EQ(in[1]["author"], "ana@clients.example");
  EXPECT_EQ(entries(the_case, "escalated").size(), 1u);
  EXPECT_EQ(entries(the_case, "email_sent").size(), 3u) << "both nudges and the check-in, for context";

  // A forged token through the MX, a stranger through the webhook: unmatched.
  const std::string forged = "reply+aaaaaaaaaaaaaaaaaaaa-bbbbbbbbbbbbbbbb@reply.marketplace.example";
  send_to_mx("lena@freelancers.example", forged,
             reply_mail("lena@freelancers.example", forged, "lena-2@freelancers.example", "x@y", "Forged?"));
  ASSERT_EQ(c.Post("/v1/inbound",
                   reply_mail("someone@elsewhere.example", "help@marketplace.example", "s-1@elsewhere.example", "x@y",
                              "Do you have work for me?"),
                   "message/rfc822")
                ->status,
            201);
  const nlohmann::json unmatched =
      wait_for("/v1/inbound?route=unmatched", [](const auto& b) { return b["items"].size() >= 2; });
  ASSERT_EQ(unmatched["items"].size(), 2u) << serve_->log();
  std::set<std::string> reasons;
  for (const auto& m : unmatched["items"]) reasons.insert(m["reason"].get<std::string>().substr(0, 19));
  EXPECT_EQ(reasons, (std::set<std::string>{"invalid reply token", "unknown sender some"}));
  EXPECT_EQ(entries(get(fmt::format("/v1/cases/{}", case_id)), "email_in").size(), 2u) << "nothing more on the case";
  // The maildir's messages were taken and moved to cur/.
  std::size_t in_new = 0, in_cur = 0;
  for (const auto& e : std::filesystem::directory_iterator(inbound_mx_.maildir() + "/new"))
    in_new += e.is_regular_file();
  for (const auto& e : std::filesystem::directory_iterator(inbound_mx_.maildir() + "/cur"))
    in_cur += e.is_regular_file();
  EXPECT_EQ(in_new, 0u);
  EXPECT_EQ(in_cur, 2u);
}

TEST_F(InboundEndToEnd, ABounceStopsTheFreelancersNudges) {
  auto c = serve_->client();
  ASSERT_EQ(c.Post("/v1/events", kInboundEvents, "application/x-ndjson")->status, 200);
  ASSERT_EQ(c.Post("/v1/advance?to=2024-03-02T12:00:00Z", "", "text/plain")->status, 200);
  ASSERT_EQ(mail_to("paul@freelancers.example", 1).size(), 1u);
  // Paul's mailbox is gone: the receiving server's DSN comes back to our MX.
  send_to_mx("MAILER-DAEMON@mx.freelancers.example", "bounces@reply.marketplace.example",
             "From: Mail Delivery System <MAILER-DAEMON@mx.freelancers.example>\r\n"
             "To: bounces@reply.marketplace.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
             "Message-ID: <dsn-1@mx.freelancers.example>\r\nAuto-Submitted: auto-replied\r\n"
             "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n--b\r\n"
             "Content-Type: text/plain\r\n\r\nThe mailbox paul@freelancers.example does not exist.\r\n--b\r\n"
             "Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.freelancers.example\r\n\r\n"
             "Final-Recipient: rfc822; paul@freelancers.example\r\nAction: failed\r\nStatus: 5.1.1\r\n--b--\r\n");
  const nlohmann::json user = wait_for("/v1/users/f2", [](const auto& b) { return b["bouncing"] == true; });
  ASSERT_EQ(user["bouncing"], true) << serve_->log();
  ASSERT_EQ(c.Post("/v1/advance?to=2024-03-05T00:00:00Z", "", "text/plain")->status, 200);
  const nlohmann::json decisions = get("/v1/decisions?contract=c2");
  ASSERT_EQ(decisions["items"].size(), 2u);
  EXPECT_EQ(decisions["items"][1]["status"], "suppressed");
  EXPECT_EQ(decisions["items"][1]["reason"], "bounced");
  EXPECT_EQ(mail_to("paul@freelancers.example", 1).size(), 1u) << "no second nudge";
}

}  // namespace
}  // namespace gw::test
