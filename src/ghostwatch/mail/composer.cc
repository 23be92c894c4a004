#include "ghostwatch/mail/composer.h"

#include <fmt/format.h>

#include "ghostwatch/mail/header_text.h"
#include "ghostwatch/mail/message_builder.h"

namespace gw::mail {

MailComposer::MailComposer(MailConfig config, TemplateSet templates)
    : config_(std::move(config)), templates_(std::move(templates)), tokens_(config_.secret_key) {}

std::string MailComposer::conversation_url(const std::string& contract) const {
  std::string url = config_.conversation_url;
  const std::size_t at = url.find("{contract}");
  url.replace(at, 10, percent_encode(contract));
  return url;
}

std::string MailComposer::opt_out_url(const std::string& user) const {
  return fmt::format("{}/v1/unsubscribe?token={}", config_.public_url, tokens_.opt_out_token(user));
}

std::string MailComposer::opt_out_mailto(const std::string& user) const {
  return fmt::format("mailto:opt-out+{}@{}?subject=opt-out", tokens_.opt_out_token(user), config_.inbound_domain);
}

std::string MailComposer::reply_address(const EpisodeRef& episode) const {
  return fmt::format("reply+{}@{}", tokens_.reply_token(episode), config_.inbound_domain);
}

Result<OutgoingMail> MailComposer::compose(const MailRequest& request) const {
  if (request.recipient.id.empty()) return Status::error("recipient.id: required to sign the opt-out link");
  if (request.episode.episode < 1) return Status::error("episode: must be 1 or more");
  if (!is_safe_address(request.recipient.email)) {
    return Status::error(fmt::format("recipient.email: not a plain ASCII e-mail address: \"{}\"",
                                     neutralise_header_text(request.recipient.email)));
  }
  TemplateVariables vars;
  vars.recipient_name = neutralise_header_text(request.recipient.name);
  vars.freelancer_name = neutralise_header_text(request.freelancer_name);
  vars.client_name = neutralise_header_text(request.client_name);
  vars.contract = neutralise_header_text(request.episode.contract);
  const Duration waited = request.at - request.waiting_since;
  vars.waited = format_waited(waited, request.locale);
  vars.waited_hours = std::to_string(std::max<Duration>(waited, 0) / kHour);
  vars.conversation_url = conversation_url(request.episode.contract);
  vars.opt_out_url = opt_out_url(request.recipient.id);
  vars.sender_name = config_.from.name;
  Result<RenderedMail> rendered = templates_.render(request.template_name, request.locale, vars);
  if (!rendered) return rendered.status();

  const std::string_view domain = address_domain(config_.from.address);
  MessageSpec spec;
  spec.from = config_.from;
  spec.to = Mailbox{request.recipient.name, request.recipient.email};
  spec.reply_to = reply_address(request.episode);
  spec.subject = std::move(rendered->subject);
  spec.text = std::move(rendered->text);
  spec.html = std::move(rendered->html);
  spec.date = request.at;
  spec.message_id = message_id_for(request.campaign, request.episode, request.step, domain);
  for (const int step : request.thread_steps) {
    spec.references.push_back(message_id_for(request.campaign, request.episode, step, domain));
  }
  spec.unsubscribe_url = vars.opt_out_url;
  spec.unsubscribe_mailto = opt_out_mailto(request.recipient.id);
  spec.campaign = request.campaign;
  spec.arm = request.arm;
  Result<std::string> bytes = build_mime(spec);
  if (!bytes) return bytes.status();
  return OutgoingMail{config_.from.address, request.recipient.email, spec.message_id, std::move(*bytes)};
}

}  // namespace gw::mail
