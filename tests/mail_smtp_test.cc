// The SMTP transport against a real server: aiosmtpd (Debian's
// python3-aiosmtpd) with the handler in tests/smtp_sink.py, on a free
// loopback port. Skipped, with a message, when /usr/bin/python3 lacks aiosmtpd.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "ghostwatch/mail/composer.h"
#include "ghostwatch/mail/smtp_transport.h"
#include "mail_support.h"
#include "smtp_sink.h"
#include "serve_support.h"

extern char** environ;

namespace gw::mail {
namespace {

namespace fs = std::filesystem;

using test::SmtpSink;
using test::SilentListener;
using test::free_port;
using test::kPython;
using test::have_aiosmtpd;
using test::can_connect;

class MailSmtp : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (have_aiosmtpd()) sink_ = new SmtpSink();
  }
  static void TearDownTestSuite() {
    delete sink_;
    sink_ = nullptr;
  }
  void SetUp() override {
    if (sink_ == nullptr) GTEST_SKIP() << kPython << " has no aiosmtpd module: apt-get install python3-aiosmtpd";
    ASSERT_TRUE(sink_->ready()) << "aiosmtpd did not start: " << sink_->log();
  }
  SmtpSettings settings() const {
    SmtpSettings s;
    s.url = sink_->url();
    s.connect_timeout = 5 * kSecond;
    s.timeout = 10 * kSecond;
    return s;
  }
  static SmtpSink* sink_;
};

SmtpSink* MailSmtp::sink_ = nullptr;

OutgoingMail sample_mail() {
  Result<MailConfig> config =
      parse_mail_config(test::kSampleMailToml, "mail.toml", GHOSTWATCH_SOURCE_DIR, test::sample_mail_env);
  Result<TemplateSet> templates = TemplateSet::load(config->template_dir);
  const MailComposer composer(std::move(*config), std::move(*templates));
  MailRequest r;
  r.campaign = "anti-ghosting";
  r.arm = "treatment";
  r.episode = {"c-7", 1};
  r.template_name = "reminder-1";
  r.locale = "en";
  r.recipient = {"u-1", "José Müller", "jose@freelancer.example"};
  r.freelancer_name = "José Müller";
  r.client_name = "Ana";
  r.waiting_since = 1564660800000;
  r.at = r.waiting_since + 25 * kHour;
  Result<OutgoingMail> mail = composer.compose(r);
  EXPECT_TRUE(mail.is_ok()) << mail.message();
  return std::move(*mail);
}

TEST_F(MailSmtp, DeliversTheExactBytesAndReusesTheConnection) {
  const std::size_t before = sink_->delivered().size();
  SmtpTransport transport(settings());
  const OutgoingMail mail = sample_mail();
  const SendResult first = transport.send(mail.envelope_from, mail.rcpt, mail.bytes);
  EXPECT_EQ(first.outcome, SendOutcome::kSent) << first.reply;
  EXPECT_EQ(first.reply_code, 250);
  EXPECT_EQ(first.reply, "250 2.0.0 accepted for delivery");
  EXPECT_FALSE(first.reused_connection);

  // Lines starting with '.' must survive SMTP's end-of-data marker.
  const std::string dotted = "Subject: dots\r\n\r\n.\r\n..two\r\n.three\r\nend\r\n";
  const SendResult second = transport.send(mail.envelope_from, "other@freelancer.example", dotted);
  EXPECT_EQ(second.outcome, SendOutcome::kSent) << second.reply;
  EXPECT_TRUE(second.reused_connection) << "one connection for both messages";

  const std::vector<std::string> delivered = sink_->delivered();
  ASSERT_EQ(delivered.size(), before + 2);
  const auto has = [&](const std::string& bytes) {
    return std::find(delivered.begin(), delivered.end(), bytes) != delivered.end();
  };
  EXPECT_TRUE(has(mail.bytes)) << "the server received our bytes unchanged";
  EXPECT_TRUE(has(dotted));
  const test::ParsedMail parsed = test::parse_mail(*std::find(delivered.begin(), delivered.end(), mail.bytes));
  EXPECT_EQ(parsed.to.name, "José Müller");
  EXPECT_EQ(parsed.message_id, mail.message_id);
  EXPECT_NE(sink_->envelopes().find("reminders@marketplace.example jose@freelancer.example tls=0 auth=-\n"), std::string::npos)
      << sink_->envelopes();
}

TEST_F(MailSmtp, A5xxReplyIsPermanentWithTheServersWords) {
  SmtpTransport transport(settings());
  const SendResult r =
      transport.send("reminders@marketplace.example", "reject-perm@freelancer.example", "Subject: x\r\n\r\nx\r\n");
  EXPECT_EQ(r.outcome, SendOutcome::kPermanentFailure) << r.reply;
  EXPECT_EQ(r.reply_code, 550);
  EXPECT_EQ(r.reply.rfind("550 5.1.1 <reject-perm@freelancer.example>: mailbox unavailable", 0), 0u) << r.reply;
  // The handle is still good for the next message.
  const SendResult next =
      transport.send("reminders@marketplace.example", "ok@freelancer.example", "Subject: y\r\n\r\ny\r\n");
  EXPECT_EQ(next.outcome, SendOutcome::kSent) << next.reply;
}

TEST_F(MailSmtp, A4xxReplyIsTemporary) {
  SmtpTransport transport(settings());
  const SendResult r =
      transport.send("reminders@marketplace.example", "reject-temp@freelancer.example", "Subject: x\r\n\r\nx\r\n");
  EXPECT_EQ(r.outcome, SendOutcome::kTemporaryFailure) << r.reply;
  EXPECT_EQ(r.reply_code, 451);
  EXPECT_EQ(r.reply.rfind("451 4.3.0 mailbox busy, try again later", 0), 0u) << r.reply;
}

TEST(MailSmtpNoServer, ConnectionRefusedIsTemporary) {
  SmtpSettings s;
  s.url = "smtp://127.0.0.1:" + std::to_string(free_port());  // nothing listens there any more
  SmtpTransport transport(s);
  const SendResult r = transport.send("a@example.com", "b@example.com", "Subject: x\r\n\r\nx\r\n");
  EXPECT_EQ(r.outcome, SendOutcome::kTemporaryFailure);
  EXPECT_EQ(r.reply_code, 0);
  EXPECT_NE(r.reply.find("onnect"), std::string::npos) << r.reply;
}

TEST(MailSmtpNoServer, ASilentServerTimesOutAsTemporary) {
  SilentListener listener;
  SmtpSettings s;
  s.url = "smtp://127.0.0.1:" + std::to_string(listener.port());
  s.timeout = 300;  // ms: the greeting never comes
  SmtpTransport transport(s);
  const SendResult r = transport.send("a@example.com", "b@example.com", "Subject: x\r\n\r\nx\r\n");
  EXPECT_EQ(r.outcome, SendOutcome::kTemporaryFailure);
  EXPECT_EQ(r.reply_code, 0);
  EXPECT_NE(r.reply.find("timed out"), std::string::npos) << r.reply;
}

TEST(MailSmtpNoServer, UnusableEnvelopeAddressesArePermanentAndNeverSent) {
  SmtpSettings s;
  s.url = "smtp://127.0.0.1:" + std::to_string(free_port());
  SmtpTransport transport(s);
  const SendResult r = transport.send("a@example.com", "b@example.com>\r\nRCPT TO:<c@example.com", "x\r\n");
  EXPECT_EQ(r.outcome, SendOutcome::kPermanentFailure);
  EXPECT_EQ(r.reply.rfind("not a plain ASCII e-mail address", 0), 0u) << r.reply;
  EXPECT_EQ(send_outcome_name(r.outcome), "permanent_failure");
}

}  // namespace
}  // namespace gw::mail
