#include "ghostwatch/mail/mail_config.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "mail_support.h"
#include "serve_process.h"

namespace gw::mail {
namespace {

std::map<std::string, std::string> g_env;

Result<MailConfig> parse(const std::string& text) {
  return parse_mail_config(text, "policy.toml", "/etc/ghostwatch",
                           [](const std::string& name) -> std::optional<std::string> {
                             const auto it = g_env.find(name);
                             if (it == g_env.end()) return std::nullopt;
                             return it->second;
                           });
}

// The sample with `section.key = value` replaced (or added at the top of its
// section when absent; removed when value is empty).
std::string with(const std::string& dotted, const std::string& value, std::string text = test::kSampleMailToml) {
  const std::string section = "[" + dotted.substr(0, dotted.find('.')) + "]\n";
  const std::string key = dotted.substr(dotted.find('.') + 1);
  const std::size_t start = text.find(section);
  const std::size_t end = std::min(text.find("\n[", start), text.size());
  const std::size_t at = text.find("\n" + key + " = ", start);
  if (at != std::string::npos && at < end) text.erase(at + 1, text.find('\n', at + 1) - at);
  if (!value.empty()) text.insert(start + section.size(), key + " = " + value + "\n");
  return text;
}

std::string error_of(const std::string& text) {
  Result<MailConfig> c = parse(text);
  return c.is_ok() ? "(no error)" : c.message();
}

class MailConfigTest : public ::testing::Test {
 protected:
  void SetUp() override { g_env = {{test::kSampleMailKeyEnv, test::kSampleMailKey}}; }
};

TEST_F(MailConfigTest, SampleParsesWithDefaults) {
  Result<MailConfig> c = parse(test::kSampleMailToml);
  ASSERT_TRUE(c.is_ok()) << c.message();
  EXPECT_EQ(c->from.address, "reminders@marketplace.example");
  EXPECT_EQ(c->from.name, "Marketplace Reminders");
  EXPECT_EQ(c->inbound_domain, "reply.marketplace.example");
  EXPECT_EQ(c->public_url, "https://marketplace.example") << "the trailing slash goes";
  EXPECT_EQ(c->conversation_url, "https://marketplace.example/contracts/{contract}/messages");
  EXPECT_EQ(c->template_dir, "/etc/ghostwatch/templates") << "relative to the config file";
  EXPECT_EQ(c->secret_key, test::kSampleMailKey);
  EXPECT_EQ(c->smtp.url, "smtp://127.0.0.1:2525");
  EXPECT_FALSE(c->smtp.require_tls) << "STARTTLS when the server offers it, not required";
  EXPECT_TRUE(c->smtp.user.empty());
  EXPECT_EQ(c->smtp.connect_timeout, 10 * kSecond);
  EXPECT_EQ(c->smtp.timeout, 60 * kSecond);
  EXPECT_EQ(c->dispatch.per_domain_per_minute, 60);
  EXPECT_EQ(c->dispatch.retry_initial, kMinute);
  EXPECT_EQ(c->dispatch.retry_max, kHour);
  EXPECT_EQ(c->dispatch.give_up_after, 48 * kHour);
  EXPECT_TRUE(c->unknown_keys.empty());
}

TEST_F(MailConfigTest, EveryKeyIsRead) {
  g_env["GW_SMTP_PASSWORD"] = "hunter2";
  std::string text = with("mail.templates", "\"/srv/templates\"");
  text = with("mail.from", "\"reminders@marketplace.example\"", text);
  text = with("mail.conversation_url", "\"https://app.example/c/{contract}\"", text);
  for (const char* kv : {"username = \"mailer\"", "password_env = \"GW_SMTP_PASSWORD\"", "require_tls = true",
                         "ca_file = \"../passwd\"", "connect_timeout = \"3s\"", "timeout = \"2m\"", "per_domain_per_minute = 5",
                         "retry_initial = \"10s\"", "retry_max = \"20m\"", "give_up_after = \"3d\""}) {
    text += std::string(kv) + "\n";
  }
  Result<MailConfig> c = parse(text);
  ASSERT_TRUE(c.is_ok()) << c.message();
  EXPECT_EQ(c->from.name, "");
  EXPECT_EQ(c->from.address, "reminders@marketplace.example");
  EXPECT_EQ(c->conversation_url, "https://app.example/c/{contract}");
  EXPECT_EQ(c->smtp.user, "mailer");
  EXPECT_EQ(c->smtp.password, "hunter2");
  EXPECT_TRUE(c->smtp.require_tls);
  EXPECT_EQ(c->smtp.ca_file, "/etc/passwd") << "relative to the config file's directory";
  EXPECT_EQ(c->smtp.connect_timeout, 3 * kSecond);
  EXPECT_EQ(c->smtp.timeout, 2 * kMinute);
  EXPECT_EQ(c->dispatch.per_domain_per_minute, 5);
  EXPECT_EQ(c->dispatch.retry_initial, 10 * kSecond);
  EXPECT_EQ(c->dispatch.retry_max, 20 * kMinute);
  EXPECT_EQ(c->dispatch.give_up_after, 72 * kHour);
  EXPECT_EQ(c->template_dir, "/srv/templates");
}

TEST_F(MailConfigTest, BrokenRulesNameTheFileAndKey) {
  g_env["SHORT_KEY"] = "short";
  EXPECT_EQ(error_of("[campaign]\nname = \"x\"\n"), "policy.toml: mail: a [mail] table is required to send e-mail");
  EXPECT_EQ(error_of(with("mail.from", "")), "policy.toml: mail.from: is required");
  EXPECT_EQ(error_of(with("mail.from", "\"a@b\\r\\nBcc: c@d\"")),
            "policy.toml: mail.from: must be \"Name <address>\" or \"address\" with a plain ASCII e-mail address");
  EXPECT_EQ(error_of(with("mail.from", "\"Team\\nBcc: x <a@b.example>\"")),
            "policy.toml: mail.from: the name must be one line without control characters or extra spaces");
  EXPECT_EQ(error_of(with("mail.inbound_domain", "\"reply domain\"")),
            "policy.toml: mail.inbound_domain: must be a domain name like \"reply.example.com\"");
  EXPECT_EQ(error_of(with("mail.public_url", "\"ftp://marketplace.example\"")),
            "policy.toml: mail.public_url: must be an https:// (or http://) URL without spaces or control characters");
  EXPECT_EQ(error_of(with("mail.conversation_url", "\"https://app.example/messages\"")),
            "policy.toml: mail.conversation_url: must be an https:// (or http://) URL holding \"{contract}\"");
  EXPECT_EQ(error_of(with("mail.secret_env", "")), "policy.toml: mail.secret_env: is required");
  EXPECT_EQ(error_of(with("mail.secret_env", "\"MISSING_VAR\"")),
            "policy.toml: mail.secret_env: the environment variable MISSING_VAR is not set");
  EXPECT_EQ(error_of(with("mail.secret_env", "\"SHORT_KEY\"")),
            "policy.toml: mail.secret_env: the signing key must be at least 32 bytes long");
  EXPECT_EQ(error_of(with("smtp.url", "")), "policy.toml: smtp.url: is required");
  EXPECT_EQ(error_of("[mail]\nfrom = \"a@b.example\"\ninbound_domain = \"r.example\"\npublic_url = "
                     "\"https://x.example\"\nsecret_env = \"GHOSTWATCH_TEST_MAIL_KEY\"\n"),
            "policy.toml: smtp.url: is required")
      << "no [smtp] table at all";
  EXPECT_EQ(error_of(with("smtp.url", "\"http://mail.example\"")),
            "policy.toml: smtp.url: must start with smtp:// (STARTTLS when offered) or smtps:// (implicit TLS)");
  EXPECT_EQ(error_of(with("smtp.require_tls", "true", with("smtp.url", "\"smtps://mail.example\""))),
            "policy.toml: smtp.require_tls: does not apply to smtps:// URLs, which use TLS from the start");
  EXPECT_EQ(error_of(with("smtp.require_tls", "\"yes\"")), "policy.toml: smtp.require_tls: must be true or false");
  EXPECT_EQ(error_of(with("smtp.ca_file", "\"private-ca.pem\"")),
            "policy.toml: smtp.ca_file: /etc/ghostwatch/private-ca.pem is not a readable file");
  EXPECT_EQ(error_of(with("smtp.username", "\"mailer\"")),
            "policy.toml: smtp.password_env: set both smtp.username and smtp.password_env, or neither");
  EXPECT_EQ(error_of(with("smtp.password_env", "\"NOPE\"", with("smtp.username", "\"mailer\""))),
            "policy.toml: smtp.password_env: the environment variable NOPE is not set");
  EXPECT_EQ(error_of(with("smtp.timeout", "\"0s\"")),
            "policy.toml: smtp.timeout: must be a positive duration like \"10s\" or \"2m\", not \"0s\"");
  EXPECT_EQ(error_of(with("smtp.connect_timeout", "10")), "policy.toml: smtp.connect_timeout: must be a string");
  EXPECT_EQ(error_of(with("smtp.per_domain_per_minute", "0")),
            "policy.toml: smtp.per_domain_per_minute: must be a whole number from 1 to 1000000");
  EXPECT_EQ(error_of(with("smtp.retry_max", "\"10s\"")),
            "policy.toml: smtp.retry_max: must be at least smtp.retry_initial");
  EXPECT_EQ(error_of("[mail\n").rfind("policy.toml:1:", 0), 0u);
}

TEST_F(MailConfigTest, UnknownKeysAreReportedForAWarning) {
  Result<MailConfig> c = parse(with("smtp.pasword_env", "\"X\"", with("mail.form", "\"x\"")));
  ASSERT_TRUE(c.is_ok()) << c.message();
  EXPECT_EQ(c->unknown_keys, (std::vector<std::string>{"mail.form", "smtp.pasword_env"}));
}

TEST(MailConfig, OnlyAFileWithAMailTableTurnsMailOn) {
  EXPECT_TRUE(has_mail_section(test::kSampleMailToml));
  EXPECT_FALSE(has_mail_section("[campaign]\nname = \"x\"\n"));
  EXPECT_FALSE(has_mail_section("[mail\n"));
}

TEST(MailConfig, LoadReadsTheFileAndResolvesTemplatesBesideIt) {
  test::export_sample_mail_key();
  test::TempDir dir;
  test::write_file(dir.file("policy.toml"), test::kSampleMailToml);
  Result<MailConfig> c = load_mail_config(dir.file("policy.toml"));
  ASSERT_TRUE(c.is_ok()) << c.message();
  EXPECT_EQ(c->template_dir, dir.file("templates"));
  EXPECT_EQ(load_mail_config(dir.file("missing.toml")).message(),
            dir.file("missing.toml") + ": cannot read the config file");
}

}  // namespace
}  // namespace gw::mail
