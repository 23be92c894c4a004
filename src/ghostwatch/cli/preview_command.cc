// `ghostwatch preview`: renders one e-mail template with sample values, so a
// template can be checked before it goes out (see docs/mail.md). Loading
// validates the whole template directory, exactly as a sender would.
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "ghostwatch/cli/commands.h"
#include "ghostwatch/core/time.h"
#include "ghostwatch/mail/composer.h"
#include "ghostwatch/mail/mail_config.h"
#include "ghostwatch/mail/templates.h"

namespace gw::cli {
namespace {

struct PreviewFlags {
  std::string template_name;
  std::string locale = "en";
  std::string templates = "templates";
  std::string config;
  bool mime = false;
};

// Sample people and times: a non-ASCII name and an ampersand show the
// encoding and the HTML escaping at work.
constexpr Instant kSampleOpened = 1564660800000;  // 2019-08-01T12:00:00Z
constexpr Instant kSampleAt = kSampleOpened + 26 * kHour;

mail::MailRequest sample_request(const PreviewFlags& flags) {
  mail::MailRequest r;
  r.campaign = "anti-ghosting";
  r.arm = "treatment";
  r.episode = {"c-1042", 1};
  r.step = 1;
  r.template_name = flags.template_name;
  r.locale = flags.locale;
  r.recipient = {"u-17", "José Müller", "jose.muller@example.com"};
  r.freelancer_name = "José Müller";
  r.client_name = "Ana O'Brien & Co";
  r.waiting_since = kSampleOpened;
  r.at = kSampleAt;
  return r;
}

int run_preview(const PreviewFlags& flags) {
  std::optional<mail::MailConfig> config;
  std::string dir = flags.templates;
  if (!flags.config.empty()) {
    Result<mail::MailConfig> loaded = mail::load_mail_config(flags.config);
    if (!loaded) {
      print_command_error("preview", loaded.message());
      return kExitUsage;
    }
    config = std::move(*loaded);
    dir = config->template_dir;
  } else if (flags.mime) {
    print_command_error("preview", "--mime needs --config: the headers come from the [mail] section");
    return kExitUsage;
  }
  Result<mail::TemplateSet> templates = mail::TemplateSet::load(dir);
  if (!templates) {
    print_command_error("preview", templates.message());
    return kExitUsage;
  }
  if (!templates->has(flags.template_name)) {
    print_command_error("preview", fmt::format("{}: no template named \"{}\" (there are: {})", dir, flags.template_name,
                                               fmt::join(templates->names(), ", ")));
    return kExitUsage;
  }
  const std::string locale = templates->resolve_locale(flags.template_name, flags.locale);
  const mail::MailRequest request = sample_request(flags);

  mail::TemplateVariables vars;
  vars.recipient_name = request.recipient.name;
  vars.freelancer_name = request.freelancer_name;
  vars.client_name = request.client_name;
  vars.contract = request.episode.contract;
  vars.waited = mail::format_waited(request.at - request.waiting_since, locale);
  vars.waited_hours = std::to_string((request.at - request.waiting_since) / kHour);
  vars.conversation_url = "https://marketplace.example/contracts/c-1042/messages";
  vars.opt_out_url = "https://marketplace.example/mail/opt-out/SAMPLE-TOKEN";
  vars.sender_name = "The Marketplace team";
  if (config) {
    // The configured names and links, with real signed tokens.
    vars.sender_name = config->from.name;
    const mail::MailComposer composer(std::move(*config), *templates);
    vars.conversation_url = composer.conversation_url(request.episode.contract);
    vars.opt_out_url = composer.opt_out_url(request.recipient.id);
    if (flags.mime) {
      Result<mail::OutgoingMail> mail = composer.compose(request);
      if (!mail) {
        print_command_error("preview", mail.message());
        return kExitFailure;
      }
      std::fwrite(mail->bytes.data(), 1, mail->bytes.size(), stdout);
      return kExitOk;
    }
  }
  Result<mail::RenderedMail> rendered = templates->render(flags.template_name, locale, vars);
  if (!rendered) {
    print_command_error("preview", rendered.message());
    return kExitFailure;
  }
  fmt::print("Template: {} (locale {}{})\nSubject: {}\n\n--- text/plain ---\n{}\n--- text/html ---\n{}",
             flags.template_name, locale, locale == flags.locale ? "" : fmt::format(", asked for {}", flags.locale),
             rendered->subject, rendered->text, rendered->html);
  return kExitOk;
}

}  // namespace

void add_preview_command(CLI::App& app, int& exit_status) {
  CLI::App* cmd = app.add_subcommand("preview", "Render an e-mail template with sample values");
  auto flags = std::make_shared<PreviewFlags>();
  cmd->add_option("--template", flags->template_name, "Template name, e.g. reminder-1")->required();
  cmd->add_option("--locale", flags->locale, "Locale, e.g. es or es-MX (falls back to the language, then en)")
      ->capture_default_str();
  cmd->add_option("--templates", flags->templates, "Template directory (ignored with --config)")->capture_default_str();
  cmd->add_option("--config", flags->config, "Config file with a [mail] section: its templates, names and links");
  cmd->add_flag("--mime", flags->mime, "Print the whole MIME message as it would be sent (needs --config)");
  cmd->callback([flags, &exit_status] { exit_status = run_preview(*flags); });
}

}  // namespace gw::cli
