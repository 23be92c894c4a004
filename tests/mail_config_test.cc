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

// The sample with `key = value` replaced (or added when absent; removed when value is empty).
std::string with(const std::string& key, const std::string& value, std::string text = test::kSampleMailToml) {
  const std::size_t at = text.find("\n" + key + " = ");
  if (at != std::string::npos) text.erase(at + 1, text.find('\n', at + 1) - at);
  if (!value.empty()) text += key + " = " + value + "\n";
  return text;
}

std::string error_of(const std::string& text) {
  Result<MailConfig> c = parse(text);
  return c.is_ok() ? "(no error)" : c.message();
}

TEST(MailConfig, SampleParsesWithDefaults) {
  Result<MailConfig> c = parse(test::kSampleMailToml);
  ASSERT_TRUE(c.is_ok()) << c.message();
  EXPECT_EQ(c->from.address, "reminders@marketplace.example");
  EXPECT_EQ(c->from.name, "Marketplace Reminders");
  EXPECT_EQ(c->reply_domain, "reply.marketplace.example");
  EXPECT_EQ(c->link_base_url, "https://marketplace.example") << "the trailing slash goes";
  EXPECT_EQ(c->template_dir, "/etc/ghostwatch/templates") << "relative to the config file";
  EXPECT_EQ(c->secret_key, "0123456789abcdef0123456789abcdef-test-only");
  EXPECT_EQ(c->smtp.url, "smtp://127.0.0.1:2525");
  EXPECT_FALSE(c->smtp.starttls);
  EXPECT_TRUE(c->smtp.user.empty());
  EXPECT_EQ(c->smtp.connect_timeout, 10 * kSecond);
  EXPECT_EQ(c->smtp.timeout, 60 * kSecond);
  EXPECT_TRUE(c->unknown_keys.empty());
}

TEST(MailConfig, SecretsComeFromTheEnvironment) {
  g_env = {{"GW_MAIL_KEY", std::string(40, 'k')}, {"GW_SMTP_PASSWORD", "hunter2"}};
  std::string text = with("template_dir", "\"/srv/templates\"", with("secret", ""));
  text +=
      "secret_env = \"GW_MAIL_KEY\"\nsmtp_user = \"mailer\"\nsmtp_password_env = \"GW_SMTP_PASSWORD\"\n"
      "starttls = true\nconnect_timeout = \"3s\"\ntimeout = \"2m\"\n";
  Result<MailConfig> c = parse(text);
  ASSERT_TRUE(c.is_ok()) << c.message();
  EXPECT_EQ(c->secret_key, std::string(40, 'k'));
  EXPECT_EQ(c->smtp.user, "mailer");
  EXPECT_EQ(c->smtp.password, "hunter2");
  EXPECT_TRUE(c->smtp.starttls);
  EXPECT_EQ(c->smtp.connect_timeout, 3 * kSecond);
  EXPECT_EQ(c->smtp.timeout, 2 * kMinute);
  EXPECT_EQ(c->template_dir, "/srv/templates");
}

TEST(MailConfig, BrokenRulesNameTheFileAndKey) {
  g_env = {{"SHORT_KEY", "short"}};
  EXPECT_EQ(error_of("[campaign]\nname = \"x\"\n"), "policy.toml: mail: a [mail] table is required to send e-mail");
  EXPECT_EQ(error_of(with("from_address", "")), "policy.toml: mail.from_address: is required");
  EXPECT_EQ(error_of(with("from_address", "\"a@b\\r\\nBcc: c@d\"")),
            "policy.toml: mail.from_address: must be a plain ASCII e-mail address");
  EXPECT_EQ(error_of(with("from_name", "\"Team\\nBcc: x\"")),
            "policy.toml: mail.from_name: must be one line without control characters or extra spaces");
  EXPECT_EQ(error_of(with("reply_domain", "\"reply domain\"")),
            "policy.toml: mail.reply_domain: must be a domain name like \"reply.example.com\"");
  EXPECT_EQ(error_of(with("link_base_url", "\"http://marketplace.example\"")),
            "policy.toml: mail.link_base_url: must be an https:// URL without spaces or control characters");
  EXPECT_EQ(error_of(with("secret", "")),
            "policy.toml: mail.secret: set exactly one of mail.secret and mail.secret_env");
  EXPECT_EQ(error_of(with("secret", "") + "secret_env = \"MISSING_VAR\"\n"),
            "policy.toml: mail.secret_env: the environment variable MISSING_VAR is not set");
  EXPECT_EQ(error_of(with("secret", "") + "secret_env = \"SHORT_KEY\"\n"),
            "policy.toml: mail.secret_env: the signing key must be at least 32 bytes long");
  EXPECT_EQ(error_of(with("secret", "\"short\"")),
            "policy.toml: mail.secret: the signing key must be at least 32 bytes long");
  EXPECT_EQ(error_of(with("smtp_url", "\"http://mail.example\"")),
            "policy.toml: mail.smtp_url: must start with smtp:// (plain or STARTTLS) or smtps:// (implicit TLS)");
  EXPECT_EQ(error_of(with("smtp_url", "\"smtps://mail.example\"") + "starttls = true\n"),
            "policy.toml: mail.starttls: does not apply to smtps:// URLs, which use TLS from the start");
  EXPECT_EQ(error_of(with("starttls", "\"yes\"")), "policy.toml: mail.starttls: must be true or false");
  EXPECT_EQ(error_of(with("smtp_user", "\"mailer\"")),
            "policy.toml: mail.smtp_password_env: set both mail.smtp_user and mail.smtp_password_env, or neither");
  EXPECT_EQ(error_of(with("smtp_user", "\"mailer\"") + "smtp_password_env = \"NOPE\"\n"),
            "policy.toml: mail.smtp_password_env: the environment variable NOPE is not set");
  EXPECT_EQ(error_of(with("timeout", "\"0s\"")),
            "policy.toml: mail.timeout: must be a positive duration like \"10s\" or \"2m\", not \"0s\"");
  EXPECT_EQ(error_of(with("connect_timeout", "10")), "policy.toml: mail.connect_timeout: must be a string");
  EXPECT_EQ(error_of("[mail\n").rfind("policy.toml:1:", 0), 0u);
}

TEST(MailConfig, UnknownKeysAreReportedForAWarning) {
  Result<MailConfig> c = parse(with("smtp_pasword_env", "\"X\""));
  ASSERT_TRUE(c.is_ok()) << c.message();
  EXPECT_EQ(c->unknown_keys, std::vector<std::string>{"mail.smtp_pasword_env"});
}

TEST(MailConfig, LoadReadsTheFileAndResolvesTemplatesBesideIt) {
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
