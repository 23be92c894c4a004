#include "ghostwatch/store/rows.h"

namespace gw {
namespace {

// The value among `count` enum values whose name is `name`.
template <typename E, typename NameOf>
std::optional<E> by_name(std::string_view name, std::size_t first, std::size_t count, NameOf name_of) {
  for (std::size_t i = first; i < count; ++i) {
    if (name_of(static_cast<E>(i)) == name) return static_cast<E>(i);
  }
  return std::nullopt;
}

}  // namespace

DecisionRow DecisionRow::from(const Decision& d) {
  DecisionRow r;
  r.at = d.at;
  r.contract = d.contract;
  r.episode = d.episode;
  r.step = d.step;
  r.action = d.action;
  r.target = d.target;
  r.freelancer = d.freelancer;
  r.client = d.client;
  r.arm = d.arm;
  r.status = d.status;
  r.reason = d.reason;
  return r;
}

Decision DecisionRow::view() const {
  Decision d;
  d.at = at;
  d.contract = contract;
  d.episode = episode;
  d.step = step;
  d.action = action;
  d.target = target;
  d.freelancer = freelancer;
  d.client = client;
  d.arm = arm;
  d.status = status;
  d.reason = reason;
  return d;
}

EpisodeRow EpisodeRow::from(const EpisodeRecord& e) {
  EpisodeRow r;
  r.contract = e.contract;
  r.episode = e.episode;
  r.freelancer = e.freelancer;
  r.client = e.client;
  r.arm = e.arm;
  r.in_segment = e.in_segment;
  r.opened_at = e.opened_at;
  r.closed_at = e.closed_at;
  r.outcome = e.outcome;
  r.steps_sent = e.steps_sent;
  r.has_end_reason = e.has_end_reason;
  r.end_reason = e.end_reason;
  r.risk = e.risk;
  return r;
}

EpisodeRecord EpisodeRow::view() const {
  EpisodeRecord e;
  e.contract = contract;
  e.episode = episode;
  e.freelancer = freelancer;
  e.client = client;
  e.arm = arm;
  e.in_segment = in_segment;
  e.opened_at = opened_at;
  e.closed_at = closed_at;
  e.outcome = outcome;
  e.steps_sent = steps_sent;
  e.has_end_reason = has_end_reason;
  e.end_reason = end_reason;
  e.risk = risk;
  return e;
}

ContractStateRow ContractStateRow::from(std::string_view contract, const ContractSnapshot& c) {
  ContractStateRow r;
  r.contract = contract;
  r.client = c.client;
  r.freelancer = c.freelancer;
  r.last_fl_at = c.last_fl_at;
  r.last_client_at = c.last_client_at;
  r.episodes = c.episodes;
  r.ended = c.ended;
  r.open = c.open;
  r.pending_since = c.pending_since;
  r.steps_sent = c.steps_sent;
  r.tier = static_cast<std::uint32_t>(c.tier);
  return r;
}

ContractSnapshot ContractStateRow::view() const {
  ContractSnapshot c;
  c.client = client;
  c.freelancer = freelancer;
  c.last_fl_at = last_fl_at;
  c.last_client_at = last_client_at;
  c.episodes = episodes;
  c.ended = ended;
  c.open = open;
  c.pending_since = pending_since;
  c.steps_sent = steps_sent;
  c.tier = tier;
  return c;
}

UserStateRow UserStateRow::from(std::string_view user, const UserSnapshot& u) {
  return UserStateRow{std::string(user), std::string(u.country), std::string(u.kind), std::string(u.tz), u.opted_out,
                      u.bouncing};
}

std::optional<DecisionStatus> parse_decision_status(std::string_view name) {
  return by_name<DecisionStatus>(name, 0, kDecisionStatusCount, decision_status_name);
}

std::optional<DecisionReason> parse_decision_reason(std::string_view name) {
  return by_name<DecisionReason>(name, 0, kDecisionReasonCount, decision_reason_name);
}

std::optional<Outcome> parse_outcome(std::string_view name) {
  return by_name<Outcome>(name, 0, kOutcomeCount, outcome_name);
}

std::optional<StepAction> parse_step_action(std::string_view name) {
  return by_name<StepAction>(name, 0, 2, step_action_name);
}

std::optional<Arm> parse_arm(std::string_view name) { return by_name<Arm>(name, 0, 2, arm_name); }

std::optional<RejectReason> parse_reject_reason(std::string_view name) {
  return by_name<RejectReason>(name, 1, kRejectReasonCount, reject_reason_name);
}

std::string_view delivery_state_name(DeliveryState s) {
  switch (s) {
    case DeliveryState::kPending: return "pending";
    case DeliveryState::kSent: return "sent";
    case DeliveryState::kFailed: return "failed";
    case DeliveryState::kUndeliverable: return "undeliverable";
  }
  return "pending";
}

std::optional<DeliveryState> parse_delivery_state(std::string_view name) {
  return by_name<DeliveryState>(name, 0, 4, delivery_state_name);
}

}  // namespace gw
