#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "ghostwatch/mail/composer.h"
#include "ghostwatch/mail/message_builder.h"
#include "mail_support.h"

namespace gw::mail {
namespace {

using test::parse_mail;
using test::ParsedMail;

constexpr Instant kOpened = 1564660800000;  // 2019-08-01T12:00:00Z

MailComposer sample_composer() {
  Result<MailConfig> config =
      parse_mail_config(test::kSampleMailToml, "mail.toml", GHOSTWATCH_SOURCE_DIR, test::sample_mail_env);
  EXPECT_TRUE(config.is_ok()) << config.message();
  Result<TemplateSet> templates = TemplateSet::load(config->template_dir);
  EXPECT_TRUE(templates.is_ok()) << templates.message();
  return MailComposer(std::move(*config), std::move(*templates));
}

MailRequest sample_request(int step) {
  MailRequest r;
  r.campaign = "anti-ghosting";
  r.arm = "treatment";
  r.episode = {"c-1042", 2};
  r.step = step;
  for (int s = 1; s < step; ++s) r.thread_steps.push_back(s);
  r.template_name = step == 1 ? "reminder-1" : "reminder-2";
  r.locale = "es";
  r.recipient = {"u-17", "José Müller", "jose@freelancer.example"};
  r.freelancer_name = "José Müller";
  r.client_name = "Ana O'Brien & Co";
  r.waiting_since = kOpened;
  r.at = kOpened + (step == 1 ? 24 : 72) * kHour;
  return r;
}

// Every line ends with CRLF, and no CR or LF stands alone.
void expect_crlf_only(const std::string& bytes) {
  ASSERT_GE(bytes.size(), 2u);
  EXPECT_EQ(bytes.substr(bytes.size() - 2), "\r\n");
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] == '\n') {
      ASSERT_TRUE(i > 0 && bytes[i - 1] == '\r') << "bare LF at byte " << i;
    }
    if (bytes[i] == '\r') {
      ASSERT_TRUE(i + 1 < bytes.size() && bytes[i + 1] == '\n') << "bare CR at byte " << i;
    }
  }
}

// The header block, lines unfolded, as "Name: value" strings.
std::vector<std::string> header_lines(const std::string& bytes) {
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (true) {
    const std::size_t end = bytes.find("\r\n", pos);
    const std::string line = bytes.substr(pos, end - pos);
    pos = end + 2;
    if (line.empty()) break;
    if ((line[0] == ' ' || line[0] == '\t') && !lines.empty()) {
      lines.back() += line;
    } else {
      lines.push_back(line);
    }
  }
  return lines;
}

TEST(MailMessage, ReminderHasEveryHeaderAndBothParts) {
  const MailComposer composer = sample_composer();
  Result<OutgoingMail> mail = composer.compose(sample_request(1));
  ASSERT_TRUE(mail.is_ok()) << mail.message();
  expect_crlf_only(mail->bytes);
  EXPECT_EQ(mail->envelope_from, "reminders@marketplace.example");
  EXPECT_EQ(mail->rcpt, "jose@freelancer.example");

  const ParsedMail m = parse_mail(mail->bytes);
  ASSERT_TRUE(m.ok);
  EXPECT_EQ(m.from.name, "Marketplace Reminders");
  EXPECT_EQ(m.from.address, "reminders@marketplace.example");
  EXPECT_EQ(m.to.name, "José Müller");
  EXPECT_EQ(m.to.address, "jose@freelancer.example");
  EXPECT_EQ(m.reply_to.name, "Marketplace Reminders");
  const std::string reply_address = composer.reply_address({"c-1042", 2});
  EXPECT_EQ(m.reply_to.address, reply_address);
  ASSERT_EQ(reply_address.rfind("reply+", 0), 0u);
  const std::string token = reply_address.substr(6, reply_address.find('@') - 6);
  Result<EpisodeRef> episode = composer.tokens().verify_reply_token(token);
  ASSERT_TRUE(episode.is_ok()) << episode.message();
  EXPECT_EQ(*episode, (EpisodeRef{"c-1042", 2}));
  EXPECT_EQ(reply_address.substr(reply_address.find('@')), "@reply.marketplace.example");

  EXPECT_EQ(m.subject, "Ana O'Brien & Co espera tu respuesta");
  EXPECT_EQ(m.message_id, mail->message_id);
  EXPECT_EQ(mail->message_id, message_id_for("anti-ghosting", {"c-1042", 2}, 1, "marketplace.example"));
  EXPECT_EQ(m.headers.at("Date"), "Fri, 02 Aug 2019 12:00:00 +0000");
  EXPECT_EQ(m.headers.count("In-Reply-To"), 0u) << "step 1 starts the thread";
  EXPECT_EQ(m.headers.count("References"), 0u);

  const std::string opt_out = composer.opt_out_url("u-17");
  EXPECT_EQ(m.headers.at("List-Unsubscribe"), "<" + opt_out + ">, <" + composer.opt_out_mailto("u-17") + ">");
  ASSERT_EQ(opt_out.rfind("https://marketplace.example/v1/unsubscribe?token=", 0), 0u) << opt_out;
  Result<std::string> user = composer.tokens().verify_opt_out_token(opt_out.substr(opt_out.rfind('=') + 1));
  ASSERT_TRUE(user.is_ok()) << user.message();
  EXPECT_EQ(*user, "u-17");
  EXPECT_EQ(composer.opt_out_mailto("u-17").rfind("mailto:opt-out+", 0), 0u);
  EXPECT_EQ(m.headers.at("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click");
  EXPECT_EQ(m.headers.at("Auto-Submitted"), "auto-generated");
  EXPECT_EQ(m.headers.at("X-Ghostwatch-Campaign"), "anti-ghosting");
  EXPECT_EQ(m.headers.at("X-Ghostwatch-Arm"), "treatment");
  EXPECT_EQ(m.headers.at("MIME-Version"), "1.0");

  EXPECT_EQ(m.content_type, "multipart/alternative");
  ASSERT_EQ(m.parts.size(), 2u);
  EXPECT_EQ(m.parts[0].content_type, "text/plain");
  EXPECT_EQ(m.parts[1].content_type, "text/html");
  for (const auto& part : m.parts) {
    EXPECT_EQ(part.charset, "utf-8");
    EXPECT_EQ(part.encoding, "quoted-printable");
  }
  EXPECT_NE(m.parts[0].body.find("Hola, José Müller:"), std::string::npos) << m.parts[0].body;
  EXPECT_NE(m.parts[0].body.find("hace 24 horas"), std::string::npos) << m.parts[0].body;
  EXPECT_NE(m.parts[0].body.find("https://marketplace.example/contracts/c-1042/messages"), std::string::npos);
  EXPECT_NE(m.parts[0].body.find(opt_out), std::string::npos);
  EXPECT_NE(m.parts[1].body.find("<p>Hola, José Müller:</p>"), std::string::npos) << m.parts[1].body;
  EXPECT_NE(m.parts[1].body.find("Ana O&#39;Brien &amp; Co"), std::string::npos);
  EXPECT_NE(m.parts[1].body.find("href=\"" + opt_out + "\""), std::string::npos);
}

TEST(MailMessage, NonAsciiNamesAreUtf8EncodedWords) {
  const MailComposer composer = sample_composer();
  Result<OutgoingMail> mail = composer.compose(sample_request(1));
  ASSERT_TRUE(mail.is_ok()) << mail.message();
  const std::string headers = mail->bytes.substr(0, mail->bytes.find("\r\n\r\n"));
  EXPECT_EQ(headers.find_first_of("\x80\xff"), std::string::npos) << "headers are 7-bit";
  EXPECT_EQ(headers.find("iso-8859-1"), std::string::npos) << headers;
  for (const std::string& line : header_lines(mail->bytes)) {
    if (line.rfind("To:", 0) == 0) {
      EXPECT_NE(line.find("=?UTF-8?"), std::string::npos) << line;
    }
  }
}

// Structured headers are folded at their spaces, never encoded: a mail
// client reads List-Unsubscribe's URLs as they are written (RFC 2369), and an
// RFC 2047 encoded word there would hide them.
TEST(MailMessage, LongHeadersFoldAtSpacesAndKeepUrlsAndIdsWhole) {
  const MailComposer composer = sample_composer();
  MailRequest r = sample_request(4);
  r.template_name = "reminder-2";
  r.recipient.name = "María José de los Ángeles Fernández-Castellanos Müller";
  r.client_name = "Ana O'Brien & Co, Agencia Internacional de Diseño y Desarrollo";
  Result<OutgoingMail> mail = composer.compose(r);
  ASSERT_TRUE(mail.is_ok()) << mail.message();
  const std::string opt_out = composer.opt_out_url("u-17");
  const std::vector<std::string> lines = header_lines(mail->bytes);
  EXPECT_NE(std::find(lines.begin(), lines.end(),
                      "List-Unsubscribe: <" + opt_out + ">, <" + composer.opt_out_mailto("u-17") + ">"),
            lines.end());
  const std::string headers = mail->bytes.substr(0, mail->bytes.find("\r\n\r\n") + 2);
  EXPECT_EQ(headers.find("=?us-ascii"), std::string::npos) << headers;
  std::size_t folds = 0;
  for (std::size_t pos = 0, end; (end = headers.find("\r\n", pos)) != std::string::npos; pos = end + 2) {
    const std::string line = headers.substr(pos, end - pos);
    if (line[0] == ' ') ++folds;
    EXPECT_LE(line.size(), 998u) << line;
  }
  EXPECT_GE(folds, 4u) << "To, Subject, two References and List-Unsubscribe fold:\n" << headers;
  const ParsedMail m = parse_mail(mail->bytes);
  EXPECT_EQ(m.to.name, r.recipient.name) << headers;
  EXPECT_NE(m.headers.at("Subject").find(r.client_name), std::string::npos) << m.headers.at("Subject");
  EXPECT_EQ(std::count(m.headers.at("References").begin(), m.headers.at("References").end(), '<'), 3);
}

TEST(MailMessage, LaterStepsThreadOnTheEarlierOnes) {
  const MailComposer composer = sample_composer();
  Result<OutgoingMail> first = composer.compose(sample_request(1));
  Result<OutgoingMail> second = composer.compose(sample_request(2));
  MailRequest third_request = sample_request(3);
  third_request.template_name = "reminder-2";
  Result<OutgoingMail> third = composer.compose(third_request);
  ASSERT_TRUE(first.is_ok() && second.is_ok() && third.is_ok());
  EXPECT_NE(first->message_id, second->message_id);
  const ParsedMail m2 = parse_mail(second->bytes);
  EXPECT_EQ(m2.headers.at("In-Reply-To"), "<" + first->message_id + ">");
  EXPECT_EQ(m2.headers.at("References"), "<" + first->message_id + ">");
  const ParsedMail m3 = parse_mail(third->bytes);
  EXPECT_EQ(m3.headers.at("In-Reply-To"), "<" + second->message_id + ">");
  std::string references = m3.headers.at("References");
  EXPECT_EQ(references, "<" + first->message_id + "> <" + second->message_id + ">");
  EXPECT_NE(m3.parts[0].body.find("lleva 3 días esperando"), std::string::npos) << m3.parts[0].body;
}

TEST(MailMessage, TheSameDecisionGivesTheSameBytes) {
  const MailComposer composer = sample_composer();
  Result<OutgoingMail> a = composer.compose(sample_request(2));
  Result<OutgoingMail> b = composer.compose(sample_request(2));
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  EXPECT_EQ(a->bytes, b->bytes) << "a resend after a crash is the same message";
  // Message-IDs differ whenever one of their inputs does.
  std::set<std::string> ids;
  for (const std::string campaign : {"a", "b"}) {
    for (const std::string contract : {"c1", "c2"}) {
      for (int episode = 1; episode <= 2; ++episode) {
        for (int step = 1; step <= 2; ++step) {
          ids.insert(message_id_for(campaign, {contract, episode}, step, "x.example"));
        }
      }
    }
  }
  EXPECT_EQ(ids.size(), 16u);
  EXPECT_NE(message_id_for("a:1", {"c", 1}, 1, "x"), message_id_for("a", {"1:c", 1}, 1, "x"));
}

MessageSpec plain_spec() {
  MessageSpec s;
  s.from = {"Marketplace", "reminders@marketplace.example"};
  s.to = {"José Müller", "jose@freelancer.example"};
  s.reply_to = "reply+abc-def@reply.marketplace.example";
  s.subject = "Hello";
  s.text = "text\n";
  s.html = "<p>html</p>\n";
  s.message_id = "gw-1@marketplace.example";
  s.unsubscribe_url = "https://marketplace.example/mail/opt-out/abc-def";
  s.unsubscribe_mailto = "mailto:opt-out+abc-def@reply.marketplace.example?subject=opt-out";
  s.campaign = "anti-ghosting";
  s.arm = "treatment";
  return s;
}

TEST(MailMessage, CrLfAndControlCharactersCannotInjectHeaders) {
  MessageSpec s = plain_spec();
  s.to.name = "Eve\r\nBcc: victim@example.com";
  s.from.name = "Market\nplace\x01\x7f";
  s.subject = "Hi\r\nBcc: victim@example.com\r\n\r\n<html>body</html>";
  s.campaign = "camp\rX-Injected: 1";
  s.arm = "arm\nX-Injected: 2\xC2\x85 \xE2\x80\xA8 end";  // with NEL and U+2028
  Result<std::string> bytes = build_mime(s);
  ASSERT_TRUE(bytes.is_ok()) << bytes.message();
  expect_crlf_only(*bytes);
  const ParsedMail m = parse_mail(*bytes);
  ASSERT_TRUE(m.ok);
  const std::set<std::string> names(m.header_names.begin(), m.header_names.end());
  EXPECT_EQ(names, (std::set<std::string>{"From", "To", "Reply-To", "Subject", "Date", "Message-ID", "List-Unsubscribe",
                                          "List-Unsubscribe-Post", "Auto-Submitted", "X-Auto-Response-Suppress",
                                          "X-Ghostwatch-Campaign", "X-Ghostwatch-Arm", "MIME-Version"}));
  EXPECT_EQ(m.header_names.size(), names.size()) << "no header appears twice";
  EXPECT_EQ(m.to.name, "Eve Bcc: victim@example.com");
  EXPECT_EQ(m.to.address, "jose@freelancer.example");
  EXPECT_EQ(m.from.name, "Market place");
  EXPECT_EQ(m.subject, "Hi Bcc: victim@example.com <html>body</html>");
  EXPECT_EQ(m.headers.at("X-Ghostwatch-Campaign"), "camp X-Injected: 1");
  EXPECT_EQ(m.headers.at("X-Ghostwatch-Arm"), "arm X-Injected: 2 end");
  ASSERT_EQ(m.parts.size(), 2u);
  EXPECT_EQ(m.parts[0].body, "text\r\n") << "mail text has CRLF line ends";
  for (const std::string& line : header_lines(*bytes)) {
    EXPECT_EQ(line.find("\r"), std::string::npos);
    EXPECT_NE(line.rfind("Bcc", 0), 0u) << line;
    EXPECT_NE(line.rfind("X-Injected", 0), 0u) << line;
  }
  // Not even as encoded words: a reader decoding them sees no line break.
  EXPECT_EQ(bytes->find("=0D"), std::string::npos);
  EXPECT_EQ(bytes->find("=0A"), std::string::npos);
}

TEST(MailMessage, UnsafeAddressesIdsAndUrlsAreRefusedNamingTheField) {
  const auto refused = [](void (*change)(MessageSpec&), const std::string& field) {
    MessageSpec s = plain_spec();
    change(s);
    Result<std::string> bytes = build_mime(s);
    ASSERT_FALSE(bytes.is_ok()) << field;
    EXPECT_EQ(bytes.message().rfind(field + ":", 0), 0u) << bytes.message();
  };
  refused([](MessageSpec& s) { s.to.address = "jose@example.com\r\nBcc: x@y.com"; }, "to.address");
  refused([](MessageSpec& s) { s.to.address = "jose@example.com>, <x@y.com"; }, "to.address");
  refused([](MessageSpec& s) { s.to.address = "josé@example.com"; }, "to.address");
  refused([](MessageSpec& s) { s.from.address = "no-at-sign"; }, "from.address");
  refused([](MessageSpec& s) { s.reply_to = "reply+a b@x.example"; }, "reply_to");
  refused([](MessageSpec& s) { s.message_id = "id\r\nBcc: x@y.com"; }, "message_id");
  refused([](MessageSpec& s) { s.message_id = "no-domain"; }, "message_id");
  refused([](MessageSpec& s) { s.references = {"ok@x", "bad>@x"}; }, "references");
  refused([](MessageSpec& s) { s.unsubscribe_url = "http://marketplace.example/x"; }, "unsubscribe_url");
  refused([](MessageSpec& s) { s.unsubscribe_url = "https://m.example/x>, <https://evil.example"; }, "unsubscribe_url");
  refused([](MessageSpec& s) { s.unsubscribe_mailto = "https://x.example"; }, "unsubscribe_mailto");
}

TEST(MailMessage, ComposeRefusesARecipientItCannotAddress) {
  const MailComposer composer = sample_composer();
  MailRequest r = sample_request(1);
  r.recipient.email = "jose@example.com\nBcc: x@y.com";
  EXPECT_EQ(composer.compose(r).message().rfind("recipient.email:", 0), 0u);
  r = sample_request(1);
  r.template_name = "no-such-template";
  EXPECT_EQ(composer.compose(r).message(), "no template named \"no-such-template\"");
}

TEST(MailMessage, ContractIdsAreEncodedInLinks) {
  const MailComposer composer = sample_composer();
  EXPECT_EQ(composer.conversation_url("c 1/2?x=é"),
            "https://marketplace.example/contracts/c%201%2F2%3Fx%3D%C3%A9/messages");
}

}  // namespace
}  // namespace gw::mail
