// The SMTP transport over TLS and with AUTH, against tests/smtp_sink.py
// (aiosmtpd) holding a throwaway self-signed certificate: STARTTLS and
// implicit TLS (smtps://) with the certificate trusted through
// SmtpSettings::ca_file, AUTH, and the refusals: a wrong password, an
// untrusted certificate, a server without STARTTLS under require_tls.
// Nothing may reach the server in any refused case. Skipped, with a
// message, without python3-aiosmtpd.
#include <gtest/gtest.h>

#include <string>

#include "ghostwatch/mail/smtp_transport.h"
#include "smtp_sink.h"

namespace gw::mail {
namespace {

using test::SinkOptions;
using test::SmtpSink;

constexpr const char* kMessage = "Subject: over TLS\r\n\r\nhello\r\n";

class MailSmtpTls : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test::have_aiosmtpd()) GTEST_SKIP() << test::kPython << " has no aiosmtpd module";
    certificate_ = test::make_test_certificate(dir_);
    ASSERT_TRUE(certificate_.ok) << "openssl could not make a certificate";
  }

  SinkOptions starttls_with_auth() const {
    SinkOptions o;
    o.starttls_cert = certificate_.cert;
    o.starttls_key = certificate_.key;
    o.auth = "relay:s3cret pass";
    return o;
  }

  SmtpSettings settings(const SmtpSink& sink) const {
    SmtpSettings s;
    s.url = sink.url();
    s.ca_file = certificate_.cert;
    s.connect_timeout = 5 * kSecond;
    s.timeout = 10 * kSecond;
    return s;
  }

  static SendResult send(const SmtpSettings& s) {
    SmtpTransport transport(s);
    return transport.send("reminders@marketplace.example", "jose@freelancer.example", kMessage);
  }

  test::TempDir dir_;
  test::TestCertificate certificate_;
};

TEST_F(MailSmtpTls, StartTlsThenAuthDelivers) {
  SmtpSink sink(starttls_with_auth());
  ASSERT_TRUE(sink.ready()) << sink.log();
  SmtpSettings s = settings(sink);
  s.require_tls = true;
  s.user = "relay";
  s.password = "s3cret pass";
  const SendResult r = send(s);
  EXPECT_EQ(r.outcome, SendOutcome::kSent) << r.reply;
  ASSERT_EQ(sink.delivered().size(), 1u);
  EXPECT_EQ(sink.delivered()[0], kMessage);
  EXPECT_EQ(sink.envelopes(), "reminders@marketplace.example jose@freelancer.example tls=1 auth=relay\n");
}

TEST_F(MailSmtpTls, AWrongPasswordIsTemporaryAndSendsNothing) {
  SmtpSink sink(starttls_with_auth());
  ASSERT_TRUE(sink.ready()) << sink.log();
  SmtpSettings s = settings(sink);
  s.user = "relay";
  s.password = "wrong";
  const SendResult r = send(s);
  EXPECT_EQ(r.outcome, SendOutcome::kTemporaryFailure) << "a session failure, not this message's";
  EXPECT_EQ(r.reply_code, 535) << r.reply;
  EXPECT_TRUE(sink.delivered().empty());
}

TEST_F(MailSmtpTls, WithoutCredentialsAnAuthServerRefusesTheMail) {
  SmtpSink sink(starttls_with_auth());
  ASSERT_TRUE(sink.ready()) << sink.log();
  const SendResult r = send(settings(sink));
  EXPECT_NE(r.outcome, SendOutcome::kSent) << r.reply;
  EXPECT_EQ(r.reply_code, 530) << r.reply;
  EXPECT_TRUE(sink.delivered().empty());
}

TEST_F(MailSmtpTls, ImplicitTlsWithAnSmtpsUrl) {
  SinkOptions o;
  o.smtps_cert = certificate_.cert;
  o.smtps_key = certificate_.key;
  SmtpSink sink(o);
  ASSERT_TRUE(sink.ready()) << sink.log();
  ASSERT_EQ(sink.url().rfind("smtps://", 0), 0u);
  const SendResult r = send(settings(sink));
  EXPECT_EQ(r.outcome, SendOutcome::kSent) << r.reply;
  EXPECT_EQ(sink.envelopes(), "reminders@marketplace.example jose@freelancer.example tls=1 auth=-\n");
}

TEST_F(MailSmtpTls, AnUntrustedCertificateIsRefusedBeforeAnythingIsSent) {
  SmtpSink sink(starttls_with_auth());
  ASSERT_TRUE(sink.ready()) << sink.log();
  SmtpSettings s = settings(sink);
  s.ca_file.clear();  // the system's CAs do not know the self-signed certificate
  s.user = "relay";
  s.password = "s3cret pass";
  const SendResult r = send(s);
  EXPECT_EQ(r.outcome, SendOutcome::kTemporaryFailure) << r.reply;
  EXPECT_NE(r.reply.find("certificate"), std::string::npos) << r.reply;
  EXPECT_TRUE(sink.delivered().empty());
}

TEST_F(MailSmtpTls, RequireTlsRefusesAServerWithoutStartTls) {
  SmtpSink sink;  // plain: no STARTTLS offered
  ASSERT_TRUE(sink.ready()) << sink.log();
  SmtpSettings s = settings(sink);
  s.require_tls = true;
  const SendResult r = send(s);
  EXPECT_EQ(r.outcome, SendOutcome::kTemporaryFailure) << r.reply;
  EXPECT_TRUE(sink.delivered().empty()) << "nothing in clear";
}

}  // namespace
}  // namespace gw::mail
