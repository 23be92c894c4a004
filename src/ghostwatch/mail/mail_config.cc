#include "ghostwatch/mail/mail_config.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <span>
#include <sstream>

#include "ghostwatch/core/config_table.h"
#include "ghostwatch/mail/header_text.h"

namespace gw::mail {
namespace {

constexpr std::string_view kMailKeys[] = {"from",       "inbound_domain", "public_url",    "conversation_url",
                                          "secret_env", "templates",      "client_checkin"};
constexpr std::string_view kSmtpKeys[] = {"url",
                                          "username",
                                          "password_env",
                                          "require_tls",
                                          "ca_file",
                                          "connect_timeout",
                                          "timeout",
                                          "per_domain_per_minute",
                                          "retry_initial",
                                          "retry_max",
                                          "give_up_after"};

bool is_domain(std::string_view d) { return is_safe_address(fmt::format("x@{}", d)) && d.find('.') != 0; }

// "Name <address>" or "address".
Mailbox parse_from(std::string_view text) {
  const std::size_t open = text.rfind('<');
  if (open == std::string_view::npos || text.empty() || text.back() != '>') return Mailbox{"", std::string(text)};
  std::string_view name = text.substr(0, open);
  while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') name = name.substr(1, name.size() - 2);
  return Mailbox{std::string(name), std::string(text.substr(open + 1, text.size() - open - 2))};
}

// http(s) URL safe for a header; http only so a test or a private
// deployment can run without TLS.
bool is_safe_url(std::string_view url) {
  if (url.rfind("http://", 0) == 0) return is_safe_https_url(fmt::format("https://{}", url.substr(7)));
  return is_safe_https_url(url);
}

const toml::table* table_of(const toml::table& root, std::string_view name) {
  const toml::node* n = root.get(name);
  return n == nullptr ? nullptr : n->as_table();
}

}  // namespace

bool has_mail_section(std::string_view text) {
  try {
    const toml::table root = toml::parse(text);
    return table_of(root, "mail") != nullptr;
  } catch (const toml::parse_error&) {
    return false;
  }
}

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
  const toml::table* mail_table = table_of(root, "mail");
  if (mail_table == nullptr) {
    return Status::error(fmt::format("{}: mail: a [mail] table is required to send e-mail", source));
  }
  MailConfig c;
  std::string error;
  ConfigTable mail(mail_table, "mail", source, error);
  ConfigTable smtp(table_of(root, "smtp"), "smtp", source, error);
  mail.collect_unknown(kMailKeys, c.unknown_keys);
  smtp.collect_unknown(kSmtpKeys, c.unknown_keys);

  c.from = parse_from(mail.string("from", true));
  if (!mail.failed() && !is_safe_address(c.from.address)) {
    mail.fail("from", "must be \"Name <address>\" or \"address\" with a plain ASCII e-mail address");
  }
  if (!mail.failed() && neutralise_header_text(c.from.name) != c.from.name) {
    mail.fail("from", "the name must be one line without control characters or extra spaces");
  }
  c.inbound_domain = mail.string("inbound_domain", true);
  if (!mail.failed() && !is_domain(c.inbound_domain)) {
    mail.fail("inbound_domain", "must be a domain name like \"reply.example.com\"");
  }
  c.public_url = mail.string("public_url", true);
  while (!c.public_url.empty() && c.public_url.back() == '/') c.public_url.pop_back();
  if (!mail.failed() && !is_safe_url(c.public_url)) {
    mail.fail("public_url", "must be an https:// (or http://) URL without spaces or control characters");
  }
  c.client_checkin = mail.string("client_checkin", false);
  c.conversation_url = mail.string("conversation_url", false, c.public_url + "/contracts/{contract}/messages");
  // Checked with a contract id in place of the slot.
  const std::size_t slot = c.conversation_url.find("{contract}");
  const std::string probe = slot == std::string::npos
                                ? c.conversation_url
                                : c.conversation_url.substr(0, slot) + "c" + c.conversation_url.substr(slot + 10);
  if (!mail.failed() && (slot == std::string::npos || !is_safe_url(probe))) {
    mail.fail("conversation_url", "must be an https:// (or http://) URL holding \"{contract}\"");
  }
  const std::string templates = mail.string("templates", false, "templates");
  c.template_dir = (std::filesystem::path(base_dir) / templates).lexically_normal().string();
  if (std::optional<std::string> key = mail.secret("secret_env", env)) c.secret_key = std::move(*key);
  if (!mail.failed() && c.secret_key.size() < kMinSecretKeyBytes) {
    mail.fail("secret_env", fmt::format("the signing key must be at least {} bytes long", kMinSecretKeyBytes));
  }

  c.smtp.url = smtp.string("url", true);
  const bool smtps = c.smtp.url.rfind("smtps://", 0) == 0;
  if (!smtp.failed() && !smtps && c.smtp.url.rfind("smtp://", 0) != 0) {
    smtp.fail("url", "must start with smtp:// (STARTTLS when offered) or smtps:// (implicit TLS)");
  }
  c.smtp.require_tls = smtp.boolean("require_tls", false);
  if (!smtp.failed() && smtps && c.smtp.require_tls) {
    smtp.fail("require_tls", "does not apply to smtps:// URLs, which use TLS from the start");
  }
  if (const std::string ca_file = smtp.string("ca_file", false); !ca_file.empty()) {
    c.smtp.ca_file = (std::filesystem::path(base_dir) / ca_file).lexically_normal().string();
    if (!smtp.failed() && !(std::filesystem::is_regular_file(c.smtp.ca_file) && std::ifstream(c.smtp.ca_file))) {
      smtp.fail("ca_file", fmt::format("{} is not a readable file", c.smtp.ca_file));
    }
  }
  c.smtp.user = smtp.string("username", false);
  if (!smtp.failed() && smtp.has("password_env") != !c.smtp.user.empty()) {
    smtp.fail("password_env", "set both smtp.username and smtp.password_env, or neither");
  }
  if (!smtp.failed() && smtp.has("password_env")) {
    if (std::optional<std::string> password = smtp.secret("password_env", env)) c.smtp.password = *password;
  }
  c.smtp.connect_timeout = smtp.duration("connect_timeout", c.smtp.connect_timeout);
  c.smtp.timeout = smtp.duration("timeout", c.smtp.timeout);
  c.dispatch.per_domain_per_minute =
      static_cast<int>(smtp.integer("per_domain_per_minute", c.dispatch.per_domain_per_minute, 1, 1000000));
  c.dispatch.retry_initial = smtp.duration("retry_initial", c.dispatch.retry_initial);
  c.dispatch.retry_max = smtp.duration("retry_max", c.dispatch.retry_max);
  c.dispatch.give_up_after = smtp.duration("give_up_after", c.dispatch.give_up_after);
  if (!smtp.failed() && c.dispatch.retry_max < c.dispatch.retry_initial) {
    smtp.fail("retry_max", "must be at least smtp.retry_initial");
  }
  if (!error.empty()) return Status::error(error);
  return c;
}

Result<MailConfig> load_mail_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error(fmt::format("{}: cannot read the config file", path));
  std::ostringstream text;
  text << in.rdbuf();
  const std::string base_dir = std::filesystem::path(path).parent_path().string();
  return parse_mail_config(text.str(), path, base_dir.empty() ? "." : base_dir, process_env);
}

}  // namespace gw::mail
