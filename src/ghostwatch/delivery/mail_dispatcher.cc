#include "ghostwatch/delivery/mail_dispatcher.h"

#include <algorithm>
#include <array>
#include <utility>

#include <fmt/format.h>

#include "ghostwatch/mail/header_text.h"

namespace gw {
namespace {

// Countries whose main language is not English, by that language. Sorted
// by country for the binary search.
constexpr std::array<std::pair<std::string_view, std::string_view>, 52> kCountryLanguages = {{
    {"AO", "pt"}, {"AR", "es"}, {"AT", "de"}, {"BE", "fr"}, {"BO", "es"}, {"BR", "pt"}, {"CH", "de"},
    {"CL", "es"}, {"CN", "zh"}, {"CO", "es"}, {"CR", "es"}, {"CU", "es"}, {"CZ", "cs"}, {"DE", "de"},
    {"DO", "es"}, {"EC", "es"}, {"EG", "ar"}, {"ES", "es"}, {"FR", "fr"}, {"GR", "el"}, {"GT", "es"},
    {"HN", "es"}, {"HU", "hu"}, {"ID", "id"}, {"IT", "it"}, {"JP", "ja"}, {"KR", "ko"}, {"LU", "fr"},
    {"MA", "ar"}, {"MX", "es"}, {"MZ", "pt"}, {"NI", "es"}, {"NL", "nl"}, {"PA", "es"}, {"PE", "es"},
    {"PL", "pl"}, {"PR", "es"}, {"PT", "pt"}, {"PY", "es"}, {"RO", "ro"}, {"RU", "ru"}, {"SA", "ar"},
    {"SE", "sv"}, {"SN", "fr"}, {"SV", "es"}, {"TH", "th"}, {"TN", "ar"}, {"TR", "tr"}, {"UA", "uk"},
    {"UY", "es"}, {"VE", "es"}, {"VN", "vi"},
}};

// A name for the client when no user event gave one.
std::string_view someone_client(std::string_view locale) { return locale == "es" ? "Tu cliente" : "Your client"; }

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string reply_text(const mail::SendResult& r) {
  return r.reply_code == 0 ? r.reply : fmt::format("{} {}", r.reply_code, r.reply);
}

}  // namespace

std::string_view locale_for_country(std::string_view country) {
  const std::string code = upper(country);
  const auto it = std::lower_bound(kCountryLanguages.begin(), kCountryLanguages.end(), code,
                                   [](const auto& entry, const std::string& c) { return entry.first < c; });
  return it != kCountryLanguages.end() && it->first == code ? it->second : "en";
}

Duration retry_delay(const mail::DispatchSettings& s, std::uint32_t attempts, std::mt19937_64& rng) {
  Duration delay = s.retry_initial;
  for (std::uint32_t i = 1; i < attempts && delay < s.retry_max; ++i) delay *= 2;
  delay = std::min(delay, s.retry_max);
  return delay - std::uniform_int_distribution<Duration>(0, delay / 2)(rng);
}

MailDispatcher::MailDispatcher(Store& store, const Service& service, const mail::MailComposer& composer, Send send,
                               const Clock& clock, std::string campaign, std::uint64_t seed)
    : store_(store),
      service_(service),
      composer_(composer),
      send_(std::move(send)),
      clock_(clock),
      campaign_(std::move(campaign)),
      limiter_(composer.config().dispatch.per_domain_per_minute),
      rng_(seed) {}

Result<DispatchPass> MailDispatcher::run_once(std::size_t limit) {
  auto due = store_.due_outbox("email", clock_.now(), limit);
  if (!due) return due.status();
  DispatchPass pass;
  for (OutboxItem& item : *due) {
    if (Status s = deliver(item, pass); !s) return s;
  }
  return pass;
}

Status MailDispatcher::deliver(OutboxItem& item, DispatchPass& pass) {
  const DecisionRow& decision = item.decision;
  Delivery& d = item.delivery;
  const Instant now = clock_.now();
  auto give_up = [&](DeliveryState state, std::string why) {
    d.state = state;
    d.done_at = now;
    d.last_error = std::move(why);
    ++pass.failed;
    return store_.record_delivery(d);
  };

  // A nudge goes to the freelancer; an escalation's entry is the check-in
  // to the client (mail.client_checkin), in a thread of its own.
  const bool checkin = decision.action == StepAction::kEscalate;
  auto parties = store_.user_contacts({decision.freelancer, decision.client});
  if (!parties) return parties.status();
  std::optional<UserContact> freelancer, client;
  for (UserContact& u : *parties) {
    if (u.id == decision.client) client = u;
    if (u.id == decision.freelancer) freelancer = std::move(u);
  }
  const std::optional<UserContact>& recipient = checkin ? client : freelancer;
  const std::string& recipient_id = checkin ? decision.client : decision.freelancer;
  if (!recipient || recipient->email.value_or("").empty()) {
    return give_up(DeliveryState::kUndeliverable,
                   fmt::format("{} {} has no e-mail address (a user event with `email` gives one)",
                               checkin ? "client" : "freelancer", recipient_id));
  }
  // The store knows opt-outs (whichever process's engine took them); the
  // engine here knows those of databases older than that.
  bool opted_out = checkin && client && client->opted_out.value_or(false);
  if (checkin && !opted_out) {
    auto known = service_.with_user(decision.client, [&](const UserSnapshot& u) { opted_out = u.opted_out; });
    if (!known) return known.status();
  }
  if (opted_out) {
    return give_up(DeliveryState::kUndeliverable, fmt::format("client {} opted out of e-mail", decision.client));
  }
  const UserContact& to = *recipient;
  const auto name_of = [](const std::optional<UserContact>& u) {
    if (!u) return std::string();
    if (!u->name.value_or("").empty()) return *u->name;
    return u->email ? u->email->substr(0, u->email->find('@')) : std::string();
  };

  mail::MailRequest request;
  request.campaign = campaign_;
  request.arm = std::string(arm_name(decision.arm));
  request.episode = mail::EpisodeRef{decision.contract, decision.episode};
  request.step = static_cast<int>(decision.step);
  request.template_name = checkin ? composer_.config().client_checkin : decision.target;
  request.locale = std::string(locale_for_country(to.country.value_or("")));
  request.recipient = mail::Person{to.id, to.name.value_or(""), *to.email};
  request.freelancer_name = name_of(freelancer);
  if (request.freelancer_name.empty()) request.freelancer_name = decision.freelancer;
  request.client_name = client ? client->name.value_or("") : "";
  if (request.client_name.empty()) request.client_name = someone_client(request.locale);
  request.at = decision.at;
  // The client's message has waited since the episode opened.
  request.waiting_since = decision.at;
  if (decision.episode_opened_at != kNoInstant) {
    request.waiting_since = decision.episode_opened_at;
  } else if (auto opened = service_.open_episode_opened_at(decision.contract, decision.episode)) {
    request.waiting_since = *opened;
  } else {
    EpisodeQuery q;
    q.contract = decision.contract;
    q.limit = 100000;
    auto closed = store_.episodes(q);
    if (!closed) return closed.status();
    for (const EpisodeRow& e : *closed) {
      if (e.episode == decision.episode) request.waiting_since = e.opened_at;
    }
  }
  // The earlier nudges of the episode: a reminder continues their thread
  // (a check-in has a thread of its own, and step 1 has none before it).
  if (!checkin && decision.step > 1) {
    DecisionQuery earlier;
    earlier.contract = decision.contract;
    earlier.action = StepAction::kNudge;
    earlier.status = DecisionStatus::kSent;
    earlier.limit = 100000;
    auto nudges = store_.decisions(earlier);
    if (!nudges) return nudges.status();
    for (const DecisionRow& n : *nudges) {
      if (n.episode == decision.episode && n.step < decision.step) {
        request.thread_steps.push_back(static_cast<int>(n.step));
      }
    }
  }

  auto mail = composer_.compose(request);
  if (!mail) {
    const bool bad_address = mail.message().rfind("recipient.email", 0) == 0;
    return give_up(bad_address ? DeliveryState::kUndeliverable : DeliveryState::kFailed, mail.message());
  }
  const Instant allowed = limiter_.acquire(mail::address_domain(mail->rcpt), now);
  if (allowed > now) {
    d.next_attempt_at = allowed;
    ++pass.paced;
    return store_.record_delivery(d);
  }

  if (d.first_attempt_at == kNoInstant) d.first_attempt_at = now;
  d.message_id = mail->message_id;
  ++d.attempts;
  const mail::SendResult result = send_(mail->envelope_from, mail->rcpt, mail->bytes);
  switch (result.outcome) {
    case mail::SendOutcome::kSent:
      d.state = DeliveryState::kSent;
      d.done_at = now;
      d.last_error.clear();
      ++pass.sent;
      return store_.record_delivery(d);
    case mail::SendOutcome::kPermanentFailure:
      return give_up(DeliveryState::kFailed, reply_text(result));
    case mail::SendOutcome::kTemporaryFailure:
      break;
  }
  const mail::DispatchSettings& settings = composer_.config().dispatch;
  if (now - d.first_attempt_at >= settings.give_up_after) {
    return give_up(DeliveryState::kFailed,
                   fmt::format("gave up after {} attempts over {} s: {}", d.attempts,
                               (now - d.first_attempt_at) / kSecond, reply_text(result)));
  }
  d.next_attempt_at = now + retry_delay(settings, d.attempts, rng_);
  d.last_error = reply_text(result);
  ++pass.retrying;
  return store_.record_delivery(d);
}

}  // namespace gw
