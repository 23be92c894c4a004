#include "ghostwatch/inbound/intake.h"

#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "ghostwatch/core/ascii.h"
#include "ghostwatch/core/hex.h"
#include "ghostwatch/inbound/reply_text.h"

namespace gw::inbound {
namespace {

// The token of `address` when it is `<prefix><token>@<domain>` (prefix and
// domain compared without ASCII case), else nullopt.
std::optional<std::string_view> token_of(std::string_view address, std::string_view prefix, std::string_view domain) {
  const std::size_t at = address.rfind('@');
  if (at == std::string_view::npos || domain.empty()) return std::nullopt;
  if (to_lower_ascii(address.substr(at + 1)) != to_lower_ascii(domain)) return std::nullopt;
  const std::string_view local = address.substr(0, at);
  if (local.size() <= prefix.size() || to_lower_ascii(local.substr(0, prefix.size())) != prefix) return std::nullopt;
  return local.substr(prefix.size());
}

bool has_role(const UserContact& u, std::string_view role) { return u.role.value_or("") == role; }

}  // namespace

struct Intake::Routing {
  std::optional<CaseTarget> target;  // set: the message joins this case
  InboundRoute route = InboundRoute::kUnmatched;
  std::string reason;
};

Result<InboundTaken> Intake::take(std::string_view raw, std::string_view source) {
  const Instant now = clock_.now();
  InboundRow row;
  row.received_at = now;
  row.raw = std::string(raw);
  auto message = read_inbound_message(raw, source);
  if (message) {
    row.message_id = message->message_id;
    row.from_address = message->from_address;
    row.from_name = message->from_name;
    row.subject = message->subject;
    row.text = visible_reply(message->text);
    row.auto_reply = message->auto_reply;
    row.bounce = message->bounce;
  }
  row.dedupe_key = row.message_id.empty() ? "sha256:" + sha256_hex(raw) : "mid:" + row.message_id;
  // A duplicate changes nothing, not even a bounce or an opt-out.
  auto earlier = store_.find_inbound_by_key(row.dedupe_key);
  if (!earlier) return earlier.status();
  if (earlier->has_value()) {
    const InboundRow& e = **earlier;
    return InboundTaken{e.id, e.case_id, e.route, true};
  }

  Routing routing;
  if (!message) {
    routing.reason = fmt::format("unreadable: {}", message.message());
  } else if (message->bounce) {
    if (Status s = route_bounce(*message, routing); !s) return s;
  } else {
    auto by_token = route_by_token(*message, routing);
    if (!by_token) return by_token.status();
    if (!*by_token) {
      if (Status s = route_by_sender(*message, routing); !s) return s;
    }
  }
  row.route = routing.route;
  row.reason = std::move(routing.reason);
  return store_.take_inbound(row, routing.target ? &*routing.target : nullptr, now);
}

Status Intake::route_bounce(const InboundMessage& m, Routing& r) {
  r.route = InboundRoute::kBounce;
  const std::string& failed = m.failed_recipient;
  if (failed.empty()) {
    r.reason = "a bounce that names no failed recipient";
    return Status::ok();
  }
  auto users = store_.users_with_email(failed);
  if (!users) return users.status();
  std::string ids;
  for (const UserContact& u : *users) {
    if (Status s = service_.mark_bouncing(u.id, failed); !s) return s;
    ids += (ids.empty() ? "" : ", ") + u.id;
  }
  r.reason = users->empty() ? fmt::format("a bounce for {}, the address of no user", failed)
                            : fmt::format("a bounce for {}: marked bouncing: {}", failed, ids);
  return Status::ok();
}

Result<bool> Intake::route_by_token(const InboundMessage& m, Routing& r) {
  if (settings_.tokens == nullptr) return false;
  for (const std::string& to : m.recipients) {
    if (auto token = token_of(to, "opt-out+", settings_.inbound_domain)) {
      auto user = settings_.tokens->verify_opt_out_token(*token);
      if (!user) {
        r.reason = fmt::format("invalid opt-out token in {}: {}", to, user.message());
      } else if (m.auto_reply) {
        r.reason = fmt::format("an automatic reply to the opt-out address of {}: no opt-out", *user);
      } else {
        IngestReply reply = service_.opt_out(*user);
        if (reply.status != 200) return Status::error(fmt::format("opting {} out: {}", *user, reply.body));
        r.route = InboundRoute::kOptOut;
        r.reason = fmt::format("to the opt-out address of {}: opted out", *user);
      }
      return true;
    }
    if (auto token = token_of(to, "reply+", settings_.inbound_domain)) {
      auto episode = settings_.tokens->verify_reply_token(*token);
      if (!episode) {
        r.reason = fmt::format("invalid reply token in {}: {}", to, episode.message());
        return true;
      }
      CaseTarget t;
      const Result<bool> known = service_.with_contract(episode->contract, [&](const ContractSnapshot& c) {
        t.freelancer = std::string(c.freelancer);
        t.client = std::string(c.client);
      });
      if (!known) return known.status();
      if (!*known) {
        r.reason = fmt::format("reply token of contract {}, which the engine does not know", episode->contract);
        return true;
      }
      t.team = escalation_team(service_.policy());
      t.contract = episode->contract;
      t.episode = static_cast<std::uint32_t>(episode->episode);
      r.target = std::move(t);
      r.reason = fmt::format("reply token of contract {} episode {}", episode->contract, episode->episode);
      return true;
    }
  }
  return false;
}

Status Intake::route_by_sender(const InboundMessage& m, Routing& r) {
  auto users = store_.users_with_email(m.from_address);
  if (!users) return users.status();
  if (users->empty()) {
    r.reason = fmt::format("unknown sender {}", m.from_address);
    return Status::ok();
  }
  std::optional<EpisodeRow> latest;
  for (const UserContact& u : *users) {
    EpisodeQuery q;
    q.freelancer = u.id;
    auto open = service_.open_episodes(q, std::nullopt, SIZE_MAX);
    if (!open) return open.status();
    for (EpisodeRow& e : *open) {
      if (!latest || e.opened_at > latest->opened_at) latest = std::move(e);
    }
  }
  if (latest) {
    r.target = CaseTarget{
        0, escalation_team(service_.policy()), latest->contract, latest->episode, latest->freelancer, latest->client};
    r.reason = fmt::format("sender is freelancer {}: their most recent open episode (contract {} episode {})",
                           latest->freelancer, latest->contract, latest->episode);
    return Status::ok();
  }
  // A freelancer by their user event's role, or without one by their past episodes.
  const UserContact* freelancer = nullptr;
  for (const UserContact& u : *users) {
    if (!has_role(u, "freelancer") && u.role.value_or("") != "") continue;
    EpisodeQuery q;
    q.freelancer = u.id;
    q.limit = 1;
    auto past = store_.episodes(q);
    if (!past) return past.status();
    if (has_role(u, "freelancer") || !past->empty()) {
      freelancer = &u;
      break;
    }
  }
  if (freelancer != nullptr) {
    r.target = CaseTarget{0, std::string(kDefaultTeam), "", 0, freelancer->id, ""};
    r.reason = fmt::format("sender is freelancer {}, with no open episode", freelancer->id);
    return Status::ok();
  }
  for (const UserContact& u : *users) {
    if (!has_role(u, "client")) continue;
    CaseQuery q;
    q.client = u.id;
    q.limit = SIZE_MAX;
    auto cases = store_.cases(q);
    if (!cases) return cases.status();
    for (auto c = cases->rbegin(); c != cases->rend(); ++c) {
      if (c->status == CaseStatus::kSolved) continue;
      r.target = CaseTarget{c->id, c->team, c->contract, c->episode, c->freelancer, c->client};
      r.reason = fmt::format("sender is client {}: their most recent case that is not solved", u.id);
      return Status::ok();
    }
  }
  r.reason = fmt::format("sender {} is user {}, with no open episode or case", m.from_address, users->front().id);
  return Status::ok();
}

}  // namespace gw::inbound
