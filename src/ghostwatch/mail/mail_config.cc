#include "ghostwatch/mail/mail_config.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "ghostwatch/mail/header_text.h"

namespace gw::mail {
namespace {

constexpr std::string_view kKnownKeys[] = {
    "from_address", "from_name", "reply_domain",      "link_base_url", "template_dir",    "secret", "secret_env",
    "smtp_url",     "smtp_user", "smtp_password_env", "starttls",      "connect_timeout", "timeout"};

// Reads [mail]; stops at the first broken rule, phrased "<source>: mail.<key>: <rule>".
class Reader {
 public:
  Reader(const toml::table& mail, std::string_view source) : mail_(mail), source_(source) {}
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  void fail(std::string_view key, std::string_view rule) {
    if (!failed()) error_ = fmt::format("{}: mail.{}: {}", source_, key, rule);
  }
  bool has(std::string_view key) const { return mail_.contains(key); }

  std::string string(std::string_view key, bool required, std::string fallback = "") {
    const toml::node* n = mail_.get(key);
    if (n == nullptr) {
      if (required) fail(key, "is required");
      return fallback;
    }
    if (!n->is_string()) {
      fail(key, "must be a string");
      return fallback;
    }
    return std::string(n->as_string()->get());
  }

  bool boolean(std::string_view key, bool fallback) {
    const toml::node* n = mail_.get(key);
    if (n == nullptr) return fallback;
    if (!n->is_boolean()) {
      fail(key, "must be true or false");
      return fallback;
    }
    return n->as_boolean()->get();
  }

  Duration duration(std::string_view key, Duration fallback) {
    if (!has(key)) return fallback;
    const std::string text = string(key, true);
    if (failed()) return fallback;
    const std::optional<Duration> d = parse_duration(text);
    if (!d || *d <= 0) {
      fail(key, fmt::format("must be a positive duration like \"10s\" or \"2m\", not \"{}\"", text));
      return fallback;
    }
    return *d;
  }

 private:
  const toml::table& mail_;
  std::string source_;
  std::string error_;
};

bool is_domain(std::string_view d) { return is_safe_address(fmt::format("x@{}", d)) && d.find('.') != 0; }

}  // namespace

Result<MailConfig> parse_mail_config(std::string_view text, std::string_view source, const std::string& base_dir,
                                     const EnvLookup& env) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return Status::error(
        fmt::format("{}:{}:{}: not valid TOML: {}", source, where.line, where.column, e.description()));
  }
  const toml::node* section = root.get("mail");
  if (section == nullptr || !section->is_table()) {
    return Status::error(fmt::format("{}: mail: a [mail] table is required to send e-mail", source));
  }
  const toml::table& mail = *section->as_table();
  MailConfig c;
  for (const auto& [key, value] : mail) {
    if (std::find(std::begin(kKnownKeys), std::end(kKnownKeys), key.str()) == std::end(kKnownKeys)) {
      c.unknown_keys.push_back(fmt::format("mail.{}", key.str()));
    }
  }
  Reader r(mail, source);

  c.from.address = r.string("from_address", true);
  if (!r.failed() && !is_safe_address(c.from.address)) r.fail("from_address", "must be a plain ASCII e-mail address");
  c.from.name = r.string("from_name", false);
  if (!r.failed() && neutralise_header_text(c.from.name) != c.from.name) {
    r.fail("from_name", "must be one line without control characters or extra spaces");
  }
  c.reply_domain = r.string("reply_domain", true);
  if (!r.failed() && !is_domain(c.reply_domain))
    r.fail("reply_domain", "must be a domain name like \"reply.example.com\"");
  c.link_base_url = r.string("link_base_url", true);
  while (!c.link_base_url.empty() && c.link_base_url.back() == '/') c.link_base_url.pop_back();
  if (!r.failed() && !is_safe_https_url(c.link_base_url)) {
    r.fail("link_base_url", "must be an https:// URL without spaces or control characters");
  }
  const std::string template_dir = r.string("template_dir", false, "templates");
  c.template_dir = (std::filesystem::path(base_dir) / template_dir).lexically_normal().string();

  if (r.has("secret") == r.has("secret_env")) {
    r.fail("secret", "set exactly one of mail.secret and mail.secret_env");
  } else if (r.has("secret")) {
    c.secret_key = r.string("secret", true);
  } else {
    const std::string name = r.string("secret_env", true);
    const std::optional<std::string> value = r.failed() ? std::nullopt : env(name);
    if (!r.failed() && !value) r.fail("secret_env", fmt::format("the environment variable {} is not set", name));
    if (value) c.secret_key = *value;
  }
  if (!r.failed() && c.secret_key.size() < kMinSecretKeyBytes) {
    r.fail(r.has("secret") ? "secret" : "secret_env",
           fmt::format("the signing key must be at least {} bytes long", kMinSecretKeyBytes));
  }

  c.smtp.url = r.string("smtp_url", true);
  const bool smtps = c.smtp.url.rfind("smtps://", 0) == 0;
  if (!r.failed() && !smtps && c.smtp.url.rfind("smtp://", 0) != 0) {
    r.fail("smtp_url", "must start with smtp:// (plain or STARTTLS) or smtps:// (implicit TLS)");
  }
  c.smtp.starttls = r.boolean("starttls", false);
  if (!r.failed() && smtps && c.smtp.starttls) {
    r.fail("starttls", "does not apply to smtps:// URLs, which use TLS from the start");
  }
  c.smtp.user = r.string("smtp_user", false);
  if (!r.failed() && r.has("smtp_password_env") != !c.smtp.user.empty()) {
    r.fail("smtp_password_env", "set both mail.smtp_user and mail.smtp_password_env, or neither");
  }
  if (!r.failed() && r.has("smtp_password_env")) {
    const std::string name = r.string("smtp_password_env", true);
    const std::optional<std::string> value = r.failed() ? std::nullopt : env(name);
    if (!r.failed() && !value) r.fail("smtp_password_env", fmt::format("the environment variable {} is not set", name));
    if (value) c.smtp.password = *value;
  }
  c.smtp.connect_timeout = r.duration("connect_timeout", c.smtp.connect_timeout);
  c.smtp.timeout = r.duration("timeout", c.smtp.timeout);
  if (r.failed()) return Status::error(r.error());
  return c;
}

Result<MailConfig> load_mail_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error(fmt::format("{}: cannot read the config file", path));
  std::ostringstream text;
  text << in.rdbuf();
  const std::string base_dir = std::filesystem::path(path).parent_path().string();
  return parse_mail_config(text.str(), path, base_dir.empty() ? "." : base_dir,
                           [](const std::string& name) -> std::optional<std::string> {
                             const char* value = std::getenv(name.c_str());
                             if (value == nullptr) return std::nullopt;
                             return std::string(value);
                           });
}

}  // namespace gw::mail
